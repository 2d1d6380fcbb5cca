//! Convolutions with stride and padding (ResNet's 7×7/2 stem, 3×3/2, 1×1/2 shortcuts, 1×1 and
//! 3×3 with stride 1) on every path of [`ConvKernel`]: the forward pass against candle's own
//! `Tensor::conv2d`, the transposed pass as the exact adjoint (and against candle's
//! `conv_transpose2d`), and the differentiable one-use convolution's gradients against the
//! transposed pass and a written-out sum.

mod common;

use candle_core::{DType, Shape, Tensor, Var};
use common::{dot, rel_max, uniform, values};
use kernels::conv::conv2d_with_config;
use kernels::{Conv2dConfig, ConvKernel};

/// (kernel side, stride, padding): ResNet's convolutions and VGG's.
const CONFIGS: [(usize, usize, usize); 5] = [(7, 2, 3), (3, 2, 1), (1, 2, 0), (1, 1, 0), (3, 1, 1)];
/// Input sides, odd and even (with a stride, an odd and the next even side pool to the same
/// output side).
const SIDES: [(usize, usize); 3] = [(9, 9), (12, 11), (16, 16)];
/// (input channels, output channels): fewer inputs (the fold), fewer outputs (the flipped
/// kernel), and enough of both for Winograd on the 3×3 stride-1 case.
const CHANNELS: [(usize, usize); 4] = [(3, 8), (5, 3), (16, 16), (24, 20)];

/// Every case: config, batch, channels, sides, and a seed for its data.
fn cases() -> impl Iterator<Item = (Conv2dConfig, usize, usize, (usize, usize), (usize, usize), u64)> {
    let mut seed = 0;
    CONFIGS.into_iter().flat_map(move |(k, stride, padding)| {
        CHANNELS.into_iter().flat_map(move |(c, o)| {
            SIDES.into_iter().map(move |(h, w)| {
                seed += 1;
                let n = 1 + (h + c) % 2; // batches of 1 and 2
                (Conv2dConfig::new(padding, stride).unwrap(), k, n, (c, o), (h, w), seed)
            })
        })
    })
}

#[test]
fn output_side_is_floor_division_as_pytorch() {
    let config = Conv2dConfig::new(1, 2).unwrap();
    // ⌊(n + 2 − 3)/2⌋ + 1: 56 and 55 both give 28.
    assert_eq!(config.output_side(56, 3).unwrap(), 28);
    assert_eq!(config.output_side(55, 3).unwrap(), 28);
    assert_eq!(Conv2dConfig::new(3, 2).unwrap().output_side(224, 7).unwrap(), 112);
    assert_eq!(Conv2dConfig::new(0, 2).unwrap().output_side(7, 1).unwrap(), 4);
    assert!(Conv2dConfig::default().output_side(2, 3).is_err());
    assert!(Conv2dConfig { padding: 0, stride: 0 }.output_side(8, 3).is_err());
}

/// `ConvKernel::forward` and `conv2d_with_config` equal candle's `conv2d` (bias added) to
/// 1e-12 of the largest output in float64, on every path, with the fused ReLU too.
#[test]
fn forward_equals_candles_conv2d() {
    for (config, k, n, (c, o), (h, w), seed) in cases() {
        let x = uniform(&[n, c, h, w], seed);
        let weight = uniform(&[o, c, k, k], seed + 1000);
        let bias = uniform(&[o], seed + 2000);
        let theirs = x
            .conv2d(&weight, config.padding, config.stride, 1, 1)
            .unwrap()
            .broadcast_add(&bias.reshape((1, o, 1, 1)).unwrap())
            .unwrap();
        let conv = ConvKernel::with_config(weight.clone(), config).unwrap();
        let ours = conv.forward(&x, Some(&bias), false).unwrap();
        let case = format!("{config:?} k={k} n={n} {c}→{o} {h}×{w}");
        assert_eq!(ours.dims(), theirs.dims(), "{case}");
        let e = rel_max(&ours, &theirs);
        assert!(e < 1e-12, "{case}: {e:e}");
        let rectified = conv.forward(&x, Some(&bias), true).unwrap();
        assert_eq!(values(&rectified), values(&ours.relu().unwrap()), "relu {case}");
        let once = conv2d_with_config(&x, &weight, Some(&bias), config).unwrap();
        let e = rel_max(&once, &theirs);
        assert!(e < 1e-12, "one use {case}: {e:e}");
    }
}

