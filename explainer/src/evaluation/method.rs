//! The explanation methods an evaluation compares, each turned into one relevance map per image.

use std::sync::Arc;

use candle_core::Tensor;

use super::random_baseline::RandomRelevance;
use crate::attribution::{AnyAttributor, Gradient, GradientTimesInput, Lrp};
use crate::error::{Error, Result};
use crate::heatmap::RelevanceMap;
use crate::model::Vgg;

/// An explanation method under evaluation.
#[derive(Debug, Clone)]
pub enum Method {
    /// [`Gradient`]: `∂f_c/∂x`.
    Gradient,
    /// [`GradientTimesInput`]: `x ⊙ ∂f_c/∂x`.
    GradientTimesInput,
    /// [`Lrp`] with its composite, under a name for tables (`"LRP"` for the sheet's).
    Lrp {
        /// The name in tables and legends.
        name: String,
        /// The attributor.
        lrp: Lrp,
    },
    /// [`RandomRelevance`]: seeded noise, the baseline.
    Random(RandomRelevance),
    /// Any other attributor (SmoothGrad, Integrated Gradients, Occlusion, …), under a name.
    Other {
        /// The name in tables and legends.
        name: String,
        /// The attributor.
        attributor: Arc<dyn AnyAttributor>,
    },
}

impl Method {
    /// Gradient, Gradient×Input, LRP (`Lrp::default()`, the sheet's composite) and the random
    /// baseline with `seed`.
    pub fn standard(seed: u64) -> Vec<Self> {
        vec![
            Self::Gradient,
            Self::GradientTimesInput,
            Self::lrp("LRP", Lrp::default()),
            Self::Random(RandomRelevance { seed }),
        ]
    }

    /// LRP with `lrp`'s composite, called `name` in tables.
    pub fn lrp(name: &str, lrp: Lrp) -> Self {
        Self::Lrp { name: name.to_owned(), lrp }
    }

    /// `attributor` called `name` in tables.
    pub fn other(name: &str, attributor: impl AnyAttributor + 'static) -> Self {
        Self::Other { name: name.to_owned(), attributor: Arc::new(attributor) }
    }

    /// A short name for tables and legends.
    pub fn name(&self) -> &str {
        match self {
            Self::Gradient => "Gradient",
            Self::GradientTimesInput => "Gradient×Input",
            Self::Lrp { name, .. } | Self::Other { name, .. } => name,
            Self::Random(_) => "random",
        }
    }

    /// One relevance map (channel sum) per image of `input` (`(N, C, H, W)`), explaining
    /// class `classes[n]` of image `n`; `scenes[n]` seeds the random baseline. Images are
    /// explained in one batch per class.
    pub fn maps(
        &self,
        model: &Vgg,
        input: &Tensor,
        classes: &[usize],
        scenes: &[u64],
    ) -> Result<Vec<RelevanceMap>> {
        let (n, _, height, width) = input.dims4()?;
        if classes.len() != n || scenes.len() != n {
            return Err(Error::ShapeMismatch {
                what: "classes and scenes of an explanation batch",
                expected: format!("{n} of each (one per image)"),
                found: format!("{} classes, {} scenes", classes.len(), scenes.len()),
            });
        }
        let attributor: &dyn AnyAttributor = match self {
            Self::Random(random) => return scenes.iter().map(|&s| random.map(s, width, height)).collect(),
            Self::Gradient => &Gradient,
            Self::GradientTimesInput => &GradientTimesInput,
            Self::Lrp { lrp, .. } => lrp,
            Self::Other { attributor, .. } => attributor.as_ref(),
        };
        let prepared = attributor.prepare_any(model)?;
        let mut maps: Vec<Option<RelevanceMap>> = vec![None; n];
        let mut distinct: Vec<usize> = classes.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        for class in distinct {
            let positions: Vec<u32> = (0..n).filter(|&i| classes[i] == class).map(|i| i as u32).collect();
            let batch = if positions.len() == n {
                input.clone()
            } else {
                input.index_select(&Tensor::new(positions.as_slice(), input.device())?, 0)?
            };
            let relevance = prepared.attribute(&batch, class)?.relevance;
            for (j, &position) in positions.iter().enumerate() {
                maps[position as usize] = Some(RelevanceMap::from_tensor(&relevance, j)?);
            }
        }
        Ok(maps.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};

    use super::*;
    use crate::model::VggConfig;

    #[test]
    fn batched_by_class_equals_one_by_one() {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 5);
        let vgg = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (3, 3, 8, 8), &Device::Cpu).unwrap();
        let classes = [2, 0, 2];
        for method in Method::standard(1) {
            let maps = method.maps(&vgg, &x, &classes, &[5, 6, 7]).unwrap();
            assert_eq!(maps.len(), 3);
            for i in 0..3 {
                let alone =
                    method.maps(&vgg, &x.narrow(0, i, 1).unwrap(), &classes[i..=i], &[5 + i as u64]).unwrap();
                for (a, b) in maps[i].values().iter().zip(alone[0].values()) {
                    assert!(
                        (a - b).abs() <= 1e-12 * (1.0 + a.abs()),
                        "{} image {i}: {a} vs {b}",
                        method.name()
                    );
                }
            }
        }
        assert!(Method::Gradient.maps(&vgg, &x, &[0], &[0, 1, 2]).is_err());
    }
}
