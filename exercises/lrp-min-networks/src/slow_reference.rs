//! A deliberately slow twin of [`crate::LrpGamma`] that follows the sheet's formula connection
//! by connection, so that tests can check the matrix implementation against it.
//!
//! Not meant for use beyond tests: no matrices, no vectorisation, every sum written out.

use crate::error::{Result, require_finite, require_non_negative};
use crate::network::Network;

// ANCHOR: slow
/// The LRP-γ relevance of every neuron, computed literally from exercise sheet 11, exercise 2(b):
///
/// $$R_j = \sum_k \frac{a_j (w_{jk} + \gamma w_{jk}^+)}{\sum_{0,j'} a_{j'} (w_{j'k} + \gamma w_{j'k}^+)} R_k .$$
///
/// Returns one `Vec` per layer of activations, input first, output (`R_out = y`) last. The
/// forward pass is recomputed here with loops too. A zero denominator carries zero relevance;
/// with `epsilon > 0` a non-zero denominator `d` becomes `d + ε·sign(d)`.
pub fn lrp_gamma_slow(network: &Network, input: &[f64], gamma: f64, epsilon: f64) -> Result<Vec<Vec<f64>>> {
    require_non_negative("gamma", gamma)?;
    require_non_negative("epsilon", epsilon)?;
    network.check_input(input)?;
    let positive = |x: f64| if x > 0.0 { x } else { 0.0 };

    // Forward pass, one neuron at a time.
    let mut activations: Vec<Vec<f64>> = vec![input.to_vec()];
    for layer in network.layers() {
        let below = &activations[activations.len() - 1];
        let mut above = Vec::with_capacity(layer.outputs());
        for k in 0..layer.outputs() {
            let mut sum = layer.bias()[k];
            for (j, &a_j) in below.iter().enumerate() {
                sum += a_j * layer.weights()[(k, j)];
            }
            above.push(layer.activation().apply(sum));
        }
        activations.push(above);
    }

    // Relevance pass, one connection at a time.
    let mut relevances: Vec<Vec<f64>> = vec![activations[activations.len() - 1].clone()];
    for (l, layer) in network.layers().iter().enumerate().rev() {
        let a = &activations[l];
        let upper = &relevances[relevances.len() - 1];
        let mut lower = vec![0.0; layer.inputs()];
        for (k, &r_k) in upper.iter().enumerate() {
            let b_k = layer.bias()[k];
            let mut denominator = b_k + gamma * positive(b_k);
            for (j, &a_j) in a.iter().enumerate() {
                let w_jk = layer.weights()[(k, j)];
                denominator += a_j * (w_jk + gamma * positive(w_jk));
            }
            if denominator == 0.0 {
                continue;
            }
            let denominator = denominator + epsilon * denominator.signum();
            for (j, &a_j) in a.iter().enumerate() {
                let w_jk = layer.weights()[(k, j)];
                lower[j] += a_j * (w_jk + gamma * positive(w_jk)) / denominator * r_k;
            }
        }
        for (j, &value) in lower.iter().enumerate() {
            require_finite(value, || format!("relevance {j} at the input of layer {l}"))?;
        }
        relevances.push(lower);
    }
    relevances.reverse();
    Ok(relevances)
}
// ANCHOR_END: slow
