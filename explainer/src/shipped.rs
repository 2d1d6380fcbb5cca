//! The model that ships inside the crate: a small VGG-style network trained on the synthetic
//! scenes of [`crate::scenes`] (`models/shapes_vgg.safetensors`, see `models/README.md` for
//! how it was trained). It is embedded in the library, so the explainer runs with no file
//! and no download.

use candle_core::{DType, Device};

use crate::{Result, Vgg, VggConfig};

/// The shipped weights, torchvision-style names, float32.
const SHAPES_VGG: &[u8] = include_bytes!("../models/shapes_vgg.safetensors");

/// The shipped scene classifier ([`VggConfig::shapes`]) in `dtype`.
pub fn shapes_model(device: &Device, dtype: DType) -> Result<Vgg> {
    let tensors = candle_core::safetensors::load_buffer(SHAPES_VGG, device)?;
    Vgg::from_state_dict(tensors, &VggConfig::shapes(), device, dtype)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_weights_load_as_the_shapes_network() {
        let model = shapes_model(&Device::Cpu, DType::F32).unwrap();
        assert_eq!(model.classes(), 6);
        assert_eq!(model.config(), &VggConfig::shapes());
    }
}
