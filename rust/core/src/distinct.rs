//! The sketch behind `sketchy.HyperLogLog`: sketchy's own HyperLogLog (XXH3 hashing, sparse mode,
//! HIP and Ertl's estimator) or DataSketches' (`hash="datasketches"`, whose images Spark, Druid
//! and Trino read). The two hash items differently, so they never merge.

use crate::count_min::Counts;
use crate::ds_hll::DsHll;
use crate::error::{Result, SketchError};
use crate::format::{check, Kind, Reader, Writer};
use crate::hll::HyperLogLog;
use crate::keys::Keys;
use crate::sketch::Sketch;

#[derive(Clone, Debug, PartialEq)]
pub enum Distinct {
    Xxh3(HyperLogLog),
    DataSketches(DsHll),
}

/// How items are hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hashing {
    Xxh3,
    DataSketches,
}

impl Hashing {
    pub fn name(self) -> &'static str {
        match self {
            Hashing::Xxh3 => "xxh3",
            Hashing::DataSketches => "datasketches",
        }
    }
}

impl Distinct {
    pub fn new(precision: i64, seed: u64, hashing: Hashing) -> Result<Self> {
        match hashing {
            Hashing::Xxh3 => Ok(Distinct::Xxh3(HyperLogLog::new(precision, seed)?)),
            Hashing::DataSketches if seed != 0 => Err(SketchError::parameter(
                "seed",
                "DataSketches hashing has its own fixed seed (9001): leave seed at 0",
            )),
            Hashing::DataSketches => Ok(Distinct::DataSketches(DsHll::new(precision)?)),
        }
    }

    pub fn hashing(&self) -> Hashing {
        match self {
            Distinct::Xxh3(_) => Hashing::Xxh3,
            Distinct::DataSketches(_) => Hashing::DataSketches,
        }
    }
    pub fn precision(&self) -> u8 {
        match self {
            Distinct::Xxh3(h) => h.precision(),
            Distinct::DataSketches(d) => d.lg_k(),
        }
    }
    pub fn seed(&self) -> u64 {
        match self {
            Distinct::Xxh3(h) => h.seed(),
            Distinct::DataSketches(_) => 0,
        }
    }
    pub fn relative_error(&self) -> f64 {
        1.04 / ((1u64 << self.precision()) as f64).sqrt()
    }
    pub fn is_sparse(&self) -> bool {
        match self {
            Distinct::Xxh3(h) => h.is_sparse(),
            Distinct::DataSketches(d) => d.is_sparse(),
        }
    }
    pub fn estimate(&self) -> f64 {
        match self {
            Distinct::Xxh3(h) => h.estimate(),
            Distinct::DataSketches(d) => d.estimate(),
        }
    }
    /// For DataSketches hashing, DataSketches' own bounds (`get_lower_bound(n)`, ...).
    pub fn estimate_bounds(&self, num_std: i64) -> Result<(f64, f64)> {
        match self {
            Distinct::Xxh3(h) => h.estimate_bounds(num_std),
            Distinct::DataSketches(d) => d.bounds(num_std),
        }
    }
    pub fn update(&mut self, keys: &Keys) {
        match self {
            Distinct::Xxh3(h) => h.update(keys),
            Distinct::DataSketches(d) => d.update(keys),
        }
    }
    pub fn merge(&mut self, other: &Distinct) -> Result<()> {
        match (self, other) {
            (Distinct::Xxh3(a), Distinct::Xxh3(b)) => a.merge(b),
            (Distinct::DataSketches(a), Distinct::DataSketches(b)) => a.merge(b),
            (a, b) => SketchError::check_same("hash", a.hashing().name(), b.hashing().name()),
        }
    }
    pub fn clear(&mut self) {
        match self {
            Distinct::Xxh3(h) => h.clear(),
            Distinct::DataSketches(d) => d.clear(),
        }
    }
    pub fn memory_size(&self) -> usize {
        match self {
            Distinct::Xxh3(h) => h.memory_size(),
            Distinct::DataSketches(d) => d.memory_size(),
        }
    }
    /// sketchy's HyperLogLog as before (kind 3); a DataSketches one as kind 6, whose payload is
    /// its updatable HLL_8 image (all its state: coupons in order, registers, HIP).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Distinct::Xxh3(h) => h.to_bytes(),
            Distinct::DataSketches(d) => {
                let image = d.to_datasketches(crate::ds_hll::Target::Hll8, false);
                let mut w = Writer::new(Kind::DsHll, image.len());
                w.raw(&image);
                w.finish()
            }
        }
    }
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.get(5) == Some(&(Kind::DsHll as u8)) {
            let mut r = Reader::new(bytes, Kind::DsHll)?;
            let image = r.take(r.remaining(), "image")?;
            let d = DsHll::from_datasketches(image)?;
            check(
                d.to_datasketches(crate::ds_hll::Target::Hll8, false) == image,
                || "not the image this sketch writes".into(),
            )?;
            return Ok(Distinct::DataSketches(d));
        }
        Ok(Distinct::Xxh3(HyperLogLog::from_bytes(bytes)?))
    }
}

impl Sketch for Distinct {
    /// Distinct counting ignores how often an item comes: any positive count adds it once.
    fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
        crate::sketch::each_counted_run(keys, counts, |run| Distinct::update(self, run))
    }
    fn merge(&mut self, other: &Self) -> Result<()> {
        Distinct::merge(self, other)
    }
    fn to_bytes(&self) -> Vec<u8> {
        Distinct::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Distinct::from_bytes(bytes)
    }
    fn memory_size(&self) -> usize {
        Distinct::memory_size(self)
    }
    fn clear(&mut self) {
        Distinct::clear(self)
    }
}
