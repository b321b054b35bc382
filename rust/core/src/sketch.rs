//! What every sketch of sketchy is: the contract the bindings, the tests and a new sketch share.
//!
//! A sketch takes batches as one [`Keys`] view with their [`Counts`], merges with sketches of the
//! same parameters (one compatibility check, [`crate::SketchError::check_same`], before anything
//! changes), serializes to versioned bytes and reads them back validated, reports its memory and
//! can be cleared. The Python class of a sketch is its core type behind a lock plus these methods,
//! written once (`rust/bindings/sketch_methods.rs`).

use crate::count_min::{CountMinSketch, Counts};
use crate::ddsketch::DDSketch;
use crate::error::{Result, SketchError};
use crate::hll::HyperLogLog;
use crate::keys::Keys;
use crate::kll::Kll;
use crate::top_k::TopK;

/// A mergeable, serializable summary of a stream of items.
pub trait Sketch: Clone + PartialEq + Send + Sync + Sized {
    /// Adds a batch: item `i` of `keys`, `counts` times (see [`Counts`]). All or nothing: an error
    /// (a count overflow, say) leaves the sketch as it was.
    fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()>;
    /// Adds `other`'s items; `Incompatible` naming the parameter, and no change, when the two differ.
    fn merge(&mut self, other: &Self) -> Result<()>;
    /// The serialized sketch: versioned header, parameters and seed, contents.
    fn to_bytes(&self) -> Vec<u8>;
    /// The sketch `to_bytes` wrote; `InvalidFormat` for any other bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self>;
    /// The bytes the sketch holds in memory.
    fn memory_size(&self) -> usize;
    /// Forgets every item.
    fn clear(&mut self);
}

/// Implements [`Sketch`] by the core type's own methods of the same names.
macro_rules! sketch_by_inherent_methods {
    ($t:ty, |$s:ident, $keys:ident, $counts:ident| $update:expr) => {
        impl Sketch for $t {
            fn update(&mut self, $keys: &Keys, $counts: Counts) -> Result<()> {
                let $s = self;
                $update
            }
            fn merge(&mut self, other: &Self) -> Result<()> {
                <$t>::merge(self, other)
            }
            fn to_bytes(&self) -> Vec<u8> {
                <$t>::to_bytes(self)
            }
            fn from_bytes(bytes: &[u8]) -> Result<Self> {
                <$t>::from_bytes(bytes)
            }
            fn memory_size(&self) -> usize {
                <$t>::memory_size(self)
            }
            fn clear(&mut self) {
                <$t>::clear(self)
            }
        }
    };
}

sketch_by_inherent_methods!(CountMinSketch, |s, keys, counts| CountMinSketch::update(
    s, keys, counts
));
sketch_by_inherent_methods!(TopK, |s, keys, counts| TopK::update(s, keys, counts));
// The quantile sketches take numbers: a text item is a `TypeError`, a count is a weight.
sketch_by_inherent_methods!(DDSketch, |s, keys, counts| s
    .update_values(keys, counts, false));
sketch_by_inherent_methods!(Kll, |s, keys, counts| s.update_values(keys, counts, false));
// Distinct counting ignores how often an item comes: any positive count adds it once.
sketch_by_inherent_methods!(HyperLogLog, |s, keys, counts| each_counted_run(
    keys,
    counts,
    |run| HyperLogLog::update(s, run)
));

/// Calls `add` with the runs of items of a positive count, each as a batch: what a distinct-count
/// sketch does with counts.
pub(crate) fn each_counted_run(
    keys: &Keys,
    counts: Counts,
    mut add: impl FnMut(&Keys),
) -> Result<()> {
    match counts {
        Counts::Each(0) => Ok(()),
        Counts::Each(_) => {
            add(keys);
            Ok(())
        }
        Counts::PerItem(c) if c.len() != keys.len() => Err(SketchError::parameter(
            "counts",
            format!("{} counts for {} items", c.len(), keys.len()),
        )),
        Counts::PerItem(c) => {
            let mut start = 0;
            while start < c.len() {
                let end = c[start..]
                    .iter()
                    .position(|&n| n == 0)
                    .map_or(c.len(), |i| start + i);
                add(&keys.sub(start..end));
                start = c[end..]
                    .iter()
                    .position(|&n| n != 0)
                    .map_or(c.len(), |i| end + i);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_hyperloglog_adds_each_item_with_a_positive_count_once() {
        let items: Vec<u64> = (0..50).collect();
        let counts: Vec<u64> = (0..50).map(|i| [0, 1, 3, 0, 0, 2][i % 6]).collect();
        let mut batch = HyperLogLog::new(10, 1).unwrap();
        Sketch::update(&mut batch, &Keys::U64(&items), Counts::PerItem(&counts)).unwrap();
        let mut one = HyperLogLog::new(10, 1).unwrap();
        for (i, &c) in items.iter().zip(&counts) {
            if c > 0 {
                one.add(&i.to_le_bytes());
            }
        }
        assert_eq!(batch.to_bytes(), one.to_bytes());
        let mut none = HyperLogLog::new(10, 1).unwrap();
        Sketch::update(&mut none, &Keys::U64(&items), Counts::Each(0)).unwrap();
        assert_eq!(none, HyperLogLog::new(10, 1).unwrap());
        let short = Counts::PerItem(&counts[..3]);
        assert!(Sketch::update(&mut none, &Keys::U64(&items), short).is_err());
    }
}
