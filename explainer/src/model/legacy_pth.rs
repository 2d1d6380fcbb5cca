//! PyTorch's legacy serialization (before 1.6, and `_use_new_zipfile_serialization=False`),
//! which candle's `.pth` reader (zip archives only) does not read. torchvision's older weight
//! files, `vgg16-397923af.pth` among them, are in this format.
//!
//! The file is a sequence of pickles followed by raw storages (`torch/serialization.py`,
//! `_legacy_save`): the magic number `0x1950a86a20f9469cfc6c`, the protocol version (1001),
//! a `sys_info` dict, the state dict (each tensor `_rebuild_tensor[_v2](storage, offset, size,
//! stride, …)`, each storage a persistent id `('storage', torch.FloatStorage, key, location,
//! numel, view)`), the list of storage keys, then for each key in that order the element
//! count (u64, little endian) and the elements.

use std::collections::HashMap;
use std::io::{BufRead, Cursor, Read};

use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Result, Tensor, bail};

/// The first pickle of a legacy file: protocol 2, `LONG1` of 10 bytes holding the magic
/// number, `STOP`.
const MAGIC: [u8; 15] =
    [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, b'.'];

/// Whether `bytes` start like a legacy PyTorch file.
pub fn is_legacy(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Whether the first bytes of a file (any number, e.g. 16) agree with a legacy PyTorch file.
pub fn starts_like_legacy(head: &[u8]) -> bool {
    !head.is_empty() && MAGIC.starts_with(&head[..head.len().min(MAGIC.len())])
}

/// A tensor of the state dict, before its storage is read.
struct Pending {
    name: String,
    storage: String,
    dtype: DType,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

fn read_pickle<R: BufRead>(r: &mut R) -> Result<Object> {
    let mut stack = Stack::empty();
    stack.read_loop(r)?;
    stack.finalize()
}

fn usizes(o: Object) -> Result<Vec<usize>> {
    o.tuple()
        .map_err(|o| candle_core::Error::Msg(format!("expected a tuple, got {o:?}")))?
        .into_iter()
        .map(|v| {
            Ok(v.int_or_long().map_err(|o| candle_core::Error::Msg(format!("expected an int, got {o:?}")))?
                as usize)
        })
        .collect()
}

/// `name → tensor` for one state-dict entry, if it is a tensor.
fn pending(name: Object, value: Object) -> Result<Option<Pending>> {
    let Ok(name) = name.unicode() else { return Ok(None) };
    let Ok((callable, args)) = value.reduce() else { return Ok(None) };
    let (callable, args) = match callable.class() {
        Ok((m, c)) if m == "torch._utils" && c == "_rebuild_parameter" => {
            let mut a =
                args.tuple().map_err(|_| candle_core::Error::Msg(format!("{name}: bad parameter")))?;
            if a.is_empty() {
                bail!("{name}: empty parameter")
            }
            a.remove(0).reduce().map_err(|_| candle_core::Error::Msg(format!("{name}: bad parameter")))?
        }
        Ok(c) => (Object::Class { module_name: c.0, class_name: c.1 }, args),
        Err(_) => return Ok(None),
    };
    match callable.class() {
        Ok((m, c)) if m == "torch._utils" && (c == "_rebuild_tensor_v2" || c == "_rebuild_tensor") => {}
        _ => return Ok(None),
    }
    let bad =
        |what: &str| candle_core::Error::Msg(format!("{name}: unexpected {what} in the tensor's pickle"));
    let mut args = args.tuple().map_err(|_| bad("arguments"))?;
    if args.len() < 4 {
        return Err(bad("argument count"));
    }
    let stride = usizes(args.remove(3))?;
    let shape = usizes(args.remove(2))?;
    let offset = args.remove(1).int_or_long().map_err(|_| bad("offset"))? as usize;
    let mut storage =
        args.remove(0).persistent_load().map_err(|_| bad("storage"))?.tuple().map_err(|_| bad("storage"))?;
    if storage.len() < 5 {
        return Err(bad("storage id"));
    }
    if storage.len() > 5 && storage[5] != Object::None {
        bail!("{name}: storage views are not supported")
    }
    let key = storage.remove(2).unicode().map_err(|_| bad("storage key"))?;
    let (_, class) = storage.remove(1).class().map_err(|_| bad("storage type"))?;
    let dtype = match class.as_str() {
        "FloatStorage" => DType::F32,
        "DoubleStorage" => DType::F64,
        "HalfStorage" => DType::F16,
        "BFloat16Storage" => DType::BF16,
        "LongStorage" => DType::I64,
        "ByteStorage" => DType::U8,
        other => bail!("{name}: unsupported storage type {other}"),
    };
    Ok(Some(Pending { name, storage: key, dtype, offset, shape, stride }))
}

/// Every tensor of a legacy `.pth` file held in `bytes`.
pub fn read_legacy(bytes: &[u8], device: &Device) -> Result<HashMap<String, Tensor>> {
    if !is_legacy(bytes) {
        bail!("not a legacy PyTorch file (no magic number)")
    }
    let mut r = Cursor::new(&bytes[MAGIC.len()..]);
    let _protocol = read_pickle(&mut r)?;
    let _sys_info = read_pickle(&mut r)?;
    let mut state = read_pickle(&mut r)?;
    // An OrderedDict with attributes (`_metadata`) is BUILD(dict, state).
    while let Object::Build { callable, .. } = state {
        state = *callable;
    }
    let Object::Dict(entries) = state else { bail!("the file does not hold a state dict") };
    let mut tensors = Vec::new();
    for (name, value) in entries {
        if let Some(p) = pending(name, value)? {
            tensors.push(p);
        }
    }
    let keys = match read_pickle(&mut r)? {
        Object::List(keys) | Object::Tuple(keys) => keys,
        other => bail!("expected the list of storage keys, got {other:?}"),
    };
    let mut storages: HashMap<String, &[u8]> = HashMap::new();
    let sizes: HashMap<&str, usize> =
        tensors.iter().map(|t| (t.storage.as_str(), t.dtype.size_in_bytes())).collect();
    for key in keys {
        let key = key.unicode().map_err(|o| candle_core::Error::Msg(format!("bad storage key {o:?}")))?;
        let mut count = [0u8; 8];
        r.read_exact(&mut count)?;
        let elem = sizes.get(key.as_str()).copied().unwrap_or(1);
        let len = (u64::from_le_bytes(count) as usize)
            .checked_mul(elem)
            .ok_or_else(|| candle_core::Error::Msg(format!("storage {key} is too large")))?;
        let start = r.position() as usize;
        let data = r.get_ref().get(start..start.saturating_add(len)).ok_or_else(|| {
            candle_core::Error::Msg(format!(
                "storage {key} needs {len} bytes, the file ends first (truncated?)"
            ))
        })?;
        r.consume(len);
        storages.insert(key, data);
    }
    let mut out = HashMap::new();
    for t in tensors {
        let data = storages.get(&t.storage).ok_or_else(|| {
            candle_core::Error::Msg(format!("{}: storage {} is missing from the file", t.name, t.storage))
        })?;
        let beyond = || candle_core::Error::Msg(format!("{}: its data lies beyond its storage", t.name));
        let numel = t.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(beyond)?;
        let mut contiguous = vec![1usize; t.shape.len()];
        for d in (0..t.shape.len().saturating_sub(1)).rev() {
            contiguous[d] = contiguous[d + 1].checked_mul(t.shape[d + 1]).ok_or_else(beyond)?;
        }
        if numel > 1 && t.stride != contiguous {
            bail!("{}: non-contiguous tensors (stride {:?}) are not supported", t.name, t.stride)
        }
        let size = t.dtype.size_in_bytes();
        let start = t.offset.checked_mul(size).ok_or_else(beyond)?;
        let end = t.offset.checked_add(numel).and_then(|n| n.checked_mul(size)).ok_or_else(beyond)?;
        let raw = data.get(start..end).ok_or_else(beyond)?;
        out.insert(t.name, Tensor::from_raw_buffer(raw, t.dtype, &t.shape, device)?);
    }
    Ok(out)
}
