//! Loading VGG weights: torchvision's state dict from `.pth` or `.safetensors`, and timm's
//! `vgg16.tv_in1k` names, detected from the file's contents.
//!
//! - torchvision: `features.{i}.{weight,bias}` for the convolutions (index in the
//!   `nn.Sequential`, counting ReLUs and pools), `classifier.{0,3,6}.{weight,bias}`.
//! - timm: the same `features.*`; `pre_logits.fc1` is the first dense layer as a 7×7
//!   convolution `(4096, 512, 7, 7)` (reshaped to `(4096, 25088)`: `torch.flatten` is
//!   channel-major, so a plain reshape matches), `pre_logits.fc2` the second as a 1×1
//!   convolution, `head.fc` the last.
//!
//! Every missing, unexpected or mis-shaped tensor is reported in one error.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::config::{Feature, VggConfig};
use super::legacy_pth;
use super::vgg::{Params, Vgg};
use crate::error::{Error, Result};

/// The two naming schemes of VGG state dicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// torchvision's `features.*` / `classifier.*`.
    Torchvision,
    /// timm's `features.*` / `pre_logits.fc1`, `pre_logits.fc2` / `head.fc`.
    Timm,
}

/// One parameter layer as stored in a file: its name prefix, its weight shape in the file
/// and the weight shape the model uses.
struct Expected {
    prefix: String,
    file_shape: Vec<usize>,
    model_shape: Vec<usize>,
}

/// The layers with parameters of `config`, in order, under `naming`.
fn expected(config: &VggConfig, naming: Naming) -> Result<Vec<Expected>> {
    let mut out = Vec::new();
    let mut channels = config.in_channels;
    let mut index = 0;
    for feature in &config.features {
        match *feature {
            Feature::Conv(c) => {
                let shape = vec![c, channels, 3, 3];
                out.push(Expected {
                    prefix: format!("features.{index}"),
                    file_shape: shape.clone(),
                    model_shape: shape,
                });
                channels = c;
                index += 2;
            }
            Feature::MaxPool => index += 1,
        }
    }
    let mut inputs = config.classifier_inputs();
    let widths: Vec<usize> = config.hidden.iter().copied().chain([config.classes]).collect();
    if naming == Naming::Timm && config.hidden.len() != 2 {
        return Err(Error::InvalidParameter {
            name: "weights",
            value: "timm names".into(),
            why: format!(
                "timm's VGG has two hidden dense layers, {} has {}",
                config.name,
                config.hidden.len()
            ),
        });
    }
    for (j, &out_width) in widths.iter().enumerate() {
        let model_shape = vec![out_width, inputs];
        let (prefix, file_shape) = match (naming, j) {
            (Naming::Torchvision, _) => (format!("classifier.{}", 3 * j), model_shape.clone()),
            (Naming::Timm, 0) => (
                "pre_logits.fc1".into(),
                vec![out_width, config.last_channels(), config.feature_size, config.feature_size],
            ),
            (Naming::Timm, 1) => ("pre_logits.fc2".into(), vec![out_width, inputs, 1, 1]),
            (Naming::Timm, _) => ("head.fc".into(), model_shape.clone()),
        };
        out.push(Expected { prefix, file_shape, model_shape });
        inputs = out_width;
    }
    Ok(out)
}

