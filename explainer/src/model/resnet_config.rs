//! ResNet configurations and their layer plan, in torchvision's module names and order.

use kernels::Conv2dConfig;

/// The residual block of a ResNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// `conv 3×3 (stride s) → BN → ReLU → conv 3×3 → BN`, plus the shortcut (ResNet-18/34).
    Basic,
    /// `conv 1×1 → BN → ReLU → conv 3×3 (stride s) → BN → ReLU → conv 1×1 (×4 channels) → BN`,
    /// plus the shortcut (ResNet-50; torchvision's v1.5, the stride on the 3×3 convolution).
    Bottleneck,
}

impl Block {
    /// Output channels per unit of stage width (torchvision's `expansion`).
    pub fn expansion(self) -> usize {
        match self {
            Block::Basic => 1,
            Block::Bottleneck => 4,
        }
    }
}

/// The architecture of a torchvision ResNet: a stem (`conv1` 7×7 stride 2, `bn1`, `relu`,
/// `maxpool` 3×3 stride 2 padding 1), four stages `layer1..layer4` of residual blocks (stride 1,
/// 2, 2, 2 in each stage's first block, whose shortcut is a 1×1 convolution and a BatchNorm when
/// the stride or the width changes, the identity otherwise), `avgpool` to 1×1 and `fc`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResNetConfig {
    /// A short name for messages (`"resnet50"`).
    pub name: String,
    /// The residual block.
    pub block: Block,
    /// Blocks per stage (`[2, 2, 2, 2]` for ResNet-18).
    pub blocks: [usize; 4],
    /// Stage widths (`[64, 128, 256, 512]`); a stage outputs `width · expansion` channels.
    pub widths: [usize; 4],
    /// Channels of the stem (64).
    pub stem: usize,
    /// Input channels (3).
    pub in_channels: usize,
    /// Number of classes (1000).
    pub classes: usize,
    /// The input side the network was made for (224; any side of at least 32 works).
    pub size: usize,
    /// ε of every BatchNorm (torchvision: 1e-5).
    pub eps: f64,
}

impl ResNetConfig {
    fn torchvision(name: &str, block: Block, blocks: [usize; 4]) -> Self {
        Self {
            name: name.to_owned(),
            block,
            blocks,
            widths: [64, 128, 256, 512],
            stem: 64,
            in_channels: 3,
            classes: 1000,
            size: 224,
            eps: 1e-5,
        }
    }

    /// torchvision's ResNet-18.
    pub fn resnet18() -> Self {
        Self::torchvision("resnet18", Block::Basic, [2, 2, 2, 2])
    }

    /// torchvision's ResNet-34.
    pub fn resnet34() -> Self {
        Self::torchvision("resnet34", Block::Basic, [3, 4, 6, 3])
    }

    /// torchvision's ResNet-50.
    pub fn resnet50() -> Self {
        Self::torchvision("resnet50", Block::Bottleneck, [3, 4, 6, 3])
    }

    /// The fixture `resnet18_narrow` (explainer/fixtures/): ResNet-18 at widths 8, 16, 32, 64,
    /// 10 classes, 64×64 inputs.
    pub fn resnet18_narrow() -> Self {
        Self {
            name: "resnet18_narrow".into(),
            widths: [8, 16, 32, 64],
            stem: 8,
            classes: 10,
            size: 64,
            ..Self::resnet18()
        }
    }

    /// The fixture `resnet_bottleneck_small`: one Bottleneck block per stage at widths 8, 16,
    /// 32, 64, 10 classes, 64×64 inputs.
    pub fn resnet_bottleneck_small() -> Self {
        Self {
            name: "resnet_bottleneck_small".into(),
            blocks: [1, 1, 1, 1],
            widths: [8, 16, 32, 64],
            stem: 8,
            classes: 10,
            size: 64,
            ..Self::resnet50()
        }
    }

    /// Channels into `fc`: the last stage's `width · expansion`.
    pub fn features(&self) -> usize {
        self.widths[3] * self.block.expansion()
    }

