#![allow(clippy::unwrap_used)]
use super::*;

fn filled(p: i64, n: u64, seed: u64) -> Xxh3Hll {
    let mut h = Xxh3Hll::new(p, seed).unwrap();
    for i in 0..n {
        h.add(&i.to_le_bytes());
    }
    h
}

#[test]
fn the_branchless_rank_of_the_batch_filter_is_rank_at() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for p in 4..=18u32 {
        for i in 0..5000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Random hashes, and ones whose bits below the index run out (all-zero rests).
            let h = if i % 5 == 0 {
                x & !(u64::MAX >> p)
            } else {
                x >> (i % 64)
            };
            let branchless = ((h << p) | (1u64 << (p - 1))).leading_zeros() + 1;
            assert_eq!(branchless, rank_at(h, p), "p={p} h={h:#x}");
        }
    }
}

#[test]
fn precision_is_checked() {
    assert!(Xxh3Hll::new(3, 0).is_err());
    assert!(Xxh3Hll::new(19, 0).is_err());
    assert!(Xxh3Hll::new(4, 0).is_ok());
}

#[test]
fn sparse_entries_reduce_like_direct_hashes() {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..10_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        for p in 4..=18u32 {
            let (index, rank) = entry_at(sparse_entry(x), p);
            assert_eq!(index, (x >> (64 - p)) as usize);
            assert_eq!(u32::from(rank), rank_at(x, p));
        }
    }
    assert_eq!(rank_at(0, 14), 51);
    assert_eq!(entry_at(sparse_entry(0), 14), (0, 51));
}

#[test]
fn batches_equal_one_by_one() {
    for (p, n) in [
        (4i64, 100u64),
        (10, 200),
        (10, 300),
        (12, 1000),
        (12, 50_000),
    ] {
        let items: Vec<u64> = (0..n)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % (n / 2 + 1))
            .collect();
        let one = {
            let mut h = Xxh3Hll::new(p, 7).unwrap();
            items.iter().for_each(|i| h.add(&i.to_le_bytes()));
            h
        };
        let mut batch = Xxh3Hll::new(p, 7).unwrap();
        batch.update(&Keys::U64(&items));
        assert_eq!(batch, one);
        assert_eq!(batch.to_bytes(), one.to_bytes(), "p={p} n={n}"); // HIP state too
    }
    // Streams of repeats that reach the sparse limit (m/4 entries) late, in the middle of a
    // chunk, or never: the switch to dense must happen at the same item.
    for (p, n, distinct) in [
        (14i64, 120_000u64, 4200u64),
        (14, 50_000, 4000),
        (10, 30_000, 257),
        (10, 9_000, 300),
    ] {
        let items: Vec<u64> = (0..n).map(|i| (i * i + 7 * i) % distinct).collect();
        let mut one = Xxh3Hll::new(p, 1).unwrap();
        items.iter().for_each(|i| one.add(&i.to_le_bytes()));
        let mut batch = Xxh3Hll::new(p, 1).unwrap();
        batch.update(&Keys::U64(&items));
        assert_eq!(
            batch.to_bytes(),
            one.to_bytes(),
            "p={p} n={n} distinct={distinct}"
        );
    }
}

#[test]
fn large_batches_hashed_on_two_threads_equal_one_by_one() {
    let items: Vec<u64> = (0..400_000u64)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect();
    let mut batch = Xxh3Hll::new(12, 3).unwrap();
    batch.update(&Keys::U64(&items));
    let mut one = Xxh3Hll::new(12, 3).unwrap();
    items.iter().for_each(|i| one.add(&i.to_le_bytes()));
    assert_eq!(batch.to_bytes(), one.to_bytes()); // registers and HIP state
}

#[test]
fn estimates_are_close() {
    for (p, n) in [
        (12, 10u64),
        (12, 500),
        (12, 2_000),
        (12, 100_000),
        (14, 1_000_000),
    ] {
        let h = filled(p, n, 1);
        let error = (h.estimate() - n as f64).abs() / n as f64;
        assert!(error < 0.05, "p={p} n={n}: {}", h.estimate());
    }
    assert_eq!(Xxh3Hll::new(10, 0).unwrap().estimate(), 0.0);
}

#[test]
fn reduced_and_merged_equal_direct() {
    for n in [100u64, 50_000] {
        let mut high = filled(14, n, 3);
        let low = filled(12, n, 3);
        high.reduce(12).unwrap();
        assert_eq!(high.dense_registers(), low.dense_registers());
        let mut a = Xxh3Hll::new(14, 3).unwrap();
        let mut b = Xxh3Hll::new(12, 3).unwrap();
        for i in 0..n {
            if i % 3 == 0 {
                a.add(&i.to_le_bytes())
            } else {
                b.add(&i.to_le_bytes())
            }
        }
        a.merge(&b).unwrap();
        assert_eq!(a.precision(), 12);
        assert_eq!(a.dense_registers(), low.dense_registers());
    }
}

#[test]
fn merged_estimator_is_accurate() {
    // Four parts of a stream of 200,000 distinct items, merged: the registers of the whole
    // stream, estimated without HIP (which a merge cannot carry) within 5%.
    let mut merged = Xxh3Hll::new(12, 5).unwrap();
    for part in 0..4u64 {
        let mut h = Xxh3Hll::new(12, 5).unwrap();
        for i in part * 50_000..(part + 1) * 50_000 {
            h.add(&i.to_le_bytes());
        }
        merged.merge(&h).unwrap();
    }
    let whole = filled(12, 200_000, 5);
    assert!(whole.uses_hip() && !merged.uses_hip());
    assert_eq!(merged.dense_registers(), whole.dense_registers());
    assert!((merged.estimate() - 200_000.0).abs() / 200_000.0 < 0.05);
    let mut again = whole.clone();
    again.merge(&Xxh3Hll::new(12, 5).unwrap()).unwrap();
    assert_eq!(again, merged);
}

#[test]
fn serialization_round_trips() {
    for n in [0u64, 5, 1000, 100_000] {
        let h = filled(10, n, 9);
        let copy = Xxh3Hll::from_bytes(&h.to_bytes()).unwrap();
        assert_eq!(copy, h);
        assert_eq!(copy.estimate(), h.estimate());
    }
    let registers: Vec<u8> = (0..1024).map(|i| (i % 56) as u8).collect();
    assert_eq!(bytes::unpack6(&bytes::pack6(&registers), 1024), registers);
}
