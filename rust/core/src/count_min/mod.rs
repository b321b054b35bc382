//! The count-min sketch (Cormode and Muthukrishnan, 2005): item frequencies in `width × depth`
//! counters, never below the true count.
//!
//! Each of the `depth` rows maps an item to one of its `width` counters and adds the item's count
//! there; the estimate of an item is the smallest of its `depth` counters. With `width = ⌈e/ε⌉` and
//! `depth = ⌈ln(1/δ)⌉`, an estimate exceeds the true count by more than `ε·N` (N the total count) with
//! probability at most `δ`. The bound needs the rows to be independent: row `i` uses
//! `h1 + i·h2` (Kirsch and Mitzenmacher, 2006) with `h1`, `h2` the two halves of one 128-bit XXH3
//! hash of the item, never one hash reused under masks.
//!
//! Conservative update (Estan and Varghese, 2002) raises each of an item's counters only as far as
//! needed (to its old minimum plus the count): estimates stay upper bounds and are usually tighter.
//!
//! Counters are `u64` and cannot wrap: the total count is checked first (every counter is at most the
//! total) and an addition that would push it past `2**64 - 1` is refused with `Overflow`, leaving the
//! sketch unchanged.

use crate::codec::{check, Kind, Reader, Writer};
use crate::error::{Result, SketchError};
use crate::hash::{item_hash128, Xxh3x128};
use crate::items::Keys;
use crate::parallel;
use crate::sketch::{Counts, Sketch};

/// The most counters a sketch may have (`width × depth`): 2**28, 2 GiB of `u64`.
pub const MAX_COUNTERS: u64 = 1 << 28;

/// Items hashed per block in batch updates.
const BLOCK: usize = 256;

/// Items per thread below which a batch update stays on one thread.
const PARALLEL_MIN: usize = 1 << 16;

/// The threads that share a batch of `n` items (see [`parallel::plan`]).
fn plan(n: usize) -> parallel::Plan {
    parallel::plan(n, PARALLEL_MIN)
}

/// A block of hashed items and their counts.
struct Block {
    hashes: [(u64, u64); BLOCK],
    counts: [u64; BLOCK],
    len: usize,
}

impl Default for Block {
    fn default() -> Self {
        Block {
            hashes: [(0, 0); BLOCK],
            counts: [0; BLOCK],
            len: 0,
        }
    }
}

impl Block {
    #[inline(always)]
    fn push(&mut self, hash: (u64, u64), count: u64) {
        self.hashes[self.len] = hash;
        self.counts[self.len] = count;
        self.len += 1;
    }
}

/// A count-min sketch: `depth` rows of `width` 64-bit counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountMinSketch {
    width: u32,
    depth: u32,
    seed: u64,
    conservative: bool,
    total: u64,
    /// Row `r` is `counters[r * width..(r + 1) * width]`.
    counters: Vec<u64>,
}

/// `x` mapped to [0, n) by multiplication (Lemire 2019): uniform for a uniform 64-bit `x`.
#[inline(always)]
fn reduce(x: u64, n: u32) -> usize {
    ((u128::from(x) * u128::from(n)) >> 64) as usize
}

impl CountMinSketch {
    /// An empty sketch; `InvalidParameter` for a width or depth out of range.
    pub fn new(width: u64, depth: u64, seed: u64, conservative: bool) -> Result<Self> {
        if width < 1 || width > u64::from(u32::MAX) {
            return Err(SketchError::parameter(
                "width",
                format!("must be in [1, 2**32 - 1], got {width}"),
            ));
        }
        if !(1..=64).contains(&depth) {
            return Err(SketchError::parameter(
                "depth",
                format!("must be in [1, 64], got {depth}"),
            ));
        }
        if width * depth > MAX_COUNTERS {
            return Err(SketchError::parameter(
                "width",
                format!(
                    "width × depth = {} counters is over the cap of 2**28 (2 GiB)",
                    width * depth
                ),
            ));
        }
        Ok(CountMinSketch {
            width: width as u32,
            depth: depth as u32,
            seed,
            conservative,
            total: 0,
            counters: vec![0; (width * depth) as usize],
        })
    }

