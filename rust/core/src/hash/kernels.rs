//! The fixed-width hash kernels: a batch of numbers hashed by a loop compiled three times (plain,
//! AVX2, AVX-512), the build chosen at run time. One of the two modules of the core allowed
//! `unsafe` (the other is the `hash` module's spare-capacity output): the calls into the
//! `target_feature` builds, and reading slots the kernel wrote.

use crate::hash::{fill, ItemHash};
use crate::items::Keys;
use crate::items::{Slot, Word};

/// The hashes of numbers into `out` (one slot per number, written once). The loop is compiled a second time for
/// AVX2, chosen at run time where the processor has it: the 64-bit multiplies of a fixed-width hash
/// then run four at a time (10M int64: 15 ms on one core without, 7 ms with).
#[inline]
pub fn hash_words<T: Word, H: ItemHash>(values: &[T], hash: &H, out: &mut [Slot<H::Output>]) {
    #[inline(always)]
    fn plain<T: Word, H: ItemHash>(values: &[T], hash: &H, out: &mut [Slot<H::Output>]) {
        for (o, &v) in out.iter_mut().zip(values) {
            o.write(hash.word(v.word()));
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        fn avx2<T: Word, H: ItemHash>(values: &[T], hash: &H, out: &mut [Slot<H::Output>]) {
            plain(values, hash, out)
        }
        #[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl")]
        fn avx512<T: Word, H: ItemHash>(values: &[T], hash: &H, out: &mut [Slot<H::Output>]) {
            plain(values, hash, out)
        }
        if std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512cd")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the processor has these AVX-512 extensions (checked just above), the one
            // requirement of `avx512`.
            unsafe { avx512(values, hash, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just above), the one requirement of `avx2`.
            unsafe { avx2(values, hash, out) };
            return;
        }
    }
    plain(values, hash, out)
}

/// Calls `f` with the hash of every number, in order, hashed a block at a time by [`hash_words`].
#[inline(always)]
pub(crate) fn for_each_word_hash<T: Word, H: ItemHash>(
    values: &[T],
    hash: &H,
    mut f: impl FnMut(H::Output),
) {
    const BLOCK: usize = 256;
    let mut hashes = [Slot::new(H::Output::default()); BLOCK];
    for block in values.chunks(BLOCK) {
        let hashes = &mut hashes[..block.len()];
        hash_words(block, hash, hashes);
        // SAFETY: every slot holds a value: initialized above, and written by `hash_words` since.
        hashes.iter().for_each(|h| f(unsafe { h.assume_init() }));
    }
}

/// Appends the hashes of `keys` to `out`, written once each into its spare capacity (no zeroing
/// of a large output first), large batches on all cores.
pub(crate) fn append<H: ItemHash>(keys: &Keys, out: &mut Vec<H::Output>, hash: &H) {
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
