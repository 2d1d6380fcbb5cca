//! A small dense network as data: a list of layers, and its forward pass.

use nalgebra::DVector;

use crate::error::{Error, Result, require_finite};
use crate::layer::Layer;

// ANCHOR: network
/// A feed-forward network: the layers in order, input side first.
///
/// The weights stay visible (no closures), so that a propagation rule can reach them.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    layers: Vec<Layer>,
}
// ANCHOR_END: network

/// The activations of every layer of one forward pass.
///
/// `activations[0]` is the input, `activations[l + 1]` the output of layer `l`, and the last
/// entry the network's output.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    /// Input first, output last; one more entry than the network has layers.
    pub activations: Vec<DVector<f64>>,
}

impl Forward {
    /// The network's output (the last activations).
    pub fn output(&self) -> &DVector<f64> {
        // `Network::forward` always stores the input, so the list is never empty.
        &self.activations[self.activations.len() - 1]
    }

    /// The input the pass started from.
    pub fn input(&self) -> &DVector<f64> {
        &self.activations[0]
    }
}

impl Network {
    /// A network from its layers. Fails if there is no layer or if a layer's number of inputs
    /// differs from the previous layer's number of outputs.
    pub fn new(layers: Vec<Layer>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::Empty("a network needs at least one layer"));
        }
        for (l, pair) in layers.windows(2).enumerate() {
            if pair[1].inputs() != pair[0].outputs() {
                return Err(Error::ShapeMismatch {
                    what: format!("inputs of layer {} vs. outputs of layer {l}", l + 1),
                    expected: pair[0].outputs(),
                    found: pair[1].inputs(),
                });
            }
        }
        Ok(Self { layers })
    }

    /// A network from constant layers written in this crate's source, without the checks of
    /// [`Network::new`] (unit tests check them).
    pub(crate) fn from_constant_layers(layers: Vec<Layer>) -> Self {
        Self { layers }
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Number of input neurons.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    /// Number of output neurons.
    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs()
    }

    /// Checks that `input` has one finite entry per input neuron.
    pub fn check_input(&self, input: &[f64]) -> Result<()> {
        if input.len() != self.inputs() {
            return Err(Error::ShapeMismatch {
                what: "input length vs. inputs of the network".into(),
                expected: self.inputs(),
                found: input.len(),
            });
        }
        for (i, &value) in input.iter().enumerate() {
            require_finite(value, || format!("input {i}"))?;
        }
        Ok(())
    }

    // ANCHOR: forward
    /// Runs the network on `input` and keeps every layer's activations.
    ///
    /// Fails on a wrong input length, a non-finite input, or an activation that overflows.
    pub fn forward(&self, input: &[f64]) -> Result<Forward> {
        self.check_input(input)?;
        let mut activations = vec![DVector::from_column_slice(input)];
        for (l, layer) in self.layers.iter().enumerate() {
            let next = layer.forward_unchecked(&activations[l]);
            for (k, &value) in next.iter().enumerate() {
                require_finite(value, || format!("activation {k} of layer {l}"))?;
            }
            activations.push(next);
        }
        Ok(Forward { activations })
    }
    // ANCHOR_END: forward

    /// The output of [`Network::forward`] alone.
    pub fn evaluate(&self, input: &[f64]) -> Result<DVector<f64>> {
        Ok(self.forward(input)?.output().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Activation;

    fn two_layers() -> Network {
        Network::new(vec![
            Layer::from_rows(&[&[1.0, 0.0], &[0.0, -1.0]], Activation::Relu).unwrap(),
            Layer::from_rows(&[&[2.0, 3.0]], Activation::Linear).unwrap(),
        ])
        .unwrap()
    }

    #[test]
    fn forward_keeps_every_layer() {
        let pass = two_layers().forward(&[1.5, -2.0]).unwrap();
        assert_eq!(pass.activations.len(), 3);
        assert_eq!(pass.activations[1].as_slice(), &[1.5, 2.0]);
        assert_eq!(pass.output().as_slice(), &[9.0]);
    }

    #[test]
    fn mismatched_layers_are_rejected() {
        let result = Network::new(vec![
            Layer::from_rows(&[&[1.0, 0.0]], Activation::Relu).unwrap(),
            Layer::from_rows(&[&[2.0, 3.0]], Activation::Linear).unwrap(),
        ]);
        assert!(matches!(result, Err(Error::ShapeMismatch { expected: 1, found: 2, .. })));
    }

    #[test]
    fn wrong_input_length_and_non_finite_input_are_rejected() {
        let network = two_layers();
        assert!(matches!(network.forward(&[1.0]), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(network.forward(&[1.0, f64::INFINITY]), Err(Error::NonFinite { .. })));
    }

    #[test]
    fn overflowing_activation_is_rejected() {
        let network =
            Network::new(vec![Layer::from_rows(&[&[1e300, 1e300]], Activation::Linear).unwrap()]).unwrap();
        assert!(matches!(network.forward(&[1e300, 1.0]), Err(Error::NonFinite { .. })));
    }
}
