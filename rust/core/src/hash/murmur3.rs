//! MurmurHash3 (Austin Appleby, public domain): the x86 32-bit and the x64 128-bit variants, as in
//! `smhasher/src/MurmurHash3.cpp`. These are the functions behind `mmh3.hash`, `mmh3.hash128` and
//! scikit-learn's `murmurhash3_32`; the known-answer vectors in `tests/vectors/` come from `mmh3`.

#[inline(always)]
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[inline(always)]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// Reads up to 8 bytes little-endian, zero-padded: the tail of a block. Byte by byte, as the
/// reference's `switch`: a copy into a stack buffer followed by one wide load stalls the load on
/// store forwarding, which made short keys a third slower.
#[inline(always)]
fn tail_u64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// MurmurHash3_x86_32: the unsigned 32-bit hash of `key` (`mmh3.hash(key, seed, signed=False)`).
///
/// ```
/// assert_eq!(sketchy_core::hash::murmur3::murmur3_32(b"foo", 0) as i32, -156908512);
/// ```
#[inline]
pub fn murmur3_32(key: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut blocks = key.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let k = (tail_u64(tail) as u32)
            .wrapping_mul(C1)
            .rotate_left(15)
            .wrapping_mul(C2);
        h ^= k;
    }
    // The reference folds the length in as a 32-bit int: keys over 4 GiB wrap, as in mmh3.
    h ^= key.len() as u32;
    fmix32(h)
}

/// MurmurHash3_x64_128: returns `(h1, h2)`; `mmh3.hash128(key, seed)` is `h2 << 64 | h1`.
#[inline]
pub fn murmur3_x64_128(key: &[u8], seed: u32) -> (u64, u64) {
    murmur3_x64_128_inline(key, seed)
}

/// [`murmur3_x64_128`] inlined into its caller: for loops that hash an item at a time.
#[inline(always)]
pub fn murmur3_x64_128_inline(key: &[u8], seed: u32) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let mut h1 = u64::from(seed);
    let mut h2 = u64::from(seed);
    let mut blocks = key.chunks_exact(16);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    for block in &mut blocks {
        let (lo, hi) = block.split_at(8);
        let k1 = word(lo).wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        let k2 = word(hi).wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let t = tail.len();
    // The tail's two words, zero-padded. From a key of 8 bytes or more they are read by
    // overlapping loads that end at the key's end, shifted: no byte loop.
    let n = key.len();
    let (k1, k2) = if n >= 8 && t > 8 {
        (word(&tail[..8]), word(&key[n - 8..]) >> (8 * (16 - t)))
    } else if n >= 8 && t > 0 {
        (word(&key[n - 8..]) >> (8 * (8 - t)), 0)
    } else {
        (tail_u64(&tail[..t.min(8)]), tail_u64(&tail[t.min(8)..]))
    };
    if t > 8 {
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if t > 0 {
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    finish_x64_128(h1, h2, key.len() as u64)
}

/// The finalization of MurmurHash3_x64_128 after the blocks and the tail of a `len`-byte key.
#[inline(always)]
pub(crate) fn finish_x64_128(mut h1: u64, mut h2: u64, len: u64) -> (u64, u64) {
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

/// The 128-bit hash as one integer, `h2 << 64 | h1`, the value `mmh3.hash128` returns.
#[inline]
pub fn murmur3_128(key: &[u8], seed: u32) -> u128 {
    let (h1, h2) = murmur3_x64_128(key, seed);
    (u128::from(h2) << 64) | u128::from(h1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smhasher_verification_values() {
        // SMHasher's VerificationTest: hash keys {}, {0}, {0,1}, ... {0..254} with seed 256 - len,
        // hash the concatenated little-endian digests with seed 0; the first 4 bytes of that digest
        // are the published verification value (0xB0F57EE3 for x86_32, 0x6384BA69 for x64_128).
        let mut key = Vec::new();
        let mut digests32 = Vec::new();
        let mut digests128 = Vec::new();
        for i in 0..256u32 {
            digests32.extend_from_slice(&murmur3_32(&key, 256 - i).to_le_bytes());
            let (h1, h2) = murmur3_x64_128(&key, 256 - i);
            digests128.extend_from_slice(&h1.to_le_bytes());
            digests128.extend_from_slice(&h2.to_le_bytes());
            key.push(i as u8);
        }
        assert_eq!(murmur3_32(&digests32, 0), 0xB0F5_7EE3);
        assert_eq!(murmur3_x64_128(&digests128, 0).0 as u32, 0x6384_BA69);
    }
}
