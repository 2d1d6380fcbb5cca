//! Max-pooling with stride and padding (ResNet's 3×3/2/1 stem pool among others) against a
//! brute-force pool written here: values, argmax with ties (inputs of small integers, so most
//! windows tie), the routing of gradients (a scatter-add, overlapping windows adding up) and
//! the autograd op.

mod common;

use candle_core::{DType, Device, Shape, Tensor, Var};
use common::{dot, small_integers, uniform, values};
use kernels::MaxPool2d;

/// (kernel, stride, padding): ResNet's, VGG's, and overlapping, clipped and degenerate ones.
const POOLS: [(usize, usize, usize); 9] =
    [(3, 2, 1), (2, 2, 0), (3, 1, 1), (3, 3, 1), (2, 1, 1), (4, 2, 2), (5, 3, 2), (1, 1, 0), (3, 2, 0)];
/// Input sides, odd and even, square and not.
const SIDES: [(usize, usize); 4] = [(7, 7), (8, 8), (9, 10), (11, 6)];

/// The pool by its definition: for each output, the input positions of its window in
/// row-major order, those inside the input only, the first strictly greatest kept.
fn brute_force(
    x: &[f64],
    (n, c, h, w): (usize, usize, usize, usize),
    pool: MaxPool2d,
) -> (Vec<f64>, Vec<u32>) {
    let MaxPool2d { kernel: k, stride: s, padding: p } = pool;
    let side = |len: usize| (len + 2 * p - k) / s + 1;
    let (ho, wo) = (side(h), side(w));
    let (mut out, mut arg) = (Vec::new(), Vec::new());
    for plane in x.chunks_exact(h * w).take(n * c) {
        for u in 0..ho {
            for v in 0..wo {
                let mut best: Option<(f64, usize)> = None;
                for di in 0..k {
                    for dj in 0..k {
                        let (r, q) = ((u * s + di) as isize - p as isize, (v * s + dj) as isize - p as isize);
                        if r < 0 || q < 0 || r >= h as isize || q >= w as isize {
                            continue; // padding: −∞, never chosen
                        }
                        let at = r as usize * w + q as usize;
                        if best.is_none_or(|(value, _)| plane[at] > value) {
                            best = Some((plane[at], at));
                        }
                    }
                }
                let (value, at) = best.expect("a valid pool's window meets the input");
                out.push(value);
                arg.push(at as u32);
            }
        }
    }
    (out, arg)
}

/// Every pool on every side, on float64 and float32 inputs of three integer levels and of
/// uniform values: values and argmax equal the brute force exactly.
#[test]
fn values_and_argmax_equal_the_brute_force() {
    let mut seed = 0;
    for (k, s, p) in POOLS {
        let pool = MaxPool2d::new(k, s, p).unwrap();
        for (h, w) in SIDES {
            seed += 1;
            let dims = (2, 3, h, w);
            for x in [small_integers(&[2, 3, h, w], 3, seed), uniform(&[2, 3, h, w], seed)] {
                for dtype in [DType::F64, DType::F32] {
                    let x = x.to_dtype(dtype).unwrap();
                    let (expected, expected_arg) = brute_force(&values(&x), dims, pool);
                    let (pooled, argmax) = pool.forward_with_argmax(&x).unwrap();
                    let case = format!("{pool:?} {h}×{w} {dtype:?}");
                    assert_eq!(pooled.dims(), [2, 3, pool.output_side(h), pool.output_side(w)], "{case}");
                    assert_eq!(pooled.dtype(), dtype);
                    assert_eq!(values(&pooled), expected, "values {case}");
                    assert_eq!(
                        argmax.flatten_all().unwrap().to_vec1::<u32>().unwrap(),
                        expected_arg,
                        "{case}"
                    );
                }
            }
        }
    }
}

