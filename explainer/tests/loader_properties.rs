//! The loaders on hostile input: random bytes and mutated valid files (PNG, JPEG, safetensors,
//! zip `.pth`, legacy `.pth`) load or give a typed error, never a panic, and never take more
//! than a bounded amount of memory (the process's peak resident set is checked after each case).

mod util;

use std::path::Path;

use candle_core::{DType, Device};
use explainer::model::read_state_dict;
use explainer::{Vgg, VggConfig};
use proptest::prelude::*;
use util::{fixture, peak_memory};

/// Cases per property.
const CASES: u32 = 40;
/// Largest random file.
const MAX_RANDOM_BYTES: usize = 4096;
/// Mutations land in the first this many bytes half of the time: headers, pickles and zip
/// directories are where structure lives.
const HEADER_BYTES: usize = 4096;
/// Peak resident memory allowed for the whole test process (the loaded files are ≤ 2 MB; a
/// loader that trusts a size field allocates gigabytes).
const PEAK_MEMORY_BYTES: u64 = 1 << 30;

/// The legacy fixture (`torch.save(…, _use_new_zipfile_serialization=False)`).
fn legacy_fixture() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vgg16_tiny_legacy.pth")
}

/// The fixture scene as JPEG bytes.
fn scene_jpeg() -> Vec<u8> {
    let scene = image::open(fixture("scene.png")).unwrap().to_rgb8();
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&scene).unwrap();
    bytes
}

/// One way to damage a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Keep only the first `at` bytes.
    Truncate { at: usize },
    /// Replace bytes from `at` on by `with`.
    Overwrite { at: usize, with: Vec<u8> },
    /// Insert `with` at `at`.
    Insert { at: usize, with: Vec<u8> },
    /// Flip one bit of the byte at `at`.
    FlipBit { at: usize, bit: u8 },
}

impl Mutation {
    /// `original` damaged; positions are taken modulo its length.
    fn apply(&self, original: &[u8]) -> Vec<u8> {
        let mut bytes = original.to_vec();
        let n = bytes.len().max(1);
        match self {
            Self::Truncate { at } => bytes.truncate(at % n),
            Self::Overwrite { at, with } => {
                for (k, b) in with.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut((at % n) + k) {
                        *slot = *b;
                    }
                }
            }
            Self::Insert { at, with } => {
                let at = at % n;
                bytes.splice(at..at, with.iter().copied());
            }
            Self::FlipBit { at, bit } => {
                if let Some(byte) = bytes.get_mut(at % n) {
                    *byte ^= 1 << (bit % 8);
                }
            }
        }
        bytes
    }
}

/// A position in the header half of the time, anywhere otherwise.
fn positions() -> impl Strategy<Value = usize> {
    prop_oneof![0..HEADER_BYTES, any::<usize>()]
}

/// Byte strings that damage: random, or large little-endian counts (sizes, lengths).
fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..16),
        any::<u64>().prop_map(|v| v.to_le_bytes().to_vec()),
        Just(u64::MAX.to_le_bytes().to_vec()),
        Just(vec![0xFF; 8]),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        positions().prop_map(|at| Mutation::Truncate { at }),
        (positions(), noise()).prop_map(|(at, with)| Mutation::Overwrite { at, with }),
        (positions(), noise()).prop_map(|(at, with)| Mutation::Insert { at, with }),
        (positions(), any::<u8>()).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
    ];
    prop::collection::vec(one, 1..4)
}

/// `bytes` in a fresh temporary file named `name`.
fn temporary(name: &str, bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// Loads weights from `path` and, when that works, builds the fixture network from them: every
/// step either succeeds or returns an error.
fn load_weights(path: &Path) {
    if let Ok(tensors) = read_state_dict(path, &Device::Cpu) {
        let _ = Vgg::from_state_dict(tensors, &VggConfig::vgg16_tiny(), &Device::Cpu, DType::F32);
    }
}

/// Decodes an image from `path` and, when that works, turns it into the network's input.
fn load_image(path: &Path) {
    let _ = explainer::image::load_input(path, &Device::Cpu, DType::F32);
}

/// Damages `original` by `mutations`, feeds it to `load` and checks the memory bound.
fn damaged(
    name: &str,
    original: &[u8],
    mutations: &[Mutation],
    load: fn(&Path),
) -> Result<(), TestCaseError> {
    let bytes = mutations.iter().fold(original.to_vec(), |bytes, m| m.apply(&bytes));
    let (_dir, path) = temporary(name, &bytes);
    load(&path);
    let peak = peak_memory();
    prop_assert!(peak < PEAK_MEMORY_BYTES, "peak memory {peak} bytes after {mutations:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn random_bytes_load_as_neither_weights_nor_image(bytes in prop::collection::vec(any::<u8>(), 0..MAX_RANDOM_BYTES)) {
        let (_dir, path) = temporary("random.bin", &bytes);
        prop_assert!(read_state_dict(&path, &Device::Cpu).is_err());
        prop_assert!(explainer::image::load_rgb(&path).is_err());
    }

    #[test]
    fn mutated_safetensors_load_or_fail_cleanly(m in mutations()) {
        damaged("w.safetensors", &std::fs::read(fixture("vgg16_tiny.safetensors")).unwrap(), &m, load_weights)?;
    }

    #[test]
    fn mutated_zip_pth_load_or_fail_cleanly(m in mutations()) {
        damaged("w.pth", &std::fs::read(fixture("vgg16_tiny.pth")).unwrap(), &m, load_weights)?;
    }

    #[test]
    fn mutated_legacy_pth_load_or_fail_cleanly(m in mutations()) {
        damaged("legacy.pth", &std::fs::read(legacy_fixture()).unwrap(), &m, load_weights)?;
    }

    #[test]
    fn mutated_png_load_or_fail_cleanly(m in mutations()) {
        damaged("scene.png", &std::fs::read(fixture("scene.png")).unwrap(), &m, load_image)?;
    }

    #[test]
    fn mutated_jpeg_load_or_fail_cleanly(m in mutations()) {
        damaged("scene.jpg", &scene_jpeg(), &m, load_image)?;
    }
}
