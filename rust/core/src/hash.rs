//! The six hash functions of sketchy, one at a time and over a batch of [`Keys`].

use crate::error::{Result, SketchError};
use crate::keys::Keys;
use crate::murmur3;
use xxhash_rust::{xxh3, xxh32, xxh64};

/// A hash function, by the name users pass to `hash_many(algorithm=...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Murmur3_32,
    Murmur3_128,
    Xxh32,
    Xxh64,
    Xxh3_64,
    Xxh3_128,
}

/// How wide a digest is: decides the output array of `hash_many`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    W32,
    W64,
    W128,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Murmur3_32,
        Algorithm::Murmur3_128,
        Algorithm::Xxh32,
        Algorithm::Xxh64,
        Algorithm::Xxh3_64,
        Algorithm::Xxh3_128,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Murmur3_32 => "murmur3_32",
            Algorithm::Murmur3_128 => "murmur3_128",
            Algorithm::Xxh32 => "xxh32",
            Algorithm::Xxh64 => "xxh64",
            Algorithm::Xxh3_64 => "xxh3_64",
            Algorithm::Xxh3_128 => "xxh3_128",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::ALL.iter().map(|a| a.name()).collect();
                SketchError::parameter(
                    "algorithm",
                    format!("unknown algorithm {name:?}; valid: {}", valid.join(", ")),
                )
            })
    }

    pub fn width(self) -> Width {
        match self {
            Algorithm::Murmur3_32 | Algorithm::Xxh32 => Width::W32,
            Algorithm::Xxh64 | Algorithm::Xxh3_64 => Width::W64,
            Algorithm::Murmur3_128 | Algorithm::Xxh3_128 => Width::W128,
        }
    }

    /// The largest seed the function takes: murmur3 and xxh32 have 32-bit seeds, the others 64-bit.
    pub fn max_seed(self) -> u64 {
        match self {
            Algorithm::Murmur3_32 | Algorithm::Murmur3_128 | Algorithm::Xxh32 => {
                u64::from(u32::MAX)
            }
            _ => u64::MAX,
        }
    }

    pub fn check_seed(self, seed: u64) -> Result<()> {
        if seed > self.max_seed() {
            return Err(SketchError::overflow(format!(
                "seed {seed} is too large for {}: it takes seeds in [0, {}]",
                self.name(),
                self.max_seed()
            )));
        }
        Ok(())
    }

    /// The digest of `key`, zero-extended to 128 bits. `seed` must have passed [`check_seed`].
    ///
    /// [`check_seed`]: Algorithm::check_seed
    #[inline]
    pub fn hash(self, key: &[u8], seed: u64) -> u128 {
        match self {
            Algorithm::Murmur3_32 => u128::from(murmur3::murmur3_32(key, seed as u32)),
            Algorithm::Murmur3_128 => murmur3::murmur3_128(key, seed as u32),
            Algorithm::Xxh32 => u128::from(xxh32::xxh32(key, seed as u32)),
            Algorithm::Xxh64 => u128::from(xxh64::xxh64(key, seed)),
            Algorithm::Xxh3_64 => u128::from(xxh3::xxh3_64_with_seed(key, seed)),
            Algorithm::Xxh3_128 => xxh3::xxh3_128_with_seed(key, seed),
        }
    }
}

#[inline(always)]
fn fill<T, F: Fn(&[u8]) -> T>(keys: &Keys, out: &mut [T], f: F) {
    let mut slots = out.iter_mut();
    keys.for_each(|_, bytes| {
        if let Some(slot) = slots.next() {
            *slot = f(bytes);
        }
    });
}

fn check_len(keys: &Keys, out_len: usize) -> Result<()> {
    if keys.len() != out_len {
        return Err(SketchError::input(format!(
            "output holds {out_len} hashes for {} keys",
            keys.len()
        )));
    }
    Ok(())
}

/// Hashes every key with a 32-bit algorithm into `out` (one slot per key).
pub fn hash_many_32(algorithm: Algorithm, keys: &Keys, seed: u64, out: &mut [u32]) -> Result<()> {
    algorithm.check_seed(seed)?;
    check_len(keys, out.len())?;
    let seed32 = seed as u32;
    match algorithm {
        Algorithm::Murmur3_32 => fill(keys, out, |b| murmur3::murmur3_32(b, seed32)),
        Algorithm::Xxh32 => fill(keys, out, |b| xxh32::xxh32(b, seed32)),
        other => return Err(wrong_width(other, "32")),
    }
    Ok(())
}

