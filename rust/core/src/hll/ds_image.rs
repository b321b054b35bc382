//! DataSketches' HLL images: `to_datasketches` and `from_datasketches` of a [`DsHll`], in the
//! layouts `hll_sketch.serialize_compact()` and `serialize_updatable()` write (LIST, SET and HLL
//! modes; HLL_4, HLL_6 and HLL_8 registers), byte for byte, and every image they write read back
//! validated.

use super::datasketches::{
    set_find, DsHll, Hll, Mode, FIRST_SET_LG, KEY_MASK_26, LIST_SIZE, MAX_LG_K, MIN_LG_K,
};
use crate::codec::{le_u32s, Image};
use crate::error::{Result, SketchError};

/// The bytes before an HLL image's registers.
const HLL_PREAMBLE: usize = 40;
const AUX_TOKEN: u8 = 15;
const LG_AUX_ARR_INTS: [u8; 22] = [
    0, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12, 13,
];
const FAMILY: u8 = 7;
const EMPTY_FLAG: u8 = 4;
const COMPACT_FLAG: u8 = 8;
const OUT_OF_ORDER_FLAG: u8 = 16;

/// The register types of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// 4-bit registers and an exception table (DataSketches' default).
    Hll4,
    /// 6-bit registers.
    Hll6,
    /// 8-bit registers (what Spark writes).
    Hll8,
}

crate::named!(Target, "target", { Hll4 => "HLL_4", Hll6 => "HLL_6", Hll8 => "HLL_8" });

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

impl DsHll {
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
