#![allow(clippy::unwrap_used)]
use super::*;
use crate::hll::ds_image::Target;

#[test]
fn word_coupons_equal_the_general_hash_and_batches_equal_items() {
    for w in [
        0u64,
        1,
        u64::MAX,
        0x8000_0000_0000_0000,
        12345,
        (-7i64) as u64,
    ] {
        assert_eq!(coupon_of_word(w), coupon(&w.to_le_bytes()));
    }
    let values: Vec<i64> = (0..400_000).map(|i| i * 7919 % 1_000_003).collect();
    let mut batch = DsHll::new(12).unwrap();
    batch.update(&Keys::I64(&values));
    let mut one = DsHll::new(12).unwrap();
    for v in &values {
        one.add_coupon(coupon(&v.to_le_bytes()));
    }
    assert_eq!(batch, one);
    assert_eq!(batch.estimate().to_bits(), one.estimate().to_bits());
}

#[test]
fn modes_follow_datasketches_and_images_read_back() {
    for lg_k in [4i64, 8, 12, 21] {
        let mut s = DsHll::new(lg_k).unwrap();
        for i in 0..20_000i64 {
            s.update(&Keys::I64(&[i]));
            if [0, 6, 7, 8, 100, 19_999].contains(&i) {
                for target in [Target::Hll4, Target::Hll6, Target::Hll8] {
                    for compact in [false, true] {
                        let image = s.to_datasketches(target, compact);
                        let back = DsHll::from_datasketches(&image).unwrap();
                        assert_eq!(
                            back.estimate().to_bits(),
                            s.estimate().to_bits(),
                            "{lg_k} {i}"
                        );
                        let again = back.to_datasketches(target, compact);
                        if compact {
                            // A compact set is rebuilt by insertion: the same coupons.
                            let mut a = again[8..].to_vec();
                            let mut b = image[8..].to_vec();
                            a.sort_unstable();
                            b.sort_unstable();
                            assert_eq!(a, b);
                        } else {
                            assert_eq!(again, image);
                        }
                    }
                }
            }
        }
        assert_eq!(s.is_sparse(), lg_k == 21); // 21: a set holds up to 3/4 of 2**18 coupons
        let e = s.estimate();
        let error = 4.0 * 1.04 / ((1u64 << lg_k) as f64).sqrt(); // four standard errors
        assert!((e - 20_000.0).abs() < error * 20_000.0, "{lg_k}: {e}");
    }
}
