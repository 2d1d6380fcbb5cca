//! The layers of a VGG network as plain data, so that rules can reach the weights.
//!
//! Mirrors zennit's view of a `torch.nn.Sequential`: every layer is a value in a `Vec`,
//! never a closure. The layers with parameters ([`Conv2d`], [`Linear`]) implement
//! [`Affine`], the interface the LRP rules use to run a layer with modified parameters and
//! to run its transposed (backward) map.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use candle_core::{DType, Result, Shape, Tensor, TensorId, WithDType};

use super::elementwise::with_slice;
use super::max_pool::MaxPool2d;
use super::{im2col, winograd};

/// A layer `x ↦ W⋆x + b` whose parameters rules may modify: convolutions and dense layers.
pub trait Affine: std::fmt::Debug + Send + Sync {
    /// The weight `W` (`(out, in, kh, kw)` for convolutions, `(out, in)` for dense layers).
    fn weight(&self) -> &Tensor;
    /// The bias `b`, one value per output.
    fn bias(&self) -> &Tensor;
    /// The layer with the given parameters (shaped like the layer's own): `W'⋆x + b'`,
    /// without the bias when `bias` is `None`.
    fn apply(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor>;
    /// The transposed map `c = W'ᵀ s`: the gradient of `⟨s, W'⋆x⟩` with respect to `x`,
    /// for an input of shape `input`.
    fn apply_transposed(&self, s: &Tensor, weight: &Tensor, input: &Shape) -> Result<Tensor>;
    /// `max(0, W⋆x + b)`: the layer followed by a ReLU, in one pass where the layer can.
    fn forward_relu(&self, x: &Tensor) -> Result<Tensor> {
        self.apply(x, self.weight(), Some(self.bias()))?.relu()
    }
    /// The weight `make(W)` derived from the layer's own (a rule's modified weight, e.g.
    /// `W + γW⁺`). A layer may keep it per `key` and return the same tensor on later calls,
    /// with whatever it prepared for it (a convolution keeps its Winograd transform); `key`
    /// must name `make` exactly. Default: made on every call.
    fn derived_weight(&self, _key: &str, make: &dyn Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
        make(self.weight())
    }
}

/// A 2-D convolution with stride 1 and symmetric zero padding (VGG's 3×3, padding 1).
#[derive(Debug, Clone)]
pub struct Conv2d {
    weight: Tensor,
    bias: Tensor,
    padding: usize,
    /// The layer's own weight transposed and flipped, made on the first transposed pass
    /// with it and kept (the gradient rule uses it unchanged on every explanation; the flip
    /// of VGG-16's kernels writes 59 MB each time).
    flipped: Arc<OnceLock<Tensor>>,
    /// Weights derived from the layer's own by rules ([`Affine::derived_weight`]), by key,
    /// the most recently made last; at most [`DERIVED_KEPT`].
    derived: Arc<Mutex<Vec<(String, Tensor)>>>,
    /// The Winograd kernel transforms of the own and the derived weights, by tensor id, made
    /// on first use (VGG-16's own take 235 MB in float32, as much again per γ schedule).
    transforms: Arc<Mutex<HashMap<TensorId, Tensor>>>,
}

/// Derived weights a convolution keeps (with their Winograd transforms: about 300 MB for one
/// γ schedule on VGG-16 in float32).
const DERIVED_KEPT: usize = 2;

impl Conv2d {
    /// A convolution from its weight `(out, in, k, k)`, bias `(out)` and padding (at most `k − 1`).
    pub fn new(weight: Tensor, bias: Tensor, padding: usize) -> Self {
        Self {
            weight,
            bias,
            padding,
            flipped: Arc::default(),
            derived: Arc::default(),
            transforms: Arc::default(),
        }
    }

    /// Whether a pass with `weight` on these tensors runs by Winograd: a 3×3 kernel with
    /// enough channels ([`winograd::suits`]), on the CPU, outside candle's autograd.
    fn by_winograd(&self, weight: &Tensor, data: &Tensor) -> Result<bool> {
        let (o, c, kh, kw) = weight.dims4()?;
        Ok(winograd::suits((kh, kw), c, o)
            && self.padding <= 2
            && data.device().is_cpu()
            && !data.track_op()
            && !weight.track_op()
            && matches!(weight.dtype(), DType::F32 | DType::F64))
    }

