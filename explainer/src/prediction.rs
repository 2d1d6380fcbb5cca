//! The classes a model predicts, best first, with names and probabilities.

use candle_core::{DType, Tensor};

use crate::{Error, Result};

/// One predicted class of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Output index.
    pub class: usize,
    /// The class name, or `class N` when the model's classes have no names.
    pub name: String,
    /// The logit `f_c(x)` (what LRP explains).
    pub logit: f64,
    /// The softmax probability `exp(f_c) / Σ_k exp(f_k)`.
    pub probability: f64,
}

/// The `k` highest-scoring classes of image `batch_index` of `logits` (`N × classes`), best
/// first; `names` are used when there is one per class.
pub fn top_predictions(
    logits: &Tensor,
    batch_index: usize,
    names: &[&str],
    k: usize,
) -> Result<Vec<Prediction>> {
    let (batch, classes) = logits.dims2()?;
    if batch_index >= batch {
        return Err(Error::InvalidParameter {
            name: "batch_index",
            value: batch_index.to_string(),
            why: format!("the logits hold {batch} images"),
        });
    }
    let row: Vec<f64> = logits.get(batch_index)?.to_dtype(DType::F64)?.to_vec1()?;
    if let Some(bad) = row.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "logits",
            value: row[bad].to_string(),
            why: format!("the logit of class {bad} is not finite"),
        });
    }
    // Softmax with the maximum subtracted, so large logits do not overflow.
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let normaliser: f64 = row.iter().map(|v| (v - max).exp()).sum();
    let mut order: Vec<usize> = (0..classes).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    Ok(order
        .into_iter()
        .take(k)
        .map(|class| Prediction {
            class,
            name: if names.len() == classes { names[class].to_string() } else { format!("class {class}") },
            logit: row[class],
            probability: (row[class] - max).exp() / normaliser,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn best_first_with_softmax_probabilities() {
        let logits = Tensor::new(&[[1.0f32, 3.0, 2.0]], &Device::Cpu).unwrap();
        let top = top_predictions(&logits, 0, &["a", "b", "c"], 2).unwrap();
        assert_eq!(top.iter().map(|p| p.class).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(top[0].name, "b");
        let total: f64 = [1.0f64, 3.0, 2.0].iter().map(|v| v.exp()).sum();
        assert!((top[0].probability - 3f64.exp() / total).abs() < 1e-12);
    }

    #[test]
    fn unnamed_classes_and_bad_logits() {
        let logits = Tensor::new(&[[1000.0f64, 0.0]], &Device::Cpu).unwrap();
        let top = top_predictions(&logits, 0, &[], 1).unwrap();
        assert_eq!(top[0].name, "class 0");
        assert_eq!(top[0].probability, 1.0);
        let nan = Tensor::new(&[[f64::NAN, 0.0]], &Device::Cpu).unwrap();
        assert!(top_predictions(&nan, 0, &[], 1).is_err());
        assert!(top_predictions(&logits, 1, &[], 1).is_err());
    }
}
