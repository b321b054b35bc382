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

use crate::ds_hll_tables as tables;
use crate::error::{Result, SketchError};
use crate::exact_sum::pow2;
use crate::format::{le_u32s, Image};
use crate::keys::{ItemKind, Keys};
use crate::murmur3::murmur3_x64_128_inline;
use crate::parallel;

pub const MIN_LG_K: u8 = 4;
pub const MAX_LG_K: u8 = 21;
const SEED: u32 = 9001;
const KEY_MASK_26: u32 = (1 << 26) - 1;
const LIST_SIZE: usize = 8;
/// The bytes before an HLL image's registers.
const HLL_PREAMBLE: usize = 40;
const FIRST_SET_LG: u8 = 5;
const AUX_TOKEN: u8 = 15;
const LG_AUX_ARR_INTS: [u8; 22] = [
    0, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12, 13,
];
const FAMILY: u8 = 7;
/// Batches from this long are hashed on all cores (as sketchy's own HyperLogLog's).
const PARALLEL_MIN: usize = 1 << 17;
const EMPTY_FLAG: u8 = 4;
const COMPACT_FLAG: u8 = 8;
const OUT_OF_ORDER_FLAG: u8 = 16;

/// The register types of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Hll4,
    Hll6,
    Hll8,
}

impl Target {
    fn code(self) -> u8 {
        match self {
            Target::Hll4 => 0,
            Target::Hll6 => 1,
            Target::Hll8 => 2,
        }
    }
    fn array_bytes(self, lg_k: u8) -> usize {
        match self {
            Target::Hll4 => 1 << (lg_k - 1),
            Target::Hll6 => (((1usize << lg_k) * 3) >> 2) + 1,
            Target::Hll8 => 1 << lg_k,
        }
    }
}

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
    let (h1, h2) = crate::murmur3::finish_x64_128(h1, seed, 8);
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
            kinds: crate::keys::Kinds::PerItem(kinds),
            ..
        } => kinds.contains(&ItemKind::UInt),
        _ => false,
    }
}

/// Calls `f` with the coupon of each item of a batch, hashing the bytes `hll_sketch.update`
/// hashes for the same Python object (an empty str is no item; an int of [2**63, 2**64) is hashed
/// as its float, as the binding does; bytes are hashed as they are, as the C++ `update(data, n)`
/// and Spark's BINARY columns do).
pub fn for_each_coupon(keys: &Keys, mut f: impl FnMut(u32)) {
    keys.for_each(|kind, bytes| match kind {
        // Empty strings (and empty binary values, as Spark feeds them) are no item.
        ItemKind::Str | ItemKind::Bytes if bytes.is_empty() => {}
        ItemKind::UInt => {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[..8.min(bytes.len())]);
            f(coupon(&crate::keys::encode_f64(
                u64::from_le_bytes(w) as f64
            )))
        }
        _ => f(coupon(bytes)),
    });
}