/// float32 against candle's float64 convolution of the same values: within 2e-5 of the
/// largest output (Winograd's bound; the direct paths round less).
#[test]
fn float32_forward_is_close_to_float64() {
    for (config, k, n, (c, o), (h, w), seed) in cases() {
        let x = uniform(&[n, c, h, w], seed).to_dtype(DType::F32).unwrap();
        let weight = uniform(&[o, c, k, k], seed + 1000).to_dtype(DType::F32).unwrap();
        let up = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
        let exact = up(&x).conv2d(&up(&weight), config.padding, config.stride, 1, 1).unwrap();
        let ours = ConvKernel::with_config(weight, config).unwrap().forward(&x, None, false).unwrap();
        assert_eq!(ours.dtype(), DType::F32);
        let e = rel_max(&ours, &exact);
        assert!(e < 2e-5, "{config:?} k={k} {c}→{o} {h}×{w}: {e:e}");
    }
}

/// `⟨s, W⋆x⟩ = ⟨Wᵀs, x⟩` to 1e-12 of `‖s‖·‖W⋆x‖` on every path (Winograd, flipped kernel,
/// fold with and without stride, 1×1 product, padding of the kernel's side), twice (kept
/// transforms), and elementwise against candle's `conv_transpose2d` with the output padding
/// that gives the input's side back.
#[test]
fn transposed_is_the_adjoint_on_every_path() {
    let extra = [(Conv2dConfig::new(3, 1).unwrap(), 3), (Conv2dConfig::new(1, 1).unwrap(), 1)];
    let all = cases().chain(extra.into_iter().map(|(config, k)| (config, k, 2, (4, 6), (7, 10), 99)));
    for (config, k, n, (c, o), (h, w), seed) in all {
        let x = uniform(&[n, c, h, w], seed);
        let weight = uniform(&[o, c, k, k], seed + 1000);
        let conv = ConvKernel::with_config(weight.clone(), config).unwrap();
        let y = conv.forward(&x, None, false).unwrap();
        let case = format!("{config:?} k={k} n={n} {c}→{o} {h}×{w}");
        let e = rel_max(&y, &x.conv2d(&weight, config.padding, config.stride, 1, 1).unwrap());
        assert!(e < 1e-12, "forward {case}: {e:e}");
        let s = uniform(y.dims(), seed + 3000);
        let back = conv.transposed(&s, x.shape()).unwrap();
        assert_eq!(back.dims(), x.dims(), "{case}");
        let (lhs, rhs) = (dot(&s, &y), dot(&back, &x));
        let scale = dot(&s, &s).sqrt() * dot(&y, &y).sqrt();
        assert!((lhs - rhs).abs() <= 1e-12 * scale, "{case}: {lhs} vs {rhs}");
        let again = conv.transposed(&s, x.shape()).unwrap();
        assert_eq!(values(&again), values(&back), "{case}: second pass");
        let (ho, wo) = (y.dim(2).unwrap(), y.dim(3).unwrap());
        let restore = |side: usize, out: usize| side + 2 * config.padding - k - (out - 1) * config.stride;
        let theirs = s
            .conv_transpose2d(&weight, config.padding, restore(h, ho).max(restore(w, wo)), config.stride, 1)
            .unwrap();
        if restore(h, ho) == restore(w, wo) {
            let e = rel_max(&back, &theirs);
            assert!(e < 1e-12, "{case} against conv_transpose2d: {e:e}");
        }
    }
}