    /// The sketch for relative error `epsilon` with probability `1 - delta`: `width = ⌈e/ε⌉`,
    /// `depth = ⌈ln(1/δ)⌉`.
    pub fn from_error(epsilon: f64, delta: f64, seed: u64, conservative: bool) -> Result<Self> {
        if !(epsilon > 0.0 && epsilon < 1.0) {
            return Err(SketchError::parameter(
                "epsilon",
                format!("must be in (0, 1), got {epsilon}"),
            ));
        }
        if !(delta > 0.0 && delta < 1.0) {
            return Err(SketchError::parameter(
                "delta",
                format!("must be in (0, 1), got {delta}"),
            ));
        }
        let width = (std::f64::consts::E / epsilon).ceil();
        let depth = (1.0 / delta).ln().ceil().max(1.0);
        if width > MAX_COUNTERS as f64 || depth > 64.0 {
            return Err(SketchError::parameter(
                "epsilon",
                format!("epsilon={epsilon}, delta={delta} need {width} × {depth} counters, over the cap of 2**28"),
            ));
        }
        Self::new(width as u64, depth as u64, seed, conservative)
    }

    /// Counters per row.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Rows.
    pub fn depth(&self) -> u32 {
        self.depth
    }
    /// The seed of the item hash.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Whether updates are conservative.
    pub fn conservative(&self) -> bool {
        self.conservative
    }
    /// The sum of all counts added.
    pub fn total(&self) -> u64 {
        self.total
    }
    /// The counters, row after row.
    pub fn counters(&self) -> &[u64] {
        &self.counters
    }

    /// ε = e / width: an estimate exceeds the truth by more than ε·total with probability ≤ δ.
    pub fn epsilon(&self) -> f64 {
        std::f64::consts::E / f64::from(self.width)
    }

    /// ε · total: with probability ≥ 1 - δ, an estimate exceeds its true count by at most this.
    pub fn error_bound(&self) -> f64 {
        self.epsilon() * self.total as f64
    }

    /// δ = e^-depth.
    pub fn delta(&self) -> f64 {
        (-f64::from(self.depth)).exp()
    }

    /// The item hash from which every row's counter is derived.
    #[inline(always)]
    pub fn hash(&self, item: &[u8]) -> (u64, u64) {
        item_hash128(item, self.seed)
    }

    #[inline(always)]
    fn add_hashed(&mut self, (h1, h2): (u64, u64), count: u64) {
        let width = self.width as usize;
        if self.conservative {
            let mut min = u64::MAX;
            let mut h = h1;
            for row in 0..self.depth as usize {
                min = min.min(self.counters[row * width + reduce(h, self.width)]);
                h = h.wrapping_add(h2);
            }
            let target = min + count; // <= total, checked by the caller
            let mut h = h1;
            for row in 0..self.depth as usize {
                let c = &mut self.counters[row * width + reduce(h, self.width)];
                *c = (*c).max(target);
                h = h.wrapping_add(h2);
            }
        } else {
            let mut h = h1;
            for row in self.counters.chunks_exact_mut(width) {
                row[reduce(h, self.width)] += count;
                h = h.wrapping_add(h2);
            }
        }
    }

    fn reserve_total(&self, count: u64) -> Result<u64> {
        self.total.checked_add(count).ok_or_else(|| {
            SketchError::overflow(format!(
                "adding {count} would take the total count past 2**64 - 1 (it is {})",
                self.total
            ))
        })
    }

    /// Adds `count` occurrences of one item.
    pub fn add(&mut self, item: &[u8], count: u64) -> Result<()> {
        let total = self.reserve_total(count)?;
        self.add_hashed(self.hash(item), count);
        self.total = total;
        Ok(())
    }

