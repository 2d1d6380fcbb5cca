//! Float64 is a reference: on a picture with flat regions the explainer equals the sheet's
//! PyTorch code in float64 to 1e-8 (`flat_reference.safetensors`, made by
//! `explainer/fixtures/make_flat_fixtures.py` on the fixture network).
//!
//! In a flat region a convolution sees identical windows, and a direct convolution gives them
//! bit-identical outputs, so 2×2 max-pool windows tie exactly and PyTorch routes the gradient
//! to the first position. Float32 takes Winograd on the layers with 16 channels or more, whose
//! output transform computes the four positions of a tile by different sums, breaks those ties
//! by rounding and routes elsewhere: float32 is not a reference here, float64 (always direct)
//! is. The fixture records how many windows tie (a positive maximum attained twice or more).

mod util;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use explainer::{Attributor, Engine, GradientTimesInput, Lrp};
use util::{fixture, rel_l2, tiny};

/// float64 logits: only summation order differs from PyTorch.
const F64_LOGITS: f64 = 1e-10;
/// float64 attributions, the reference bound of issue "Performance, round 2".
const F64_ATTRIBUTION: f64 = 1e-8;

fn flat_reference() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture("flat_reference.safetensors"), &Device::Cpu).unwrap()
}

/// The picture ties where the test needs ties: in the pools after layers that take Winograd in
/// float32 (pools 3 and 4 of the fixture network; pool 5's windows see nearly the whole
/// picture and are never flat), not only in the first two.
#[test]
fn the_flat_picture_has_tied_max_pool_windows() {
    let ties = flat_reference()["tied_windows_per_pool"].to_vec1::<i64>().unwrap();
    println!("tied max-pool windows per pool: {ties:?}");
    assert_eq!(ties.len(), 5);
    assert!(ties[2..4].iter().all(|&t| t > 0), "{ties:?}");
}

#[test]
fn float64_equals_pytorch_where_max_pool_windows_tie() {
    let r = flat_reference();
    let vgg = tiny(DType::F64);
    let x = &r["input"];
    let c = r["class_index"].to_vec1::<i64>().unwrap()[0] as usize;
    let e = rel_l2(&vgg.forward(x).unwrap(), &r["logits"]);
    println!("f64 logits: {e:.2e}");
    assert!(e < F64_LOGITS, "logits differ by {e:e}");
    let checks: [(&str, Box<dyn Attributor>, &str); 3] = [
        ("gradient×input", Box::new(GradientTimesInput), "gradient_x_input"),
        ("lrp explicit", Box::new(Lrp::default()), "lrp"),
        ("lrp autograd", Box::new(Lrp::default().with_engine(Engine::Autograd)), "lrp"),
    ];
    for (name, attributor, key) in checks {
        let relevance = attributor.attribute(&vgg, x, c).unwrap().relevance;
        let e = rel_l2(&relevance, &r[key]);
        println!("f64 {name}: relative L2 {e:.2e}");
        assert!(e < F64_ATTRIBUTION, "{name} differs from the sheet's code by {e:e}");
    }
    // For the record, not a bound: float32 (Winograd) breaks the ties.
    let vgg32 = tiny(DType::F32);
    let x32 = x.to_dtype(DType::F32).unwrap();
    for (name, attributor, key) in [
        ("gradient×input", &GradientTimesInput as &dyn Attributor, "gradient_x_input"),
        ("lrp", &Lrp::default(), "lrp"),
    ] {
        let relevance = attributor.attribute(&vgg32, &x32, c).unwrap().relevance;
        println!("f32 {name}: relative L2 {:.2e} (ties broken by rounding)", rel_l2(&relevance, &r[key]));
    }
}
