//! Demo 1 (chapter "LRP on min-networks"): LRP-γ on both min-networks at a point `(a1, a2)`,
//! with every neuron's activation and relevance, every connection's message, and the
//! chapter's closed forms beside the engine's `R_1`, `R_2`.
//!
//! The engine is the exercise's [`LrpGamma`]: from `R_out = y`, each layer passes
//! `R_j = Σ_k a_j (w_jk + γ w_jk⁺) / Σ_j a_j (w_jk + γ w_jk⁺) · R_k` down. The *message* on the
//! connection `j → k` is the term of that sum for one `k`, `a_j (w_jk + γ w_jk⁺)/z_k · R_k`,
//! computed by [`LrpGamma::propagate`] with all upper relevance but `R_k` set to zero, so the
//! messages into `j` add up to `R_j` (as in the chapter's figure).
//!
//! The closed form is the chapter's 2(b) on the diagonal `a1 = a2 = a`
//! (A: `R_1 = R_2 = a/2`; B: `R_1 = a(1+γ)/(1+2γ)`, `R_2 = aγ/(1+2γ)`), and the closed form
//! on the whole domain `a1, a2 ≥ 0` elsewhere.

use lrp_min_networks::closed_form::{equal_inputs, on_domain};
use lrp_min_networks::{InputRelevance, LrpGamma, MinNetwork};

use crate::error::Result;
use crate::json::Object;

/// One connection `j → k` of layer `layer` (0: the layer that reads the inputs).
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// The layer the connection belongs to.
    pub layer: usize,
    /// The lower neuron `j` (an input of the layer).
    pub from: usize,
    /// The upper neuron `k` (an output of the layer).
    pub to: usize,
    /// The weight `w_jk`.
    pub weight: f64,
    /// The relevance `k` passes to `j`.
    pub message: f64,
}

/// One network explained at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkResult {
    /// Which network.
    pub network: MinNetwork,
    /// `activations[l][i]`: neuron `i` of level `l` (0: the inputs, last: `y`).
    pub activations: Vec<Vec<f64>>,
    /// `relevances[l][i]`, aligned with `activations`.
    pub relevances: Vec<Vec<f64>>,
    /// Every connection with a non-zero weight.
    pub connections: Vec<Connection>,
    /// The engine's `R_1`, `R_2`.
    pub engine: InputRelevance,
    /// The chapter's closed form at the same point.
    pub closed_form: InputRelevance,
    /// `"diagonal"` (2(b), `a1 = a2`) or `"domain"` (anywhere on `a1, a2 ≥ 0`).
    pub closed_form_kind: &'static str,
}

impl NetworkResult {
    /// The network's output `y`.
    pub fn output(&self) -> f64 {
        self.activations.last().and_then(|l| l.first()).copied().unwrap_or(f64::NAN)
    }
}

/// Both networks explained with LRP-γ at `(a1, a2)`; negative or non-finite inputs and γ are
/// errors (the closed forms hold on `a1, a2 ≥ 0`).
pub fn explain(a1: f64, a2: f64, gamma: f64) -> Result<Vec<NetworkResult>> {
    MinNetwork::ALL.into_iter().map(|network| explain_one(network, a1, a2, gamma)).collect()
}

fn explain_one(network: MinNetwork, a1: f64, a2: f64, gamma: f64) -> Result<NetworkResult> {
    let model = network.network();
    let lrp = LrpGamma::new(gamma)?;
    let explanation = lrp.explain(&model, &[a1, a2])?;
    let activations = &explanation.forward.activations;
    let mut connections = Vec::new();
    for (l, layer) in model.layers().iter().enumerate() {
        let upper = &explanation.relevances[l + 1];
        for k in 0..layer.outputs() {
            let mut only_k = upper.clone();
            only_k.fill(0.0);
            only_k[k] = upper[k];
            let messages = lrp.propagate(layer, &activations[l], &only_k)?;
            for (j, &message) in messages.iter().enumerate() {
                let weight = layer.weights()[(k, j)];
                if weight != 0.0 {
                    connections.push(Connection { layer: l, from: j, to: k, weight, message });
                }
            }
        }
    }
    let r = explanation.input_relevance();
    let (closed_form, closed_form_kind) = if a1 == a2 {
        (equal_inputs(network, a1, gamma)?, "diagonal")
    } else {
        (on_domain(network, a1, a2, gamma)?, "domain")
    };
    Ok(NetworkResult {
        network,
        activations: activations.iter().map(|v| v.iter().copied().collect()).collect(),
        relevances: explanation.relevances.iter().map(|v| v.iter().copied().collect()).collect(),
        connections,
        engine: InputRelevance { r1: r[0], r2: r[1] },
        closed_form,
        closed_form_kind,
    })
}

