//! The model: VGG configurations, layers as data, the routed max-pool and weight loading.

pub mod config;
pub mod elementwise;
pub(crate) mod gemm;
pub mod im2col;
pub mod layer;
pub mod legacy_pth;
pub mod max_pool;
pub mod vgg;
pub mod weights;
pub mod winograd;

pub use config::{Feature, VggConfig};
pub use layer::{Affine, Conv2d, Layer, Linear};
pub use max_pool::{MaxPool2d, RoutedMaxPool};
pub use vgg::Vgg;
pub use weights::{Naming, read_state_dict};
