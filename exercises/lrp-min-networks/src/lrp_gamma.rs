//! The LRP-γ rule of exercise sheet 11, exercise 2(b), as matrix operations.

use nalgebra::{DMatrix, DVector};

use crate::error::{Result, require_finite, require_length, require_non_negative};
use crate::layer::Layer;
use crate::network::{Forward, Network};

/// The LRP-γ rule, optionally with an ε stabilizer (LRP-ε for γ = 0).
///
/// For a layer with inputs `a_j`, weights `w_jk` and bias `b_k`, the relevance `R_k` of output
/// neuron `k` is redistributed to its inputs by (exercise sheet 11, exercise 2(b) and the
/// `Σ_{0,j}` of exercise 4)
///
/// $$R_j = \sum_k \frac{a_j (w_{jk} + \gamma w_{jk}^+)}{\sum_{0,j} a_j (w_{jk} + \gamma w_{jk}^+)} R_k,
/// \qquad \sum_{0,j} z_{jk} = \sum_j z_{jk} + b_k + \gamma b_k^+ ,$$
///
/// starting from `R_out = y` (the network's output) and applied at every layer down to the
/// input. With ε > 0 every non-zero denominator `z_k` becomes `z_k + ε·sign(z_k)`.
///
/// A denominator that is exactly zero carries zero relevance: the `R_k` of such a neuron is
/// dropped, not divided by zero. In a ReLU network without biases on non-negative inputs this
/// only happens where `R_k = 0` anyway (see the book), so conservation is not affected there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrpGamma {
    gamma: f64,
    epsilon: f64,
}

/// The result of [`LrpGamma::explain`]: the forward pass and the relevance of every neuron.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The forward pass that was explained.
    pub forward: Forward,
    /// `relevances[l]` belongs to `forward.activations[l]`: index 0 is the input relevance,
    /// the last entry the output relevance `R_out = y`.
    pub relevances: Vec<DVector<f64>>,
}

impl Explanation {
    /// The relevance of the input neurons, `(R_1, R_2, ...)`.
    pub fn input_relevance(&self) -> &DVector<f64> {
        &self.relevances[0]
    }

    /// The network's output `y`.
    pub fn output(&self) -> &DVector<f64> {
        self.forward.output()
    }
}

impl LrpGamma {
    /// LRP-γ without stabilizer. Fails unless `gamma` is finite and `>= 0`.
    pub fn new(gamma: f64) -> Result<Self> {
        Ok(Self { gamma: require_non_negative("gamma", gamma)?, epsilon: 0.0 })
    }

    /// The same rule with stabilizer `epsilon` (finite, `>= 0`; 0 is the sheet's rule).
    pub fn with_epsilon(self, epsilon: f64) -> Result<Self> {
        Ok(Self { epsilon: require_non_negative("epsilon", epsilon)?, ..self })
    }

    /// The γ of the rule.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The ε of the rule (0 unless set with [`LrpGamma::with_epsilon`]).
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Runs `network` on `input` and propagates `R_out = y` down to the input.
    ///
    /// Fails on a wrong input length, a non-finite input, or a relevance that overflows.
    pub fn explain(&self, network: &Network, input: &[f64]) -> Result<Explanation> {
        let forward = network.forward(input)?;
        let mut relevances = vec![forward.output().clone()];
        for (l, layer) in network.layers().iter().enumerate().rev() {
            let upper = &relevances[relevances.len() - 1];
            let lower = self.propagate(layer, &forward.activations[l], upper)?;
            for (j, &value) in lower.iter().enumerate() {
                require_finite(value, || format!("relevance {j} at the input of layer {l}"))?;
            }
            relevances.push(lower);
        }
        relevances.reverse();
        Ok(Explanation { forward, relevances })
    }

    // ANCHOR: propagate
    /// One layer of the rule: the relevance `R_j` of the layer's inputs from the relevance
    /// `R_k` of its outputs, given the input activations `a_j`.
    ///
    /// With `W' = W + γW⁺` and `b' = b + γb⁺`: `z = W'a + b'`, `s_k = R_k / z_k` (0 where
    /// `z_k = 0`), `R = a ⊙ W'ᵀ s`.
    ///
    /// Where `W'` or `z` overflows (γ near `f64::MAX`), it computes with everything divided by
    /// `1 + γ` instead: `W'/(1 + γ) = W⁺ + W⁻/(1 + γ)`, `b'` and `ε` alike. The ratios are the
    /// same, and finite for every finite γ.
    ///
    /// Errors with [`crate::Error::ShapeMismatch`] unless `a` has one entry per input of the
    /// layer and `r_upper` one per output.
    pub fn propagate(&self, layer: &Layer, a: &DVector<f64>, r_upper: &DVector<f64>) -> Result<DVector<f64>> {
        require_length("the activations a of the layer's inputs", layer.inputs(), a.len())?;
        require_length("the relevance R of the layer's outputs", layer.outputs(), r_upper.len())?;
        let literal = (
            gamma_modified(layer.weights(), self.gamma),
            layer.bias().map(|b| b + self.gamma * b.max(0.0)),
            self.epsilon,
        );
        let (weights, bias, epsilon) = if literal.0.iter().chain(literal.1.iter()).all(|v| v.is_finite())
            && (&literal.0 * a + &literal.1).iter().all(|z| z.is_finite())
        {
            literal
        } else {
            let shrink = 1.0 / (1.0 + self.gamma);
            (
                gamma_normalised(layer.weights(), self.gamma),
                layer.bias().map(|b| b.max(0.0) + shrink * b.min(0.0)),
                self.epsilon * shrink,
            )
        };
        let z = &weights * a + bias;
        let s = z
            .zip_map(r_upper, |z_k, r_k| if z_k == 0.0 { 0.0 } else { r_k / (z_k + epsilon * z_k.signum()) });
        Ok(a.component_mul(&(weights.transpose() * s)))
    }
    // ANCHOR_END: propagate

