//! The six hash functions of sketchy, one at a time and over a batch of [`Keys`].

use crate::error::{Result, SketchError};
use crate::keys::{Keys, Slot};
use crate::murmur3;
use crate::parallel;
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

/// Appends the hashes of `keys` to `out`, written once each into its spare capacity (no zeroing
/// of a large output first), large batches on all cores.
fn append<H: ItemHash>(keys: &Keys, out: &mut Vec<H::Output>, hash: &H) {
    let n = keys.len();
    out.reserve(n);
    let written = fill(keys, &mut out.spare_capacity_mut()[..n], hash);
    if written == n {
        let len = out.len();
        // SAFETY: `fill` wrote each of the first `n` spare slots (it returns how many it wrote, and
        // the slots were exactly `n`, one per key), and `reserve(n)` made room for them.
        unsafe { out.set_len(len + n) };
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
    type Output: Copy + Send + Default;
    fn bytes(&self, item: &[u8]) -> Self::Output;
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

/// The first 72 bytes of XXH3's default secret (all that inputs of up to 16 bytes use).
const SECRET: [u8; 72] = [
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb,
];

/// `readLE64` of the secret at `at`.
const fn secret64(at: usize) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < 8 {
        v |= (SECRET[at + i] as u64) << (8 * i);
        i += 1;
    }
    v
}

const SECRET_8: u64 = secret64(8);
const SECRET_16: u64 = secret64(16);
const SECRET_24: u64 = secret64(24);
const PRIME_MX1: u64 = 0x1656_6791_9e37_79f9;
const PRIME_MX2: u64 = 0x9fb2_1c65_1e98_df25;
const PRIME64_1: u64 = 0x9e37_79b1_85eb_ca87;

/// XXH3's seed mixing for inputs of 4 to 8 bytes.
#[inline(always)]
fn short_seed(seed: u64) -> u64 {
    seed ^ (u64::from((seed as u32).swap_bytes()) << 32)
}

/// XXH3-64 with a seed: `xxh3_64_with_seed`, and its 8-byte path written out (XXH3_len_4to8_64b).
#[derive(Clone, Copy, Debug)]
pub struct Xxh3x64 {
    seed: u64,
    flip: u64,
}

#[inline(always)]
fn xxh3_avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(PRIME_MX1);
    h ^ (h >> 32)
}

#[inline(always)]
fn strong_avalanche(mut h: u64, len: u64) -> u64 {
    h ^= h.rotate_left(49) ^ h.rotate_left(24);
    h = h.wrapping_mul(PRIME_MX2);
    h ^= (h >> 35).wrapping_add(len);
    h = h.wrapping_mul(PRIME_MX2);
    h ^ (h >> 28)
}

impl Xxh3x64 {
    pub fn new(seed: u64) -> Self {
        let flip = (SECRET_8 ^ SECRET_16).wrapping_sub(short_seed(seed));
        Xxh3x64 { seed, flip }
    }
}

impl ItemHash for Xxh3x64 {
    type Output = u64;

    #[inline(always)]
    fn bytes(&self, item: &[u8]) -> u64 {
        xxh3::xxh3_64_with_seed(item, self.seed)
    }
    #[inline(always)]
    fn word(&self, word: u64) -> u64 {
        // input64 = readLE32(input + 4) + (readLE32(input) << 32): the word's halves swapped.
        strong_avalanche(word.rotate_left(32) ^ self.flip, 8)
    }
}

/// XXH3-128 with a seed, as `(low, high)`: `xxh3_128_with_seed`, and its 8-byte path written out
/// (XXH3_len_4to8_128b).
#[derive(Clone, Copy, Debug)]
pub struct Xxh3x128 {
    seed: u64,
    flip: u64,
}

impl Xxh3x128 {
    pub fn new(seed: u64) -> Self {
        let flip = (SECRET_16 ^ SECRET_24).wrapping_add(short_seed(seed));
        Xxh3x128 { seed, flip }
    }
}

impl ItemHash for Xxh3x128 {
    type Output = (u64, u64);
    #[inline(always)]
    fn bytes(&self, item: &[u8]) -> (u64, u64) {
        item_hash128(item, self.seed)
    }
    #[inline(always)]
    fn word(&self, word: u64) -> (u64, u64) {
        let m = u128::from(word ^ self.flip) * u128::from(PRIME64_1.wrapping_add(8 << 2));
        let (mut lo, mut hi) = (m as u64, (m >> 64) as u64);
        hi = hi.wrapping_add(lo << 1);
        lo ^= hi >> 3;
        lo ^= lo >> 35;
        lo = lo.wrapping_mul(PRIME_MX2);
        lo ^= lo >> 28;
        (lo, xxh3_avalanche(hi))
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
fn fill<H: ItemHash>(keys: &Keys, out: &mut [Slot<H::Output>], hash: &H) -> usize {
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
        Err(_) => xxh3::xxh3_64_with_seed(bytes, seed),
    }
}

/// Two independent 64-bit hashes of an item (the halves of 128-bit XXH3), for double hashing.
#[inline(always)]
pub fn item_hash128(bytes: &[u8], seed: u64) -> (u64, u64) {
    if let Ok(word) = <[u8; 8]>::try_from(bytes) {
        return Xxh3x128::new(seed).word(u64::from_le_bytes(word));
    }
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
}