    /// The Winograd transform of `weight`: kept if it is the layer's own (constant) weight or
    /// one it derived, made afresh otherwise.
    fn winograd_kernel(&self, weight: &Tensor) -> Result<Tensor> {
        let own = weight.id() == self.weight.id() && !weight.is_variable();
        let derived = || self.lock(&self.derived).map(|d| d.iter().any(|(_, w)| w.id() == weight.id()));
        if !own && !derived()? {
            return winograd::transform_kernel(weight);
        }
        let mut transforms = self.lock(&self.transforms)?;
        if let Some(u) = transforms.get(&weight.id()) {
            return Ok(u.clone());
        }
        let u = winograd::transform_kernel(weight)?;
        transforms.insert(weight.id(), u.clone());
        Ok(u)
    }

    fn lock<'a, V>(&self, m: &'a Mutex<V>) -> Result<std::sync::MutexGuard<'a, V>> {
        m.lock().map_err(|_| candle_core::Error::Msg("a thread panicked while preparing kernels".into()))
    }

    /// The zero padding on each side.
    pub fn padding(&self) -> usize {
        self.padding
    }
}

impl Affine for Conv2d {
    fn weight(&self) -> &Tensor {
        &self.weight
    }

    fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// By Winograd F(4×4, 3×3) ([`winograd::conv2d`]) on 3×3 kernels with enough channels
    /// outside autograd, else as `im2col` and a matrix product ([`im2col::conv2d`]).
    fn apply(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        if self.by_winograd(weight, x)? {
            return winograd::conv2d(
                &x.contiguous()?,
                &self.winograd_kernel(weight)?,
                self.padding,
                bias,
                false,
            );
        }
        let y = im2col::conv2d(x, weight, self.padding)?;
        match bias {
            Some(b) => y.broadcast_add(&b.reshape((1, b.elem_count(), 1, 1))?),
            None => Ok(y),
        }
    }

    // ANCHOR: conv_transposed
    /// On 3×3 kernels with enough channels (all of VGG-16's but the first), outside autograd,
    /// the transposed pass is the adjoint of the Winograd convolution, with the same kernel
    /// transform as the forward pass ([`winograd::conv2d_transposed`]).
    ///
    /// Otherwise, for stride 1, the transposed convolution is a convolution with the kernel
    /// transposed in its channel axes and flipped spatially, padded by `k − 1 − padding` (a
    /// convolution is about twice as fast as candle's `conv_transpose2d` on the CPU).
    ///
    /// With fewer input than output channels (the first layer), and columns of at most
    /// [`im2col::FOLD_BYTES`], it is instead [`im2col::conv2d_transposed_by_fold`]: far
    /// fewer columns, and no product with only 3 output rows.
    fn apply_transposed(&self, s: &Tensor, weight: &Tensor, input: &Shape) -> Result<Tensor> {
        let (o, c, k, _) = weight.dims4()?;
        let dims = input.dims4()?;
        if self.by_winograd(weight, s)? {
            let u = self.winograd_kernel(weight)?;
            return winograd::conv2d_transposed(&s.contiguous()?, &u, self.padding, (dims.2, dims.3));
        }
        let cols_bytes = c * k * k * dims.2 * dims.3 * weight.dtype().size_in_bytes();
        let untracked = !s.track_op() && !weight.track_op() && s.device().is_cpu();
        if c < o && cols_bytes <= im2col::FOLD_BYTES && untracked {
            return im2col::conv2d_transposed_by_fold(s, weight, self.padding, dims);
        }
        // A `Var`'s values change in place (training), so only a constant weight is cached.
        let own = weight.id() == self.weight.id() && !weight.is_variable();
        let flipped = match self.flipped.get() {
            Some(f) if own => f.clone(),
            _ if own => {
                let f = transposed_and_flipped(weight)?;
                self.flipped.get_or_init(|| f).clone()
            }
            _ => transposed_and_flipped(weight)?,
        };
        let c = im2col::conv2d(s, &flipped, k - 1 - self.padding)?;
        if c.shape() != input {
            candle_core::bail!("transposed convolution gave {:?}, expected {input:?}", c.shape());
        }
        Ok(c)
    }
    // ANCHOR_END: conv_transposed

    /// The ReLU applied as the Winograd output is written, when the layer runs by Winograd.
    fn forward_relu(&self, x: &Tensor) -> Result<Tensor> {
        if self.by_winograd(&self.weight, x)? {
            let u = self.winograd_kernel(&self.weight)?;
            return winograd::conv2d(&x.contiguous()?, &u, self.padding, Some(&self.bias), true);
        }
        self.apply(x, &self.weight, Some(&self.bias))?.relu()
    }

