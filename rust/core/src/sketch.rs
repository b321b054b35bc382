//! What every sketch of sketchy is: the contract the registry, the bindings, the file reader and
//! the tests share.
//!
//! A sketch takes batches as one [`Keys`] view with their [`Counts`], merges with sketches of the
//! same parameters (one compatibility check, [`crate::SketchError::check_same`], before anything
//! changes), serializes to versioned bytes and reads them back validated, reports its memory and
//! can be cleared. It also says what the file reader needs to know of it: whether it takes numbers
//! (text records are then parsed as numbers) and whether its merge depends on the order of the
//! parts (the reader then merges the sketches of a file's chunks in file order). Every family is a
//! line of [`crate::registry`], which makes [`crate::registry::AnySketch`] of them; its Python class
//! is its core type behind a lock plus these methods, written once (`rust/bindings/sketch.rs`).

use crate::error::{Result, SketchError};
use crate::items::Keys;
use crate::parallel::Cost;

/// What a sketch takes as items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// Any item, by its canonical bytes.
    Items,
    /// Numbers (a text item is a `TypeError`; the file reader parses records as numbers).
    Numbers,
}

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

    /// What the sketch takes: any item, or numbers.
    fn takes(&self) -> Takes {
        Takes::Items
    }
    /// Whether merging the sketches of the parts of a stream gives a result that depends on the
    /// parts' order (a top-k summary past its capacity, KLL's compactions): the file reader then
    /// builds one per chunk and merges them in file order.
    fn merge_is_ordered(&self) -> bool {
        false
    }
    /// Adds the records of a file, one item each, once: [`Sketch::update`], but a sketch that
    /// takes numbers parses text records as numbers (the reader has checked they are).
    fn update_records(&mut self, keys: &Keys) -> Result<()> {
        self.update(keys, Counts::Each(1))
    }
    /// What adding one item costs next to reading it out of a Python list: how a long list is
    /// shared between two threads (see [`Cost`]). By default as much: one thread reads it all.
    fn item_cost(&self) -> Cost {
        Cost(100)
    }
    /// Each item of `keys` in a fixed-width form that [`Sketch::update_rows`] takes, for a sketch
    /// that has one (a distinct-count sketch sees only its items' hashes): what sketches per group
    /// move in place of the items ([`crate::group`]). `None`: the items themselves.
    fn rows(&self, _keys: &Keys) -> Option<Vec<u64>> {
        None
    }
    /// Adds, in order, the items `rows` gave the forms of: the same as [`Sketch::update`] with
    /// them, once each.
    fn update_rows(&mut self, _rows: &[u64]) -> Result<()> {
        Err(SketchError::input(
            "this sketch takes its items, not their rows",
        ))
    }
    /// An empty sketch with the same parameters.
    fn empty_like(&self) -> Self {
        let mut empty = self.clone();
        empty.clear();
        empty
    }
}

/// The counts added with a batch: one for every item, or one per item.
#[derive(Clone, Copy, Debug)]
pub enum Counts<'a> {
    /// Every item this many times.
    Each(u64),
    /// Item `i` `counts[i]` times.
    PerItem(&'a [u64]),
}

impl Counts<'_> {
    /// The sum of the counts of `n` items, or `Overflow`.
    pub fn sum(&self, n: usize) -> Result<u64> {
        let overflow = || SketchError::overflow("the counts add up to more than 2**64 - 1");
        match *self {
            Counts::Each(c) => c.checked_mul(n as u64).ok_or_else(overflow),
            Counts::PerItem(counts) => {
                if counts.len() != n {
                    return Err(SketchError::parameter(
                        "counts",
                        format!(
                            "{} counts for {n} items: give one count per item, or one for all",
                            counts.len()
                        ),
                    ));
                }
                counts
                    .iter()
                    .try_fold(0u64, |acc, &c| acc.checked_add(c))
                    .ok_or_else(overflow)
            }
        }
    }

    /// The counts of the items `range` (which must lie inside the batch).
    pub fn sub(&self, range: std::ops::Range<usize>) -> Self {
        match *self {
            Counts::Each(c) => Counts::Each(c),
            Counts::PerItem(counts) => Counts::PerItem(&counts[range]),
        }
    }

    /// The count of item `i`.
    #[inline(always)]
    pub fn get(&self, i: usize) -> u64 {
        match *self {
            Counts::Each(c) => c,
            Counts::PerItem(counts) => counts[i],
        }
    }
}

/// Calls `add` with the runs of items of a positive count, each as a batch: what a distinct-count
/// sketch does with counts.
pub fn each_counted_run(keys: &Keys, counts: Counts, mut add: impl FnMut(&Keys)) -> Result<()> {
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
    use crate::hll::{Hashing, HyperLogLog};

    #[test]
    fn a_hyperloglog_adds_each_item_with_a_positive_count_once() {
        let items: Vec<u64> = (0..50).collect();
        let counts: Vec<u64> = (0..50).map(|i| [0, 1, 3, 0, 0, 2][i % 6]).collect();
        let mut batch = HyperLogLog::new(10, 1, Hashing::Xxh3).unwrap();
        Sketch::update(&mut batch, &Keys::U64(&items), Counts::PerItem(&counts)).unwrap();
        let mut one = HyperLogLog::new(10, 1, Hashing::Xxh3).unwrap();
        for (i, &c) in items.iter().zip(&counts) {
            if c > 0 {
                one.update(&Keys::U64(&[*i]));
            }
        }
        assert_eq!(batch.to_bytes(), one.to_bytes());
        let mut none = HyperLogLog::new(10, 1, Hashing::Xxh3).unwrap();
        Sketch::update(&mut none, &Keys::U64(&items), Counts::Each(0)).unwrap();
        assert_eq!(none, HyperLogLog::new(10, 1, Hashing::Xxh3).unwrap());
        let short = Counts::PerItem(&counts[..3]);
        assert!(Sketch::update(&mut none, &Keys::U64(&items), short).is_err());
    }
}
