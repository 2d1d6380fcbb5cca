//! CPU compute kernels for the explainer, on candle tensors: the engineering under the math.
//!
//! The explainer's model and LRP rules read as math; the fast paths they run on live here, as
//! candle keeps its kernels in candle-core:
//!
//! - [`conv`]: a prepared convolution ([`ConvKernel`]) with a padding and a stride
//!   ([`Conv2dConfig`]) that picks Winograd F(4×4, 3×3) ([`winograd`], 3×3 with stride 1) or
//!   `im2col` and a matrix product ([`im2col`]), for the convolution and its transpose, and
//!   owns what it derives from its weight;
//! - [`dense`]: dense layers `W x + b` and their transposes `Wᵀ s`;
//! - [`avg_pool`]: adaptive average pooling (torchvision's `AdaptiveAvgPool2d`) and its transpose;
//! - [`max_pool`]: max-pooling (with stride and padding) that records its argmax and routes
//!   gradients to it;
//! - [`elementwise`]: maps over several tensors in one pass, in place where possible;
//! - [`gemm`]: the checked wrapper over the `gemm` crate, the workspace's only `unsafe` code.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use kernels::ConvKernel;
//!
//! let weight = Tensor::randn(0f32, 1.0, (16, 16, 3, 3), &Device::Cpu)?;
//! let conv = ConvKernel::new(weight.clone(), 1)?;
//! let x = Tensor::randn(0f32, 1.0, (1, 16, 8, 8), &Device::Cpu)?;
//! let fast = conv.forward(&x, None, false)?; // float32: Winograd, transform made once and kept
//! let direct = kernels::im2col::conv2d(&x, &weight, 1)?;
//! let diff = (fast - &direct)?.abs()?.max_all()?.to_scalar::<f32>()?;
//! assert!(diff < 2e-5 * direct.abs()?.max_all()?.to_scalar::<f32>()?);
//! # Ok::<(), candle_core::Error>(())
//! ```

pub mod avg_pool;
pub mod conv;
pub mod dense;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod max_pool;
pub mod winograd;

pub use avg_pool::AdaptiveAvgPool2d;
pub use conv::{Conv2dConfig, ConvKernel};
pub use dense::DenseKernel;
pub use max_pool::{MaxPool2d, RoutedMaxPool};
