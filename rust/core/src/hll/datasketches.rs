//! HyperLogLog as Apache DataSketches computes it (`hll_sketch`), so that its images can be written
//! and read and its estimates are the `datasketches` package's.
//!
//! An item is hashed with MurmurHash3 x64 128 (seed 9001) of the bytes DataSketches hashes (UTF-8
//! of a non-empty str, the int64 of an int, the float64 of a float with -0.0 and NaN made
//! canonical): its "coupon" is the low 26 bits of the first half and `min(clz(second half), 62) + 1`.
//! A sketch keeps a list of up to 8 coupons, then (for `lg_k >= 8`) a hash set of them up to
//! `k / 8 · 3/4`, then `2**lg_k` registers with the HIP estimator (Cohen 2015; Ting 2014) while
//! the updates arrive in order, and DataSketches' composite estimator after a union. Registers
//! are kept as bytes (HLL_8); HLL_4 and HLL_6 exist only in images, and give the same estimates.

use super::ds_estimate::{
    composite_estimate, coupon_estimate, coupon_interpolation, relative_error,
};
use crate::error::{Result, SketchError};
use crate::float::pow2;
use crate::hash::murmur3::murmur3_x64_128_inline;
use crate::items::{encode_f64, word_of, ItemKind, Keys};
use crate::parallel;

/// The smallest lg_k (precision) DataSketches takes.
pub const MIN_LG_K: u8 = 4;
/// The largest lg_k (precision) DataSketches takes.
pub const MAX_LG_K: u8 = 21;
const SEED: u32 = 9001;
pub(super) const KEY_MASK_26: u32 = (1 << 26) - 1;
pub(super) const LIST_SIZE: usize = 8;
pub(super) const FIRST_SET_LG: u8 = 5;
/// Batches from this long are hashed on all cores (as sketchy's own HyperLogLog's).
const PARALLEL_MIN: usize = 1 << 17;

/// The coupon of an item's bytes.
#[inline(always)]
pub fn coupon(bytes: &[u8]) -> u32 {
    let (h1, h2) = murmur3_x64_128_inline(bytes, SEED);
    let value = h2.leading_zeros().min(62) + 1;
    value << 26 | (h1 as u32 & KEY_MASK_26)
}

/// [`coupon`] of an 8-byte key (an int64 or a float64): MurmurHash3 x64 128 of one tail block.
#[inline(always)]
fn coupon_of_word(word: u64) -> u32 {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let seed = u64::from(SEED);
    let h1 = seed ^ word.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    let (h1, h2) = crate::hash::murmur3::finish_x64_128(h1, seed, 8);
    (h2.leading_zeros().min(62) + 1) << 26 | (h1 as u32 & KEY_MASK_26)
}

/// The coupons of a batch's items, for [`Keys::for_each_hash`]: 0 (never a coupon) for an empty
/// str or bytes, which are no item. Not for ints of [2**63, 2**64), which DataSketches hashes as
/// floats (see [`for_each_coupon`]).
struct Coupons;

impl crate::hash::ItemHash for Coupons {
    type Output = u32;
    #[inline(always)]
    fn bytes(&self, item: &[u8]) -> u32 {
        if item.is_empty() {
            0
        } else if let Ok(word) = <[u8; 8]>::try_from(item) {
            coupon_of_word(u64::from_le_bytes(word))
        } else {
            coupon(item)
        }
    }
    #[inline(always)]
    fn word(&self, word: u64) -> u32 {
        coupon_of_word(word)
    }
}

/// Whether a batch holds an int of [2**63, 2**64): those take the item-by-item path.
fn has_uint(keys: &Keys) -> bool {
    match *keys {
        Keys::U64(a) => a.iter().any(|&v| v > i64::MAX as u64),
        Keys::Var {
            kinds: crate::items::Kinds::PerItem(kinds),
            ..
        } => kinds.contains(&ItemKind::UInt),
        _ => false,
    }
}