#[derive(Clone, Debug, PartialEq)]
enum Mode {
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
struct Hll {
    registers: Vec<u8>,
    hip: f64,
    kxq0: f64,
    kxq1: f64,
    out_of_order: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DsHll {
    lg_k: u8,
    mode: Mode,
}

fn set_find(slots: &[u32], lg: u8, c: u32) -> std::result::Result<usize, usize> {
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

/// The `k` registers of an HLL image's packed array (of `target.array_bytes(lg_k)` bytes, which
/// the caller checked), HLL_4 nibbles raised by `cur_min`, and the slots of HLL_4's escapes.
fn unpack_registers(target: Target, regs: &[u8], k: usize, cur_min: u8) -> (Vec<u8>, Vec<usize>) {
    let mut registers = vec![0u8; k];
    let mut escaped = Vec::new();
    for (i, r) in registers.iter_mut().enumerate() {
        *r = match target {
            Target::Hll8 => regs[i],
            Target::Hll6 => {
                let bit = i * 6;
                let word = u16::from(regs[bit >> 3]) | u16::from(regs[(bit >> 3) + 1]) << 8;
                ((word >> (bit & 7)) & 63) as u8
            }
            Target::Hll4 => {
                let nibble = (regs[i >> 1] >> (4 * (i & 1))) & 15;
                if nibble == AUX_TOKEN {
                    escaped.push(i);
                }
                nibble + cur_min
            }
        };
    }
    (registers, escaped)
}

/// A coupon as an image may hold one: a value in [1, 63].
fn valid_coupon(c: u32) -> bool {
    (1..=63).contains(&(c >> 26))
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
    fn kxq_of_updates(&self) -> (f64, f64) {
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
    fn rebuild(&mut self) {
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

    fn zeros(&self) -> usize {
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

    pub fn lg_k(&self) -> u8 {
        self.lg_k
    }

    /// Still a list or set of coupons (DataSketches' LIST and SET modes).
    pub fn is_sparse(&self) -> bool {
        !matches!(self.mode, Mode::Hll(_))
    }

    pub fn is_empty(&self) -> bool {
        match &self.mode {
            Mode::List(c) => c.is_empty(),
            Mode::Set { count, .. } => *count == 0,
            Mode::Hll(h) => h.registers.iter().all(|&v| v == 0),
        }
    }

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

    fn coupons(&self) -> Vec<u32> {
        match &self.mode {
            Mode::List(c) => c.clone(),
            Mode::Set { slots, .. } => slots.iter().copied().filter(|&v| v != 0).collect(),
            Mode::Hll(_) => Vec::new(),
        }
    }

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

    pub fn clear(&mut self) {
        self.mode = Mode::List(Vec::new());
    }

    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.mode {
                Mode::List(c) => 4 * c.capacity(),
                Mode::Set { slots, .. } => 4 * slots.capacity(),
                Mode::Hll(h) => h.registers.capacity(),
            }
    }

    /// The image `datasketches.hll_sketch.deserialize` reads, in its `target` register type, as
    /// `serialize_compact()` (`compact`) or `serialize_updatable()` writes it.
    pub fn to_datasketches(&self, target: Target, compact: bool) -> Vec<u8> {
        let mut flags = if self.is_empty() { EMPTY_FLAG } else { 0 };
        if compact {
            flags |= COMPACT_FLAG;
        }
        let u32s = |out: &mut Vec<u8>, v: &[u32]| {
            v.iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes()))
        };
        match &self.mode {
            Mode::List(coupons) => {
                let mut out = vec![
                    2,
                    1,
                    FAMILY,
                    self.lg_k,
                    3,
                    flags,
                    coupons.len() as u8,
                    target.code() << 2,
                ];
                u32s(&mut out, coupons);
                if !compact {
                    u32s(&mut out, &vec![0; LIST_SIZE - coupons.len()]);
                }
                out
            }
            Mode::Set { lg, slots, count } => {
                let mut out = vec![
                    3,
                    1,
                    FAMILY,
                    self.lg_k,
                    *lg,
                    flags,
                    0,
                    1 | target.code() << 2,
                ];
                out.extend_from_slice(&(*count as u32).to_le_bytes());
                if compact {
                    u32s(&mut out, &self.coupons());
                } else {
                    u32s(&mut out, slots);
                }
                out
            }
            Mode::Hll(h) => {
                if h.out_of_order {
                    flags |= OUT_OF_ORDER_FLAG;
                }
                let k = h.registers.len();
                let cur_min = if target == Target::Hll4 {
                    h.registers.iter().copied().min().unwrap_or(0)
                } else {
                    0
                };
                let at_cur_min = h.registers.iter().filter(|&&v| v == cur_min).count();
                let mut aux: Vec<u32> = Vec::new();
                let mut packed = vec![0u8; target.array_bytes(self.lg_k)];
                for (i, &v) in h.registers.iter().enumerate() {
                    match target {
                        Target::Hll8 => packed[i] = v,
                        Target::Hll6 => {
                            let bit = i * 6;
                            let (at, shift) = (bit >> 3, bit & 7);
                            let word = u16::from(v & 63) << shift;
                            packed[at] |= word as u8;
                            packed[at + 1] |= (word >> 8) as u8;
                        }
                        Target::Hll4 => {
                            let mut nibble = v - cur_min;
                            if nibble >= AUX_TOKEN {
                                nibble = AUX_TOKEN;
                                aux.push(u32::from(v) << 26 | i as u32);
                            }
                            packed[i >> 1] |= if i & 1 == 1 { nibble << 4 } else { nibble };
                        }
                    }
                }
                let mut aux_lg = LG_AUX_ARR_INTS[usize::from(self.lg_k)];
                while 4 * aux.len() > 3 << aux_lg {
                    aux_lg += 1;
                }
                let mut out = vec![
                    10,
                    1,
                    FAMILY,
                    self.lg_k,
                    if aux.is_empty() { 0 } else { aux_lg },
                    flags,
                    cur_min,
                    2 | target.code() << 2,
                ];
                for v in [h.hip, h.kxq0, h.kxq1] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                out.extend_from_slice(&(at_cur_min as u32).to_le_bytes());
                out.extend_from_slice(&(aux.len() as u32).to_le_bytes());
                out.extend_from_slice(&packed);
                if target == Target::Hll4 {
                    if compact {
                        u32s(&mut out, &aux);
                    } else {
                        // The aux hash table: probe from the slot, stride `(slot >> lg) | 1`.
                        let mut table = vec![0u32; 1 << aux_lg];
                        let mask = table.len() - 1;
                        for &e in &aux {
                            let slot = (e & KEY_MASK_26) as usize & (k - 1);
                            let mut p = slot & mask;
                            while table[p] != 0 {
                                p = (p + ((slot >> aux_lg) | 1)) & mask;
                            }
                            table[p] = e;
                        }
                        u32s(&mut out, &table);
                    }
                }
                out
            }
        }
    }

    /// A sketch from an image of `datasketches` 5.x (`hll_sketch.serialize_compact()` or
    /// `serialize_updatable()`: LIST, SET or HLL mode, HLL_4, HLL_6 or HLL_8, lg_k 4 to 21); it
    /// keeps taking updates. `InvalidFormat` for anything else.
    #[deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )]
    pub fn from_datasketches(bytes: &[u8]) -> Result<Self> {
        let bad = |m: String| SketchError::format(format!("not a DataSketches HLL image: {m}"));
        let [preamble, version, family, lg_k, lg_arr, flags, byte6, mode_byte, ..] = *bytes else {
            return Err(bad(format!("{} bytes", bytes.len())));
        };
        let image = Image(bytes);
        // The length of a header and `n` words of 4 bytes.
        let words = |header: usize, n: usize| n.checked_mul(4).and_then(|b| b.checked_add(header));
        if family != FAMILY {
            return Err(bad(format!("family {family}, not 7 (HLL)")));
        }
        if version != 1 {
            return Err(bad(format!("serial version {version}")));
        }
        if !(MIN_LG_K..=MAX_LG_K).contains(&lg_k) {
            return Err(bad(format!("lg_k {lg_k} outside [4, 21]")));
        }
        let target = match (mode_byte >> 2) & 3 {
            0 => Target::Hll4,
            1 => Target::Hll6,
            2 => Target::Hll8,
            t => return Err(bad(format!("register type {t}"))),
        };
        let compact = flags & COMPACT_FLAG != 0;
        let mut sketch = DsHll::new(i64::from(lg_k))?;
        let read_coupons = |from: usize, n: usize| -> Result<Vec<u32>> {
            Ok(le_u32s(image.items(from, n, 4)?).collect())
        };
        match mode_byte & 3 {
            0 => {
                let count = usize::from(byte6);
                let slots = if compact { count } else { LIST_SIZE };
                if preamble != 2
                    || count >= LIST_SIZE
                    || lg_arr != 3
                    || Some(bytes.len()) != words(8, slots)
                {
                    return Err(bad("a LIST image is 8 bytes and up to 8 coupons".into()));
                }
                let all = read_coupons(8, slots)?;
                let coupons: Vec<u32> = all.iter().copied().filter(|&c| c != 0).collect();
                if coupons.len() != count || coupons.iter().any(|&c| !valid_coupon(c)) {
                    return Err(bad("coupons that disagree with the count".into()));
                }
                for c in coupons {
                    sketch.add_coupon(c);
                }
                if sketch.coupons().len() != count {
                    return Err(bad("a coupon appears twice".into()));
                }
            }
            1 => {
                if preamble != 3
                    || bytes.len() < 12
                    || lg_k < 8
                    || !(FIRST_SET_LG..=lg_k.saturating_sub(3)).contains(&lg_arr)
                {
                    return Err(bad(
                        "a SET image has a 12-byte preamble and 2**5 to k/8 slots".into(),
                    ));
                }
                let count = usize::try_from(image.u32(8)?).unwrap_or(usize::MAX);
                let size = 1usize << lg_arr;
                let slots = if compact { count } else { size };
                if count.saturating_mul(4) > size.saturating_mul(3)
                    || Some(bytes.len()) != words(12, slots)
                {
                    return Err(bad("a SET image's size disagrees with its count".into()));
                }
                let stored = read_coupons(12, slots)?;
                let coupons: Vec<u32> = stored.iter().copied().filter(|&c| c != 0).collect();
                if coupons.len() != count || coupons.iter().any(|&c| !valid_coupon(c)) {
                    return Err(bad("coupons that disagree with the count".into()));
                }
                if compact {
                    // As DataSketches reads it: a set of 2**5 slots that grows as the coupons go in.
                    sketch.mode = Mode::Set {
                        lg: FIRST_SET_LG,
                        slots: vec![0; 1 << FIRST_SET_LG],
                        count: 0,
                    };
                    for &c in &coupons {
                        sketch.add_coupon(c);
                    }
                    if !matches!(&sketch.mode, Mode::Set { count: n, .. } if *n == count) {
                        return Err(bad("a coupon appears twice".into()));
                    }
                    return Ok(sketch);
                }
                let table = {
                    // The table as it is: each coupon must be where its probe finds it.
                    for (at, &c) in stored.iter().enumerate() {
                        if c != 0 && set_find(&stored, lg_arr, c) != Ok(at) {
                            return Err(bad("a coupon off its probe sequence, or twice".into()));
                        }
                    }
                    stored
                };
                sketch.mode = Mode::Set {
                    lg: lg_arr,
                    slots: table,
                    count,
                };
            }
            2 => {
                let array = target.array_bytes(lg_k);
                let (Ok(regs), Ok(rest)) = (
                    image.bytes(HLL_PREAMBLE, array),
                    image.from(HLL_PREAMBLE.saturating_add(array)),
                ) else {
                    return Err(bad(
                        "an HLL image has a 40-byte preamble and its registers".into()
                    ));
                };
                if preamble != 10 {
                    return Err(bad(
                        "an HLL image has a 40-byte preamble and its registers".into()
                    ));
                }
                let (hip, kxq0, kxq1) = (image.f64(8)?, image.f64(16)?, image.f64(24)?);
                let aux_count = usize::try_from(image.u32(36)?).unwrap_or(usize::MAX);
                // kxq1 may be negative: DataSketches' rebuild after a union adds `2**-v - 1` for a
                // register v >= 32 (found by the fuzzer; checked against the registers below).
                if ![hip, kxq0].iter().all(|v| v.is_finite() && *v >= 0.0) || !kxq1.is_finite() {
                    return Err(bad(
                        "HIP state that is not a finite non-negative number".into()
                    ));
                }
                let k = 1usize << lg_k;
                // HLL_4 stores registers above cur_min. HLL_6 and HLL_8 store them whole, and
                // cur_min is 0 from the C++ library, the smallest register from Java's (Spark's
                // unions): checked against the registers below.
                let cur_min = if target == Target::Hll4 { byte6 } else { 0 };
                if byte6 > 63 {
                    return Err(bad(format!("cur_min {byte6}")));
                }
                let (mut registers, escaped) = unpack_registers(target, regs, k, cur_min);
                if target == Target::Hll4 {
                    let entries: Vec<u32> = if compact {
                        if Some(rest.len()) != words(0, aux_count) {
                            return Err(bad("aux entries that disagree with their count".into()));
                        }
                        le_u32s(rest).collect()
                    } else {
                        let lg = if aux_count > 0 {
                            lg_arr
                        } else {
                            LG_AUX_ARR_INTS
                                .get(usize::from(lg_k))
                                .copied()
                                .unwrap_or(u8::MAX)
                        };
                        if lg > 26 || rest.len() != 4usize << lg {
                            return Err(bad("an aux table of the wrong size".into()));
                        }
                        le_u32s(rest).filter(|&e| e != 0).collect()
                    };
                    if entries.len() != aux_count || aux_count != escaped.len() {
                        return Err(bad("aux entries that disagree with the registers".into()));
                    }
                    let escape = AUX_TOKEN.saturating_add(cur_min); // cur_min <= 63: no saturation
                    for e in entries {
                        let slot = usize::try_from(e & KEY_MASK_26).unwrap_or(usize::MAX);
                        let value = u8::try_from(e >> 26).unwrap_or(u8::MAX);
                        match registers.get_mut(slot) {
                            Some(r) if *r == escape && value >= escape && value <= 63 => *r = value,
                            _ => {
                                return Err(bad(
                                    "an aux entry that is not an escaped register".into()
                                ))
                            }
                        }
                    }
                } else if !rest.is_empty() || aux_count != 0 {
                    return Err(bad(format!("{} bytes after the registers", rest.len())));
                }
                if registers.iter().any(|&v| v > 63) {
                    return Err(bad("a register above 63".into()));
                }
                let smallest = registers.iter().copied().min().unwrap_or(0);
                if target != Target::Hll4 && byte6 != 0 && byte6 != smallest {
                    return Err(bad(format!(
                        "cur_min {byte6}, and the smallest register is {smallest}"
                    )));
                }
                let at_cur_min = registers.iter().filter(|&&v| v == byte6).count();
                if usize::try_from(image.u32(32)?).ok() != Some(at_cur_min) {
                    return Err(bad("num_at_cur_min disagrees with the registers".into()));
                }
                if target == Target::Hll4 && cur_min > 0 && at_cur_min == 0 {
                    return Err(bad("cur_min above every register".into()));
                }
                let hll = Hll {
                    registers,
                    hip,
                    kxq0,
                    kxq1,
                    out_of_order: flags & OUT_OF_ORDER_FLAG != 0,
                };
                // kxq0 and kxq1 are sums over the registers, kept as they change: up to rounding,
                // what the registers give.
                let mut rebuilt = hll.clone();
                rebuilt.rebuild();
                let updated = hll.kxq_of_updates();
                // kxq0 sums terms of up to 1 (an absolute bound); kxq1 only terms of 2**-32 or less,
                // so it is compared relatively: an absolute bound would let an image hold kxq1 = 0
                // for registers of 32 and more, and an infinite estimate (found by the fuzzer).
                let close0 = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1u64 << lg_k) as f64;
                let close1 = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
                let agrees = |(a, b): (f64, f64)| close0(hll.kxq0, a) && close1(hll.kxq1, b);
                if !agrees(updated) && !agrees((rebuilt.kxq0, rebuilt.kxq1)) {
                    return Err(bad("kxq0 and kxq1 disagree with the registers".into()));
                }
                if !hll.out_of_order
                    && hll.hip < k.saturating_sub(hll.zeros()) as f64 * (1.0 - 1e-9)
                {
                    return Err(bad("a HIP estimate below the registers set".into()));
                }
                sketch.mode = Mode::Hll(hll);
            }
            m => return Err(bad(format!("mode {m}"))),
        }
        if (flags & EMPTY_FLAG != 0) != sketch.is_empty() {
            return Err(bad("the empty flag disagrees with the contents".into()));
        }
        Ok(sketch)
    }
}

fn cubic(x: [f64; 4], y: [f64; 4], at: f64) -> f64 {
    let [x0, x1, x2, x3] = x;
    // Lagrange's form, y times the numerator before the division: DataSketches' order, its bits.
    let t = |y: f64, n: f64, d: f64| y * n / d;
    t(
        y[0],
        (at - x1) * (at - x2) * (at - x3),
        (x0 - x1) * (x0 - x2) * (x0 - x3),
    ) + t(
        y[1],
        (at - x0) * (at - x2) * (at - x3),
        (x1 - x0) * (x1 - x2) * (x1 - x3),
    ) + t(
        y[2],
        (at - x0) * (at - x1) * (at - x3),
        (x2 - x0) * (x2 - x1) * (x2 - x3),
    ) + t(
        y[3],
        (at - x0) * (at - x1) * (at - x2),
        (x3 - x0) * (x3 - x1) * (x3 - x2),
    )
}

fn straddle(xs: &[f64], x: f64) -> usize {
    let (mut l, mut r) = (0, xs.len() - 1);
    while l + 1 != r {
        let m = l + (r - l) / 2;
        if xs[m] <= x {
            l = m;
        } else {
            r = m;
        }
    }
    l
}

fn window(len: usize, off: usize) -> usize {
    if off == 0 {
        0
    } else if off == len - 2 {
        off - 2
    } else {
        off - 1
    }
}

fn coupon_interpolation(x: f64) -> f64 {
    let (xs, ys) = (&tables::X_COUPON, &tables::Y_COUPON);
    if x == xs[xs.len() - 1] {
        return ys[ys.len() - 1];
    }
    let o = window(xs.len(), straddle(xs, x));
    cubic(
        [xs[o], xs[o + 1], xs[o + 2], xs[o + 3]],
        [ys[o], ys[o + 1], ys[o + 2], ys[o + 3]],
        x,
    )
}

fn coupon_estimate(n: usize) -> f64 {
    coupon_interpolation(n as f64).max(n as f64)
}

fn harmonic(n: usize) -> f64 {
    if n < tables::HARMONIC.len() {
        return tables::HARMONIC[n];
    }
    let x = n as f64;
    let inv = 1.0 / (x * x);
    let mut sum = x.ln() + 0.577_215_664_901_532_9 + 1.0 / (2.0 * x);
    let mut p = inv;
    sum -= p * (1.0 / 12.0);
    p *= inv;
    sum += p * (1.0 / 120.0);
    p *= inv;
    sum -= p * (1.0 / 252.0);
    p *= inv;
    sum += p * (1.0 / 240.0);
    sum
}

fn composite_estimate(lg_k: u8, h: &Hll) -> f64 {
    let k = (1u64 << lg_k) as f64;
    let correction = match lg_k {
        4 => 0.673,
        5 => 0.697,
        6 => 0.709,
        _ => 0.7213 / (1.0 + 1.079 / k),
    };
    let raw = correction * k * k / (h.kxq0 + h.kxq1);
    let xs = &tables::X_COMPOSITE[usize::from(lg_k - 4)];
    let stride = f64::from(tables::Y_STRIDES[usize::from(lg_k - 4)]);
    if raw < xs[0] {
        return 0.0;
    }
    let last = xs.len() - 1;
    if raw > xs[last] {
        return raw * (stride * last as f64 / xs[last]);
    }
    let adjusted = if raw == xs[last] {
        stride * last as f64
    } else {
        let o = window(xs.len(), straddle(xs, raw));
        let y = |i: usize| stride * i as f64;
        cubic(
            [xs[o], xs[o + 1], xs[o + 2], xs[o + 3]],
            [y(o), y(o + 1), y(o + 2), y(o + 3)],
            raw,
        )
    };
    if adjusted > (3u64 << lg_k) as f64 {
        return adjusted;
    }
    let unhit = h.zeros();
    let k_int = 1usize << lg_k;
    let linear = if unhit == 0 {
        k * (k / 0.5).ln()
    } else {
        k * (harmonic(k_int) - harmonic(unhit))
    };
    let average = (adjusted + linear) / 2.0;
    let crossover = match lg_k {
        4 => 0.718,
        5 => 0.672,
        _ => 0.64,
    };
    if average > crossover * k {
        adjusted
    } else {
        linear
    }
}

fn relative_error(upper: bool, unioned: bool, lg_k: u8, num_std: usize) -> f64 {
    if lg_k > 12 {
        let f = if unioned { 1.03896 } else { 0.832_554_6 };
        let sign = if upper { -1.0 } else { 1.0 };
        return sign * num_std as f64 * f / ((1u64 << lg_k) as f64).sqrt();
    }
    let table = match (unioned, upper) {
        (false, false) => &tables::HIP_LB,
        (false, true) => &tables::HIP_UB,
        (true, false) => &tables::NON_HIP_LB,
        (true, true) => &tables::NON_HIP_UB,
    };
    table[usize::from(lg_k - 4) * 3 + num_std - 1]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
}
