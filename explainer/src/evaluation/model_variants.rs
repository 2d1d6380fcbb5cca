//! Models derived from a trained one for the sanity checks: layers re-initialised from the top
//! (cascading randomisation) and a first layer whose bias absorbs an input shift.

use candle_core::Tensor;

use crate::error::{Error, Result};
use crate::model::Vgg;
use crate::model::vgg::Params;

/// The weight and bias of each layer with parameters, in order.
fn parameters(model: &Vgg) -> Vec<(Tensor, Tensor)> {
    model
        .layers()
        .iter()
        .filter_map(|layer| layer.affine().map(|a| (a.weight().clone(), a.bias().clone())))
        .collect()
}

/// `model` rebuilt with the parameters `params` (one pair per layer with parameters, in order).
fn rebuilt(model: &Vgg, params: Vec<(Tensor, Tensor)>) -> Result<Vgg> {
    let mut params = params.into_iter();
    Vgg::from_params(
        model.config(),
        |index, _| {
            let (weight, bias) = params.next().ok_or_else(|| Error::InvalidParameter {
                name: "parameters",
                value: format!("layer {index}"),
                why: "fewer parameter sets than layers with parameters".into(),
            })?;
            Ok(Params { weight, bias })
        },
        model.device(),
        model.dtype(),
    )
}

/// The number of layers with parameters.
pub fn parameter_layers(model: &Vgg) -> usize {
    parameters(model).len()
}

/// Cascading randomisation (Adebayo et al. 2018): the models with the top `k = 1..=L` layers
/// with parameters (of `L`) replaced by those of `random` (a network of the same
/// configuration with random weights), in order of `k`. The last is `random` itself.
pub fn cascade(model: &Vgg, random: &Vgg) -> Result<Vec<Vgg>> {
    let (trained, random) = (parameters(model), parameters(random));
    if trained.len() != random.len() {
        return Err(Error::ShapeMismatch {
            what: "randomised model",
            expected: format!("{} layers with parameters", trained.len()),
            found: format!("{}", random.len()),
        });
    }
    let layers = trained.len();
    (1..=layers)
        .map(|k| {
            let params = trained
                .iter()
                .zip(&random)
                .enumerate()
                .map(|(i, (t, r))| if i + k >= layers { r } else { t });
            rebuilt(model, params.cloned().collect())
        })
        .collect()
}

/// The model for inputs shifted by `shift` (one value per input channel): the first
/// convolution's bias becomes `b_o − Σ_{k,i,j} W_{o,k,i,j} · shift_k`, so that away from the
/// image border (where the zero padding does not see the shift) `f'(x + shift) = f(x)`
/// (Kindermans et al. 2019, "The (un)reliability of saliency methods").
pub fn absorbing_shift(model: &Vgg, shift: &[f64]) -> Result<Vgg> {
    let mut params = parameters(model);
    let Some((weight, bias)) = params.first_mut() else {
        return Err(Error::InvalidParameter {
            name: "model",
            value: "no layers with parameters".into(),
            why: "an input shift is absorbed by the first layer's bias".into(),
        });
    };
    let (_, channels, _, _) = weight.dims4()?;
    if shift.len() != channels {
        return Err(Error::ShapeMismatch {
            what: "input shift",
            expected: format!("{channels} values (one per input channel)"),
            found: format!("{} values", shift.len()),
        });
    }
    let c = Tensor::from_slice(shift, (1, channels, 1, 1), weight.device())?.to_dtype(weight.dtype())?;
    let absorbed = weight.broadcast_mul(&c)?.flatten_from(1)?.sum(1)?;
    *bias = bias.sub(&absorbed)?;
    rebuilt(model, params)
}

/// `input` shifted by `shift` per channel.
pub fn shifted_input(input: &Tensor, shift: &[f64]) -> Result<Tensor> {
    let c = Tensor::from_slice(shift, (1, shift.len(), 1, 1), input.device())?.to_dtype(input.dtype())?;
    Ok(input.broadcast_add(&c)?)
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};

    use super::*;
    use crate::model::VggConfig;

    fn config() -> VggConfig {
        VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5)
    }

    #[test]
    fn cascade_replaces_layers_from_the_top() {
        let model = Vgg::random(&config(), 3, &Device::Cpu, DType::F64).unwrap();
        let random = Vgg::random(&config(), 4, &Device::Cpu, DType::F64).unwrap();
        let models = cascade(&model, &random).unwrap();
        assert_eq!(models.len(), 4);
        let weights = |m: &Vgg| -> Vec<Vec<f64>> {
            parameters(m).iter().map(|(w, _)| w.flatten_all().unwrap().to_vec1().unwrap()).collect()
        };
        let (t, r) = (weights(&model), weights(&random));
        for (k, m) in models.iter().enumerate() {
            let w = weights(m);
            for i in 0..4 {
                assert_eq!(w[i], if i + k + 1 >= 4 { r[i].clone() } else { t[i].clone() }, "k {k} layer {i}");
            }
        }
    }

    #[test]
    fn a_shift_is_absorbed_by_the_first_bias_away_from_the_border() {
        // A 1×1 image has no interior: use a dense-only check on the bias instead, and an
        // 8×8 input whose logits change little (only the border sees the padding).
        let model = Vgg::random(&config(), 3, &Device::Cpu, DType::F64).unwrap();
        let shift = [0.5, -0.25, 1.0];
        let shifted = absorbing_shift(&model, &shift).unwrap();
        let x = Tensor::randn(0f64, 1.0, (1, 3, 8, 8), &Device::Cpu).unwrap();
        let first = |m: &Vgg, x: &Tensor| -> Vec<f64> {
            m.layers()[0].forward(x).unwrap().flatten_all().unwrap().to_vec1().unwrap()
        };
        let a = first(&model, &x);
        let b = first(&shifted, &shifted_input(&x, &shift).unwrap());
        // Interior outputs of the first convolution agree exactly (up to rounding).
        for o in 0..4 {
            for y in 1..7 {
                for xx in 1..7 {
                    let i = o * 64 + y * 8 + xx;
                    assert!((a[i] - b[i]).abs() < 1e-12, "{} vs {}", a[i], b[i]);
                }
            }
        }
        assert!(absorbing_shift(&model, &[1.0]).is_err());
    }
}
