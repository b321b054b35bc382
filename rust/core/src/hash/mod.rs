//! Hashing: the six hash functions of sketchy, one item at a time and over a batch of [`Keys`].
//!
//! - this module: [`Algorithm`] (what `hash_many(algorithm=...)` names) and the batch functions,
//!   and [`ItemHash`], the seeded item hash the sketches use;
//! - [`xxh3`]: XXH3 with the 8-byte path of numbers written out;
//! - [`murmur3`]: MurmurHash3 x86 32 and x64 128 (`mmh3`'s, and DataSketches');
//! - [`kernels`]: the fixed-width kernels built for AVX2 and AVX-512, and the output written into
//!   spare capacity (with `items::keys`, the only `unsafe` of the core).

#[allow(unsafe_code)]
pub mod kernels;
pub mod murmur3;
pub mod xxh3;

use crate::error::{Result, SketchError};
use crate::items::{Keys, Slot};
use crate::parallel;
use kernels::append;
pub use xxh3::{Xxh3x128, Xxh3x64};
use xxhash_rust::{xxh32, xxh64};

/// A hash function, by the name users pass to `hash_many(algorithm=...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// MurmurHash3 x86 32 (`mmh3.hash`).
    Murmur3_32,
    /// MurmurHash3 x64 128 (`mmh3.hash128`).
    Murmur3_128,
    /// XXH32.
    Xxh32,
    /// XXH64.
    Xxh64,
    /// XXH3, 64 bits.
    Xxh3_64,
    /// XXH3, 128 bits.
    Xxh3_128,
}

/// How wide a digest is: decides the output array of `hash_many`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// `u32` digests.
    W32,
    /// `u64` digests.
    W64,
    /// `u128` digests, as `[low, high]` words.
    W128,
}

crate::named!(Algorithm, "algorithm", {
    Murmur3_32 => "murmur3_32",
    Murmur3_128 => "murmur3_128",
    Xxh32 => "xxh32",
    Xxh64 => "xxh64",
    Xxh3_64 => "xxh3_64",
    Xxh3_128 => "xxh3_128",
});

impl Algorithm {
    /// The width of its digest.
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

    /// `Overflow` unless `seed` is at most [`Algorithm::max_seed`].
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
            Algorithm::Xxh3_64 => u128::from(xxhash_rust::xxh3::xxh3_64_with_seed(key, seed)),
            Algorithm::Xxh3_128 => xxhash_rust::xxh3::xxh3_128_with_seed(key, seed),
        }
    }
}

/// Appends the hash of every key with a 32-bit algorithm to `out`.
pub fn hash_many_32(
    algorithm: Algorithm,
    keys: &Keys,
    seed: u64,
    out: &mut Vec<u32>,
) -> Result<()> {
    algorithm.check_seed(seed)?;
    let seed32 = seed as u32;
    match algorithm {
        Algorithm::Murmur3_32 => append(keys, out, &ByBytes(|b| murmur3::murmur3_32(b, seed32))),
        Algorithm::Xxh32 => append(keys, out, &ByBytes(|b| xxh32::xxh32(b, seed32))),
        other => return Err(wrong_width(other, "32")),
    }
    Ok(())
}

/// Appends the hash of every key with a 64-bit algorithm to `out`.
pub fn hash_many_64(
    algorithm: Algorithm,
    keys: &Keys,
    seed: u64,
    out: &mut Vec<u64>,
) -> Result<()> {
    algorithm.check_seed(seed)?;
    match algorithm {
        Algorithm::Xxh64 => append(keys, out, &ByBytes(|b| xxh64::xxh64(b, seed))),
        Algorithm::Xxh3_64 => append(keys, out, &Xxh3x64::new(seed)),
        other => return Err(wrong_width(other, "64")),
    }
    Ok(())
}