    /// The denominator `z + ε·sign(z)`, or `None` where `z = 0` (zero relevance is carried).
    pub fn stabilized(&self, z: f64) -> Option<f64> {
        (z != 0.0).then(|| z + self.epsilon * z.signum())
    }
}

/// `W + γW⁺`: every positive weight scaled by `1 + γ`, negative weights unchanged.
pub fn gamma_modified(weights: &DMatrix<f64>, gamma: f64) -> DMatrix<f64> {
    weights.map(|w| w + gamma * w.max(0.0))
}

/// `(W + γW⁺)/(1 + γ) = W⁺ + W⁻/(1 + γ)`: [`gamma_modified`] divided by `1 + γ`, which LRP-γ's
/// ratios do not notice and which stays finite for every finite γ.
pub fn gamma_normalised(weights: &DMatrix<f64>, gamma: f64) -> DMatrix<f64> {
    let shrink = 1.0 / (1.0 + gamma);
    weights.map(|w| w.max(0.0) + shrink * w.min(0.0))
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;
    use crate::error::Error;
    use crate::layer::Activation;

    const EXACT: f64 = 1e-12;

    #[test]
    fn single_linear_layer_splits_output_by_modified_contributions() {
        // y = 2 a1 - a2 at (1, 1): z = (2(1+γ), -1), denominator 2(1+γ) - 1.
        let network =
            Network::new(vec![Layer::from_rows(&[&[2.0, -1.0]], Activation::Linear).unwrap()]).unwrap();
        let gamma = 0.5;
        let explanation = LrpGamma::new(gamma).unwrap().explain(&network, &[1.0, 1.0]).unwrap();
        let denominator = 2.0 * (1.0 + gamma) - 1.0;
        let r = explanation.input_relevance();
        assert_relative_eq!(r[0], 2.0 * (1.0 + gamma) / denominator, epsilon = EXACT, max_relative = EXACT);
        assert_relative_eq!(r[1], -1.0 / denominator, epsilon = EXACT, max_relative = EXACT);
    }

    #[test]
    fn bias_takes_its_share_in_the_denominator() {
        // y = a + b with a = 1, b = 1: z = (1+γ)·1 + (1+γ)·1, so the input keeps half of y.
        let layer =
            Layer::new(DMatrix::from_element(1, 1, 1.0), DVector::from_element(1, 1.0), Activation::Linear)
                .unwrap();
        let network = Network::new(vec![layer]).unwrap();
        let explanation = LrpGamma::new(3.0).unwrap().explain(&network, &[1.0]).unwrap();
        assert_relative_eq!(explanation.input_relevance()[0], 1.0, epsilon = EXACT, max_relative = EXACT);
    }

    #[test]
    fn zero_denominator_carries_zero_relevance() {
        // y = a1 - a2 at a1 = a2 with γ = 0: the denominator is 0 and so is every R_j.
        let network =
            Network::new(vec![Layer::from_rows(&[&[1.0, -1.0]], Activation::Linear).unwrap()]).unwrap();
        let explanation = LrpGamma::new(0.0).unwrap().explain(&network, &[2.0, 2.0]).unwrap();
        assert_eq!(explanation.input_relevance().as_slice(), &[0.0, 0.0]);
    }

    #[test]
    fn epsilon_absorbs_part_of_the_relevance() {
        let network =
            Network::new(vec![Layer::from_rows(&[&[1.0, 1.0]], Activation::Linear).unwrap()]).unwrap();
        let rule = LrpGamma::new(0.0).unwrap().with_epsilon(1.0).unwrap();
        let explanation = rule.explain(&network, &[1.0, 1.0]).unwrap();
        // Denominator 2 + 1 = 3, y = 2: each input gets 2/3.
        let r = explanation.input_relevance();
        assert_relative_eq!(r[0], 2.0 / 3.0, epsilon = EXACT, max_relative = EXACT);
        assert_relative_eq!(r[1], 2.0 / 3.0, epsilon = EXACT, max_relative = EXACT);
    }

    #[test]
    fn bad_gamma_and_epsilon_are_rejected() {
        assert!(matches!(LrpGamma::new(-0.1), Err(Error::InvalidParameter { name: "gamma", .. })));
        assert!(matches!(LrpGamma::new(f64::NAN), Err(Error::InvalidParameter { name: "gamma", .. })));
        let rule = LrpGamma::new(1.0).unwrap();
        assert!(matches!(
            rule.with_epsilon(f64::INFINITY),
            Err(Error::InvalidParameter { name: "epsilon", .. })
        ));
    }
}
