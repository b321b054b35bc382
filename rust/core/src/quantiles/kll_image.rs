//! DataSketches' KLL doubles images of a [`Kll`]: `kll_doubles_sketch.serialize()`'s layout,
//! written byte for byte and read validated, the sketch then taking updates as before.

use super::{from_order_key, order_key, total_capacity, Kll, FAMILY, M, MAX_LEVELS};
use crate::codec::{le_f64s, le_u32s, Image};
use crate::error::{Result, SketchError};

impl Kll {
    /// The image `datasketches.kll_doubles_sketch.serialize()` writes for these items.
    pub fn to_datasketches(&self) -> Vec<u8> {
        let k = (self.k as u16).to_le_bytes();
        let mut out = Vec::with_capacity(40 + 8 * self.retained);
        if self.n == 0 {
            out.extend_from_slice(&[2, 1, FAMILY, 0x01, k[0], k[1], M as u8, 0]);
            return out;
        }
        if self.n == 1 && self.retained == 1 {
            out.extend_from_slice(&[2, 2, FAMILY, 0x04, k[0], k[1], M as u8, 0]);
            out.extend_from_slice(&from_order_key(self.levels[0][0]).to_le_bytes());
            return out;
        }
        let level0_sorted = self.levels[0].windows(2).all(|w| w[0] <= w[1]);
        let flags = if level0_sorted { 0x02 } else { 0 };
        out.extend_from_slice(&[5, 1, FAMILY, flags, k[0], k[1], M as u8, 0]);
        out.extend_from_slice(&self.n.to_le_bytes());
        out.extend_from_slice(&(self.min_k as u16).to_le_bytes());
        out.push(self.levels.len() as u8);
        out.push(0);
        let capacity = total_capacity(self.k, self.levels.len());
        let mut offset = capacity - self.retained;
        for level in &self.levels {
            out.extend_from_slice(&(offset as u32).to_le_bytes());
            offset += level.len();
        }
        out.extend_from_slice(&self.min.to_le_bytes());
        out.extend_from_slice(&self.max.to_le_bytes());
        for h in 0..self.levels.len() {
            for &key in self.written_level(h).iter() {
                out.extend_from_slice(&from_order_key(key).to_le_bytes());
            }
        }
        out
    }

    /// A sketch from an image of `datasketches` 5.x (`kll_doubles_sketch.serialize()`): empty,
    /// one item, or levels; `InvalidFormat` for anything else. It keeps taking updates, with
    /// compaction bits drawn from `seed`.
    #[deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )]
    pub fn from_datasketches(bytes: &[u8], seed: u64) -> Result<Self> {
        let bad =
            |m: String| SketchError::format(format!("not a DataSketches KLL doubles image: {m}"));
        let [preamble, version, family, flags, k0, k1, m, _, ..] = *bytes else {
            return Err(bad(format!("{} bytes", bytes.len())));
        };
        let image = Image(bytes);
        let k = u16::from_le_bytes([k0, k1]);
        if family != FAMILY {
            return Err(bad(format!("family {family}, not 15 (KLL)")));
        }
        if u32::from(m) != M {
            return Err(bad(format!("m = {m}, not 8")));
        }
        if version != 1 && version != 2 {
            return Err(bad(format!("serial version {version}")));
        }
        let mut s = Kll::new(i64::from(k), seed).map_err(|e| bad(e.to_string()))?;
        if flags & 0x01 != 0 {
            if preamble != 2 {
                return Err(bad(format!(
                    "preamble of {preamble} ints for an empty sketch"
                )));
            }
            return Ok(s);
        }
        if flags & 0x04 != 0 {
            if preamble != 2 || bytes.len() != 16 {
                return Err(bad("a single-item image is 16 bytes".into()));
            }
            let v = image.f64(8)?;
            if v.is_nan() {
                return Err(bad("a NaN item".into()));
            }
            // As it is, -0.0 too: the image's item, not an update.
            (s.n, s.min, s.max, s.retained) = (1, v, v, 1);
            if let Some(level0) = s.levels.first_mut() {
                level0.push(order_key(v));
            }
            return Ok(s);
        }
        if preamble != 5 || bytes.len() < 20 {
            return Err(bad(
                "a sketch of several items has a 20-byte preamble".into()
            ));
        }
        s.n = image.u64(8)?;
        s.min_k = u32::from(image.u16(16)?);
        let levels = usize::from(image.u8(18)?);
        if !(1..=MAX_LEVELS).contains(&levels) {
            return Err(bad(format!("{levels} levels")));
        }
        let capacity = total_capacity(s.k, levels);
        // The level offsets, then min and max, then the items: MAX_LEVELS bounds every offset.
        let min_at = levels.saturating_mul(4).saturating_add(20);
        let items_at = min_at.saturating_add(16);
        if bytes.len() < items_at {
            return Err(bad("truncated levels".into()));
        }
        let mut bounds: Vec<usize> = le_u32s(image.items(20, levels, 4)?)
            .map(|b| usize::try_from(b).unwrap_or(usize::MAX))
            .collect();
        bounds.push(capacity);
        if bounds.windows(2).any(|w| w.first() > w.last()) {
            return Err(bad("level offsets out of order or past the capacity".into()));
        }
        let first = bounds.first().copied().unwrap_or(0);
        let retained = capacity.saturating_sub(first); // first <= capacity: checked above
        let expected = retained.saturating_mul(8).saturating_add(items_at);
        if bytes.len() != expected {
            return Err(bad(format!(
                "{} bytes, the levels say {expected}",
                bytes.len()
            )));
        }
        s.min = image.f64(min_at)?;
        s.max = image.f64(min_at.saturating_add(8))?;
        let mut values = le_f64s(image.from(items_at)?);
        let items: Vec<Vec<f64>> = bounds
            .windows(2)
            .map(|w| match *w {
                [lo, hi] => values.by_ref().take(hi.saturating_sub(lo)).collect(),
                _ => Vec::new(),
            })
            .collect();
        s.set_levels(items).map_err(|e| bad(e.to_string()))?;
        Ok(s)
    }
}
