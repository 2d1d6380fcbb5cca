//! One dense layer: weights (row = output neuron), bias and activation.

use nalgebra::{DMatrix, DVector};

use crate::error::{Error, Result, require_finite};

// ANCHOR: activation
/// The non-linearity applied after a layer's affine map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `max(0, z)`.
    Relu,
    /// The identity, for output neurons such as the `y` of the min-networks.
    Linear,
}
// ANCHOR_END: activation

impl Activation {
    /// Applies the activation to one pre-activation `z`.
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Self::Relu => z.max(0.0),
            Self::Linear => z,
        }
    }
}

// ANCHOR: layer
/// A dense layer `a_out = σ(W a_in + b)`.
///
/// `weights[(k, j)]` is `w_jk` of the exercise sheet: the weight from input neuron `j` to
/// output neuron `k` (row = output neuron). A layer without bias has `b = 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    weights: DMatrix<f64>,
    bias: DVector<f64>,
    activation: Activation,
}
// ANCHOR_END: layer

impl Layer {
    /// A layer with bias. Fails if `bias` does not have one entry per row of `weights`, if a
    /// dimension is zero or if a weight or bias is not finite.
    pub fn new(weights: DMatrix<f64>, bias: DVector<f64>, activation: Activation) -> Result<Self> {
        if weights.nrows() == 0 || weights.ncols() == 0 {
            return Err(Error::Empty("a layer needs at least one input and one output"));
        }
        if bias.len() != weights.nrows() {
            return Err(Error::ShapeMismatch {
                what: "bias length vs. rows of the weight matrix".into(),
                expected: weights.nrows(),
                found: bias.len(),
            });
        }
        for row in 0..weights.nrows() {
            for column in 0..weights.ncols() {
                require_finite(weights[(row, column)], || format!("weight ({row}, {column})"))?;
            }
        }
        for (row, &b) in bias.iter().enumerate() {
            require_finite(b, || format!("bias {row}"))?;
        }
        Ok(Self { weights, bias, activation })
    }

    /// A layer without bias (`b = 0`), as both min-networks of exercise 2.
    pub fn without_bias(weights: DMatrix<f64>, activation: Activation) -> Result<Self> {
        let bias = DVector::zeros(weights.nrows());
        Self::new(weights, bias, activation)
    }

    /// A layer from row-major weights: `rows[k]` holds the weights into output neuron `k`.
    /// All rows must have the same length.
    pub fn from_rows(rows: &[&[f64]], activation: Activation) -> Result<Self> {
        let inputs = rows.first().map_or(0, |row| row.len());
        for row in rows {
            if row.len() != inputs {
                return Err(Error::ShapeMismatch {
                    what: "length of a weight row vs. the first row".into(),
                    expected: inputs,
                    found: row.len(),
                });
            }
        }
        let weights = DMatrix::from_fn(rows.len(), inputs, |k, j| rows[k][j]);
        Self::without_bias(weights, activation)
    }

    /// A bias-free layer from constant row-major weights, without the checks of
    /// [`Layer::new`]: only for weights written in this crate's source, whose shapes and
    /// finiteness are checked by unit tests.
    pub(crate) fn from_constant_rows<const IN: usize>(rows: &[[f64; IN]], activation: Activation) -> Self {
        let weights = DMatrix::from_fn(rows.len(), IN, |k, j| rows[k][j]);
        let bias = DVector::zeros(rows.len());
        Self { weights, bias, activation }
    }

    /// The weight matrix, row = output neuron.
    pub fn weights(&self) -> &DMatrix<f64> {
        &self.weights
    }

    /// The bias vector (zeros for a layer without bias).
    pub fn bias(&self) -> &DVector<f64> {
        &self.bias
    }

    /// The activation function.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Number of input neurons (columns of the weight matrix).
    pub fn inputs(&self) -> usize {
        self.weights.ncols()
    }

    /// Number of output neurons (rows of the weight matrix).
    pub fn outputs(&self) -> usize {
        self.weights.nrows()
    }

    /// `σ(W a + b)`; the caller has checked that `input` has [`Layer::inputs`] entries.
    pub(crate) fn forward_unchecked(&self, input: &DVector<f64>) -> DVector<f64> {
        (&self.weights * input + &self.bias).map(|z| self.activation.apply(z))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_layer_clips_negative_pre_activations() {
        let layer = Layer::from_rows(&[&[1.0, -1.0], &[-1.0, 1.0]], Activation::Relu).unwrap();
        let out = layer.forward_unchecked(&DVector::from_vec(vec![3.0, 1.0]));
        assert_eq!(out.as_slice(), &[2.0, 0.0]);
    }

    #[test]
    fn bias_of_wrong_length_is_rejected() {
        let result = Layer::new(DMatrix::zeros(2, 3), DVector::zeros(3), Activation::Linear);
        assert!(matches!(result, Err(Error::ShapeMismatch { expected: 2, found: 3, .. })));
    }

    #[test]
    fn ragged_rows_are_rejected() {
        let result = Layer::from_rows(&[&[1.0, 2.0], &[1.0]], Activation::Relu);
        assert!(matches!(result, Err(Error::ShapeMismatch { expected: 2, found: 1, .. })));
    }

    #[test]
    fn non_finite_weight_is_rejected() {
        let result = Layer::from_rows(&[&[1.0, f64::NAN]], Activation::Relu);
        assert!(matches!(result, Err(Error::NonFinite { .. })));
    }

    #[test]
    fn empty_layer_is_rejected() {
        let result = Layer::without_bias(DMatrix::zeros(0, 2), Activation::Relu);
        assert!(matches!(result, Err(Error::Empty(_))));
    }
}