/// The coupon of one item (its kind and canonical bytes) as `hll_sketch.update` hashes the same
/// Python object, or `None`: an empty str or bytes is no item (Spark feeds empty binary values the
/// same way); an int of [2**63, 2**64) is hashed as its float, as the Python binding does; bytes
/// are hashed as they are, as the C++ `update(data, n)` and Spark's BINARY columns do. The one
/// rule of DataSketches hashing, for single items and batches alike.
#[inline]
pub fn item_coupon(kind: ItemKind, bytes: &[u8]) -> Option<u32> {
    match kind {
        ItemKind::Str | ItemKind::Bytes if bytes.is_empty() => None,
        ItemKind::UInt => Some(coupon(&encode_f64(word_of(bytes) as f64))),
        _ => Some(coupon(bytes)),
    }
}

/// Calls `f` with the coupon of each item of a batch, 0 for an item that has none (an empty str):
/// one per item, as [`DsHll::update`] adds them.
pub fn for_each_coupon_or_none(keys: &Keys, mut f: impl FnMut(u32)) {
    if has_uint(keys) {
        keys.for_each(|kind, bytes| f(item_coupon(kind, bytes).unwrap_or(0)));
    } else {
        keys.for_each_hash(&Coupons, f);
    }
}

/// Calls `f` with the coupon of each item of a batch that has one ([`item_coupon`]).
pub fn for_each_coupon(keys: &Keys, mut f: impl FnMut(u32)) {
    keys.for_each(|kind, bytes| {
        if let Some(c) = item_coupon(kind, bytes) {
            f(c)
        }
    });
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Mode {
    /// Coupons in arrival order.
    List(Vec<u32>),
    /// Open addressing, DataSketches' probe: start at `coupon & mask`, stride `(coupon >> lg) | 1`.
    Set {
        lg: u8,
        slots: Vec<u32>,
        count: usize,
    },
    Hll(Hll),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Hll {
    pub(super) registers: Vec<u8>,
    pub(super) hip: f64,
    pub(super) kxq0: f64,
    pub(super) kxq1: f64,
    pub(super) out_of_order: bool,
}

/// A DataSketches HLL sketch (`hll_sketch`), in LIST, SET or HLL mode.
#[derive(Clone, Debug, PartialEq)]
pub struct DsHll {
    pub(super) lg_k: u8,
    pub(super) mode: Mode,
}

pub(super) fn set_find(slots: &[u32], lg: u8, c: u32) -> std::result::Result<usize, usize> {
    let mask = (1usize << lg) - 1;
    let mut p = c as usize & mask;
    let stride = (((c & KEY_MASK_26) >> lg) | 1) as usize;
    for _ in 0..slots.len() {
        match slots[p] {
            0 => return Err(p),
            v if v == c => return Ok(p),
            _ => p = (p + stride) & mask,
        }
    }
    Err(usize::MAX) // full: never, the set grows at 3/4
}

impl Hll {
    fn new(lg_k: u8) -> Self {
        let k = 1usize << lg_k;
        Hll {
            registers: vec![0; k],
            hip: 0.0,
            kxq0: k as f64,
            kxq1: 0.0,
            out_of_order: false,
        }
    }

    #[inline]
    fn update(&mut self, lg_k: u8, c: u32) {
        let slot = (c & KEY_MASK_26) as usize & ((1 << lg_k) - 1);
        let new = (c >> 26) as u8;
        let old = self.registers[slot];
        if new > old {
            self.registers[slot] = new;
            if !self.out_of_order {
                self.hip += (1u64 << lg_k) as f64 / (self.kxq0 + self.kxq1);
            }
            let inv = |v: u8| pow2(-i32::from(v));
            if old < 32 {
                self.kxq0 -= inv(old);
            } else {
                self.kxq1 -= inv(old);
            }
            if new < 32 {
                self.kxq0 += inv(new);
            } else {
                self.kxq1 += inv(new);
            }
        }
    }

    /// kxq0 and kxq1 as updates keep them: a register moves its share from 1 (zero) in kxq0 to
    /// 2**-v in kxq0 (v < 32) or kxq1.
    pub(super) fn kxq_of_updates(&self) -> (f64, f64) {
        let (mut kxq0, mut kxq1) = (self.registers.len() as f64, 0.0);
        for &v in &self.registers {
            if v > 0 {
                kxq0 -= 1.0;
                if v < 32 {
                    kxq0 += pow2(-i32::from(v));
                } else {
                    kxq1 += pow2(-i32::from(v));
                }
            }
        }
        (kxq0, kxq1)
    }

    /// kxq0 and kxq1 from the registers (after a union), as DataSketches' `check_rebuild` computes
    /// them: a register of 32 or more puts its `2**-v - 1` into kxq1 (the two differ only for such
    /// registers, which one item in 2**31 reaches).
    pub(super) fn rebuild(&mut self) {
        let (mut kxq0, mut kxq1) = (self.registers.len() as f64, 0.0);
        for &v in &self.registers {
            if v > 0 {
                let d = pow2(-i32::from(v)) - 1.0;
                if v < 32 {
                    kxq0 += d;
                } else {
                    kxq1 += d;
                }
            }
        }
        (self.kxq0, self.kxq1) = (kxq0, kxq1);
    }

    pub(super) fn zeros(&self) -> usize {
        self.registers.iter().filter(|&&v| v == 0).count()
    }

    /// The registers folded to `lg_k` (the maximum of the registers that share the low bits).
    fn downsampled(&self, lg_k: u8) -> Hll {
        if self.registers.len() == 1 << lg_k {
            return self.clone();
        }
        let mut out = Hll::new(lg_k);
        let mask = (1 << lg_k) - 1;
        for (i, &v) in self.registers.iter().enumerate() {
            let r = &mut out.registers[i & mask];
            *r = (*r).max(v);
        }
        out.hip = self.hip;
        out.out_of_order = self.out_of_order;
        out.rebuild();
        out
    }
}

impl DsHll {
    /// An empty sketch of `2**lg_k` registers, `lg_k` in [4, 21].
    pub fn new(lg_k: i64) -> Result<Self> {
        if !(i64::from(MIN_LG_K)..=i64::from(MAX_LG_K)).contains(&lg_k) {
            return Err(SketchError::parameter(
                "precision",
                format!("must be in [{MIN_LG_K}, {MAX_LG_K}] for DataSketches hashing, got {lg_k}"),
            ));
        }
        Ok(DsHll {
            lg_k: lg_k as u8,
            mode: Mode::List(Vec::new()),
        })
    }

    /// DataSketches' lg_k: `2**lg_k` registers.
    pub fn lg_k(&self) -> u8 {
        self.lg_k
    }

    /// Still a list or set of coupons (DataSketches' LIST and SET modes).
    pub fn is_sparse(&self) -> bool {
        !matches!(self.mode, Mode::Hll(_))
    }

    /// Whether no item was added.
    pub fn is_empty(&self) -> bool {
        match &self.mode {
            Mode::List(c) => c.is_empty(),
            Mode::Set { count, .. } => *count == 0,
            Mode::Hll(h) => h.registers.iter().all(|&v| v == 0),
        }
    }

    /// Adds every item of a batch (large batches hashed on all cores).
    pub fn update(&mut self, keys: &Keys) {
        if has_uint(keys) {
            for_each_coupon(keys, |c| self.add_coupon(c));
            return;
        }
        // The list and set modes, a chunk at a time until the registers take over.
        let mut done = 0;
        while done < keys.len() && !matches!(self.mode, Mode::Hll(_)) {
            let end = (done + 1024).min(keys.len());
            keys.sub(done..end).for_each_hash(&Coupons, |c| {
                if c != 0 {
                    self.add_coupon(c);
                }
            });
            done = end;
        }
        let lg_k = self.lg_k;
        let Mode::Hll(h) = &mut self.mode else {
            return;
        };
        let rest = keys.sub(done..keys.len());
        if parallel::plan(rest.len(), PARALLEL_MIN).threads < 2 {
            rest.for_each_hash(&Coupons, |c| {
                if c != 0 {
                    h.update(lg_k, c);
                }
            });
            return;
        }
        // As sketchy's own HyperLogLog does: all threads hash a share of each chunk and keep only
        // the coupons that can raise a register (above it as it was before the chunk, and above
        // the earlier coupons of the same share); this thread applies them in order, so registers
        // and HIP come out exactly as from one thread.
        let mask = (1usize << lg_k) - 1;
        let mut mine = Vec::new();
        let mut size = 1 << 15;
        let mut start = 0;
        while start < rest.len() {
            let chunk = rest.sub(start..(start + size).min(rest.len()));
            start += chunk.len();
            size = (size * 2).min(1 << 21);
            let before: &[u8] = &h.registers;
            let keep = |keys: &Keys, out: &mut Vec<u32>| {
                let mut seen = before.to_vec();
                keys.for_each_hash(&Coupons, |c| {
                    let slot = c as usize & mask;
                    let value = (c >> 26) as u8;
                    if value > seen[slot] {
                        seen[slot] = value;
                        out.push(c);
                    }
                })
            };
            mine.clear();
            let plan = parallel::plan(chunk.len(), 1 << 14);
            let ((), others) = parallel::for_each_share(
                chunk.len(),
                plan.threads,
                |range| keep(&chunk.sub(range), &mut mine),
                |_, range| {
                    let mut kept = Vec::new();
                    keep(&chunk.sub(range), &mut kept);
                    kept
                },
            );
            for &c in mine.iter().chain(others.iter().flatten()) {
                h.update(lg_k, c);
            }
        }
    }

    /// Adds an item by its coupon ([`item_coupon`]).
    pub fn add_coupon(&mut self, c: u32) {
        let lg_k = self.lg_k;
        match &mut self.mode {
            Mode::List(list) => {
                if list.contains(&c) {
                    return;
                }
                list.push(c);
                if list.len() == LIST_SIZE {
                    let coupons = std::mem::take(list);
                    if lg_k < 8 {
                        self.promote_to_hll(&coupons);
                    } else {
                        self.mode = Mode::Set {
                            lg: FIRST_SET_LG,
                            slots: vec![0; 1 << FIRST_SET_LG],
                            count: 0,
                        };
                        coupons.iter().for_each(|&c| self.add_coupon(c));
                    }
                }
            }
            Mode::Set { lg, slots, count } => {
                let Err(at) = set_find(slots, *lg, c) else {
                    return;
                };
                slots[at] = c;
                *count += 1;
                if 4 * *count > 3 * slots.len() {
                    if *lg == lg_k - 3 {
                        let coupons: Vec<u32> = slots.iter().copied().filter(|&v| v != 0).collect();
                        self.promote_to_hll(&coupons);
                    } else {
                        let grown = *lg + 1;
                        let mut new = vec![0u32; 1 << grown];
                        for &v in slots.iter().filter(|&&v| v != 0) {
                            if let Err(at) = set_find(&new, grown, v) {
                                new[at] = v;
                            }
                        }
                        (*lg, *slots) = (grown, new);
                    }
                }
            }
            Mode::Hll(h) => h.update(lg_k, c),
        }
    }

    fn promote_to_hll(&mut self, coupons: &[u32]) {
        let estimate = coupon_estimate(coupons.len());
        let mut h = Hll::new(self.lg_k);
        for &c in coupons {
            h.update(self.lg_k, c);
        }
        h.hip = estimate;
        self.mode = Mode::Hll(h);
    }

    pub(super) fn coupons(&self) -> Vec<u32> {
        match &self.mode {
            Mode::List(c) => c.clone(),
            Mode::Set { slots, .. } => slots.iter().copied().filter(|&v| v != 0).collect(),
            Mode::Hll(_) => Vec::new(),
        }
    }

    /// The estimated number of distinct items, as `get_estimate()`.
    pub fn estimate(&self) -> f64 {
        match &self.mode {
            Mode::List(c) => coupon_estimate(c.len()),
            Mode::Set { count, .. } => coupon_estimate(*count),
            Mode::Hll(h) if h.out_of_order => composite_estimate(self.lg_k, h),
            Mode::Hll(h) => h.hip,
        }
    }

    /// DataSketches' `get_lower_bound(n)` and `get_upper_bound(n)`, `n` in {1, 2, 3}.
    pub fn bounds(&self, num_std: i64) -> Result<(f64, f64)> {
        if !(1..=3).contains(&num_std) {
            return Err(SketchError::parameter(
                "num_std",
                format!("num_std must be 1, 2 or 3, got {num_std}"),
            ));
        }
        let sd = num_std as f64;
        let count = match &self.mode {
            Mode::List(c) => Some(c.len()),
            Mode::Set { count, .. } => Some(*count),
            Mode::Hll(_) => None,
        };
        if let Some(n) = count {
            const COUPON_RSE: f64 = 0.409 / (1 << 13) as f64;
            let estimate = coupon_interpolation(n as f64);
            let n = n as f64;
            return Ok((
                (estimate / (1.0 + sd * COUPON_RSE)).max(n),
                (estimate / (1.0 - sd * COUPON_RSE)).max(n),
            ));
        }
        let Mode::Hll(h) = &self.mode else {
            return Ok((0.0, 0.0));
        };
        let nonzero = (h.registers.len() - h.zeros()) as f64;
        let estimate = self.estimate();
        let lower = relative_error(false, h.out_of_order, self.lg_k, num_std as usize);
        let upper = relative_error(true, h.out_of_order, self.lg_k, num_std as usize);
        Ok((
            (estimate / (1.0 + lower)).max(nonzero),
            estimate / (1.0 + upper),
        ))
    }

    /// The union of the two, as `datasketches.hll_union` computes it, at the smaller `lg_k`.
    pub fn merge(&mut self, other: &DsHll) -> Result<()> {
        let other = other.clone(); // `other` may be `self`
        let lg = self.lg_k.min(other.lg_k);
        // First this sketch at the smaller lg_k, as `hll_union(lg)` would hold it: coupons go in
        // again (they have 26 bits of address), registers fold.
        if lg < self.lg_k {
            match &self.mode {
                Mode::Hll(h) => {
                    self.mode = Mode::Hll(h.downsampled(lg));
                    self.lg_k = lg;
                }
                _ => {
                    let coupons = self.coupons();
                    *self = DsHll {
                        lg_k: lg,
                        mode: Mode::List(Vec::new()),
                    };
                    coupons.into_iter().for_each(|c| self.add_coupon(c));
                }
            }
        }
        if other.is_empty() {
            return Ok(());
        }
        match (&mut self.mode, &other.mode) {
            (_, Mode::List(_) | Mode::Set { .. }) => {
                for c in other.coupons() {
                    self.add_coupon(c);
                }
            }
            (Mode::List(_) | Mode::Set { .. }, Mode::Hll(theirs)) => {
                let coupons = self.coupons();
                let mut h = theirs.downsampled(lg);
                for c in coupons {
                    h.update(lg, c);
                }
                self.lg_k = lg;
                self.mode = Mode::Hll(h);
            }
            (Mode::Hll(mine), Mode::Hll(theirs)) => {
                let mut h = mine.downsampled(lg);
                let theirs = theirs.downsampled(lg);
                for (a, &b) in h.registers.iter_mut().zip(&theirs.registers) {
                    *a = (*a).max(b);
                }
                h.rebuild();
                h.out_of_order = true;
                h.hip = 0.0;
                self.lg_k = lg;
                self.mode = Mode::Hll(h);
            }
        }
        Ok(())
    }

    /// Forgets every item.
    pub fn clear(&mut self) {
        self.mode = Mode::List(Vec::new());
    }

    /// The bytes it holds.
    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.mode {
                Mode::List(c) => 4 * c.capacity(),
                Mode::Set { slots, .. } => 4 * slots.capacity(),
                Mode::Hll(h) => h.registers.capacity(),
            }
    }
}

#[cfg(test)]
#[path = "ds_tests.rs"]
mod tests;