/// float32's transposed pass against float64's on the same values: within 2e-5 of the largest.
#[test]
fn float32_transposed_is_close_to_float64() {
    for (config, k, n, (c, o), (h, w), seed) in cases() {
        let weight = uniform(&[o, c, k, k], seed + 1000);
        let input = Shape::from((n, c, h, w));
        let out = |d: usize| config.output_side(d, k).unwrap();
        let s = uniform(&[n, o, out(h), out(w)], seed + 3000);
        let exact = ConvKernel::with_config(weight.clone(), config).unwrap().transposed(&s, &input).unwrap();
        let f32 = |t: &Tensor| t.to_dtype(DType::F32).unwrap();
        let ours =
            ConvKernel::with_config(f32(&weight), config).unwrap().transposed(&f32(&s), &input).unwrap();
        assert_eq!(ours.dtype(), DType::F32);
        let e = rel_max(&ours, &exact);
        assert!(e < 2e-5, "{config:?} k={k} {c}→{o} {h}×{w}: {e:e}");
    }
}

/// `∂W[o,c,i,j] ⟨s, W⋆x⟩ = Σ_{n,u,v} s[n,o,u,v] · x[n, c, s·u + i − p, s·v + j − p]`, written out.
fn weight_gradient(x: &Tensor, s: &Tensor, k: usize, config: Conv2dConfig) -> Vec<f64> {
    let (n, c, h, w) = x.dims4().unwrap();
    let (_, o, ho, wo) = s.dims4().unwrap();
    let (xs, ss) = (values(x), values(s));
    let mut grad = vec![0.0; o * c * k * k];
    for (idx, g) in grad.iter_mut().enumerate() {
        let (oi, ci, i, j) = (idx / (c * k * k), (idx / (k * k)) % c, (idx / k) % k, idx % k);
        for ni in 0..n {
            for u in 0..ho {
                for v in 0..wo {
                    let (r, q) = (config.stride * u + i, config.stride * v + j);
                    if r < config.padding
                        || q < config.padding
                        || r - config.padding >= h
                        || q - config.padding >= w
                    {
                        continue;
                    }
                    let at = ((ni * c + ci) * h + r - config.padding) * w + q - config.padding;
                    *g += ss[((ni * o + oi) * ho + u) * wo + v] * xs[at];
                }
            }
        }
    }
    grad
}

/// Through candle's autograd, the one-use convolution's input gradient of `⟨s, W⋆x + b⟩` is
/// the kernel's transposed pass `Wᵀs`, and its weight gradient the written-out sum, both to
/// 1e-12; the transposed pass is differentiable in turn, `∂s ⟨t, Wᵀs⟩ = W⋆t`.
#[test]
fn autograd_gradients_equal_the_transposed_pass() {
    for (config, k, n, (c, o), (h, w), seed) in cases() {
        let case = format!("{config:?} k={k} n={n} {c}→{o} {h}×{w}");
        let x = Var::from_tensor(&uniform(&[n, c, h, w], seed)).unwrap();
        let weight = Var::from_tensor(&uniform(&[o, c, k, k], seed + 1000)).unwrap();
        let bias = uniform(&[o], seed + 2000);
        let y = conv2d_with_config(x.as_tensor(), weight.as_tensor(), Some(&bias), config).unwrap();
        let s = uniform(y.dims(), seed + 3000);
        let grads = (&y * &s).unwrap().sum_all().unwrap().backward().unwrap();
        let conv = ConvKernel::with_config(weight.as_tensor().detach(), config).unwrap();
        let expected = conv.transposed(&s, x.shape()).unwrap();
        let e = rel_max(grads.get(x.as_tensor()).unwrap(), &expected);
        assert!(e < 1e-12, "input gradient {case}: {e:e}");
        if h == w || config.stride == 1 {
            // candle 0.11.1's own backward gives both sides the output padding of the height
            // (`backprop.rs`), which fails when their remainders modulo the stride differ.
            let theirs =
                x.as_tensor().conv2d(weight.as_tensor(), config.padding, config.stride, 1, 1).unwrap();
            let their_grads = (&theirs * &s).unwrap().sum_all().unwrap().backward().unwrap();
            let e = rel_max(grads.get(x.as_tensor()).unwrap(), their_grads.get(x.as_tensor()).unwrap());
            assert!(e < 1e-12, "input gradient against candle's {case}: {e:e}");
        }
        let expected_w =
            Tensor::from_vec(weight_gradient(x.as_tensor(), &s, k, config), (o, c, k, k), x.device())
                .unwrap();
        let e = rel_max(grads.get(weight.as_tensor()).unwrap(), &expected_w);
        assert!(e < 1e-12, "weight gradient {case}: {e:e}");

        let s = Var::from_tensor(&s).unwrap();
        let back = conv.transposed(s.as_tensor(), x.shape()).unwrap();
        let t = uniform(x.dims(), seed + 4000);
        let grads = (&back * &t).unwrap().sum_all().unwrap().backward().unwrap();
        let forward = conv.forward(&t, None, false).unwrap();
        let e = rel_max(grads.get(s.as_tensor()).unwrap(), &forward);
        assert!(e < 1e-12, "gradient of the transposed pass {case}: {e:e}");
    }
}

