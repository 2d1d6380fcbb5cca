//! The two ReLU networks of exercise sheet 11, exercise 2, that compute `min(a1, a2)` on
//! `a1, a2 >= 0` (the sheet's figure is lost; these are the ones fixed in REFERENCE.md).

use crate::error::Result;
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
    let layers = vec![
        Layer::from_rows(&[&[1.0, 1.0], &[1.0, -1.0], &[-1.0, 1.0]], Activation::Relu),
        Layer::from_rows(&[&[0.5, -0.5, -0.5]], Activation::Linear),
    ];
    build(layers)
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
    let layers = vec![
        Layer::from_rows(&[&[1.0, 0.0], &[0.0, 1.0], &[1.0, -1.0]], Activation::Relu),
        Layer::from_rows(&[&[1.0, 1.0, 0.0], &[0.0, 1.0, 1.0]], Activation::Relu),
        Layer::from_rows(&[&[1.0, -1.0]], Activation::Linear),
    ];
    build(layers)
}
// ANCHOR_END: network_b

/// Assembles constant layers whose shapes are fixed above, so building them cannot fail.
fn build(layers: Vec<Result<Layer>>) -> Network {
    let layers: Result<Vec<Layer>> = layers.into_iter().collect();
    match layers.and_then(Network::new) {
        Ok(network) => network,
        Err(error) => unreachable!("the constant min-network weights are well-formed: {error}"),
    }
}

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
