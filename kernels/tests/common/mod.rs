//! Deterministic test data shared by the integration tests (no RNG crate needed: a splitmix64
//! stream, as reproducible on every machine as a seeded generator).

#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};

/// The splitmix64 stream from `seed`.
fn splitmix(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed;
    std::iter::from_fn(move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Some(z ^ (z >> 31))
    })
}

/// A float64 tensor of `dims` with values uniform in `[−1, 1)` from `seed`.
pub fn uniform(dims: &[usize], seed: u64) -> Tensor {
    let len = dims.iter().product();
    let values: Vec<f64> =
        splitmix(seed).take(len).map(|z| (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0).collect();
    Tensor::from_vec(values, dims, &Device::Cpu).unwrap()
}

/// A float64 tensor of `dims` with small integers `0..levels` from `seed`: most windows of a
/// pool tie.
pub fn small_integers(dims: &[usize], levels: u64, seed: u64) -> Tensor {
    let len = dims.iter().product();
    let values: Vec<f64> = splitmix(seed).take(len).map(|z| (z % levels) as f64).collect();
    Tensor::from_vec(values, dims, &Device::Cpu).unwrap()
}

/// max |a − b| / max |b|, in float64.
pub fn rel_max(a: &Tensor, b: &Tensor) -> f64 {
    let a = a.to_dtype(DType::F64).unwrap();
    let b = b.to_dtype(DType::F64).unwrap();
    let diff = a.sub(&b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
    diff / b.abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap()
}

/// `⟨a, b⟩` in float64.
pub fn dot(a: &Tensor, b: &Tensor) -> f64 {
    let a = a.to_dtype(DType::F64).unwrap();
    let b = b.to_dtype(DType::F64).unwrap();
    (a * b).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap()
}

/// The flat float64 values of `t`.
pub fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap()
}