    fn derived_weight(&self, key: &str, make: &dyn Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
        if self.weight.is_variable() {
            return make(&self.weight); // training changes the weight in place
        }
        let mut derived = self.lock(&self.derived)?;
        if let Some((_, w)) = derived.iter().find(|(k, _)| k == key) {
            return Ok(w.clone());
        }
        let w = make(&self.weight)?;
        if derived.len() == DERIVED_KEPT {
            // The oldest goes, with its transform: a sweep over γ keeps memory bounded.
            let (_, old) = derived.remove(0);
            self.lock(&self.transforms)?.remove(&old.id());
        }
        derived.push((key.to_owned(), w.clone()));
        Ok(w)
    }
}

/// The kernel `(O, C, k, k)` as `(C, O, k, k)`, flipped in both spatial axes, in one pass
/// (candle's `transpose` + `flip` take four copies, 25 ms for VGG-16's 512×512 kernels).
fn transposed_and_flipped(weight: &Tensor) -> Result<Tensor> {
    fn permute<T: WithDType>(w: &[T], (o, c, kh, kw): (usize, usize, usize, usize)) -> Vec<T> {
        let mut out = vec![T::zero(); w.len()];
        for co in 0..o {
            for ci in 0..c {
                let src = &w[(co * c + ci) * kh * kw..(co * c + ci + 1) * kh * kw];
                let dst = &mut out[(ci * o + co) * kh * kw..(ci * o + co + 1) * kh * kw];
                for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
                    *d = *s;
                }
            }
        }
        out
    }
    let dims = weight.dims4()?;
    let (o, c, kh, kw) = dims;
    match weight.dtype() {
        DType::F32 => Tensor::from_vec(
            with_slice(weight, |w: &[f32]| permute(w, dims))?,
            (c, o, kh, kw),
            weight.device(),
        ),
        DType::F64 => Tensor::from_vec(
            with_slice(weight, |w: &[f64]| permute(w, dims))?,
            (c, o, kh, kw),
            weight.device(),
        ),
        _ => weight.transpose(0, 1)?.contiguous()?.flip(&[2, 3])?.contiguous(),
    }
}

/// A dense layer `y = W x + b` with `W` of shape `(out, in)`, as `torch.nn.Linear`.
#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    /// A dense layer from its weight `(out, in)` and bias `(out)`.
    pub fn new(weight: Tensor, bias: Tensor) -> Self {
        Self { weight, bias }
    }
}

impl Affine for Linear {
    fn weight(&self) -> &Tensor {
        &self.weight
    }

    fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// As `(W xᵀ)ᵀ`: the same sums as `x Wᵀ`, but the matrix product reads `W` row by row
    /// (for a batch of 8 on VGG-16's 25088 → 4096 layer, 20 ms instead of 80 ms).
    fn apply(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let y = weight.matmul(&x.t()?)?.t()?;
        match bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }

    /// `c = s W` (row vectors): the dense layer's transpose.
    fn apply_transposed(&self, s: &Tensor, weight: &Tensor, input: &Shape) -> Result<Tensor> {
        s.matmul(weight)?.reshape(input)
    }
}

/// One layer of a VGG network, in `torch.nn.Sequential` order.
#[derive(Debug, Clone)]
pub enum Layer {
    /// A convolution (`features.i` in torchvision's names).
    Conv2d(Conv2d),
    /// `max(0, x)`.
    Relu,
    /// A max-pool that records where each maximum came from.
    MaxPool2d(MaxPool2d),
    /// `(N, C, H, W) → (N, C·H·W)`, channel-major as `torch.flatten`.
    Flatten,
    /// A dense layer (`classifier.i`).
    Linear(Linear),
    /// Dropout, the identity at evaluation time.
    Dropout,
}