    /// Adds a batch of items with their counts; checks everything before changing anything.
    pub fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
        let total = self.reserve_total(counts.sum(keys.len())?)?;
        let n = keys.len();
        let plan = plan(if self.conservative { 0 } else { n });
        let threads = plan.threads;
        if threads <= 1 {
            self.add_keys(keys, counts);
        } else {
            // Standard update only adds: other threads count their share of the batch into empty
            // copies, which are then summed in. The counters are the ones one thread would get.
            let empty = self.empty_copy_maker();
            let ((), parts) = parallel::for_each_share(
                n,
                threads,
                |range| self.add_keys(&keys.sub(range.clone()), counts.sub(range)),
                |_, range| {
                    let mut part = empty();
                    part.add_keys(&keys.sub(range.clone()), counts.sub(range));
                    part
                },
            );
            for part in &parts {
                for (a, b) in self.counters.iter_mut().zip(&part.counters) {
                    *a += b; // <= total, checked above
                }
            }
        }
        self.total = total;
        Ok(())
    }

    /// Makes empty sketches with these parameters, without borrowing this one (so that this one can
    /// be updated meanwhile).
    fn empty_copy_maker(&self) -> impl Fn() -> Self + Sync {
        let template = CountMinSketch {
            total: 0,
            counters: Vec::new(),
            ..*self
        };
        let len = self.counters.len();
        move || CountMinSketch {
            counters: vec![0; len],
            ..template.clone()
        }
    }

    /// Adds the items of a batch to the counters (not to the total: the caller's job).
    fn add_keys(&mut self, keys: &Keys, counts: Counts) {
        let mut block = Block::default();
        for start in (0..keys.len()).step_by(BLOCK) {
            let chunk = keys.sub(start..(start + BLOCK).min(keys.len()));
            block.len = 0;
            // The closure is inlined into each kind of batch: a call per item costs more than the
            // hash itself.
            let hash = Xxh3x128::new(self.seed);
            match counts {
                Counts::Each(count) => chunk.for_each_hash(
                    &hash,
                    #[inline(always)]
                    |h| block.push(h, count),
                ),
                Counts::PerItem(per_item) => {
                    let mut counts = per_item[start..].iter();
                    chunk.for_each_hash(
                        &hash,
                        #[inline(always)]
                        |h| block.push(h, counts.next().copied().unwrap_or(0)),
                    )
                }
            }
            self.add_block(&block);
        }
    }

    /// Adds a block of hashed items, one item (all its rows) at a time. (Going row by row over the
    /// block, which keeps one row in the L1 cache, measured slower: a row of a few KB is no cache
    /// miss either way, and each item's hashes are then loaded `depth` times.)
    fn add_block(&mut self, block: &Block) {
        if self.conservative {
            for (&h, &count) in block.hashes[..block.len].iter().zip(&block.counts) {
                self.add_hashed(h, count);
            }
            return;
        }
        // The usual depths get a loop unrolled over the rows: the loop's own bookkeeping was a
        // fifth of an update's instructions.
        match self.depth {
            4 => self.add_rows::<4>(block),
            5 => self.add_rows::<5>(block),
            6 => self.add_rows::<6>(block),
            7 => self.add_rows::<7>(block),
            _ => {
                for (&h, &count) in block.hashes[..block.len].iter().zip(&block.counts) {
                    self.add_hashed(h, count);
                }
            }
        }
    }

    /// Standard update of a block into exactly `D` rows.
    fn add_rows<const D: usize>(&mut self, block: &Block) {
        let width = self.width;
        let mut all = self.counters.chunks_exact_mut(width as usize);
        let mut rows: [&mut [u64]; D] = std::array::from_fn(|_| all.next().unwrap_or_default());
        for (&(h1, h2), &count) in block.hashes[..block.len].iter().zip(&block.counts) {
            let mut h = h1;
            for row in rows.iter_mut() {
                row[reduce(h, width)] += count;
                h = h.wrapping_add(h2);
            }
        }
    }

    /// The estimate of an item by its 128-bit hash (see [`CountMinSketch::hash`]).
    #[inline(always)]
    pub fn estimate_hashed(&self, (h1, h2): (u64, u64)) -> u64 {
        let width = self.width as usize;
        let mut min = u64::MAX;
        let mut h = h1;
        for row in 0..self.depth as usize {
            min = min.min(self.counters[row * width + reduce(h, self.width)]);
            h = h.wrapping_add(h2);
        }
        min
    }

    /// The estimated count of an item: never below its true count.
    pub fn estimate(&self, item: &[u8]) -> u64 {
        self.estimate_hashed(self.hash(item))
    }

    /// Estimates of a batch of items, into `out` (one slot per item), a block at a time; large batches
    /// are shared between threads.
    pub fn estimate_many(&self, keys: &Keys, out: &mut [u64]) -> Result<()> {
        if out.len() != keys.len() {
            return Err(SketchError::input("one output slot per item is needed"));
        }
        let plan = plan(keys.len());
        let threads = plan.threads;
        if threads > 1 {
            // Reading only: each thread estimates its share of the batch into its share of `out`.
            parallel::for_each_share_of(out, threads, |range, out| {
                self.estimate_into(&keys.sub(range), out)
            });
        } else {
            self.estimate_into(keys, out);
        }
        Ok(())
    }

    fn estimate_into(&self, keys: &Keys, out: &mut [u64]) {
        let mut block = Block::default();
        let hash = Xxh3x128::new(self.seed);
        for (start, out) in (0..keys.len()).step_by(BLOCK).zip(out.chunks_mut(BLOCK)) {
            block.len = 0;
            keys.sub(start..start + out.len())
                .for_each_hash(&hash, |h| block.push(h, 0));
            self.estimate_block(&block, out);
        }
    }

    fn estimate_block(&self, block: &Block, out: &mut [u64]) {
        out.iter_mut().for_each(|o| *o = u64::MAX);
        for (r, row) in self.counters.chunks_exact(self.width as usize).enumerate() {
            let r = r as u64;
            for (&(h1, h2), o) in block.hashes[..block.len].iter().zip(out.iter_mut()) {
                *o = (*o).min(row[reduce(h1.wrapping_add(r.wrapping_mul(h2)), self.width)]);
            }
        }
    }

    fn check_compatible(&self, other: &Self) -> Result<()> {
        SketchError::check_same("width", self.width, other.width)?;
        SketchError::check_same("depth", self.depth, other.depth)?;
        SketchError::check_same("seed", self.seed, other.seed)?;
        SketchError::check_same("conservative", self.conservative, other.conservative)
    }

    /// Adds `other` into `self`, counter by counter. For conservative sketches the sum is still an
    /// upper bound of every count, but loses the extra accuracy of conservative update.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        self.check_compatible(other)?;
        let total = self.reserve_total(other.total)?;
        for (a, b) in self.counters.iter_mut().zip(&other.counters) {
            *a += b; // <= total
        }
        self.total = total;
        Ok(())
    }

    /// Forgets every count.
    pub fn clear(&mut self) {
        self.counters.iter_mut().for_each(|c| *c = 0);
        self.total = 0;
    }

    /// Heap and inline memory, in bytes.
    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Self>() + self.counters.capacity() * std::mem::size_of::<u64>()
    }

    /// `width u32, depth u32, seed u64, flags u8 (bit 0 conservative), total u64, counters u64...`
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(Kind::CountMin, 25 + 8 * self.counters.len());
        w.u32(self.width);
        w.u32(self.depth);
        w.u64(self.seed);
        w.u8(u8::from(self.conservative));
        w.u64(self.total);
        for &c in &self.counters {
            w.u64(c);
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
        let mut r = Reader::new(bytes, Kind::CountMin)?;
        let width = r.u32("width")?;
        let depth = r.u32("depth")?;
        let seed = r.u64("seed")?;
        let flags = r.u8("flags")?;
        check(flags <= 1, || format!("unknown flags {flags:#x}"))?;
        let total = r.u64("total")?;
        let n = u64::from(width).saturating_mul(u64::from(depth)); // u32 × u32: no saturation
        check(
            (1..=MAX_COUNTERS).contains(&n) && (1..=64).contains(&depth),
            || format!("width {width} × depth {depth} is out of range"),
        )?;
        // Check the length before allocating: the input must hold every counter.
        let raw = r.take_n(usize::try_from(n).unwrap_or(usize::MAX), 8, "the counters")?;
        r.finish()?;
        let mut sketch = CountMinSketch::new(u64::from(width), u64::from(depth), seed, flags == 1)?;
        for (c, chunk) in sketch.counters.iter_mut().zip(raw.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *c = u64::from_le_bytes(b);
        }
        // Every row adds up to the total under standard update; conservative update raises a row by
        // at most the count added, so its rows add up to at most the total.
        for (row, counters) in sketch.counters.chunks_exact(width as usize).enumerate() {
            let valid = match counters.iter().try_fold(0u64, |acc, &c| acc.checked_add(c)) {
                Some(sum) if sketch.conservative => sum <= total,
                Some(sum) => sum == total,
                None => false,
            };
            check(valid, || {
                format!("row {row} of counters does not add up to the total {total}")
            })?;
        }
        sketch.total = total;
        Ok(sketch)
    }
}

