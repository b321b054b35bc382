//! The exact sum of float64 values (times integer weights), whatever their order: a fixed-point
//! accumulator wide enough for every finite double, so that a sketch's `sum` merges exactly and the
//! merge of the parts of a stream has the same bytes as the sketch of the whole.
//!
//! Limb `i` holds bits `32 i - 1074 ..` of the sum (bit 0 is the smallest subnormal, 2**-1074).
//! Each value adds 32-bit pieces to a few limbs of 64 bits, whose headroom takes 2**31 additions
//! before the carries have to be pushed up; [`ExactSum::normalize`] pushes them and gives the one
//! canonical form that is compared and serialized.

use crate::codec::{check, Reader, Writer};
use crate::error::Result;
use crate::float::pow2;

/// 2**-1074 .. 2**1024 times a 64-bit weight, plus headroom for 2**64 such terms: 2,230 bits.
pub const LIMBS: usize = 70;

/// Additions between two carry passes: each adds less than 2**32 to a limb, so 2**30 of them keep a
/// limb far from overflowing.
const BETWEEN_CARRIES: u32 = 1 << 30;

/// The exact sum (see the module docs).
#[derive(Clone, Debug)]
pub struct ExactSum {
    limbs: [i64; LIMBS],
    pending: u32,
}

impl Default for ExactSum {
    fn default() -> Self {
        ExactSum {
            limbs: [0; LIMBS],
            pending: 0,
        }
    }
}

impl PartialEq for ExactSum {
    fn eq(&self, other: &Self) -> bool {
        self.normalized().limbs == other.normalized().limbs
    }
}

impl ExactSum {
    /// Adds `value` exactly (`value` finite): three limbs, no branch on the value's bits.
    #[inline(always)]
    pub fn add_one(&mut self, value: f64) {
        self.add_uncounted(value);
        self.counted(1);
    }

    /// Records `n` additions made by [`ExactSum::add_uncounted`] (at most 2**24 between two
    /// calls), pushing the carries when the limbs' headroom asks for it.
    #[inline]
    pub fn counted(&mut self, n: u32) {
        self.pending += n;
        if self.pending >= BETWEEN_CARRIES {
            self.carry();
        }
    }

