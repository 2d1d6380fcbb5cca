//! Demo 2 (chapters "Explaining VGG-16" and "Measuring explanations"): the shipped scene model
//! explains one class of one generated scene with one method.
//!
//! The scene is [`generate_scene`]`(seed)`, normalised as in training ([`scenes_to_input`]);
//! the relevance `R` (3 × 64 × 64, float32) is what the explainer's [`Lrp`](explainer::Lrp)
//! returns for the chosen class `c`; the heatmap is the panels' colour law
//! ([`RelevanceMap::to_image`]: channel sum, `seismic` darkened, bound `b = 10 (mean |R|³)^{1/3}`).
//! Also returned: the logit `f_c`, `Σ R` (equal to `f_c` where a composite conserves relevance,
//! minus what biases and stabilisers absorb), the prediction and its probability.
//!
//! The model is loaded once; the attributor prepared for the last method and γ is kept, so
//! changing the seed or the class does not prepare it again.

use std::cell::RefCell;
use std::sync::OnceLock;

use candle_core::{DType, Device};
use explainer::heatmap::RelevanceMap;
use explainer::prediction::top_predictions;
use explainer::scenes::{Scene, Shape, generate_scene, scenes_to_input};
use explainer::shipped::shapes_model;
use explainer::{Attributor, Prepared, Vgg};

use crate::error::{Error, Result};
use crate::json::Object;
use crate::method::Method;

/// One explanation of demo 2.
#[derive(Debug, Clone)]
pub struct ShapesResult {
    /// The scene.
    pub scene: Scene,
    /// The explained class.
    pub class: usize,
    /// The method.
    pub method: Method,
    /// The logit `f_c` of the explained class.
    pub logit: f64,
    /// The model's best class and its softmax probability.
    pub predicted: (usize, f64),
    /// `R`, channel-major (`3 × 64 × 64`), as the library returns it (float32).
    pub relevance: Vec<f32>,
    /// Its channel sum per pixel (what the heatmap shows).
    pub map: RelevanceMap,
}

/// The shipped model in float32, loaded from the bytes embedded in the explainer.
fn model() -> Result<&'static Vgg> {
    static MODEL: OnceLock<Vgg> = OnceLock::new();
    if let Some(model) = MODEL.get() {
        return Ok(model);
    }
    let loaded = shapes_model(&Device::Cpu, DType::F32)?;
    Ok(MODEL.get_or_init(|| loaded))
}