/// The result as the JSON object the page reads:
/// `{"a1", "a2", "gamma", "networks": [{"name", "y", "r1", "r2", "closed_r1", "closed_r2",
/// "closed_form", "activations": [[…]], "relevances": [[…]], "connections": [{"layer",
/// "from", "to", "weight", "message"}]}]}`.
pub fn to_json(a1: f64, a2: f64, gamma: f64, results: &[NetworkResult]) -> Result<String> {
    let mut networks = Vec::new();
    for result in results {
        let connections = result
            .connections
            .iter()
            .map(|c| {
                Object::new()
                    .number("layer", c.layer as f64)?
                    .number("from", c.from as f64)?
                    .number("to", c.to as f64)?
                    .number("weight", c.weight)?
                    .number("message", c.message)
            })
            .collect::<Result<Vec<_>>>()?;
        let levels = |key: &str, values: &[Vec<f64>]| -> Result<Object> {
            let mut object = Object::new();
            for (l, level) in values.iter().enumerate() {
                object = object.numbers(&format!("{key}{l}"), level.iter().copied())?;
            }
            Ok(object)
        };
        networks.push(
            Object::new()
                .string("name", result.network.name())
                .number("y", result.output())?
                .number("r1", result.engine.r1)?
                .number("r2", result.engine.r2)?
                .number("closed_r1", result.closed_form.r1)?
                .number("closed_r2", result.closed_form.r2)?
                .string("closed_form", result.closed_form_kind)
                .object("activations", levels("level", &result.activations)?)
                .object("relevances", levels("level", &result.relevances)?)
                .objects("connections", connections),
        );
    }
    Ok(Object::new()
        .number("a1", a1)?
        .number("a2", a2)?
        .number("gamma", gamma)?
        .objects("networks", networks)
        .finish())
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;

    /// The chapter's closed forms on the diagonal, written out here from the book.
    fn book_closed_form(network: MinNetwork, a: f64, gamma: f64) -> (f64, f64) {
        match network {
            MinNetwork::A => (a / 2.0, a / 2.0),
            MinNetwork::B => (a * (1.0 + gamma) / (1.0 + 2.0 * gamma), a * gamma / (1.0 + 2.0 * gamma)),
        }
    }

    #[test]
    fn engine_equals_the_chapters_closed_forms_on_the_diagonal() {
        for gamma in [0.0, 0.25, 1.0, 7.5] {
            for result in explain(1.0, 1.0, gamma).unwrap() {
                let (r1, r2) = book_closed_form(result.network, 1.0, gamma);
                assert_relative_eq!(result.engine.r1, r1, epsilon = 1e-12);
                assert_relative_eq!(result.engine.r2, r2, epsilon = 1e-12);
                assert_relative_eq!(result.closed_form.r1, r1, epsilon = 1e-12);
                assert_eq!(result.closed_form_kind, "diagonal");
                assert_relative_eq!(result.output(), 1.0, epsilon = 1e-12);
            }
        }
    }

    #[test]
    fn messages_into_each_neuron_add_up_to_its_relevance() {
        for result in explain(2.0, 0.5, 0.25).unwrap() {
            assert_eq!(result.closed_form_kind, "domain");
            assert_relative_eq!(result.engine.r1, result.closed_form.r1, epsilon = 1e-12);
            assert_relative_eq!(result.engine.r2, result.closed_form.r2, epsilon = 1e-12);
            for (l, level) in result.relevances.iter().enumerate().take(result.relevances.len() - 1) {
                for (j, &r) in level.iter().enumerate() {
                    let sum: f64 = result
                        .connections
                        .iter()
                        .filter(|c| c.layer == l && c.from == j)
                        .map(|c| c.message)
                        .sum();
                    assert_relative_eq!(sum, r, epsilon = 1e-12);
                }
            }
        }
    }

    #[test]
    fn bad_input_is_an_error_and_the_json_reads_back() {
        assert!(explain(-1.0, 1.0, 0.0).is_err());
        assert!(explain(1.0, 1.0, -0.5).is_err());
        assert!(explain(f64::NAN, 1.0, 0.0).is_err());
        let results = explain(1.0, 1.0, 0.25).unwrap();
        let json = to_json(1.0, 1.0, 0.25, &results).unwrap();
        let r1 = results[1].engine.r1;
        assert!(json.contains(&format!("\"r1\":{r1}")), "{json}");
        assert!(json.starts_with("{\"a1\":1,\"a2\":1,\"gamma\":0.25,\"networks\":[{\"name\":\"A\""));
    }
}