impl Sketch for CountMinSketch {
    fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
        CountMinSketch::update(self, keys, counts)
    }
    fn merge(&mut self, other: &Self) -> Result<()> {
        CountMinSketch::merge(self, other)
    }
    fn to_bytes(&self) -> Vec<u8> {
        CountMinSketch::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        CountMinSketch::from_bytes(bytes)
    }
    fn memory_size(&self) -> usize {
        CountMinSketch::memory_size(self)
    }
    fn clear(&mut self) {
        CountMinSketch::clear(self)
    }
    /// Counting an item (a 128-bit hash, `depth` counters) next to reading it from a list.
    fn item_cost(&self) -> crate::parallel::Cost {
        crate::parallel::Cost(85)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        assert!(CountMinSketch::new(0, 5, 0, false).is_err());
        assert!(CountMinSketch::new(10, 0, 0, false).is_err());
        assert!(CountMinSketch::new(1 << 27, 4, 0, false).is_err());
        let s = CountMinSketch::from_error(0.001, 0.01, 0, false).unwrap();
        assert_eq!((s.width(), s.depth()), (2719, 5));
        assert!(CountMinSketch::from_error(0.0, 0.5, 0, false).is_err());
        assert!(CountMinSketch::from_error(0.5, 1.0, 0, false).is_err());
    }

    #[test]
    fn counts_and_overflow() {
        let mut s = CountMinSketch::new(64, 4, 1, false).unwrap();
        s.add(b"a", 3).unwrap();
        s.add(b"b", 1).unwrap();
        assert!(s.estimate(b"a") >= 3);
        assert_eq!(s.total(), 4);
        assert!(matches!(
            s.add(b"c", u64::MAX),
            Err(SketchError::Overflow { .. })
        ));
        assert_eq!(s.total(), 4); // unchanged
        let keys = Keys::I64(&[1, 2, 3]);
        assert!(s.update(&keys, Counts::PerItem(&[1, 2])).is_err());
        s.update(&keys, Counts::PerItem(&[1, 0, 2])).unwrap();
        assert_eq!(s.total(), 7);
    }

    #[test]
    fn merge_equals_whole_and_round_trips() {
        let mut a = CountMinSketch::new(32, 3, 9, false).unwrap();
        let mut b = a.clone();
        let mut whole = a.clone();
        for i in 0..100i64 {
            let item = i.to_le_bytes();
            if i % 2 == 0 {
                a.add(&item, 1).unwrap()
            } else {
                b.add(&item, 1).unwrap()
            }
            whole.add(&item, 1).unwrap();
        }
        a.merge(&b).unwrap();
        assert_eq!(a, whole);
        assert_eq!(CountMinSketch::from_bytes(&a.to_bytes()).unwrap(), a);
        let other = CountMinSketch::new(32, 3, 8, false).unwrap();
        assert!(a.merge(&other).unwrap_err().to_string().contains("seed"));
        let mut bytes = a.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(CountMinSketch::from_bytes(&bytes).is_err());
        assert!(CountMinSketch::from_bytes(&a.to_bytes()[..40]).is_err());
    }

    #[test]
    fn batch_update_equals_one_by_one() {
        let items: Vec<i64> = (0..1000).map(|i| (i * 7919) % 301).collect();
        let counts: Vec<u64> = (0..1000).map(|i| i % 5).collect();
        for conservative in [false, true] {
            let mut batch = CountMinSketch::new(61, 4, 3, conservative).unwrap();
            let mut single = batch.clone();
            batch
                .update(&Keys::I64(&items), Counts::PerItem(&counts))
                .unwrap();
            for (item, &count) in items.iter().zip(&counts) {
                single.add(&item.to_le_bytes(), count).unwrap();
            }
            assert_eq!(batch, single);
            let mut out = vec![0; items.len()];
            batch.estimate_many(&Keys::I64(&items), &mut out).unwrap();
            assert!(items
                .iter()
                .zip(&out)
                .all(|(i, &e)| e == batch.estimate(&i.to_le_bytes())));
        }
    }

    #[test]
    fn large_batches_on_several_threads_equal_one_by_one() {
        let items: Vec<u64> = (0..300_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 50_000)
            .collect();
        let counts: Vec<u64> = (0..300_000u64).map(|i| i % 3).collect();
        let mut batch = CountMinSketch::new(1000, 5, 1, false).unwrap();
        batch
            .update(&Keys::U64(&items), Counts::PerItem(&counts))
            .unwrap();
        let mut single = CountMinSketch::new(1000, 5, 1, false).unwrap();
        single.add_keys(&Keys::U64(&items), Counts::PerItem(&counts));
        single.total = counts.iter().sum();
        assert_eq!(batch, single);
    }

    #[test]
    fn conservative_never_underestimates() {
        let mut s = CountMinSketch::new(8, 2, 0, true).unwrap();
        for i in 0..200u64 {
            s.add(&(i % 17).to_le_bytes(), i % 3 + 1).unwrap();
        }
        let mut truth = [0u64; 17];
        for i in 0..200u64 {
            truth[(i % 17) as usize] += i % 3 + 1;
        }
        for (item, &t) in truth.iter().enumerate() {
            assert!(s.estimate(&(item as u64).to_le_bytes()) >= t);
        }
        assert_eq!(CountMinSketch::from_bytes(&s.to_bytes()).unwrap(), s);
    }
}
