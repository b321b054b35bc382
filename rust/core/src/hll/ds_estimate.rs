//! DataSketches' HLL estimators: the coupon estimate of the list and set modes, the composite
//! estimator of a union, and the relative errors of its bounds, as `hll_sketch` computes them.

use super::datasketches::Hll;
use super::ds_tables as tables;

fn cubic(x: [f64; 4], y: [f64; 4], at: f64) -> f64 {
    let [x0, x1, x2, x3] = x;
    // Lagrange's form, y times the numerator before the division: DataSketches' order, its bits.
    let t = |y: f64, n: f64, d: f64| y * n / d;
    t(
        y[0],
        (at - x1) * (at - x2) * (at - x3),
        (x0 - x1) * (x0 - x2) * (x0 - x3),
    ) + t(
        y[1],
        (at - x0) * (at - x2) * (at - x3),
        (x1 - x0) * (x1 - x2) * (x1 - x3),
    ) + t(
        y[2],
        (at - x0) * (at - x1) * (at - x3),
        (x2 - x0) * (x2 - x1) * (x2 - x3),
    ) + t(
        y[3],
        (at - x0) * (at - x1) * (at - x2),
        (x3 - x0) * (x3 - x1) * (x3 - x2),
    )
}

fn straddle(xs: &[f64], x: f64) -> usize {
    let (mut l, mut r) = (0, xs.len() - 1);
    while l + 1 != r {
        let m = l + (r - l) / 2;
        if xs[m] <= x {
            l = m;
        } else {
            r = m;
        }
    }
    l
}

fn window(len: usize, off: usize) -> usize {
    if off == 0 {
        0
    } else if off == len - 2 {
        off - 2
    } else {
        off - 1
    }
}

pub(super) fn coupon_interpolation(x: f64) -> f64 {
    let (xs, ys) = (&tables::X_COUPON, &tables::Y_COUPON);
    if x == xs[xs.len() - 1] {
        return ys[ys.len() - 1];
    }
    let o = window(xs.len(), straddle(xs, x));
    cubic(
        [xs[o], xs[o + 1], xs[o + 2], xs[o + 3]],
        [ys[o], ys[o + 1], ys[o + 2], ys[o + 3]],
        x,
    )
}

pub(super) fn coupon_estimate(n: usize) -> f64 {
    coupon_interpolation(n as f64).max(n as f64)
}

fn harmonic(n: usize) -> f64 {
    if n < tables::HARMONIC.len() {
        return tables::HARMONIC[n];
    }
    let x = n as f64;
    let inv = 1.0 / (x * x);
    let mut sum = x.ln() + 0.577_215_664_901_532_9 + 1.0 / (2.0 * x);
    let mut p = inv;
    sum -= p * (1.0 / 12.0);
    p *= inv;
    sum += p * (1.0 / 120.0);
    p *= inv;
    sum -= p * (1.0 / 252.0);
    p *= inv;
    sum += p * (1.0 / 240.0);
    sum
}

pub(super) fn composite_estimate(lg_k: u8, h: &Hll) -> f64 {
    let k = (1u64 << lg_k) as f64;
    let correction = match lg_k {
        4 => 0.673,
        5 => 0.697,
        6 => 0.709,
        _ => 0.7213 / (1.0 + 1.079 / k),
    };
    let raw = correction * k * k / (h.kxq0 + h.kxq1);
    let xs = &tables::X_COMPOSITE[usize::from(lg_k - 4)];
    let stride = f64::from(tables::Y_STRIDES[usize::from(lg_k - 4)]);
    if raw < xs[0] {
        return 0.0;
    }
    let last = xs.len() - 1;
    if raw > xs[last] {
        return raw * (stride * last as f64 / xs[last]);
    }
    let adjusted = if raw == xs[last] {
        stride * last as f64
    } else {
        let o = window(xs.len(), straddle(xs, raw));
        let y = |i: usize| stride * i as f64;
        cubic(
            [xs[o], xs[o + 1], xs[o + 2], xs[o + 3]],
            [y(o), y(o + 1), y(o + 2), y(o + 3)],
            raw,
        )
    };
    if adjusted > (3u64 << lg_k) as f64 {
        return adjusted;
    }
    let unhit = h.zeros();
    let k_int = 1usize << lg_k;
    let linear = if unhit == 0 {
        k * (k / 0.5).ln()
    } else {
        k * (harmonic(k_int) - harmonic(unhit))
    };
    let average = (adjusted + linear) / 2.0;
    let crossover = match lg_k {
        4 => 0.718,
        5 => 0.672,
        _ => 0.64,
    };
    if average > crossover * k {
        adjusted
    } else {
        linear
    }
}

pub(super) fn relative_error(upper: bool, unioned: bool, lg_k: u8, num_std: usize) -> f64 {
    if lg_k > 12 {
        let f = if unioned { 1.03896 } else { 0.832_554_6 };
        let sign = if upper { -1.0 } else { 1.0 };
        return sign * num_std as f64 * f / ((1u64 << lg_k) as f64).sqrt();
    }
    let table = match (unioned, upper) {
        (false, false) => &tables::HIP_LB,
        (false, true) => &tables::HIP_UB,
        (true, false) => &tables::NON_HIP_LB,
        (true, true) => &tables::NON_HIP_UB,
    };
    table[usize::from(lg_k - 4) * 3 + num_std - 1]
}