/// Reads every tensor of a weights file, detecting its format from its first bytes:
/// a zip archive is a PyTorch `.pth` (`torch.save` since PyTorch 1.6), PyTorch's magic number
/// in a pickle is a legacy `.pth` (torchvision's `vgg16-397923af.pth`), an 8-byte length then
/// `{` is a `.safetensors` file.
pub fn read_state_dict(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let bad = |why: String| Error::WeightsFile { path: path.to_owned(), why };
    // A zip `.pth` is read by candle from the path: sniff its signature without loading the
    // whole file (528 MB for VGG-16) into memory first.
    let mut signature = [0u8; 4];
    let sniffed = std::fs::File::open(path).and_then(|mut file| file.read(&mut signature)).map_err(io)?;
    if signature[..sniffed] == *b"PK\x03\x04" {
        let tensors: HashMap<String, Tensor> = candle_core::pickle::read_all(path)
            .map_err(|e| bad(format!("cannot read it as a PyTorch .pth (zip) file: {e}")))?
            .into_iter()
            .map(|(name, t)| Ok((name, t.to_device(device)?)))
            .collect::<Result<_>>()?;
        return non_empty(tensors, bad);
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let tensors: HashMap<String, Tensor> = if is_safetensors(&bytes) {
        candle_core::safetensors::load_buffer(&bytes, device)
            .map_err(|e| bad(format!("cannot read it as a .safetensors file: {e}")))?
    } else if legacy_pth::is_legacy(&bytes) {
        legacy_pth::read_legacy(&bytes, device)
            .map_err(|e| bad(format!("cannot read it as a legacy PyTorch .pth file: {e}")))?
    } else {
        return Err(bad(format!(
            "neither a PyTorch .pth (zip) nor a .safetensors file ({} bytes, starting with {:02x?})",
            bytes.len(),
            &bytes[..bytes.len().min(8)]
        )));
    };
    non_empty(tensors, bad)
}

/// The tensors, or an error when the file held none.
fn non_empty(
    tensors: HashMap<String, Tensor>,
    bad: impl Fn(String) -> Error,
) -> Result<HashMap<String, Tensor>> {
    if tensors.is_empty() {
        return Err(bad("the file holds no tensors".into()));
    }
    Ok(tensors)
}

/// A `.safetensors` file starts with the header length (u64, little endian) and a JSON header.
fn is_safetensors(bytes: &[u8]) -> bool {
    let Some(head) = bytes.get(..8) else { return false };
    let len = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
    len > 0 && bytes.get(8) == Some(&b'{')
}

impl Vgg {
    /// Loads a network of architecture `config` from a `.pth` or `.safetensors` file with
    /// torchvision's or timm's parameter names (detected), converting the weights to `dtype`.
    ///
    /// Fails with [`Error::WeightsFile`] when the file cannot be read as weights, and with
    /// [`Error::WeightsMismatch`] listing every missing, unexpected and mis-shaped tensor.
    pub fn load(path: &Path, config: &VggConfig, device: &Device, dtype: DType) -> Result<Self> {
        let tensors = read_state_dict(path, device)?;
        Self::from_state_dict(tensors, config, device, dtype).map_err(|e| match e {
            Error::WeightsMismatch { model, problems, .. } => {
                Error::WeightsMismatch { path: path.to_owned(), model, problems }
            }
            e => e,
        })
    }

    /// Builds a network from a state dict (torchvision's or timm's names, detected).
    pub fn from_state_dict(
        mut tensors: HashMap<String, Tensor>,
        config: &VggConfig,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        let naming = if tensors.keys().any(|k| k.starts_with("pre_logits.") || k.starts_with("head.")) {
            Naming::Timm
        } else {
            Naming::Torchvision
        };
        let layers = expected(config, naming)?;
        let mut problems = Vec::new();
        for layer in &layers {
            let bias_shape = vec![layer.file_shape[0]];
            for (name, shape) in [("weight", &layer.file_shape), ("bias", &bias_shape)] {
                let key = format!("{}.{name}", layer.prefix);
                match tensors.get(&key) {
                    None => problems.push(format!("missing {key} (expected shape {shape:?})")),
                    Some(t) if t.dims() != shape.as_slice() => problems
                        .push(format!("mis-shaped {key}: {:?} in the file, expected {shape:?}", t.dims())),
                    Some(_) => {}
                }
            }
        }
        let known: std::collections::HashSet<String> = layers
            .iter()
            .flat_map(|l| [format!("{}.weight", l.prefix), format!("{}.bias", l.prefix)])
            .collect();
        let mut extra: Vec<String> = tensors
            .iter()
            .filter(|(k, _)| !known.contains(*k))
            .map(|(k, t)| format!("unexpected {k} {:?}", t.dims()))
            .collect();
        extra.sort();
        problems.extend(extra);
        if !problems.is_empty() {
            return Err(Error::WeightsMismatch {
                path: "(in memory)".into(),
                model: format!("{} ({naming:?} names)", config.name),
                problems,
            });
        }
        let mut next = layers.into_iter();
        Self::from_params(
            config,
            |_, _| {
                let layer =
                    next.next().ok_or_else(|| candle_core::Error::Msg("more layers than weights".into()))?;
                let mut take = |name: &str| {
                    tensors
                        .remove(&format!("{}.{name}", layer.prefix))
                        .ok_or_else(|| candle_core::Error::Msg(format!("{}.{name} vanished", layer.prefix)))
                };
                let weight = take("weight")?.reshape(layer.model_shape.as_slice())?.to_dtype(dtype)?;
                let bias = take("bias")?.to_dtype(dtype)?;
                Ok(Params { weight, bias })
            },
            device,
            dtype,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(config: &VggConfig, naming: Naming) -> Vec<(String, Vec<usize>)> {
        expected(config, naming).unwrap().into_iter().map(|e| (e.prefix, e.file_shape)).collect()
    }

    /// torchvision's state-dict names and shapes for VGG-16 (`vgg16-397923af.pth`).
    #[test]
    fn vgg16_names_are_torchvisions() {
        let n = names(&VggConfig::vgg16(), Naming::Torchvision);
        let prefixes: Vec<&str> = n.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            prefixes,
            [
                "features.0",
                "features.2",
                "features.5",
                "features.7",
                "features.10",
                "features.12",
                "features.14",
                "features.17",
                "features.19",
                "features.21",
                "features.24",
                "features.26",
                "features.28",
                "classifier.0",
                "classifier.3",
                "classifier.6"
            ]
        );
        assert_eq!(n[0].1, [64, 3, 3, 3]);
        assert_eq!(n[12].1, [512, 512, 3, 3]);
        assert_eq!(n[13].1, [4096, 25088]);
        assert_eq!(n[15].1, [1000, 4096]);
    }

    /// timm's `vgg16.tv_in1k`: the dense layers as 7×7 and 1×1 convolutions, then the head.
    #[test]
    fn vgg16_names_are_timms() {
        let n = names(&VggConfig::vgg16(), Naming::Timm);
        assert_eq!(n[13], ("pre_logits.fc1".into(), vec![4096, 512, 7, 7]));
        assert_eq!(n[14], ("pre_logits.fc2".into(), vec![4096, 4096, 1, 1]));
        assert_eq!(n[15], ("head.fc".into(), vec![1000, 4096]));
    }
}
