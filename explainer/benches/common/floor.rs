//! The floor of an explanation on this machine: a roofline lower bound on its time.
//!
//! Each pass of a layer must do its arithmetic and move its bytes at least once, so it takes
//! at least `max(flops / F, bytes / B)` seconds, where `F` is the machine's arithmetic rate and
//! `B` its memory bandwidth, both measured here: `F` as the best rate of a large float32
//! matrix product (2048³, the library's gemm on all threads: what the hardware gives a tuned
//! kernel, below its nominal peak), `B` as STREAM's triad `a = b + s·c` on three 128 MB
//! arrays (bytes counted as STREAM does, three per element and pass).
//!
//! Counted per pass, in float32:
//! - a 3×3 convolution by Winograd F(4×4, 3×3) (at least 16 channels on both sides, as the
//!   library picks it), on `T = N·⌈H/4⌉·⌈W/4⌉` tiles: `2·36·O·C·T` for the products in the
//!   transform domain, `288·C·T` for the input transform `Bᵀ d B` (12 one-dimensional
//!   transforms of 24 operations per 6×6 tile) and `130·O·T` for the output transform `Aᵀ m A`
//!   (10 of 13); bytes: the transformed kernel `36·O·C` values and the input and output maps;
//! - any other convolution directly: `2·k²·O·C·N·Ho·Wo`; bytes: the weight and both maps;
//! - a dense layer: `2·N·O·I`; bytes: the weight `O·I`.
//!
//! A transposed pass is counted as the layer's forward pass. Passes per method:
//! the forward pass is one per layer; Gradient×Input adds one transposed pass per layer; the
//! sheet's LRP makes, per γ convolution, the forward, the modified forward `p` and the
//! transposed pass of the modified kernel (3), on the first convolution (zB) the forward, the
//! two bound passes `W⁺L`, `W⁻H` and three transposed passes (6), and on each dense layer the
//! forward and the transposed pass (2). Elementwise steps (ReLU, the ratios, max-pool routing)
//! and the kernel transforms (made once and kept) are not counted: the floor is a lower bound.

#![allow(dead_code)]

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use explainer::{Layer, Network};
use rayon::prelude::*;

/// What the floor is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The forward pass.
    Forward,
    /// Gradient×Input: forward and one transposed pass per layer.
    GradientTimesInput,
    /// The sheet's LRP (zB on the first convolution, γ on the others, dense layers plain).
    SheetLrp,
}

/// The measured arithmetic rate and memory bandwidth.
#[derive(Debug, Clone, Copy)]
pub struct Machine {
    /// Float32 operations per second of a large matrix product.
    pub flops: f64,
    /// Bytes per second of STREAM's triad.
    pub bandwidth: f64,
}

impl Machine {
    /// Measures both.
    pub fn measure() -> anyhow::Result<Self> {
        Ok(Self { flops: matmul_flops()?, bandwidth: triad_bandwidth() })
    }

    /// The floor in seconds of `method` on `network` for an input `(N, C, H, W)`.
    pub fn floor(&self, network: &Network, input: (usize, usize, usize, usize), method: Method) -> f64 {
        layer_passes(network, input, method)
            .iter()
            .map(|p| (p.flops / self.flops).max(p.bytes / self.bandwidth))
            .sum()
    }
}

/// One pass over one layer: its arithmetic and the bytes it moves.
#[derive(Debug, Clone, Copy)]
struct Pass {
    flops: f64,
    bytes: f64,
}

impl Pass {
    fn times(self, n: f64) -> Pass {
        Pass { flops: self.flops * n, bytes: self.bytes * n }
    }
}

/// Bytes of a float32.
const F32: f64 = 4.0;

/// The passes of `method` over every convolution and dense layer of `network`, following the
/// spatial size through the pools (3×3 convolutions keep it, 2×2 pools halve it).
fn layer_passes(network: &Network, input: (usize, usize, usize, usize), method: Method) -> Vec<Pass> {
    let (n, _, mut h, mut w) = input;
    let mut passes = Vec::new();
    let mut first_convolution = true;
    for layer in network.layers() {
        let weight = layer.affine().map(|a| a.weight().dims().to_vec()).unwrap_or_default();
        match (layer, weight.as_slice()) {
            (Layer::Conv2d(_), &[o, c, k, _]) => {
                let pass = convolution_pass((n, h, w), (o, c, k));
                let per_method = match method {
                    Method::Forward => 1.0,
                    Method::GradientTimesInput => 2.0,
                    Method::SheetLrp if first_convolution => 6.0,
                    Method::SheetLrp => 3.0,
                };
                passes.push(pass.times(per_method));
                first_convolution = false;
            }
            (Layer::MaxPool2d(_), _) => (h, w) = (h / 2, w / 2),
            (Layer::Linear(_), &[o, i]) => {
                let pass = Pass { flops: 2.0 * (n * o * i) as f64, bytes: F32 * (o * i) as f64 };
                let per_method = if method == Method::Forward { 1.0 } else { 2.0 };
                passes.push(pass.times(per_method));
            }
            _ => {}
        }
    }
    passes
}

/// One forward pass of a `k×k` convolution `C → O` (padding keeping the side) on `N` maps of
/// `H×W`: Winograd where the library takes it, else direct.
fn convolution_pass((n, h, w): (usize, usize, usize), (o, c, k): (usize, usize, usize)) -> Pass {
    let maps = F32 * (n * (c + o) * h * w) as f64;
    if k == 3 && c.min(o) >= 16 {
        let tiles = (n * h.div_ceil(4) * w.div_ceil(4)) as f64;
        let (o, c) = (o as f64, c as f64);
        let flops = 2.0 * 36.0 * o * c * tiles + 288.0 * c * tiles + 130.0 * o * tiles;
        Pass { flops, bytes: F32 * 36.0 * o * c + maps }
    } else {
        let flops = 2.0 * (k * k * o * c * n * h * w) as f64;
        Pass { flops, bytes: F32 * (o * c * k * k) as f64 + maps }
    }
}

/// The best of five float32 products of two 2048×2048 matrices, in operations per second.
fn matmul_flops() -> anyhow::Result<f64> {
    const SIDE: usize = 2048;
    let a = Tensor::ones((SIDE, SIDE), DType::F32, &Device::Cpu)?;
    let b = Tensor::ones((SIDE, SIDE), DType::F32, &Device::Cpu)?;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        drop(a.matmul(&b)?);
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(2.0 * (SIDE * SIDE * SIDE) as f64 / best)
}

/// STREAM's triad `a = b + 3·c` on 32 M floats per array (far beyond the caches) over rayon's
/// threads, the best of five, in bytes per second (`3 · 4` bytes per element).
fn triad_bandwidth() -> f64 {
    const LEN: usize = 32 << 20;
    let b = vec![1.0f32; LEN];
    let c = vec![2.0f32; LEN];
    let mut a = vec![0.0f32; LEN];
    let chunk = LEN / rayon::current_num_threads().max(1) / 8;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        a.par_chunks_mut(chunk).zip(b.par_chunks(chunk)).zip(c.par_chunks(chunk)).for_each(|((a, b), c)| {
            for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                *a = b + 3.0 * c;
            }
        });
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&a);
    3.0 * F32 * LEN as f64 / best
}
