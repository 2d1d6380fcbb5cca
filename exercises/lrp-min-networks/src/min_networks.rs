//! The two ReLU networks of exercise sheet 11, exercise 2, that compute `min(a1, a2)` on
//! `a1, a2 >= 0` (the sheet's figure is lost; these are our reconstruction,
//! documented in the book's appendix "The sheet, and what we reconstructed").

use crate::layer::{Activation, Layer};
use crate::network::Network;

// ANCHOR: network_a
/// Network A: one hidden layer, symmetric in `a1` and `a2`, no biases.
///
/// ```text
/// h = relu([a1 + a2, a1 - a2, a2 - a1])
/// y = 0.5 h1 - 0.5 h2 - 0.5 h3          (linear output)
/// ```
pub fn network_a() -> Network {
    Network::from_constant_layers(vec![
        Layer::from_constant_rows(&[[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0]], Activation::Relu),
        Layer::from_constant_rows(&[[0.5, -0.5, -0.5]], Activation::Linear),
    ])
}
// ANCHOR_END: network_a

// ANCHOR: network_b
/// Network B: two hidden layers, through the maximum, no biases.
///
/// ```text
/// h = relu([a1, a2, a1 - a2])
/// g = relu([h1 + h2, h2 + h3])          g1 = a1 + a2, g2 = max(a1, a2)
/// y = g1 - g2                           (linear output)
/// ```
pub fn network_b() -> Network {
    Network::from_constant_layers(vec![
        Layer::from_constant_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]], Activation::Relu),
        Layer::from_constant_rows(&[[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]], Activation::Relu),
        Layer::from_constant_rows(&[[1.0, -1.0]], Activation::Linear),
    ])
}
// ANCHOR_END: network_b

/// Which of the two min-networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MinNetwork {
    /// [`network_a`].
    A,
    /// [`network_b`].
    B,
}

impl MinNetwork {
    /// Both networks, A first.
    pub const ALL: [Self; 2] = [Self::A, Self::B];

    /// The network as data.
    pub fn network(self) -> Network {
        match self {
            Self::A => network_a(),
            Self::B => network_b(),
        }
    }

    /// `"A"` or `"B"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
        }
    }

    // ANCHOR: whole_plane
    /// The function the network computes on all of ℝ², in closed form (exercise 2(a)):
    ///
    /// - A: `½ relu(a1 + a2) − ½ |a1 − a2|`, which is `min(a1, a2)` exactly on the half-plane
    ///   `a1 + a2 ≥ 0`;
    /// - B: `relu(a1) − relu(a1 − a2)`, which is `min(a1, a2)` exactly on the half-plane
    ///   `a1 ≥ 0`.
    ///
    /// Both half-planes contain the sheet's domain `a1, a2 ≥ 0`; outside it the networks differ,
    /// e.g. at `(−1, 1)` A gives `−1 = min` and B gives `0`.
    pub fn formula(self, a1: f64, a2: f64) -> f64 {
        let relu = |x: f64| x.max(0.0);
        match self {
            Self::A => 0.5 * relu(a1 + a2) - 0.5 * (a1 - a2).abs(),
            Self::B => relu(a1) - relu(a1 - a2),
        }
    }
    // ANCHOR_END: whole_plane
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constant networks pass every check of the validating constructors.
    #[test]
    fn constant_networks_are_well_formed() {
        for which in MinNetwork::ALL {
            let network = which.network();
            let layers: Vec<Layer> = network
                .layers()
                .iter()
                .map(|layer| {
                    Layer::new(layer.weights().clone(), layer.bias().clone(), layer.activation()).unwrap()
                })
                .collect();
            assert_eq!(Network::new(layers).unwrap(), network);
            assert_eq!((network.inputs(), network.outputs()), (2, 1));
        }
    }

    #[test]
    fn formulas_match_the_networks_at_a_few_points() {
        for (a1, a2) in [(3.0, 1.0), (1.0, 3.0), (-1.0, 1.0), (1.0, -1.0), (-2.0, -0.5)] {
            for which in MinNetwork::ALL {
                assert_eq!(which.network().evaluate(&[a1, a2]).unwrap()[0], which.formula(a1, a2));
            }
        }
    }
}