/// Appends the hash of every key with a 128-bit algorithm to `out`, as `[low 64 bits, high 64
/// bits]`.
pub fn hash_many_128(
    algorithm: Algorithm,
    keys: &Keys,
    seed: u64,
    out: &mut Vec<[u64; 2]>,
) -> Result<()> {
    algorithm.check_seed(seed)?;
    let split = |h: u128| [h as u64, (h >> 64) as u64];
    match algorithm {
        Algorithm::Murmur3_128 => append(
            keys,
            out,
            &ByBytes(|b| split(murmur3::murmur3_128(b, seed as u32))),
        ),
        Algorithm::Xxh3_128 => append(keys, out, &Pair(Xxh3x128::new(seed))),
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
/// A seeded hash of items, in two forms that agree: `bytes` hashes an item's canonical bytes,
/// `word` a number's canonical 8 bytes given as their little-endian `u64` (a fixed-width kernel,
/// without the length dispatch of the general one). Batches of numbers go through `word`.
pub trait ItemHash: Sync {
    /// The hash of an item.
    type Output: Copy + Send + Default;
    /// The hash of an item's canonical bytes.
    fn bytes(&self, item: &[u8]) -> Self::Output;
    /// The hash of a number's canonical 8 bytes, given as their little-endian `u64`.
    #[inline(always)]
    fn word(&self, word: u64) -> Self::Output {
        self.bytes(&word.to_le_bytes())
    }
    /// The hash of every item of a variable-width column (`offsets` checked), in order.
    #[inline(always)]
    fn for_each_var<T: Copy + TryInto<usize>>(
        &self,
        data: &[u8],
        offsets: &[T],
        mut f: impl FnMut(Self::Output),
    ) {
        let at = |v: T| v.try_into().unwrap_or(0);
        for w in offsets.windows(2) {
            f(self.bytes(&data[at(w[0])..at(w[1])]));
        }
    }
    /// [`ItemHash::for_each_var`] into `out`, one slot per item, each written once.
    #[inline(always)]
    fn fill_var<T: Copy + TryInto<usize>>(
        &self,
        data: &[u8],
        offsets: &[T],
        out: &mut [Slot<Self::Output>],
    ) {
        let at = |v: T| v.try_into().unwrap_or(0);
        for (o, w) in out.iter_mut().zip(offsets.windows(2)) {
            o.write(self.bytes(&data[at(w[0])..at(w[1])]));
        }
    }
}

/// A 128-bit hash as the `[low, high]` pair `hash_many` returns.
struct Pair<H>(H);

impl<H: ItemHash<Output = (u64, u64)>> ItemHash for Pair<H> {
    type Output = [u64; 2];
    #[inline(always)]
    fn bytes(&self, item: &[u8]) -> [u64; 2] {
        let (lo, hi) = self.0.bytes(item);
        [lo, hi]
    }
    #[inline(always)]
    fn word(&self, word: u64) -> [u64; 2] {
        let (lo, hi) = self.0.word(word);
        [lo, hi]
    }
}

/// Any algorithm through its byte kernel.
struct ByBytes<T, F: Fn(&[u8]) -> T + Sync>(F);

impl<T: Copy + Send + Default, F: Fn(&[u8]) -> T + Sync> ItemHash for ByBytes<T, F> {
    type Output = T;
    #[inline(always)]
    fn bytes(&self, item: &[u8]) -> T {
        (self.0)(item)
    }
}

/// Items per thread below which `hash_many` stays on one thread.
const PARALLEL_MIN: usize = 1 << 16;

/// Hashes every item of `keys` into `out` (one slot per item), large batches on all cores; returns
/// how many slots it wrote.
pub(crate) fn fill<H: ItemHash>(keys: &Keys, out: &mut [Slot<H::Output>], hash: &H) -> usize {
    let plan = parallel::plan(keys.len(), PARALLEL_MIN);
    let n = keys.len().min(out.len());
    let slots = &mut out[..n];
    parallel::for_each_share_of(slots, plan.threads, |range, slots| {
        keys.sub(range).hash_into(hash, slots)
    })
    .iter()
    .sum()
}

/// The 64-bit hash of one item: XXH3 with a seed, through the 8-byte kernel for numbers (every int
/// and float) and other 8-byte items.
#[inline(always)]
pub fn item_hash64(bytes: &[u8], seed: u64) -> u64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(word) => Xxh3x64::new(seed).word(u64::from_le_bytes(word)),
        Err(_) => xxhash_rust::xxh3::xxh3_64_with_seed(bytes, seed),
    }
}

/// Two independent 64-bit hashes of an item (the halves of 128-bit XXH3), for double hashing.
#[inline(always)]
pub fn item_hash128(bytes: &[u8], seed: u64) -> (u64, u64) {
    if let Ok(word) = <[u8; 8]>::try_from(bytes) {
        return Xxh3x128::new(seed).word(u64::from_le_bytes(word));
    }
    let h = xxhash_rust::xxh3::xxh3_128_with_seed(bytes, seed);
    (h as u64, (h >> 64) as u64)
}

#[cfg(test)]
mod tests;
