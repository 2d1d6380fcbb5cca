//! The model: a network as a small graph of layers ([`Network`]), its builders ([`Vgg`],
//! [`ResNet`]), prepared kernels, canonization and weight loading. The compute kernels themselves
//! live in the `kernels` crate.

pub mod architecture;
pub mod batch_norm;
pub mod config;
pub mod layer;
pub mod legacy_pth;
pub mod network;
pub mod prepared;
pub mod resnet;
pub mod resnet_config;
pub mod vgg;
pub mod weights;

pub use architecture::{Architecture, ArchitectureConfig, Classifier};
pub use batch_norm::BatchNorm2d;
pub use config::{Feature, VggConfig};
pub use kernels::{AdaptiveAvgPool2d, Conv2dConfig, MaxPool2d, RoutedMaxPool};
pub use layer::{Affine, Conv2d, Kernel, Layer, LayerKind, Linear};
pub use network::{InputSpec, Network, NetworkBuilder};
pub use prepared::PreparedModel;
pub use resnet::{Canonization, ResNet, canonize};
pub use resnet_config::{Block, ResNetConfig};
pub use vgg::Vgg;
pub use weights::{Naming, read_state_dict};
