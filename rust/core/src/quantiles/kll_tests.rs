#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn the_sorting_networks_sort() {
    let mut x = 7u64;
    for len in 0..40 {
        for _ in 0..200 {
            let mut v: Vec<u64> = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    x >> (x % 60) // repeats and a spread of magnitudes
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_small(&mut v);
            assert_eq!(v, want);
        }
    }
}

#[test]
fn capacities_are_datasketches() {
    let caps: Vec<usize> = (0..9).map(|h| level_capacity(200, 9, h)).collect();
    assert_eq!(caps, [8, 12, 18, 26, 40, 59, 89, 133, 200]);
    assert!((normalized_rank_error(200) - 0.013294757464848584).abs() < 1e-15);
    for v in [-f64::INFINITY, -1.5, -0.0, 0.0, 5e-324, 2.0, f64::INFINITY] {
        assert_eq!(from_order_key(order_key(v)).to_bits(), v.to_bits());
    }
    assert!(order_key(-1.0) < order_key(-0.5) && order_key(-0.0) < order_key(0.0));
    assert!(order_key(0.0) < order_key(1.0));
}

#[test]
fn ranks_stay_within_the_error_and_bytes_round_trip() {
    let values: Vec<f64> = (0..100_000u64)
        .map(|i| ((i * 7919) % 100_003) as f64)
        .collect();
    let mut s = Kll::new(200, 1).unwrap();
    s.update_values(&Keys::F64(&values), Counts::Each(1), false)
        .unwrap();
    assert_eq!(s.count(), 100_000);
    assert!(s.num_retained() < 700);
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let qs: Vec<f64> = (1..100).map(|i| f64::from(i) / 100.0).collect();
    for (q, v) in qs.iter().zip(s.quantiles(&qs).unwrap()) {
        let rank = sorted.partition_point(|&x| x <= v) as f64 / sorted.len() as f64;
        assert!(
            (rank - q).abs() < 2.0 * s.normalized_rank_error(),
            "{q}: {rank}"
        );
    }
    assert_eq!(Kll::from_bytes(&s.to_bytes()).unwrap(), s);
    let image = Kll::from_datasketches(&s.to_datasketches(), 1).unwrap();
    assert_eq!(
        (image.count(), image.num_retained()),
        (s.count(), s.num_retained())
    );
    // Same seed, same stream: same bytes.
    let mut again = Kll::new(200, 1).unwrap();
    again
        .update_values(&Keys::F64(&values), Counts::Each(1), false)
        .unwrap();
    assert_eq!(again.to_bytes(), s.to_bytes());
}

#[test]
fn merges_and_weights_keep_the_weight() {
    let mut a = Kll::new(50, 3).unwrap();
    let mut b = Kll::new(20, 4).unwrap();
    for i in 0..10_000 {
        a.add(f64::from(i), 1).unwrap();
        b.add(-f64::from(i), 3).unwrap();
    }
    a.merge(&b).unwrap();
    assert_eq!((a.count(), a.min_k()), (40_000, 20));
    assert_eq!((a.min(), a.max()), (-9999.0, 9999.0));
    let bytes = a.to_bytes();
    assert_eq!(Kll::from_bytes(&bytes).unwrap(), a);
    let ds = a.to_datasketches();
    assert_eq!(Kll::from_datasketches(&ds, 3).unwrap().count(), 40_000);
    let self_merge = a.clone();
    a.merge(&self_merge).unwrap();
    assert_eq!(a.count(), 80_000);
}