    /// [`ExactSum::add_one`] without counting the addition: the caller calls
    /// [`ExactSum::counted`] after at most 2**24 of them.
    #[inline(always)]
    pub fn add_uncounted(&mut self, value: f64) {
        let bits = value.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1 << 52) - 1);
        let normal = i64::from(exponent != 0);
        let mantissa = fraction | (normal as u64) << 52;
        let position = exponent - normal; // value = mantissa * 2**(position - 1074)
        let limb = (position / 32) as usize; // at most 63: limb + 2 < LIMBS
        let wide = u128::from(mantissa) << (position % 32);
        let sign = 1 - 2 * (bits >> 63) as i64;
        self.limbs[limb] += sign * (wide as u32) as i64;
        self.limbs[limb + 1] += sign * ((wide >> 32) as u32) as i64;
        self.limbs[limb + 2] += sign * (wide >> 64) as i64;
    }

    /// Adds `value * weight` exactly (`value` finite).
    #[inline]
    pub fn add(&mut self, value: f64, weight: u64) {
        if value == 0.0 || weight == 0 {
            return;
        }
        if weight == 1 {
            self.add_one(value);
            return;
        }
        let bits = value.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1 << 52) - 1);
        // value = mantissa * 2**(position - 1074)
        let (mantissa, position) = if exponent == 0 {
            (fraction, 0)
        } else {
            (fraction | 1 << 52, exponent - 1)
        };
        let mut rest = u128::from(mantissa) * u128::from(weight); // < 2**117
        let negative = value < 0.0;
        let mut limb = (position / 32) as usize;
        let shift = (position % 32) as u32;
        // The first piece fills the top `32 - shift` bits of its limb.
        let mut piece_bits = 32 - shift;
        let mut shift = shift;
        while rest != 0 {
            let piece = (rest & ((1u128 << piece_bits) - 1)) as i64;
            let piece = piece << shift;
            self.limbs[limb] += if negative { -piece } else { piece };
            rest >>= piece_bits;
            limb += 1;
            piece_bits = 32;
            shift = 0;
        }
        self.pending += 1;
        if self.pending >= BETWEEN_CARRIES {
            self.carry();
        }
    }

    /// Adds another sum.
    pub fn merge(&mut self, other: &ExactSum) {
        let other = other.normalized();
        self.carry();
        for (a, b) in self.limbs.iter_mut().zip(other.limbs) {
            *a += b;
        }
        self.carry();
    }

    /// Pushes every limb's carry into the next: afterwards every limb but the last is in
    /// [0, 2**32), and the last holds the sign.
    fn carry(&mut self) {
        for i in 0..LIMBS - 1 {
            let carry = self.limbs[i] >> 32;
            self.limbs[i] -= carry << 32;
            self.limbs[i + 1] += carry;
        }
        self.pending = 0;
    }

    fn normalized(&self) -> ExactSum {
        let mut s = self.clone();
        s.carry();
        s
    }

    /// The sum rounded to a float64 (±inf past its range). The same exact sum always gives the
    /// same float.
    pub fn value(&self) -> f64 {
        let s = self.normalized();
        let negative = s.limbs[LIMBS - 1] < 0;
        // The magnitude, in limbs of [0, 2**32).
        let mut magnitude = [0u64; LIMBS];
        let mut borrow = 0i64;
        for (i, (&limb, out)) in s.limbs.iter().zip(magnitude.iter_mut()).enumerate() {
            let mut v = limb;
            if negative {
                v = -v - borrow;
                borrow = 0;
                if v < 0 && i < LIMBS - 1 {
                    v += 1 << 32;
                    borrow = 1;
                }
            }
            *out = v as u64;
        }
        // The top 128 bits, with a sticky bit for what is below, rounded once.
        let Some(top) = magnitude.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        let mut bits: u128 = 0;
        let mut sticky = false;
        let lowest = top.saturating_sub(3);
        for &l in magnitude[lowest..=top].iter().rev() {
            bits = bits << 32 | u128::from(l);
        }
        for &l in &magnitude[..lowest] {
            sticky |= l != 0;
        }
        // bits * 2**(32 * lowest - 1074), rounded to 53 bits by the conversion of a u128 with
        // the sticky bit folded into its lowest bit (it lies far below the rounding point).
        let bits = bits | u128::from(sticky);
        let scale = 32 * lowest as i32 - 1074;
        let m = bits as f64;
        let v = m * pow2(scale.clamp(-1022, 1023)) * pow2(scale - scale.clamp(-1022, 1023));
        if negative {
            -v
        } else {
            v
        }
    }

    /// The canonical form: the first nonzero limb's index, the count, then the limbs.
    pub fn write(&self, w: &mut Writer) {
        let s = self.normalized();
        let first = s.limbs.iter().position(|&l| l != 0).unwrap_or(0);
        let last = s.limbs.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1);
        let count = last.saturating_sub(first);
        w.u8(first as u8);
        w.u8(count as u8);
        for &l in &s.limbs[first..first + count] {
            w.u64(l as u64);
        }
    }

    /// A sum written by [`ExactSum::write`], validated.
    pub fn read(r: &mut Reader) -> Result<ExactSum> {
        let first = usize::from(r.u8("sum")?);
        let count = usize::from(r.u8("sum")?);
        check(first + count <= LIMBS, || {
            format!("sum limbs {first}..{} past {LIMBS}", first + count)
        })?;
        let mut s = ExactSum::default();
        for i in first..first + count {
            let l = r.u64("sum")? as i64;
            check(i == LIMBS - 1 || (0..1 << 32).contains(&l), || {
                "sum limb out of range".to_string()
            })?;
            s.limbs[i] = l;
        }
        check(count == 0 || s.limbs[first] != 0, || {
            "sum not canonical".into()
        })?;
        check(count == 0 || s.limbs[first + count - 1] != 0, || {
            "sum not canonical".into()
        })?;
        Ok(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::Kind;

    #[test]
    fn sums_are_exact_and_independent_of_order() {
        let values = [
            1e308, 1.0, -1e308, 1e-300, 3.5, -2.25, 5e-324, 1e16, -1e16, 0.1,
        ];
        let mut a = ExactSum::default();
        for &v in &values {
            a.add(v, 1);
        }
        let mut b = ExactSum::default();
        for &v in values.iter().rev() {
            b.add(v, 1);
        }
        assert_eq!(a, b);
        // 1 + 3.5 - 2.25 + 0.1 + tiny: the huge terms cancel exactly.
        assert_eq!(a.value(), 1.0 + 3.5 - 2.25 + 0.1);
        let mut one = ExactSum::default();
        let mut each = ExactSum::default();
        for &v in &values {
            one.add_one(v);
            each.add(v, 2);
            each.add(-v, 1);
        }
        assert_eq!(one, each);
        let mut c = ExactSum::default();
        c.add(-7.5, 3);
        assert_eq!(c.value(), -22.5);
        let mut parts = ExactSum::default();
        parts.merge(&a);
        parts.merge(&c);
        let mut whole = a.clone();
        whole.add(-7.5, 3);
        assert_eq!(parts, whole);
        let mut w = Writer::new(Kind::DDSketch, 0);
        whole.write(&mut w);
        let bytes = w.finish();
        let mut r = Reader::new(&bytes, Kind::DDSketch).unwrap();
        assert_eq!(ExactSum::read(&mut r).unwrap(), whole);
        let mut big = ExactSum::default();
        big.add(f64::MAX, u64::MAX);
        assert_eq!(big.value(), f64::INFINITY);
        let mut tiny = ExactSum::default();
        tiny.add(5e-324, 3);
        assert_eq!(tiny.value(), 1.5e-323);
    }
}