/// The attributor last prepared, with the method and γ it was prepared for.
type Cached = (Method, u64, Prepared<'static>);

thread_local! {
    static PREPARED: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Explains `class` of the scene of `seed` with `method` (and `gamma`, where it applies).
pub fn explain(seed: u64, class: usize, method: Method, gamma: f64) -> Result<ShapesResult> {
    let classes = Shape::ALL.len();
    if class >= classes {
        return Err(Error::InvalidInput {
            name: "class",
            value: class.to_string(),
            why: format!("the model has {classes} classes"),
        });
    }
    let model = model()?;
    let scene = generate_scene(seed);
    let input = scenes_to_input(std::slice::from_ref(&scene), &Device::Cpu, DType::F32)?;
    let gamma_key = if method.takes_gamma() { gamma.to_bits() } else { 0 };
    let attribution = PREPARED.with(|cell| -> Result<_> {
        let mut cached = cell.borrow_mut();
        let fresh = !matches!(&*cached, Some((m, g, _)) if *m == method && *g == gamma_key);
        if fresh {
            // The old kernels go first: two prepared models need not fit at once.
            *cached = None;
            *cached = Some((method, gamma_key, method.attributor(gamma)?.prepare(model)?));
        }
        match &*cached {
            Some((_, _, prepared)) => Ok(prepared.attribute(&input, class)?),
            None => Err(Error::InvalidInput {
                name: "method",
                value: method.name().into(),
                why: "not prepared".into(),
            }),
        }
    })?;
    let names: Vec<&str> = Shape::ALL.iter().map(Shape::name).collect();
    let logits: Vec<f64> = attribution.logits.get(0)?.to_dtype(DType::F64)?.to_vec1()?;
    let best = top_predictions(&attribution.logits, 0, &names, 1)?.remove(0);
    let relevance: Vec<f32> = attribution.relevance.flatten_all()?.to_vec1()?;
    let map = RelevanceMap::from_tensor(&attribution.relevance, 0)?;
    Ok(ShapesResult {
        scene,
        class,
        method,
        logit: logits[class],
        predicted: (best.class, best.probability),
        relevance,
        map,
    })
}

/// The result as the JSON object the page reads: `{"seed", "class", "class_name",
/// "true_class", "true_class_name", "method", "logit", "predicted", "predicted_name",
/// "probability", "relevance_sum", "color_bound", "scene": [r, g, b, …], "mask": [0/1, …],
/// "heatmap": [r, g, b, …], "relevance": [3 × 64 × 64 values]}`; pictures are 64 × 64,
/// row-major.
pub fn to_json(seed: u64, result: &ShapesResult) -> Result<String> {
    let name = |class: usize| Shape::ALL.get(class).map_or("?", Shape::name);
    let heatmap = result.map.to_image();
    Ok(Object::new()
        .number("seed", seed as f64)?
        .number("class", result.class as f64)?
        .string("class_name", name(result.class))
        .number("true_class", result.scene.class as f64)?
        .string("true_class_name", name(result.scene.class))
        .string("method", result.method.name())
        .number("logit", result.logit)?
        .number("predicted", result.predicted.0 as f64)?
        .string("predicted_name", name(result.predicted.0))
        .number("probability", result.predicted.1)?
        .number("relevance_sum", result.map.sum())?
        .number("color_bound", result.map.color_bound())?
        .numbers("scene", result.scene.image.as_raw().iter().map(|&b| f64::from(b)))?
        .numbers("mask", result.scene.mask.iter().map(|&m| if m { 1.0 } else { 0.0 }))?
        .numbers("heatmap", heatmap.as_raw().iter().map(|&b| f64::from(b)))?
        .numbers("relevance", result.relevance.iter().map(|&r| f64::from(r)))?
        .finish())
}

/// Demo 2's menus: `{"methods": [{"name", "gamma": 0 or 1}], "classes": [names]}`, the methods
/// in the order of [`Method::from_index`] and the classes in the model's output order.
pub fn menus() -> Result<String> {
    let methods = Method::all()
        .into_iter()
        .map(|m| {
            Object::new().string("name", m.name()).number("gamma", if m.takes_gamma() { 1.0 } else { 0.0 })
        })
        .collect::<Result<Vec<_>>>()?;
    let classes = Shape::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| Object::new().number("index", i as f64).map(|o| o.string("name", s.name())))
        .collect::<Result<Vec<_>>>()?;
    Ok(Object::new().objects("methods", methods).objects("classes", classes).finish())
}

#[cfg(test)]
mod tests {
    use explainer::composite::Preset;
    use explainer::{GammaSchedule, Lrp};

    use super::*;

    /// The same explanation by the library's default engine (explicit), as the browser test
    /// does: the demo's engine must agree to float32 rounding.
    #[test]
    fn demo_equals_the_library_default_engine() {
        let seed = 1_000_000_007;
        let method = Method::Lrp(Preset::Sheet);
        let demo = explain(seed, 2, method, 0.25).unwrap();
        let model = shapes_model(&Device::Cpu, DType::F32).unwrap();
        let input = scenes_to_input(&[generate_scene(seed)], &Device::Cpu, DType::F32).unwrap();
        let native = Lrp::sheet(&GammaSchedule::default()).attribute(&model, &input, 2).unwrap();
        let native: Vec<f32> = native.relevance.flatten_all().unwrap().to_vec1().unwrap();
        let scale = native.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = demo.relevance.iter().zip(&native).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst <= 1e-5 * scale, "worst {worst}, scale {scale}");
        assert!((demo.map.sum() - demo.relevance.iter().map(|&r| f64::from(r)).sum::<f64>()).abs() < 1e-4);
    }

    #[test]
    fn a_class_out_of_range_is_an_error_and_the_json_has_every_picture() {
        assert!(explain(1, 6, Method::GradientTimesInput, 0.0).is_err());
        let result = explain(1, 0, Method::GradientTimesInput, 0.0).unwrap();
        let json = to_json(1, &result).unwrap();
        assert!(json.contains("\"method\":\"gradient_x_input\""));
        assert_eq!(result.relevance.len(), 3 * 64 * 64);
        assert_eq!(json.matches("\"scene\":[").count(), 1);
    }
}
