//! The model: VGG configurations, layers as data, prepared kernels and weight loading. The
//! compute kernels themselves live in the `kernels` crate.

pub mod config;
pub mod layer;
pub mod legacy_pth;
pub mod prepared;
pub mod vgg;
pub mod weights;

pub use config::{Feature, VggConfig};
pub use kernels::{AdaptiveAvgPool2d, MaxPool2d, RoutedMaxPool};
pub use layer::{Affine, Conv2d, Kernel, Layer, LayerKind, Linear};
pub use prepared::PreparedModel;
pub use vgg::Vgg;
pub use weights::{Naming, read_state_dict};