    // ANCHOR: plan
    /// The layers in the order of torchvision's forward pass, each with the values it reads.
    pub fn plan(&self) -> Vec<Planned> {
        let mut plan = Plan::default();
        plan.conv("conv1", [self.stem, self.in_channels, 7, 7], 2, 3);
        plan.push("bn1", Op::BatchNorm(self.stem));
        plan.push("relu", Op::Relu);
        plan.push("maxpool", Op::MaxPool { kernel: 3, stride: 2, padding: 1 });
        let mut channels = self.stem;
        for stage in 0..4 {
            let width = self.widths[stage];
            let out = width * self.block.expansion();
            for b in 0..self.blocks[stage] {
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                let name = format!("layer{}.{b}", stage + 1);
                let input = plan.last();
                match self.block {
                    Block::Basic => {
                        plan.conv(&format!("{name}.conv1"), [width, channels, 3, 3], stride, 1);
                        plan.push(&format!("{name}.bn1"), Op::BatchNorm(width));
                        plan.push(&format!("{name}.relu"), Op::Relu);
                        plan.conv(&format!("{name}.conv2"), [width, width, 3, 3], 1, 1);
                        plan.push(&format!("{name}.bn2"), Op::BatchNorm(width));
                    }
                    Block::Bottleneck => {
                        plan.conv(&format!("{name}.conv1"), [width, channels, 1, 1], 1, 0);
                        plan.push(&format!("{name}.bn1"), Op::BatchNorm(width));
                        plan.push(&format!("{name}.relu"), Op::Relu);
                        plan.conv(&format!("{name}.conv2"), [width, width, 3, 3], stride, 1);
                        plan.push(&format!("{name}.bn2"), Op::BatchNorm(width));
                        plan.push(&format!("{name}.relu"), Op::Relu);
                        plan.conv(&format!("{name}.conv3"), [out, width, 1, 1], 1, 0);
                        plan.push(&format!("{name}.bn3"), Op::BatchNorm(out));
                    }
                }
                let residual = plan.last();
                let shortcut = if stride != 1 || channels != out {
                    plan.read(&format!("{name}.downsample.0"), conv([out, channels, 1, 1], stride, 0), input);
                    plan.push(&format!("{name}.downsample.1"), Op::BatchNorm(out))
                } else {
                    input
                };
                // zennit's canonizer stacks (identity, out); the order does not change the sum.
                plan.reads(&format!("{name}.sum"), Op::Sum, vec![shortcut, residual]);
                plan.push(&format!("{name}.relu"), Op::Relu);
                channels = out;
            }
        }
        plan.push("avgpool", Op::AvgPool);
        plan.push("flatten", Op::Flatten);
        plan.push("fc", Op::Linear([self.classes, channels]));
        plan.0
    }
    // ANCHOR_END: plan
}

/// One planned layer: torchvision's module name, what it is, the values it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// torchvision's module name (`"layer1.0.conv1"`; `"layerS.B.sum"` for the residual sum).
    pub name: String,
    /// What the layer is.
    pub op: Op,
    /// The values it reads (0: the input; `i + 1`: the output of planned layer `i`).
    pub reads: Vec<usize>,
}

/// A planned layer's kind and shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A convolution without bias, weight `(out, in, k, k)`.
    Conv([usize; 4], Conv2dConfig),
    /// BatchNorm over this many channels.
    BatchNorm(usize),
    /// ReLU.
    Relu,
    /// A max-pool with a square window, a stride and −∞ padding.
    MaxPool {
        /// Window side.
        kernel: usize,
        /// Step between windows.
        stride: usize,
        /// Padding on each side.
        padding: usize,
    },
    /// The residual sum.
    Sum,
    /// Adaptive average pool to 1×1.
    AvgPool,
    /// Flatten.
    Flatten,
    /// A dense layer with bias, weight `(out, in)`.
    Linear([usize; 2]),
}

fn conv(shape: [usize; 4], stride: usize, padding: usize) -> Op {
    Op::Conv(shape, Conv2dConfig { padding, stride })
}

#[derive(Default)]
struct Plan(Vec<Planned>);

impl Plan {
    fn last(&self) -> usize {
        self.0.len()
    }

    fn reads(&mut self, name: &str, op: Op, reads: Vec<usize>) -> usize {
        self.0.push(Planned { name: name.to_owned(), op, reads });
        self.0.len()
    }

    fn read(&mut self, name: &str, op: Op, value: usize) -> usize {
        self.reads(name, op, vec![value])
    }

    fn push(&mut self, name: &str, op: Op) -> usize {
        let last = self.last();
        self.read(name, op, last)
    }

    fn conv(&mut self, name: &str, shape: [usize; 4], stride: usize, padding: usize) -> usize {
        self.push(name, conv(shape, stride, padding))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(plan: &[Planned], f: impl Fn(&Op) -> bool) -> usize {
        plan.iter().filter(|p| f(&p.op)).count()
    }

    /// torchvision's counts: ResNet-18 has 20 convolutions (17 + 3 downsamples) and 20
    /// BatchNorms, ResNet-50 53 of each (49 + 4), 8 and 16 residual sums.
    #[test]
    fn plans_have_torchvisions_layers() {
        for (config, convs, sums) in [
            (ResNetConfig::resnet18(), 20, 8),
            (ResNetConfig::resnet34(), 36, 16),
            (ResNetConfig::resnet50(), 53, 16),
        ] {
            let plan = config.plan();
            assert_eq!(count(&plan, |o| matches!(o, Op::Conv(..))), convs, "{}", config.name);
            assert_eq!(count(&plan, |o| matches!(o, Op::BatchNorm(_))), convs, "{}", config.name);
            assert_eq!(count(&plan, |o| *o == Op::Sum), sums, "{}", config.name);
            assert_eq!(plan.last().map(|p| p.op.clone()), Some(Op::Linear([1000, config.features()])));
        }
        let plan = ResNetConfig::resnet50().plan();
        let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(&names[..4], ["conv1", "bn1", "relu", "maxpool"]);
        assert!(names.contains(&"layer4.2.conv3") && names.contains(&"layer1.0.downsample.0"));
        assert!(!names.contains(&"layer1.1.downsample.0"));
    }
}
