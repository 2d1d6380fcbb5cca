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
use std::io::{Read, Seek};
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

/// Largest `.safetensors` header accepted (the `safetensors` crate's own limit).
pub const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;

/// The format of a weights file, decided from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// A zip archive: PyTorch's `.pth` since 1.6.
    Zip,
    /// PyTorch's legacy `.pth` (magic number in a pickle).
    Legacy,
    /// `.safetensors` with a JSON header of this many bytes.
    Safetensors(u64),
}

/// The format of a file that starts with `head` (up to 16 bytes), if it is one we read.
fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PK\x03\x04") {
        return Some(Format::Zip);
    }
    if legacy_pth::starts_like_legacy(head) {
        return Some(Format::Legacy);
    }
    let length = u64::from_le_bytes(head.get(..8)?.try_into().ok()?);
    (length > 0 && head.get(8) == Some(&b'{')).then_some(Format::Safetensors(length))
}

/// Reads every tensor of a weights file, detecting its format from its first bytes:
/// a zip archive is a PyTorch `.pth` (`torch.save` since PyTorch 1.6), PyTorch's magic number
/// in a pickle is a legacy `.pth` (torchvision's `vgg16-397923af.pth`), an 8-byte length then
/// `{` is a `.safetensors` file.
///
/// What is read is bounded before anything is trusted: only regular files are read (not
/// `/dev/zero` or a pipe), the format is decided from the first 16 bytes, a `.safetensors`
/// header must fit in the file and in [`MAX_SAFETENSORS_HEADER`] and be a JSON object before the
/// rest is read, and no file is read beyond the size it had when opened.
pub fn read_state_dict(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let bad = |why: String| Error::WeightsFile { path: path.to_owned(), why };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(bad("not a regular file: weights are read from a .pth or .safetensors file".into()));
    }
    let size = meta.len();
    let mut head = Vec::with_capacity(16);
    (&mut file).take(16).read_to_end(&mut head).map_err(io)?;
    let format = sniff(&head).ok_or_else(|| {
        bad(format!(
            "neither a PyTorch .pth (zip) nor a legacy .pth nor a .safetensors file ({size} bytes, \
             starting with {:02x?})",
            &head[..head.len().min(8)]
        ))
    })?;
    let tensors: HashMap<String, Tensor> = match format {
        Format::Zip => read_zip_pth(path, size, device)
            .map_err(|why| bad(format!("cannot read it as a PyTorch .pth (zip) file: {why}")))?,
        Format::Legacy => {
            let bytes = read_whole(&mut file, size).map_err(io)?;
            legacy_pth::read_legacy(&bytes, device)
                .map_err(|e| bad(format!("cannot read it as a legacy PyTorch .pth file: {e}")))?
        }
        Format::Safetensors(header) => {
            let unreadable = |why: String| bad(format!("cannot read it as a .safetensors file: {why}"));
            if header > MAX_SAFETENSORS_HEADER || header > size.saturating_sub(8) {
                return Err(unreadable(format!(
                    "its header claims {header} bytes; the file has {size} and the limit is \
                     {MAX_SAFETENSORS_HEADER}"
                )));
            }
            let bytes = read_whole(&mut file, size).map_err(io)?;
            let json = &bytes[8..8 + header as usize];
            if json.trim_ascii_end().last() != Some(&b'}') || std::str::from_utf8(json).is_err() {
                return Err(unreadable("its header is not a JSON object".into()));
            }
            candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| unreadable(e.to_string()))?
        }
    };
    non_empty(tensors, bad)
}

/// The tensors of a zip `.pth` file of `size` bytes. Each tensor's size, as its pickle claims,
/// is checked against the file before its data is allocated and read (`torch.save` stores
/// tensors uncompressed, so no tensor is larger than its file).
fn read_zip_pth(
    path: &Path,
    size: u64,
    device: &Device,
) -> std::result::Result<HashMap<String, Tensor>, String> {
    let pth = candle_core::pickle::PthTensors::new(path, None).map_err(|e| e.to_string())?;
    let mut tensors = HashMap::new();
    for (name, info) in pth.tensor_infos() {
        let dims = info.layout.dims();
        let bytes = dims
            .iter()
            .try_fold(1usize, |count, &d| count.checked_mul(d))
            .and_then(|count| count.checked_add(info.layout.start_offset()))
            .and_then(|count| count.checked_mul(info.dtype.size_in_bytes()));
        match bytes {
            Some(bytes) if bytes as u64 <= size => {}
            _ => {
                return Err(format!(
                    "tensor {name} claims a shape {dims:?} larger than the file ({size} bytes)"
                ));
            }
        }
        if let Some(tensor) = pth.get(name).map_err(|e| format!("tensor {name}: {e}"))? {
            tensors.insert(name.clone(), tensor.to_device(device).map_err(|e| e.to_string())?);
        }
    }
    Ok(tensors)
}

