//! HyperLogLog, the family behind `sketchy.HyperLogLog`: sketchy's own ([`xxh3`]: XXH3 hashing,
//! sparse mode, HIP and Ertl's estimator) or DataSketches' ([`datasketches`], `hash="datasketches"`,
//! whose images Spark, Druid and Trino read: the image code in [`ds_image`], the estimators in
//! `ds_estimate`). The two hash items differently, so they never merge.

pub mod datasketches;
mod ds_estimate;
pub mod ds_image;
mod ds_tables;
mod estimate;
pub mod xxh3;

use crate::codec::{check, Kind, Reader, Writer};
use crate::error::{Result, SketchError};
use crate::hash::item_hash64;
use crate::items::{ItemKind, Keys};
use crate::parallel::Cost;
use crate::sketch::{Counts, Sketch};
use datasketches::DsHll;
use ds_image::Target;
use xxh3::Xxh3Hll;

/// A HyperLogLog of either hashing.
#[derive(Clone, Debug, PartialEq)]
pub enum HyperLogLog {
    /// sketchy's own (kind 3).
    Xxh3(Xxh3Hll),
    /// DataSketches' `hll_sketch` (kind 6).
    DataSketches(DsHll),
}

/// How items are hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hashing {
    /// XXH3 with the sketch's seed.
    Xxh3,
    /// MurmurHash3 with seed 9001, as DataSketches hashes.
    DataSketches,
}

crate::named!(Hashing, "hash", { Xxh3 => "xxh3", DataSketches => "datasketches" });

/// One item hashed as a sketch hashes it, before the sketch is locked ([`HyperLogLog::add_hashed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hashed {
    /// The item's 64-bit XXH3.
    Xxh3(u64),
    /// The item's DataSketches coupon.
    Coupon(u32),
    /// Nothing to add: an empty str or bytes, which DataSketches does not count.
    NoItem,
}

impl Hashing {
    /// [`Hashing::hash`] for [`Hashing::Xxh3`], as a plain `u64` (every kind of item hashes its
    /// canonical bytes): a caller that knows the hashing keeps the hash in a register.
    #[inline(always)]
    pub fn xxh3_hash(seed: u64, bytes: &[u8]) -> u64 {
        item_hash64(bytes, seed)
    }

    /// The hash of one item (its kind and canonical bytes) for a sketch of this hashing and seed.
    #[inline]
    pub fn hash(self, seed: u64, kind: ItemKind, bytes: &[u8]) -> Hashed {
        match self {
            Hashing::Xxh3 => Hashed::Xxh3(Hashing::xxh3_hash(seed, bytes)),
            Hashing::DataSketches => {
                datasketches::item_coupon(kind, bytes).map_or(Hashed::NoItem, Hashed::Coupon)
            }
        }
    }
}

impl HyperLogLog {
    /// An empty sketch of `2**precision` registers.
    pub fn new(precision: i64, seed: u64, hashing: Hashing) -> Result<Self> {
        match hashing {
            Hashing::Xxh3 => Ok(HyperLogLog::Xxh3(Xxh3Hll::new(precision, seed)?)),
            Hashing::DataSketches if seed != 0 => Err(SketchError::parameter(
                "seed",
                "DataSketches hashing has its own fixed seed (9001): leave seed at 0",
            )),
            Hashing::DataSketches => Ok(HyperLogLog::DataSketches(DsHll::new(precision)?)),
        }
    }

    /// Adds an item hashed by [`Hashing::hash`] with this sketch's hashing and seed.
    #[inline]
    pub fn add_hashed(&mut self, hashed: Hashed) {
        match (self, hashed) {
            (HyperLogLog::Xxh3(h), Hashed::Xxh3(hash)) => h.add_hash(hash),
            (HyperLogLog::DataSketches(d), Hashed::Coupon(c)) => d.add_coupon(c),
            _ => {}
        }
    }

