//! Writing tensors as NumPy `.npy` files (format version 1.0), so Python users can load our
//! relevance with `numpy.load`.
//!
//! Layout: the magic `\x93NUMPY`, version bytes `1 0`, a little-endian `u16` header length,
//! an ASCII header `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }`
//! padded with spaces and ended by `\n` so that the data starts at a multiple of 64 bytes,
//! then the values in C order, little-endian.

use std::path::Path;

use candle_core::{DType, Tensor};

use crate::Result;

/// Data starts at a multiple of this many bytes (NumPy ≥ 1.16 writes 64).
const ALIGNMENT: usize = 64;
/// Magic string and version 1.0.
const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

/// The bytes of an `.npy` file holding `tensor` (F32 stays `<f4`, F64 stays `<f8`, other
/// dtypes are written as `<f4`).
pub fn to_npy_bytes(tensor: &Tensor) -> Result<Vec<u8>> {
    let shape = tensor.dims();
    let flat = tensor.flatten_all()?;
    let (descr, data): (&str, Vec<u8>) = match tensor.dtype() {
        DType::F64 => ("<f8", flat.to_vec1::<f64>()?.iter().flat_map(|v| v.to_le_bytes()).collect()),
        _ => (
            "<f4",
            flat.to_dtype(DType::F32)?.to_vec1::<f32>()?.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
    };
    let shape_text = match shape {
        [single] => format!("({single},)"),
        dims => format!("({})", dims.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    let unpadded = MAGIC.len() + 2 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(ALIGNMENT) - unpadded));
    header.push('\n');

    let mut bytes = Vec::with_capacity(MAGIC.len() + 2 + header.len() + data.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&data);
    Ok(bytes)
}

/// Writes `tensor` to `path` as `.npy`, atomically: a reader sees the whole file or none
/// ([`crate::output_files`]).
pub fn write_npy(path: &Path, tensor: &Tensor) -> Result<()> {
    crate::output_files::write_atomically(path, &to_npy_bytes(tensor)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn header_follows_the_npy_format() {
        let tensor = Tensor::from_vec(vec![1f32, -2.5, 3.0, 4.0, 5.0, 6.0], (1, 2, 3), &Device::Cpu).unwrap();
        let bytes = to_npy_bytes(&tensor).unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % ALIGNMENT, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }"));
        assert!(header.ends_with('\n'));
        let data = &bytes[10 + header_len..];
        assert_eq!(data.len(), 6 * 4);
        assert_eq!(f32::from_le_bytes([data[4], data[5], data[6], data[7]]), -2.5);
    }

    #[test]
    fn f64_and_one_dimensional_shapes() {
        let tensor = Tensor::from_vec(vec![0.1f64, 0.2], 2, &Device::Cpu).unwrap();
        let bytes = to_npy_bytes(&tensor).unwrap();
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'descr': '<f8'") && header.contains("'shape': (2,)"), "{header}");
        let data = &bytes[10 + header_len..];
        assert_eq!(f64::from_le_bytes(data[8..16].try_into().unwrap()), 0.2);
    }
}
