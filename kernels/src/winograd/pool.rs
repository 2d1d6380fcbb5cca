//! Working buffers kept between calls.

use std::sync::Mutex;

use candle_core::WithDType;

/// The dtypes the convolutions run in, each with a pool of working buffers.
pub trait Float: WithDType {
    /// Buffers of transformed tiles kept between calls: they are megabytes per layer, and
    /// every fresh page costs a page fault (and the kernel clears it).
    fn pool() -> &'static Mutex<Vec<Vec<Self>>>;
}

impl Float for f32 {
    fn pool() -> &'static Mutex<Vec<Vec<Self>>> {
        static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
        &POOL
    }
}

impl Float for f64 {
    fn pool() -> &'static Mutex<Vec<Vec<Self>>> {
        static POOL: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());
        &POOL
    }
}

/// Buffers a pool keeps at most (two per convolution in flight).
const POOLED: usize = 4;

/// A buffer of at least the asked length from [`Float::pool`], given back when dropped. Its
/// contents are whatever the last user left: every caller writes before it reads.
pub(super) struct Pooled<T: Float>(pub(super) Vec<T>);

impl<T: Float> Pooled<T> {
    pub(super) fn take(len: usize) -> Self {
        let mut v = T::pool().lock().ok().and_then(|mut pool| pool.pop()).unwrap_or_default();
        if v.len() < len {
            v.resize(len, T::zero());
        }
        Self(v)
    }
}

impl<T: Float> Drop for Pooled<T> {
    fn drop(&mut self) {
        if let Ok(mut pool) = T::pool().lock()
            && pool.len() < POOLED
        {
            pool.push(std::mem::take(&mut self.0));
        }
    }
}
