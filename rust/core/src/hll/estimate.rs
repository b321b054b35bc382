//! The estimator of a merged sketchy HyperLogLog: Ertl's, with no empirical bias tables.

/// Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
/// arXiv:1702.01284, 2017, Algorithm 6), for `64 - p` bit ranks.
pub fn ertl_estimate(registers: &[u8], p: u32) -> f64 {
    let m = registers.len() as f64;
    let q = (64 - p) as usize;
    let mut counts = vec![0u64; q + 2];
    for &r in registers {
        counts[(r as usize).min(q + 1)] += 1;
    }
    let mut z = m * tau(1.0 - counts[q + 1] as f64 / m);
    for k in (1..=q).rev() {
        z = 0.5 * (z + counts[k] as f64);
    }
    z += m * sigma(counts[0] as f64 / m);
    let alpha_inf = 1.0 / (2.0 * std::f64::consts::LN_2);
    alpha_inf * m * m / z
}

fn sigma(x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut x, mut y, mut z) = (x, 1.0, x);
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if z == previous {
            return z;
        }
    }
}

fn tau(x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut x, mut y, mut z) = (x, 1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z == previous {
            return z / 3.0;
        }
    }
}
