//! The transforms written out, applied to whole rows at once: the compiler vectorises them
//! across the tiles of a row.

use candle_core::WithDType;

use super::M;

/// Values per block of [`mix`]: one or two AVX-512 registers.
const LANES: usize = 16;

/// `outs[·][x] = f(ins[·][x])` for every `x` (all rows have the length of the shortest), in
/// blocks of [`LANES`] copied into local arrays, so that the compiler sees no aliasing and
/// vectorises `f` across each block.
#[inline(always)]
pub(super) fn mix<T: WithDType, const R: usize, const K: usize>(
    f: impl Fn([T; K]) -> [T; R],
    ins: [&[T]; K],
    mut outs: [&mut [T]; R],
) {
    let n = ins.iter().map(|i| i.len()).chain(outs.iter().map(|o| o.len())).min().unwrap_or(0);
    let block = |v: &[[T; LANES]; K]| {
        let mut o = [[T::zero(); LANES]; R];
        for l in 0..LANES {
            let r = f(std::array::from_fn(|k| v[k][l]));
            for (o, r) in o.iter_mut().zip(r) {
                o[l] = r;
            }
        }
        o
    };
    // Whole blocks: copies of a constant length, which compile to plain moves.
    let mut x = 0;
    while x + LANES <= n {
        let v: [[T; LANES]; K] = std::array::from_fn(|k| {
            let mut v = [T::zero(); LANES];
            v.copy_from_slice(&ins[k][x..x + LANES]);
            v
        });
        for (out, o) in outs.iter_mut().zip(&block(&v)) {
            out[x..x + LANES].copy_from_slice(o);
        }
        x += LANES;
    }
    if x < n {
        let len = n - x;
        let mut v = [[T::zero(); LANES]; K];
        for (v, i) in v.iter_mut().zip(&ins) {
            v[..len].copy_from_slice(&i[x..n]);
        }
        for (out, o) in outs.iter_mut().zip(&block(&v)) {
            out[x..n].copy_from_slice(&o[..len]);
        }
    }
}

/// `Bᵀ v`, the input transform, written out (no multiplications by 0 or ±1; the tests
/// check it against the matrix).
#[inline(always)]
pub(super) fn bt_times<T: WithDType>([v0, v1, v2, v3, v4, v5]: [T; 6]) -> [T; 6] {
    let (two, four, five) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(5.0));
    [
        four * v0 - five * v2 + v4,
        v3 + v4 - four * (v1 + v2),
        four * (v1 - v2) - v3 + v4,
        two * (v3 - v1) - v2 + v4,
        two * (v1 - v3) - v2 + v4,
        four * v1 - five * v3 + v5,
    ]
}

/// `Aᵀ v`, the output transform, written out.
#[inline(always)]
pub(super) fn at_times<T: WithDType>([v0, v1, v2, v3, v4, v5]: [T; 6]) -> [T; 4] {
    let (two, four, eight) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(8.0));
    let (sum12, diff12, sum34, diff34) = (v1 + v2, v1 - v2, v3 + v4, v3 - v4);
    [v0 + sum12 + sum34, diff12 + two * diff34, sum12 + four * sum34, diff12 + eight * diff34 + v5]
}

/// `A u`, the adjoint's input transform, written out.
#[inline(always)]
pub(super) fn a_times<T: WithDType>([u0, u1, u2, u3]: [T; 4]) -> [T; 6] {
    let (two, four, eight) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(8.0));
    let (even, odd) = (u0 + u2, u1 + u3);
    let (even2, odd2) = (u0 + four * u2, two * u1 + eight * u3);
    [u0, even + odd, even - odd, even2 + odd2, even2 - odd2, u3]
}

/// `B v`, the adjoint's output transform, written out.
#[inline(always)]
pub(super) fn b_times<T: WithDType>([v0, v1, v2, v3, v4, v5]: [T; 6]) -> [T; 6] {
    let (two, four, five) = (T::from_f64(2.0), T::from_f64(4.0), T::from_f64(5.0));
    [
        four * v0,
        four * (v2 - v1 + v5) + two * (v4 - v3),
        T::zero() - five * v0 - four * (v1 + v2) - v3 - v4,
        v1 - v2 + two * (v3 - v4) - five * v5,
        v0 + v1 + v2 + v3 + v4,
        v5,
    ]
}

/// `G k`, the kernel transform, written out.
#[inline(always)]
pub(super) fn g_times<T: WithDType>([k0, k1, k2]: [T; 3]) -> [T; 6] {
    let (quarter, sixth) = (T::from_f64(1.0 / 4.0), T::from_f64(1.0 / 6.0));
    let (twelfth, twenty_fourth) = (T::from_f64(1.0 / 12.0), T::from_f64(1.0 / 24.0));
    let (outer, middle) = (twenty_fourth * k0 + sixth * k2, twelfth * k1);
    [
        quarter * k0,
        T::zero() - sixth * (k0 + k1 + k2),
        T::zero() - sixth * (k0 - k1 + k2),
        outer + middle,
        outer - middle,
        k2,
    ]
}

/// `R` rows of `block`, row `r` being `block[r·stride + range]`.
pub(super) fn rows_mut<T, const R: usize>(
    mut block: &mut [T],
    stride: usize,
    range: std::ops::Range<usize>,
) -> [&mut [T]; R] {
    std::array::from_fn(|_| {
        let rest = std::mem::take(&mut block);
        let (row, rest) = rest.split_at_mut(stride.min(rest.len()));
        block = rest;
        &mut row[range.clone()]
    })
}

/// `phases[j·n + t] = row[4t + j]` for `t < n`: a row split by `x mod 4`.
pub(super) fn deinterleave<T: WithDType>(row: &[T], phases: &mut [T], n: usize) {
    let (p0, rest) = phases.split_at_mut(n);
    let (p1, rest) = rest.split_at_mut(n);
    let (p2, p3) = rest.split_at_mut(n);
    for ((((x, a), b), c), d) in row.chunks_exact(M).zip(p0).zip(p1).zip(p2).zip(&mut p3[..n]) {
        (*a, *b, *c, *d) = (x[0], x[1], x[2], x[3]);
    }
}

/// `row[4t + j] = phases[j·n + t]` for `t < n`, the inverse of [`deinterleave`].
pub(super) fn interleave<T: WithDType>(phases: &[T], n: usize, row: &mut [T]) {
    let (p0, p1, p2, p3) = (&phases[..n], &phases[n..2 * n], &phases[2 * n..3 * n], &phases[3 * n..4 * n]);
    for ((((x, a), b), c), d) in row.chunks_exact_mut(M).zip(p0).zip(p1).zip(p2).zip(p3) {
        x.copy_from_slice(&[*a, *b, *c, *d]);
    }
}
