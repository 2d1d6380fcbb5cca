//! The architectures a weights file may hold (`--arch`), and a loaded network of either family.

use std::path::Path;

use candle_core::{DType, Device};

use super::network::Network;
use super::resnet::{Canonization, ResNet};
use super::resnet_config::ResNetConfig;
use super::{Vgg, VggConfig};
use crate::error::Result;

/// The architectures whose weights `--weights` may hold (`--arch`).
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// torchvision's VGG-16 (ImageNet, 1000 classes).
    Vgg16,
    /// VGG-16's layers at 1/16 width (the test fixture in explainer/fixtures/).
    Vgg16Tiny,
    /// torchvision's ResNet-18 (ImageNet).
    Resnet18,
    /// torchvision's ResNet-34 (ImageNet).
    Resnet34,
    /// torchvision's ResNet-50 (ImageNet).
    Resnet50,
    /// ResNet-18 at widths 8–64, 10 classes, 64×64 (the test fixture in explainer/fixtures/).
    Resnet18Narrow,
}

/// An architecture's configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum ArchitectureConfig {
    /// A VGG.
    Vgg(VggConfig),
    /// A ResNet.
    ResNet(ResNetConfig),
}

impl ArchitectureConfig {
    /// The configuration's name.
    pub fn name(&self) -> &str {
        match self {
            ArchitectureConfig::Vgg(c) => &c.name,
            ArchitectureConfig::ResNet(c) => &c.name,
        }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        match self {
            ArchitectureConfig::Vgg(c) => c.classes,
            ArchitectureConfig::ResNet(c) => c.classes,
        }
    }
}

impl Architecture {
    /// The architecture's configuration.
    pub fn config(self) -> ArchitectureConfig {
        match self {
            Architecture::Vgg16 => ArchitectureConfig::Vgg(VggConfig::vgg16()),
            Architecture::Vgg16Tiny => ArchitectureConfig::Vgg(VggConfig::vgg16_tiny()),
            Architecture::Resnet18 => ArchitectureConfig::ResNet(ResNetConfig::resnet18()),
            Architecture::Resnet34 => ArchitectureConfig::ResNet(ResNetConfig::resnet34()),
            Architecture::Resnet50 => ArchitectureConfig::ResNet(ResNetConfig::resnet50()),
            Architecture::Resnet18Narrow => ArchitectureConfig::ResNet(ResNetConfig::resnet18_narrow()),
        }
    }

    /// The VGG configuration, if the architecture is a VGG.
    pub fn vgg_config(self) -> Option<VggConfig> {
        match self.config() {
            ArchitectureConfig::Vgg(c) => Some(c),
            ArchitectureConfig::ResNet(_) => None,
        }
    }

    /// The file names under which torchvision caches this architecture's ImageNet weights, in
    /// the order they are looked for (none for the fixtures).
    pub fn torchvision_files(self) -> &'static [&'static str] {
        match self {
            Architecture::Vgg16 => &["vgg16-397923af.pth"],
            Architecture::Resnet18 => &["resnet18-f37072fd.pth"],
            Architecture::Resnet34 => &["resnet34-b627a593.pth"],
            // IMAGENET1K_V2 (torchvision's default since 0.13), then V1.
            Architecture::Resnet50 => &["resnet50-11ad3fa6.pth", "resnet50-0676ba61.pth"],
            Architecture::Vgg16Tiny | Architecture::Resnet18Narrow => &[],
        }
    }

    // ANCHOR: how_to_get_weights
    /// How a user gets this architecture's weights, for error messages.
    pub fn how_to_get_weights(self) -> String {
        let (torchvision, timm, size) = match self {
            Architecture::Vgg16 => ("vgg16(weights=\"IMAGENET1K_V1\")", "vgg16.tv_in1k", "528 MB"),
            Architecture::Resnet18 => ("resnet18(weights=\"IMAGENET1K_V1\")", "resnet18.tv_in1k", "45 MB"),
            Architecture::Resnet34 => ("resnet34(weights=\"IMAGENET1K_V1\")", "resnet34.tv_in1k", "84 MB"),
            Architecture::Resnet50 => ("resnet50(weights=\"DEFAULT\")", "resnet50.tv2_in1k", "98 MB"),
            Architecture::Vgg16Tiny | Architecture::Resnet18Narrow => {
                return "The fixture networks are in explainer/fixtures/: pass one with --weights.".into();
            }
        };
        format!(
            "Get the ImageNet weights in one of these ways, then run again (or pass --weights FILE):\n  \
             * with PyTorch installed (downloads {size} into torchvision's cache, which we find):\n      \
             python3 -c 'import torchvision; torchvision.models.{torchvision}'\n  \
             * or download timm's safetensors version of the same weights and pass it with --weights:\n      \
             https://huggingface.co/timm/{timm}/resolve/main/model.safetensors"
        )
    }
    // ANCHOR_END: how_to_get_weights

    /// Loads weights of this architecture from `path` (`.pth` or `.safetensors`, torchvision's or
    /// timm's names); a ResNet is canonized as `canonization` says.
    pub fn load(
        self,
        path: &Path,
        device: &Device,
        dtype: DType,
        canonization: Canonization,
    ) -> Result<Classifier> {
        Ok(match self.config() {
            ArchitectureConfig::Vgg(config) => Classifier::Vgg(Vgg::load(path, &config, device, dtype)?),
            ArchitectureConfig::ResNet(config) => {
                Classifier::ResNet(ResNet::load(path, &config, device, dtype)?.canonized(canonization)?)
            }
        })
    }
}

/// A loaded network of either family; dereferences to its [`Network`].
#[derive(Debug, Clone)]
pub enum Classifier {
    /// A VGG.
    Vgg(Vgg),
    /// A ResNet (canonized when loaded by [`Architecture::load`]).
    ResNet(ResNet),
}

impl std::ops::Deref for Classifier {
    type Target = Network;

    fn deref(&self) -> &Network {
        match self {
            Classifier::Vgg(v) => v,
            Classifier::ResNet(r) => r,
        }
    }
}
