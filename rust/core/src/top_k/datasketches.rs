//! DataSketches' frequent-items images of a [`TopK`]: `frequent_strings_sketch` and
//! `frequent_items_sketch` with `PyLongsSerDe`, written as the `datasketches` package writes them
//! and read validated (items, lower bounds, total and error offset).

use super::{TopK, MAX_CAPACITY};
use crate::codec::Image;
use crate::error::{Result, SketchError};
use crate::items::ItemKind;

/// The item type of a DataSketches frequent-items image: `frequent_strings_sketch` (a length and
/// UTF-8 bytes each) or `frequent_items_sketch` with `PyLongsSerDe` (an i64 each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DsItems {
    /// `frequent_strings_sketch`: str items.
    Strings,
    /// `frequent_items_sketch` with `PyLongsSerDe`: int items.
    Longs,
}

crate::named!(DsItems, "items", { Strings => "str", Longs => "int" });

const FI_FAMILY: u8 = 10;
/// DataSketches' map holds `0.75 · 2**lg` items.
fn fi_capacity(lg: u8) -> u64 {
    (0.75 * (1u64 << lg) as f64) as u64
}

impl TopK {
    /// The image `datasketches.frequent_strings_sketch.deserialize` (or `frequent_items_sketch`
    /// with `PyLongsSerDe`) reads: the same items with the same lower bounds, the total and the
    /// error offset; its `lg_max_map_size` is the smallest whose map holds `capacity` items.
    pub fn to_datasketches(&self, items: DsItems) -> Result<Vec<u8>> {
        let lg_for = |n: u64| (3u8..=30).find(|&lg| fi_capacity(lg) >= n).unwrap_or(30);
        let lg_max = lg_for(u64::from(self.capacity));
        let entries = self.in_insertion_order();
        for e in &entries {
            let fits = match items {
                DsItems::Strings => e.kind == ItemKind::Str,
                DsItems::Longs => e.kind == ItemKind::Int,
            };
            if !fits {
                return Err(SketchError::parameter(
                    "items",
                    format!(
                        "a {} image holds {} items, and this sketch has a {:?} item",
                        if items == DsItems::Strings {
                            "frequent_strings_sketch"
                        } else {
                            "PyLongsSerDe"
                        },
                        if items == DsItems::Strings {
                            "str"
                        } else {
                            "int64"
                        },
                        e.kind
                    ),
                ));
            }
        }
        if entries.is_empty() && self.total == 0 {
            return Ok(vec![1, 1, FI_FAMILY, lg_max, 3, 0x05, 0, 0]);
        }
        // Every item purged: a header of no items keeps the total and the error (DataSketches
        // reads it; it writes the empty image itself and loses them).
        let n = entries.len() as u64;
        let mut out = vec![4, 1, FI_FAMILY, lg_max, lg_for(n).min(lg_max), 0, 0, 0];
        out.extend_from_slice(&(n as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&self.total.to_le_bytes());
        out.extend_from_slice(&self.offset.to_le_bytes());
        for e in &entries {
            out.extend_from_slice(&e.count.to_le_bytes());
        }
        for e in &entries {
            if items == DsItems::Strings {
                out.extend_from_slice(&(e.item.len() as u32).to_le_bytes());
            }
            out.extend_from_slice(e.item);
        }
        Ok(out)
    }

    /// A summary from a DataSketches frequent-items image of 5.x (see [`TopK::to_datasketches`]):
    /// capacity `0.75 · 2**lg_max_map_size` (at most 2**24), the image's items, counts, total and
    /// offset. The offset is DataSketches' (its own bound, `3.5 · total / 2**lg_max_map_size`).
    #[deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )]
    pub fn from_datasketches(
        bytes: &[u8],
        items: DsItems,
        k: Option<u64>,
        seed: u64,
    ) -> Result<Self> {
        let bad = |m: String| {
            SketchError::format(format!("not a DataSketches frequent-items image: {m}"))
        };
        let [preamble, version, family, lg_max, lg_cur, flags, _, _, ..] = *bytes else {
            return Err(bad(format!("{} bytes", bytes.len())));
        };
        let image = Image(bytes);
        if family != FI_FAMILY {
            return Err(bad(format!("family {family}, not 10")));
        }
        if version != 1 {
            return Err(bad(format!("serial version {version}")));
        }
        if !(3..=30).contains(&lg_max) || !(3..=lg_max).contains(&lg_cur) {
            return Err(bad(format!("map sizes 2**{lg_cur} of 2**{lg_max}")));
        }
        let capacity = fi_capacity(lg_max).min(MAX_CAPACITY);
        let empty = flags & 0x05 != 0;
        if (preamble == 1) != empty || (preamble != 1 && preamble != 4) {
            return Err(bad(format!(
                "{preamble} preamble longs with flags {flags:#x}"
            )));
        }
        if let Some(k) = k.filter(|&k| k > capacity) {
            return Err(SketchError::parameter(
                "k",
                format!("{k} is more than the image's capacity {capacity}"),
            ));
        }
        let make = |n: u64| TopK::new(k.unwrap_or(n.clamp(1, capacity)), Some(capacity), seed);
        if empty {
            if bytes.len() != 8 {
                return Err(bad("bytes after an empty image".into()));
            }
            return make(0);
        }
        if bytes.len() < 32 {
            return Err(bad("truncated header".into()));
        }
        let n = image.u32(8)?;
        let (total, offset) = (image.u64(16)?, image.u64(24)?);
        if u64::from(n) > capacity {
            return Err(bad(format!("{n} items for a map of {capacity}")));
        }
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        // A weight and at least four bytes of item each: the input bounds what we allocate.
        if bytes.len().saturating_sub(32) < n.saturating_mul(12) {
            return Err(bad(format!("truncated: {n} items cannot fit")));
        }
        let mut sketch = make(n as u64).map_err(|e| bad(e.to_string()))?;
        let weights = image.items(32, n, 8)?.as_chunks::<8>().0;
        // What is left after the weights: the items, each taken from its front.
        let mut rest = image.from(32usize.saturating_add(n.saturating_mul(8)))?;
        let mut take = |len: usize| -> Result<&[u8]> {
            let (item, after) = rest
                .split_at_checked(len)
                .ok_or_else(|| bad("truncated items".into()))?;
            rest = after;
            Ok(item)
        };
        let mut stored = 0u64;
        for (i, &weight) in weights.iter().enumerate() {
            let count = u64::from_le_bytes(weight);
            let (kind, item) = match items {
                DsItems::Strings => {
                    let len = u32::from_le_bytes(take(4)?.try_into().unwrap_or_default());
                    let item = take(usize::try_from(len).unwrap_or(usize::MAX))?;
                    if std::str::from_utf8(item).is_err() {
                        return Err(bad(format!("item {i} is not UTF-8")));
                    }
                    (ItemKind::Str, item)
                }
                DsItems::Longs => (ItemKind::Int, take(8)?),
            };
            if count == 0 {
                return Err(bad(format!("item {i} has a zero weight")));
            }
            if sketch.find(item).is_some() {
                return Err(bad(format!("item {i} appears twice")));
            }
            stored = stored
                .checked_add(count)
                .ok_or_else(|| bad("weights past 2**64 - 1".into()))?;
            sketch.bump(kind, item, count);
        }
        if !rest.is_empty() {
            return Err(bad(format!("{} bytes after the items", rest.len())));
        }
        if stored.checked_add(offset).is_none_or(|sum| sum > total) {
            return Err(bad(format!("weights and offset exceed the total {total}")));
        }
        sketch.total = total;
        sketch.offset = offset;
        Ok(sketch)
    }
}