/// Hashes every key with a 64-bit algorithm into `out`.
pub fn hash_many_64(algorithm: Algorithm, keys: &Keys, seed: u64, out: &mut [u64]) -> Result<()> {
    algorithm.check_seed(seed)?;
    check_len(keys, out.len())?;
    match algorithm {
        Algorithm::Xxh64 => fill(keys, out, |b| xxh64::xxh64(b, seed)),
        Algorithm::Xxh3_64 => fill(keys, out, |b| xxh3::xxh3_64_with_seed(b, seed)),
        other => return Err(wrong_width(other, "64")),
    }
    Ok(())
}

/// Hashes every key with a 128-bit algorithm into `out` as `[low 64 bits, high 64 bits]`.
pub fn hash_many_128(
    algorithm: Algorithm,
    keys: &Keys,
    seed: u64,
    out: &mut [[u64; 2]],
) -> Result<()> {
    algorithm.check_seed(seed)?;
    check_len(keys, out.len())?;
    let split = |h: u128| [h as u64, (h >> 64) as u64];
    match algorithm {
        Algorithm::Murmur3_128 => fill(keys, out, |b| split(murmur3::murmur3_128(b, seed as u32))),
        Algorithm::Xxh3_128 => fill(keys, out, |b| split(xxh3::xxh3_128_with_seed(b, seed))),
        other => return Err(wrong_width(other, "128")),
    }
    Ok(())
}

fn wrong_width(algorithm: Algorithm, bits: &str) -> SketchError {
    SketchError::parameter(
        "algorithm",
        format!("{} is not a {bits}-bit hash", algorithm.name()),
    )
}

/// The hash every sketch uses for an item: 64-bit XXH3, seeded with the sketch's seed.
#[inline(always)]
pub fn item_hash64(bytes: &[u8], seed: u64) -> u64 {
    xxh3::xxh3_64_with_seed(bytes, seed)
}

/// Two independent 64-bit hashes of an item (the halves of 128-bit XXH3), for double hashing.
#[inline(always)]
pub fn item_hash128(bytes: &[u8], seed: u64) -> (u64, u64) {
    let h = xxh3::xxh3_128_with_seed(bytes, seed);
    (h as u64, (h >> 64) as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keys::{ItemKind, KeyBuffer};

    #[test]
    fn names_round_trip_and_unknown_lists_valid() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()).unwrap(), a);
        }
        let err = Algorithm::from_name("md5").unwrap_err().to_string();
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
        for a in Algorithm::ALL {
            let singles: Vec<u128> = ["", "a", "hello world", "ünïcödé"]
                .iter()
                .map(|s| a.hash(s.as_bytes(), 7))
                .collect();
            let batch: Vec<u128> = match a.width() {
                Width::W32 => {
                    let mut out = vec![0u32; 4];
                    hash_many_32(a, &keys, 7, &mut out).unwrap();
                    out.into_iter().map(u128::from).collect()
                }
                Width::W64 => {
                    let mut out = vec![0u64; 4];
                    hash_many_64(a, &keys, 7, &mut out).unwrap();
                    out.into_iter().map(u128::from).collect()
                }
                Width::W128 => {
                    let mut out = vec![[0u64; 2]; 4];
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
    fn seeds_are_checked() {
        assert!(Algorithm::Murmur3_32
            .check_seed(u64::from(u32::MAX))
            .is_ok());
        assert!(matches!(
            Algorithm::Xxh32.check_seed(1 << 32),
            Err(SketchError::Overflow { .. })
        ));
        assert!(Algorithm::Xxh3_64.check_seed(u64::MAX).is_ok());
        let mut out = [0u32; 0];
        assert!(hash_many_32(Algorithm::Murmur3_32, &Keys::I64(&[]), 1 << 40, &mut out).is_err());
        assert!(hash_many_32(Algorithm::Murmur3_32, &Keys::I64(&[1]), 0, &mut out).is_err());
    }
}
