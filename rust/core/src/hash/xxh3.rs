//! XXH3 with a seed, its 64- and 128-bit forms, with the 8-byte input path written out as a
//! fixed-width kernel (what every number of a batch takes) that equals the library's byte kernel.

use super::ItemHash;
use xxhash_rust::xxh3;

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
    /// The hash with `seed`.
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
    /// The hash with `seed`.
    pub fn new(seed: u64) -> Self {
        let flip = (SECRET_16 ^ SECRET_24).wrapping_add(short_seed(seed));
        Xxh3x128 { seed, flip }
    }
}

impl ItemHash for Xxh3x128 {
    type Output = (u64, u64);
    #[inline(always)]
    fn bytes(&self, item: &[u8]) -> (u64, u64) {
        super::item_hash128(item, self.seed)
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