    /// How items are hashed.
    pub fn hashing(&self) -> Hashing {
        match self {
            HyperLogLog::Xxh3(_) => Hashing::Xxh3,
            HyperLogLog::DataSketches(_) => Hashing::DataSketches,
        }
    }
    /// The precision: `2**precision` registers (DataSketches' lg_k).
    pub fn precision(&self) -> u8 {
        match self {
            HyperLogLog::Xxh3(h) => h.precision(),
            HyperLogLog::DataSketches(d) => d.lg_k(),
        }
    }
    /// The seed of the item hash (0 for DataSketches hashing, whose seed is fixed).
    pub fn seed(&self) -> u64 {
        match self {
            HyperLogLog::Xxh3(h) => h.seed(),
            HyperLogLog::DataSketches(_) => 0,
        }
    }
    /// The standard error of HyperLogLog at this precision, `1.04 / √m`.
    pub fn relative_error(&self) -> f64 {
        1.04 / ((1u64 << self.precision()) as f64).sqrt()
    }
    /// Whether the sketch still keeps its items' hashes (small cardinalities).
    pub fn is_sparse(&self) -> bool {
        match self {
            HyperLogLog::Xxh3(h) => h.is_sparse(),
            HyperLogLog::DataSketches(d) => d.is_sparse(),
        }
    }
    /// The estimated number of distinct items.
    pub fn estimate(&self) -> f64 {
        match self {
            HyperLogLog::Xxh3(h) => h.estimate(),
            HyperLogLog::DataSketches(d) => d.estimate(),
        }
    }
    /// For DataSketches hashing, DataSketches' own bounds (`get_lower_bound(n)`, ...).
    pub fn estimate_bounds(&self, num_std: i64) -> Result<(f64, f64)> {
        match self {
            HyperLogLog::Xxh3(h) => h.estimate_bounds(num_std),
            HyperLogLog::DataSketches(d) => d.bounds(num_std),
        }
    }
    /// Adds every item of a batch.
    pub fn update(&mut self, keys: &Keys) {
        match self {
            HyperLogLog::Xxh3(h) => h.update(keys),
            HyperLogLog::DataSketches(d) => d.update(keys),
        }
    }
    /// Adds `other`'s items: a sketch of another hashing never merges.
    pub fn merge(&mut self, other: &HyperLogLog) -> Result<()> {
        match (self, other) {
            (HyperLogLog::Xxh3(a), HyperLogLog::Xxh3(b)) => a.merge(b),
            (HyperLogLog::DataSketches(a), HyperLogLog::DataSketches(b)) => a.merge(b),
            (a, b) => SketchError::check_same("hash", a.hashing().name(), b.hashing().name()),
        }
    }
    /// Forgets every item.
    pub fn clear(&mut self) {
        match self {
            HyperLogLog::Xxh3(h) => h.clear(),
            HyperLogLog::DataSketches(d) => d.clear(),
        }
    }
    /// The bytes it holds.
    pub fn memory_size(&self) -> usize {
        match self {
            HyperLogLog::Xxh3(h) => h.memory_size(),
            HyperLogLog::DataSketches(d) => d.memory_size(),
        }
    }
    /// sketchy's HyperLogLog as before (kind 3); a DataSketches one as kind 6, whose payload is
    /// its updatable HLL_8 image (all its state: coupons in order, registers, HIP).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            HyperLogLog::Xxh3(h) => h.to_bytes(),
            HyperLogLog::DataSketches(d) => {
                let image = d.to_datasketches(Target::Hll8, false);
                let mut w = Writer::new(Kind::DsHyperLogLog, image.len());
                w.raw(&image);
                w.finish()
            }
        }
    }
    /// The sketch `to_bytes` wrote, of kind 3 or 6.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.get(5) == Some(&(Kind::DsHyperLogLog as u8)) {
            let mut r = Reader::new(bytes, Kind::DsHyperLogLog)?;
            let image = r.take(r.remaining(), "image")?;
            let d = DsHll::from_datasketches(image)?;
            check(d.to_datasketches(Target::Hll8, false) == image, || {
                "not the image this sketch writes".into()
            })?;
            return Ok(HyperLogLog::DataSketches(d));
        }
        Ok(HyperLogLog::Xxh3(Xxh3Hll::from_bytes(bytes)?))
    }
}

impl Sketch for HyperLogLog {
    /// HyperLogLog counting ignores how often an item comes: any positive count adds it once.
    fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
        crate::sketch::each_counted_run(keys, counts, |run| HyperLogLog::update(self, run))
    }
    fn merge(&mut self, other: &Self) -> Result<()> {
        HyperLogLog::merge(self, other)
    }
    /// The items' hashes (XXH3) or coupons (DataSketches), on all cores.
    fn rows(&self, keys: &Keys) -> Option<Vec<u64>> {
        Some(match self {
            HyperLogLog::Xxh3(h) => h.hashes(keys),
            HyperLogLog::DataSketches(_) => {
                let mut coupons = Vec::with_capacity(keys.len());
                datasketches::for_each_coupon_or_none(keys, |c| coupons.push(u64::from(c)));
                coupons
            }
        })
    }
    fn update_rows(&mut self, rows: &[u64]) -> Result<()> {
        match self {
            HyperLogLog::Xxh3(h) => h.update_hashes(rows),
            HyperLogLog::DataSketches(d) => rows
                .iter()
                .filter(|&&c| c != 0)
                .for_each(|&c| d.add_coupon(c as u32)),
        }
        Ok(())
    }
    fn to_bytes(&self) -> Vec<u8> {
        HyperLogLog::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        HyperLogLog::from_bytes(bytes)
    }
    fn memory_size(&self) -> usize {
        HyperLogLog::memory_size(self)
    }
    fn clear(&mut self) {
        HyperLogLog::clear(self)
    }
    /// Adding an item (a 64-bit hash, a register) next to reading it from a list.
    fn item_cost(&self) -> Cost {
        Cost(50)
    }
}
