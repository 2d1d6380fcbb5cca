//! VGG configurations: the layer list of a VGG-style network, as torchvision's `cfgs`.

/// One entry of a VGG feature extractor, as in torchvision's `cfgs` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// A 3×3 convolution (padding 1, stride 1) with this many output channels, then a ReLU.
    Conv(usize),
    /// A 2×2 max-pool with stride 2 (torchvision's `'M'`); it ends a block.
    MaxPool,
}

/// The architecture of a VGG-style classifier.
///
/// `features` is torchvision's configuration list (convolutions and `'M'` pools); the
/// classifier is `Linear → ReLU → Dropout` for each entry of `hidden`, then `Linear` to
/// `classes`. The classifier's input is the last feature map, `channels × feature_size²`,
/// flattened channel-major as `torch.flatten` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VggConfig {
    /// A short name used in messages (`"vgg16"`).
    pub name: String,
    /// Input channels (3 for RGB).
    pub in_channels: usize,
    /// Convolutions and max-pools, in order.
    pub features: Vec<Feature>,
    /// Side of the last feature map that the classifier expects (7 for torchvision).
    pub feature_size: usize,
    /// Widths of the hidden dense layers (`[4096, 4096]` for VGG-16).
    pub hidden: Vec<usize>,
    /// Number of classes (1000 for ImageNet-1k).
    pub classes: usize,
    /// Whether the features end with torchvision's `AdaptiveAvgPool2d` to
    /// `feature_size × feature_size` (torchvision's VGGs do; it matters to rules that treat
    /// pooling, such as zennit's `Norm`, even where it is the identity).
    pub average_pool: bool,
}

impl VggConfig {
    // ANCHOR: vgg16_config
    /// torchvision's VGG-16 (configuration "D"): 13 convolutions in 5 blocks, 4096 hidden units,
    /// 1000 classes, 224×224 inputs.
    pub fn vgg16() -> Self {
        Self::from_cfg(
            "vgg16",
            &[64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
            7,
            vec![4096, 4096],
            1000,
        )
    }
    // ANCHOR_END: vgg16_config

    /// The fixture network of `explainer/fixtures/`: VGG-16's layers at 1/16 of the width
    /// (channels 4, 4, M, 8, 8, M, 16, 16, 16, M, 32, 32, 32, M, 32, 32, 32, M), classifier
    /// 1568 → 128 → 128 → 1000.
    pub fn vgg16_tiny() -> Self {
        Self::from_cfg(
            "vgg16_tiny",
            &[4, 4, 0, 8, 8, 0, 16, 16, 16, 0, 32, 32, 32, 0, 32, 32, 32, 0],
            7,
            vec![128, 128],
            1000,
        )
    }

    /// The network shipped in `explainer/models/shapes_vgg.safetensors`, trained on the
    /// synthetic scenes of [`crate::scenes`]: five blocks of one convolution and a max-pool
    /// (16, M, 32, M, 64, M, 128, M, 128, M), as VGG-16's five blocks, take a 64×64 scene to a
    /// 2×2 map; a last max-pool takes the maximum over it (translation invariant: the object may
    /// be anywhere), classifier 128 → 128 → 6 (the classes of [`crate::scenes::Shape::ALL`]).
    /// The last two blocks are the wide ones: at 8×8 and 4×4 they cost little time.
    pub fn shapes() -> Self {
        let config = Self::from_cfg("shapes_vgg", &[16, 0, 32, 0, 64, 0, 128, 0, 128, 0, 0], 1, vec![128], 6);
        Self { average_pool: false, ..config }
    }

    /// A configuration from a torchvision-style list where `0` stands for `'M'` (max-pool),
    /// with torchvision's adaptive average pool after the features.
    pub fn from_cfg(
        name: &str,
        cfg: &[usize],
        feature_size: usize,
        hidden: Vec<usize>,
        classes: usize,
    ) -> Self {
        let features =
            cfg.iter().map(|&c| if c == 0 { Feature::MaxPool } else { Feature::Conv(c) }).collect();
        Self {
            name: name.to_owned(),
            in_channels: 3,
            features,
            feature_size,
            hidden,
            classes,
            average_pool: true,
        }
    }

    /// Number of max-pools, that is of blocks ended by a pool.
    pub fn pools(&self) -> usize {
        self.features.iter().filter(|f| **f == Feature::MaxPool).count()
    }

    /// Side of the square input the classifier needs: `feature_size · 2^pools` (224 for VGG-16).
    pub fn input_size(&self) -> usize {
        self.feature_size << self.pools()
    }

    /// Channels of the last convolution (the classifier's input channels).
    pub fn last_channels(&self) -> usize {
        self.features
            .iter()
            .rev()
            .find_map(|f| match f {
                Feature::Conv(c) => Some(*c),
                Feature::MaxPool => None,
            })
            .unwrap_or(self.in_channels)
    }

    /// Inputs of the first dense layer: `last_channels · feature_size²` (25088 for VGG-16).
    pub fn classifier_inputs(&self) -> usize {
        self.last_channels() * self.feature_size * self.feature_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vgg16_sizes_are_torchvisions() {
        let c = VggConfig::vgg16();
        assert_eq!(c.pools(), 5);
        assert_eq!(c.input_size(), 224);
        assert_eq!(c.classifier_inputs(), 25088);
        let t = VggConfig::vgg16_tiny();
        assert_eq!(t.classifier_inputs(), 1568);
    }
}
