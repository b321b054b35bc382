#![allow(clippy::unwrap_used)]
use super::*;

fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed;
    move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn quantiles_are_within_the_relative_accuracy() {
    let mut next = lcg(7);
    let values: Vec<f64> = (0..20_000)
        .map(|i| {
            let u = next();
            match i % 4 {
                0 => -(u * 20.0).exp(),
                1 => 0.0,
                _ => (u * 30.0 - 10.0).exp(),
            }
        })
        .collect();
    let mut s = DDSketch::new(0.01, 2048).unwrap();
    s.update_values(&Keys::F64(&values), Counts::Each(1), false)
        .unwrap();
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    for q in [0.0, 0.001, 0.1, 0.25, 0.3, 0.5, 0.9, 0.999, 1.0] {
        let truth = sorted[(q * (sorted.len() - 1) as f64).floor() as usize];
        let got = s.quantile(q).unwrap();
        assert!(
            (got - truth).abs() <= 0.01 * truth.abs() * (1.0 + 1e-12),
            "{q}: {got} vs {truth}"
        );
    }
}

#[test]
fn table_keys_equal_the_logarithms() {
    let mut next = lcg(11);
    for alpha in [0.5, 0.05, 0.01, 0.001, 1e-5] {
        let s = DDSketch::new(alpha, 2048).unwrap();
        let mut fast = 0;
        for i in 0..200_000 {
            let x = match i % 3 {
                0 => (next() * 1400.0 - 700.0).exp(),
                1 => next() * 100.0,
                _ => s.value(i64::from(i % 2000) - 1000) * (1.0 + (next() - 0.5) * 1e-12),
            };
            if !(x > 0.0 && x.is_finite()) {
                continue;
            }
            let exact = ceil(x.ln() * s.multiplier);
            if let Some(k) = s.table.key(x) {
                assert_eq!(k, exact, "{alpha} {x}");
                fast += 1;
            }
        }
        // Below α = 1e-4 the table (at most 2**14 buckets) is too coarse to help.
        assert!(alpha < 1e-4 || fast > 100_000, "{alpha}: {fast}");
    }
}

#[test]
fn merges_equal_the_single_pass_sketch() {
    let mut next = lcg(3);
    let values: Vec<f64> = (0..5000)
        .map(|_| (next() * 400.0 - 200.0).exp() * (next() - 0.3))
        .collect();
    let mut whole = DDSketch::new(0.02, 64).unwrap();
    whole
        .update_values(&Keys::F64(&values), Counts::Each(1), false)
        .unwrap();
    let mut parts = DDSketch::new(0.02, 64).unwrap();
    for chunk in values.chunks(777).rev() {
        let mut p = DDSketch::new(0.02, 64).unwrap();
        p.update_values(&Keys::F64(chunk), Counts::Each(1), false)
            .unwrap();
        parts.merge(&p).unwrap();
    }
    assert_eq!(parts, whole);
    assert_eq!(parts.to_bytes(), whole.to_bytes());
    assert_eq!(DDSketch::from_bytes(&whole.to_bytes()).unwrap(), whole);
    assert!(whole.num_bins() <= 2 * 64 + 1);
}

#[test]
fn infinities_change_nothing_and_nans_are_counted() {
    let mut s = DDSketch::new(0.01, 2048).unwrap();
    let before = s.clone();
    assert!(s
        .update_values(&Keys::F64(&[1.0, f64::INFINITY]), Counts::Each(1), false)
        .is_err());
    assert_eq!(s, before);
    s.update_values(&Keys::F64(&[1.0, f64::NAN]), Counts::Each(1), false)
        .unwrap();
    assert_eq!((s.count(), s.nan_count()), (1, 1));
    assert!(s.quantile(1.5).is_err());
    assert!(s.quantile(f64::NAN).is_err());
}

#[test]
fn batch_queries_are_the_single_ones() {
    let mut next = lcg(11);
    let values: Vec<f64> = (0..5_000).map(|_| next() * 100.0 - 20.0).collect();
    let mut s = DDSketch::new(0.01, 2048).unwrap();
    s.update_values(&Keys::F64(&values), Counts::Each(1), false)
        .unwrap();
    let qs = [0.5, 0.0, 1.0, 0.99, 0.01, 0.5];
    let singles: Vec<f64> = qs.iter().map(|&q| s.quantile(q).unwrap()).collect();
    assert_eq!(s.quantiles(&qs).unwrap(), singles);
    assert!(s.quantiles(&[0.5, 1.5]).is_err());
    let xs = [-30.0, 0.0, 50.0, f64::NAN, 200.0];
    let ranks = s.ranks(&xs);
    for (r, &x) in ranks.iter().zip(&xs) {
        assert!(r.to_bits() == s.rank(x).to_bits());
    }
}