/// The whole file from its start, at most `size` bytes (its size when opened).
fn read_whole(file: &mut std::fs::File, size: u64) -> std::io::Result<Vec<u8>> {
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(size).read_to_end(&mut bytes)?;
    Ok(bytes)
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

impl Vgg {
    /// Loads a network of architecture `config` from a `.pth` or `.safetensors` file with
    /// torchvision's or timm's parameter names (detected), converting the weights to `dtype`.
    ///
    /// Fails with [`Error::WeightsFile`] when the file cannot be read as weights, with
    /// [`Error::WeightsMismatch`] listing every missing, unexpected and mis-shaped tensor, and
    /// with [`Error::InvalidWeight`] naming a tensor of integer dtype or with a NaN or ∞.
    pub fn load(path: &Path, config: &VggConfig, device: &Device, dtype: DType) -> Result<Self> {
        let tensors = read_state_dict(path, device)?;
        Self::from_state_dict(tensors, config, device, dtype).map_err(|e| e.with_path(path))
    }

    /// Builds a network from a state dict (torchvision's or timm's names, detected). Every
    /// tensor must fit the model ([`Error::WeightsMismatch`]) and be floating point and finite
    /// ([`Error::InvalidWeight`], naming it).
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
        let shapes: Vec<(String, Vec<usize>)> = layers
            .iter()
            .flat_map(|l| {
                [
                    (format!("{}.weight", l.prefix), l.file_shape.clone()),
                    (format!("{}.bias", l.prefix), vec![l.file_shape[0]]),
                ]
            })
            .collect();
        check_state_dict(&tensors, &shapes, |_| false, format!("{} ({naming:?} names)", config.name))?;
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

/// Checks a state dict against the tensors a model expects (`expected`: name and shape): one
/// [`Error::WeightsMismatch`] for `model` listing every missing, mis-shaped and unexpected tensor
/// (a tensor `ignored` accepts is not unexpected), then [`check_values`] on every expected tensor.
pub(crate) fn check_state_dict(
    tensors: &HashMap<String, Tensor>,
    expected: &[(String, Vec<usize>)],
    ignored: impl Fn(&str) -> bool,
    model: String,
) -> Result<()> {
    let mut problems = Vec::new();
    for (key, shape) in expected {
        match tensors.get(key) {
            None => problems.push(format!("missing {key} (expected shape {shape:?})")),
            Some(t) if t.dims() != shape.as_slice() => {
                problems.push(format!("mis-shaped {key}: {:?} in the file, expected {shape:?}", t.dims()))
            }
            Some(_) => {}
        }
    }
    let known: std::collections::HashSet<&str> = expected.iter().map(|(k, _)| k.as_str()).collect();
    let mut extra: Vec<String> = tensors
        .iter()
        .filter(|(k, _)| !known.contains(k.as_str()) && !ignored(k))
        .map(|(k, t)| format!("unexpected {k} {:?}", t.dims()))
        .collect();
    extra.sort();
    problems.extend(extra);
    if !problems.is_empty() {
        return Err(Error::WeightsMismatch { path: "(in memory)".into(), model, problems });
    }
    for (key, _) in expected {
        if let Some(t) = tensors.get(key) {
            check_values(key, t)?;
        }
    }
    Ok(())
}

/// Elements checked at a time by [`check_values`] (bounds its extra memory to 8 MB).
const CHECK_CHUNK: usize = 1 << 20;

/// `Ok(())` if `tensor` is floating point and every entry is finite; otherwise
/// [`Error::InvalidWeight`] naming it, with the first bad entry. Reads the tensor in chunks.
fn check_values(name: &str, tensor: &Tensor) -> Result<()> {
    let invalid = |why: String| Error::InvalidWeight { path: "(in memory)".into(), tensor: name.into(), why };
    if !tensor.dtype().is_float() {
        return Err(invalid(format!(
            "has the integer dtype {:?}: weights must be floating point (F16, BF16, F32 or F64)",
            tensor.dtype()
        )));
    }
    let flat = tensor.flatten_all()?;
    let count = flat.elem_count();
    let mut start = 0;
    while start < count {
        let length = CHECK_CHUNK.min(count - start);
        let chunk = flat.narrow(0, start, length)?;
        let bad = if tensor.dtype() == DType::F64 {
            chunk.to_vec1::<f64>()?.into_iter().enumerate().find(|(_, v)| !v.is_finite())
        } else {
            chunk
                .to_dtype(DType::F32)?
                .to_vec1::<f32>()?
                .into_iter()
                .map(f64::from)
                .enumerate()
                .find(|(_, v)| !v.is_finite())
        };
        if let Some((index, value)) = bad {
            return Err(invalid(format!(
                "holds {value} at flat index {}: weights must be finite",
                start + index
            )));
        }
        start += length;
    }
    Ok(())
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