impl Layer {
    /// The layer's output for `x` (inference).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Layer::Conv2d(c) => c.apply(x, c.weight(), Some(c.bias())),
            Layer::Relu => x.relu(),
            Layer::MaxPool2d(p) => Ok(p.forward_with_argmax(x)?.0),
            Layer::Flatten => x.flatten_from(1),
            Layer::Linear(l) => l.apply(x, l.weight(), Some(l.bias())),
            Layer::Dropout => Ok(x.clone()),
        }
    }

    /// The layer as an [`Affine`] map, if it has parameters.
    pub fn affine(&self) -> Option<&dyn Affine> {
        match self {
            Layer::Conv2d(c) => Some(c),
            Layer::Linear(l) => Some(l),
            _ => None,
        }
    }

    /// A short name for messages (`"conv2d"`, `"relu"`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv2d(_) => "conv2d",
            Layer::Relu => "relu",
            Layer::MaxPool2d(_) => "max_pool2d",
            Layer::Flatten => "flatten",
            Layer::Linear(_) => "linear",
            Layer::Dropout => "dropout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    /// The transposed map is the adjoint: ⟨s, W⋆x⟩ = ⟨Wᵀs, x⟩.
    #[test]
    fn transposed_conv_is_the_adjoint() {
        let d = Device::Cpu;
        let w = Tensor::randn(0.0, 1.0, (5, 3, 3, 3), &d).unwrap().to_dtype(DType::F64).unwrap();
        let b = Tensor::zeros(5, DType::F64, &d).unwrap();
        let conv = Conv2d::new(w.clone(), b, 1);
        let x = Tensor::randn(0.0, 1.0, (2, 3, 6, 6), &d).unwrap().to_dtype(DType::F64).unwrap();
        let s = Tensor::randn(0.0, 1.0, (2, 5, 6, 6), &d).unwrap().to_dtype(DType::F64).unwrap();
        let lhs =
            (&s * conv.apply(&x, &w, None).unwrap()).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
        let c = conv.apply_transposed(&s, &w, x.shape()).unwrap();
        let rhs = (&c * &x).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
        approx::assert_relative_eq!(lhs, rhs, max_relative = 1e-12);
        // 3 < 5 channels: that was the fold; the flipped-kernel convolution agrees.
        let flipped = im2col::conv2d(&s, &transposed_and_flipped(&w).unwrap(), 1).unwrap();
        let diff = c.sub(&flipped).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(diff < 1e-12, "fold and flipped convolution differ by {diff}");
    }

    /// The cached flip of the layer's own weight gives what a fresh flip gives, call after call.
    #[test]
    fn cached_flip_matches_a_fresh_one() {
        let d = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (4, 3, 3, 3), &d).unwrap();
        let conv = Conv2d::new(w.clone(), Tensor::zeros(4, DType::F32, &d).unwrap(), 1);
        let s = Tensor::randn(0f32, 1.0, (1, 4, 5, 5), &d).unwrap();
        let input = Shape::from((1, 3, 5, 5));
        let fresh = conv.apply_transposed(&s, &w.copy().unwrap(), &input).unwrap();
        for _ in 0..2 {
            let cached = conv.apply_transposed(&s, conv.weight(), &input).unwrap();
            let diff =
                cached.sub(&fresh).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
            assert_eq!(diff, 0.0);
        }
    }

    /// A derived weight is made once per key and kept, the oldest dropped past
    /// `DERIVED_KEPT`; the Winograd path gives what the direct convolution gives with it.
    #[test]
    fn derived_weights_are_kept_per_key_and_bounded() {
        let d = Device::Cpu;
        let w = Tensor::randn(0f64, 1.0, (16, 16, 3, 3), &d).unwrap();
        let conv = Conv2d::new(w, Tensor::zeros(16, DType::F64, &d).unwrap(), 1);
        let scaled = |f: f64| move |w: &Tensor| w.affine(f, 0.0);
        let first = conv.derived_weight("twice", &scaled(2.0)).unwrap();
        assert_eq!(conv.derived_weight("twice", &scaled(2.0)).unwrap().id(), first.id());
        let x = Tensor::randn(0f64, 1.0, (1, 16, 6, 6), &d).unwrap();
        let fast = conv.apply(&x, &first, None).unwrap();
        let direct = im2col::conv2d(&x, &first, 1).unwrap();
        let diff = fast.sub(&direct).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(diff < 1e-12, "{diff}");
        for (i, key) in ["thrice", "four times"].into_iter().enumerate() {
            conv.derived_weight(key, &scaled(3.0 + i as f64)).unwrap();
        }
        assert_eq!(conv.derived.lock().unwrap().len(), DERIVED_KEPT);
        assert_ne!(conv.derived_weight("twice", &scaled(2.0)).unwrap().id(), first.id(), "made again");
        assert!(conv.transforms.lock().unwrap().len() <= DERIVED_KEPT + 1);
    }

    #[test]
    fn kernel_flip_matches_candles_transpose_and_flip() {
        let w = Tensor::randn(0f32, 1.0, (4, 3, 3, 2), &Device::Cpu).unwrap();
        let ours = transposed_and_flipped(&w).unwrap();
        let theirs = w.transpose(0, 1).unwrap().contiguous().unwrap().flip(&[2, 3]).unwrap();
        assert_eq!(ours.dims(), theirs.dims());
        let diff = ours.sub(&theirs).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert_eq!(diff, 0.0);
    }
}
