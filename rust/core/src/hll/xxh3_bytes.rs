//! The serialized form of sketchy's HyperLogLog (kind 3): precision, seed, flags, then the sparse
//! entries or the dense registers packed 6 bits each, with the HIP state of an unmerged sketch.

use super::{Hip, Registers, Xxh3Hll, SPARSE_MAX_RANK};
use crate::codec::{check, le_u32s, Kind, Reader, Writer};
use crate::error::{Result, SketchError};

impl Xxh3Hll {
    /// `precision u8, seed u64, flags u8 (bit 0 dense, bit 1 merged)`, then sparse: `count u32,
    /// entries u32...`; dense: HIP `estimate f64, variance f64` unless merged, then the registers
    /// packed 6 bits each, little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(Kind::HyperLogLog, 32 + self.m());
        w.u8(self.p);
        w.u64(self.seed);
        let dense = !self.is_sparse();
        w.u8(u8::from(dense) | (u8::from(self.hip.is_none()) << 1));
        match &self.registers {
            Registers::Sparse(entries) => {
                w.u32(entries.len() as u32);
                entries.iter().for_each(|&e| w.u32(e));
            }
            Registers::Dense(registers) => {
                if let Some(hip) = &self.hip {
                    w.f64(hip.estimate);
                    w.f64(hip.variance);
                }
                w.raw(&pack6(registers));
            }
        }
        w.finish()
    }

    #[deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )]
    /// The sketch `to_bytes` wrote; `InvalidFormat` for any other bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Kind::HyperLogLog)?;
        let p = r.u8("precision")?;
        let seed = r.u64("seed")?;
        let flags = r.u8("flags")?;
        check(flags <= 3, || format!("unknown flags {flags:#x}"))?;
        let mut sketch =
            Xxh3Hll::new(i64::from(p), seed).map_err(|e| SketchError::format(e.to_string()))?;
        let (dense, merged) = (flags & 1 == 1, flags & 2 == 2);
        if dense {
            if !merged {
                let estimate = r.f64("HIP estimate")?;
                let variance = r.f64("HIP variance")?;
                check(
                    estimate.is_finite()
                        && estimate >= 0.0
                        && variance.is_finite()
                        && variance >= 0.0,
                    || "invalid HIP state".to_owned(),
                )?;
                sketch.hip = Some(Hip { estimate, variance });
            } else {
                sketch.hip = None;
            }
            let packed = r.take(sketch.m().saturating_mul(6).div_ceil(8), "the registers")?;
            let registers = unpack6(packed, sketch.m());
            let max_rank = u8::try_from(sketch.max_rank()).unwrap_or(u8::MAX);
            check(registers.iter().all(|&x| x <= max_rank), || {
                format!("a register holds a rank above {max_rank}, impossible at precision {p}")
            })?;
            sketch.kxq = Self::kxq_of(&registers, sketch.max_rank());
            sketch.registers = Registers::Dense(registers);
        } else {
            check(!merged, || {
                "a sparse sketch cannot be marked merged".to_owned()
            })?;
            let count = r.u32("entry count")? as usize;
            check(count <= sketch.sparse_limit(), || {
                format!(
                    "{count} sparse entries, over the limit of {}",
                    sketch.sparse_limit()
                )
            })?;
            let raw = r.take_n(count, 4, "the sparse entries")?;
            let mut entries = Vec::with_capacity(count);
            for e in le_u32s(raw) {
                let rank = e & 63;
                check(
                    e >> 31 == 0 && (1..=SPARSE_MAX_RANK).contains(&rank),
                    || format!("invalid sparse entry {e:#x}"),
                )?;
                check(
                    entries.last().is_none_or(|&last: &u32| last >> 6 < e >> 6),
                    || "sparse entries out of order or repeated".to_owned(),
                )?;
                entries.push(e);
            }
            sketch.registers = Registers::Sparse(entries);
        }
        r.finish()?;
        Ok(sketch)
    }
}

/// Registers packed 6 bits each, little-endian bit order.
pub(super) fn pack6(registers: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; (registers.len() * 6).div_ceil(8)];
    for (i, &r) in registers.iter().enumerate() {
        let bit = i * 6;
        let v = u16::from(r & 63) << (bit % 8);
        out[bit / 8] |= v as u8;
        if bit / 8 + 1 < out.len() {
            out[bit / 8 + 1] |= (v >> 8) as u8;
        }
    }
    out
}

pub(super) fn unpack6(packed: &[u8], m: usize) -> Vec<u8> {
    (0..m)
        .map(|i| {
            let bit = i * 6;
            let lo = u16::from(packed[bit / 8]);
            let hi = packed.get(bit / 8 + 1).copied().map_or(0, u16::from);
            (((hi << 8 | lo) >> (bit % 8)) & 63) as u8
        })
        .collect()
}
