//! Helpers shared by the integration tests: fixture paths, comparisons.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};

/// The fixture network (VGG-16 at 1/16 width, `vgg16_tiny.safetensors`) in `dtype`.
pub fn tiny(dtype: DType) -> explainer::Vgg {
    let config = explainer::VggConfig::vgg16_tiny();
    explainer::Vgg::load(&fixture("vgg16_tiny.safetensors"), &config, &Device::Cpu, dtype).unwrap()
}

/// `explainer/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// Every tensor of `fixtures/reference.safetensors`.
pub fn reference() -> HashMap<String, Tensor> {
    let bytes = std::fs::read(fixture("reference.safetensors")).unwrap();
    candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap()
}

/// All values of a tensor as f64.
pub fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap()
}

/// `‖a − b‖ / ‖b‖`, in f64.
pub fn rel_l2(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims());
    let (a, b) = (values(a), values(b));
    let diff: f64 = a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum();
    let norm: f64 = b.iter().map(|y| y * y).sum();
    (diff / norm).sqrt()
}

/// Pearson correlation of the values of `a` and `b`.
pub fn correlation(a: &Tensor, b: &Tensor) -> f64 {
    let (a, b) = (values(a), values(b));
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// The sum of all values, in f64.
pub fn sum(t: &Tensor) -> f64 {
    values(t).iter().sum()
}

/// A reproducible input in roughly [−2, 2] (a hash of the index and `seed`), shaped `dims`.
pub fn input(seed: u64, dims: &[usize], dtype: DType) -> Tensor {
    let n: usize = dims.iter().product();
    let v: Vec<f64> = (0..n as u64)
        .map(|i| {
            let mut z = (i ^ seed.rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(seed);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            4.0 * ((z >> 11) as f64 / (1u64 << 53) as f64) - 2.0
        })
        .collect();
    Tensor::from_vec(v, dims, &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}

/// The peak resident set of this test process (`VmHWM`), in bytes; 0 where `/proc` is missing.
pub fn peak_memory() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}
