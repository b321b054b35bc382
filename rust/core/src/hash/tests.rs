#![allow(clippy::unwrap_used)]
use super::*;
use crate::items::{ItemKind, KeyBuffer};
use xxhash_rust::xxh3;

#[test]
fn names_round_trip_and_unknown_lists_valid() {
    for &a in Algorithm::ALL {
        assert_eq!(a.name().parse::<Algorithm>().unwrap(), a);
    }
    let err = "md5".parse::<Algorithm>().unwrap_err().to_string();
    assert!(
        err.contains("xxh3_64") && err.contains("murmur3_32"),
        "{err}"
    );
}

#[test]
fn batch_equals_single() {
    let mut buf = KeyBuffer::default();
    for s in ["", "a", "hello world", "ünïcödé"] {
        buf.push(ItemKind::Str, s.as_bytes());
    }
    let keys = buf.keys();
    for &a in Algorithm::ALL {
        let singles: Vec<u128> = ["", "a", "hello world", "ünïcödé"]
            .iter()
            .map(|s| a.hash(s.as_bytes(), 7))
            .collect();
        let batch: Vec<u128> = match a.width() {
            Width::W32 => {
                let mut out = Vec::new();
                hash_many_32(a, &keys, 7, &mut out).unwrap();
                out.into_iter().map(u128::from).collect()
            }
            Width::W64 => {
                let mut out = Vec::new();
                hash_many_64(a, &keys, 7, &mut out).unwrap();
                out.into_iter().map(u128::from).collect()
            }
            Width::W128 => {
                let mut out = Vec::new();
                hash_many_128(a, &keys, 7, &mut out).unwrap();
                out.into_iter()
                    .map(|[lo, hi]| (u128::from(hi) << 64) | u128::from(lo))
                    .collect()
            }
        };
        assert_eq!(batch, singles, "{}", a.name());
    }
}

#[test]
fn word_kernels_equal_the_byte_kernels() {
    let mut x = 0x0123_4567_89ab_cdefu64;
    let seeds = [
        0,
        1,
        7,
        0xffff_ffff,
        1 << 32,
        u64::MAX,
        0x9e37_79b9_7f4a_7c15,
    ];
    for i in 0..20_000u64 {
        // A spread of words: small, negative, random.
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let word = match i % 4 {
            0 => i,
            1 => (i as i64).wrapping_neg() as u64,
            2 => x,
            _ => x >> (i % 64),
        };
        let seed = seeds[(i % 7) as usize] ^ (i / 7);
        let bytes = word.to_le_bytes();
        let h64 = Xxh3x64::new(seed);
        assert_eq!(
            h64.word(word),
            xxh3::xxh3_64_with_seed(&bytes, seed),
            "{word} {seed}"
        );
        let h128 = Xxh3x128::new(seed);
        let full = xxh3::xxh3_128_with_seed(&bytes, seed);
        assert_eq!(
            h128.word(word),
            (full as u64, (full >> 64) as u64),
            "{word} {seed}"
        );
    }
}

#[test]
fn seeds_are_checked() {
    assert!(Algorithm::Murmur3_32
        .check_seed(u64::from(u32::MAX))
        .is_ok());
    assert!(matches!(
        Algorithm::Xxh32.check_seed(1 << 32),
        Err(SketchError::Overflow { .. })
    ));
    assert!(Algorithm::Xxh3_64.check_seed(u64::MAX).is_ok());
    let mut out = Vec::new();
    assert!(hash_many_32(Algorithm::Murmur3_32, &Keys::I64(&[]), 1 << 40, &mut out).is_err());
    assert!(hash_many_32(Algorithm::Xxh3_64, &Keys::I64(&[1]), 0, &mut out).is_err());
}