/// The same gradient in float32, against float64's transposed pass: within 2e-5.
#[test]
fn float32_autograd_gradient_is_close_to_float64() {
    for (config, k, n, (c, o), (h, w), seed) in cases() {
        let x = uniform(&[n, c, h, w], seed);
        let weight = uniform(&[o, c, k, k], seed + 1000);
        let f32 = |t: &Tensor| t.to_dtype(DType::F32).unwrap();
        let x32 = Var::from_tensor(&f32(&x)).unwrap();
        let y = conv2d_with_config(x32.as_tensor(), &f32(&weight), None, config).unwrap();
        let s = uniform(y.dims(), seed + 3000);
        let grads = (&y * &f32(&s)).unwrap().sum_all().unwrap().backward().unwrap();
        let exact = ConvKernel::with_config(weight, config).unwrap().transposed(&s, x.shape()).unwrap();
        let e = rel_max(grads.get(x32.as_tensor()).unwrap(), &exact);
        assert!(e < 2e-5, "{config:?} k={k} {c}→{o} {h}×{w}: {e:e}");
    }
}

#[test]
fn transposed_refuses_an_input_of_another_output_side() {
    let weight = uniform(&[4, 3, 3, 3], 1);
    let conv = ConvKernel::with_config(weight, Conv2dConfig::new(1, 2).unwrap()).unwrap();
    let s = uniform(&[1, 4, 5, 5], 2);
    // Sides 9 and 10 both give 5 outputs; 11 gives 6, 8 gives 4.
    assert!(conv.transposed(&s, &Shape::from((1, 3, 9, 10))).is_ok());
    assert!(conv.transposed(&s, &Shape::from((1, 3, 11, 10))).is_err());
    assert!(conv.transposed(&s, &Shape::from((1, 3, 8, 9))).is_err());
    assert!(conv.transposed(&s, &Shape::from((1, 2, 9, 9))).is_err());
}

/// An empty batch is an empty result on every path, not a panic.
#[test]
fn an_empty_batch_gives_an_empty_result() {
    for (k, stride, padding) in CONFIGS {
        let config = Conv2dConfig::new(padding, stride).unwrap();
        let conv = ConvKernel::with_config(uniform(&[16, 16, k, k], 5), config).unwrap();
        let x = Tensor::zeros((0, 16, 9, 9), DType::F64, &candle_core::Device::Cpu).unwrap();
        let y = conv.forward(&x, None, false).unwrap();
        let side = config.output_side(9, k).unwrap();
        assert_eq!(y.dims(), [0, 16, side, side], "{config:?} k={k}");
        assert_eq!(conv.transposed(&y, x.shape()).unwrap().dims(), x.dims(), "{config:?} k={k}");
    }
}