/// The routed gradient equals a scatter-add of the gradient at the brute-force argmax (exact:
/// the gradients are halves), and `⟨g, x[argmax]⟩ = ⟨route(g), x⟩`; the autograd op's input
/// gradient is the same routing, in float64 and float32.
#[test]
fn routing_is_the_scatter_add_of_the_argmax() {
    let mut seed = 100;
    for (k, s, p) in POOLS {
        let pool = MaxPool2d::new(k, s, p).unwrap();
        for (h, w) in SIDES {
            seed += 1;
            let dims = (2, 3, h, w);
            let x = small_integers(&[2, 3, h, w], 3, seed);
            let (pooled, expected_arg) = brute_force(&values(&x), dims, pool);
            let (ho, wo) = (pool.output_side(h), pool.output_side(w));
            let grad: Vec<f64> = (0..pooled.len()).map(|i| (i % 13) as f64 - 5.5).collect();
            let mut scattered = vec![0.0; 2 * 3 * h * w];
            for (i, (&g, &at)) in grad.iter().zip(&expected_arg).enumerate() {
                scattered[i / (ho * wo) * h * w + at as usize] += g;
            }
            let case = format!("{pool:?} {h}×{w}");
            for dtype in [DType::F64, DType::F32] {
                let x = x.to_dtype(dtype).unwrap();
                let g = Tensor::from_vec(grad.clone(), (2, 3, ho, wo), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                let (values_t, argmax) = pool.forward_with_argmax(&x).unwrap();
                let routed = pool.route(&g, &argmax, x.shape()).unwrap();
                assert_eq!(values(&routed), scattered, "route {case} {dtype:?}");
                assert_eq!(dot(&g, &values_t), dot(&routed, &x), "adjoint {case} {dtype:?}");

                let var = Var::from_tensor(&x).unwrap();
                let y = pool.forward_autograd(var.as_tensor()).unwrap();
                assert_eq!(values(&y), pooled, "autograd forward {case} {dtype:?}");
                let grads = (y * &g).unwrap().sum_all().unwrap().backward().unwrap();
                assert_eq!(
                    values(grads.get(var.as_tensor()).unwrap()),
                    scattered,
                    "autograd {case} {dtype:?}"
                );
            }
        }
    }
}

/// ResNet's pool on a 5×5 plane of zeros with a 9 at (1, 1), which four windows share (rows
/// and columns 0–1 and 1–3): its gradient is the sum of theirs; the all-zero windows pick their
/// first valid position.
#[test]
fn overlapping_windows_add_at_a_shared_maximum() {
    let mut plane = vec![0f64; 25];
    plane[5 + 1] = 9.0;
    let x = Tensor::from_vec(plane, (1, 1, 5, 5), &Device::Cpu).unwrap();
    let pool = MaxPool2d::new(3, 2, 1).unwrap();
    let (pooled, argmax) = pool.forward_with_argmax(&x).unwrap();
    assert_eq!(values(&pooled), [9., 9., 0., 9., 9., 0., 0., 0., 0.]);
    let arg = argmax.flatten_all().unwrap().to_vec1::<u32>().unwrap();
    assert_eq!(arg, [6, 6, 3, 6, 6, 8, 15, 16, 18]);
    let g = Tensor::from_vec((1..=9).map(f64::from).collect::<Vec<_>>(), (1, 1, 3, 3), &Device::Cpu).unwrap();
    let routed = values(&pool.route(&g, &argmax, x.shape()).unwrap());
    assert_eq!(routed[6], 1.0 + 2.0 + 4.0 + 5.0);
    assert_eq!(routed.iter().sum::<f64>(), 45.0);
}

#[test]
fn construction_is_validated() {
    assert_eq!(MaxPool2d::new(2, 2, 0).unwrap(), MaxPool2d::default());
    assert!(MaxPool2d::new(3, 2, 1).is_ok());
    assert!(MaxPool2d::new(2, 2, 1).is_ok(), "padding 1 ≤ 2/2");
    assert!(MaxPool2d::new(3, 2, 2).is_err(), "padding 2 > 3/2");
    assert!(MaxPool2d::new(0, 1, 0).is_err());
    assert!(MaxPool2d::new(3, 0, 1).is_err());
    // A pool built by hand is checked on every pass.
    let x = uniform(&[1, 1, 6, 6], 7);
    assert!(MaxPool2d { kernel: 3, stride: 0, padding: 1 }.forward_with_argmax(&x).is_err());
    assert!(MaxPool2d { kernel: 3, stride: 2, padding: 2 }.forward_autograd(&x).is_err());
    // A gradient of another output side than the input's is refused.
    let pool = MaxPool2d::new(3, 2, 1).unwrap();
    let x = uniform(&[1, 1, 5, 6], 8);
    let (pooled, argmax) = pool.forward_with_argmax(&x).unwrap();
    assert_eq!(pooled.dims(), [1, 1, 3, 3], "5 and 6 both pool to 3");
    assert!(pool.route(&pooled, &argmax, x.shape()).is_ok());
    assert!(pool.route(&pooled, &argmax, &Shape::from((1, 1, 8, 8))).is_err());
}
