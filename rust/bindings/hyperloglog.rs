//! `sketchy.HyperLogLog`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use sketchy_core::hll::datasketches::DsHll;
use sketchy_core::hll::ds_image::Target;
use sketchy_core::hll::{Hashed, Hashing, HyperLogLog};

use crate::args::{bytes_arg, name_arg, seed_arg};
use crate::convert::item::with_item;
use crate::errors::IntoPyResult;
use crate::shared::Shared;
use crate::sketch::{sketch_class, update_once};

/// The number of distinct items of a stream, in ``2**precision`` registers.
///
/// A 64-bit XXH3 hash per item picks a register (its top bits) and a rank (the leading zeros of the
/// other bits); a register keeps the largest rank. While small, the sketch keeps the hashes
/// themselves (sparse, near exact, a few bytes per item); then dense 8-bit registers. A sketch of one
/// stream estimates with HIP (relative error about ``0.83/√m``); after merging it uses Ertl's
/// improved estimator (``1.04/√m``), with no mid-range bias and no empirical tables.
///
/// Parameters
/// ----------
/// precision : int
///     ``m = 2**precision`` registers, precision in [4, 18] (to 21 with DataSketches hashing);
///     precision 14 takes 16 KiB.
/// seed : int
///     Seed of the item hash; sketches merge only with the same seed.
/// hash : str
///     ``"xxh3"`` (sketchy's), or ``"datasketches"``: items hashed, kept and estimated as Apache
///     DataSketches' ``hll_sketch`` does (MurmurHash3 with seed 9001 of the same bytes: an
///     empty str is no item; list, set and register modes; HIP, then DataSketches' composite
///     estimator after a union), so that ``to_datasketches()`` writes the image Spark, Druid,
///     Trino and ``datasketches.hll_sketch.deserialize`` read, with the same estimate.
///
/// Merging sketches of different precisions gives the lower precision, register for register equal
/// to a sketch built at that precision directly; with ``hash="xxh3"`` the merge of the sketches of
/// the parts of a stream equals (``==``: precision, seed and registers) the sketch of the whole
/// stream (with ``hash="datasketches"``, the registers: its HIP state depends on the order). Items hash as in
/// :func:`sketchy.hash_many`: ``2**63 + 1`` and ``2**63 + 2`` are two items, never rounded.
///
/// Examples
/// --------
/// >>> from sketchy import HyperLogLog
/// >>> hll = HyperLogLog(precision=12)
/// >>> hll.update(range(100_000))
/// >>> hll.add("one more")
/// >>> len(hll), hll.relative_error  # 100,001 distinct items, within 1.04/√m
/// (98206, 0.01625)
/// >>> low, high = hll.estimate_bounds(num_std=2)  # ~95% of sketches cover the truth
/// >>> low < 100_001 < high
/// True
/// >>> both = hll | HyperLogLog(precision=10)  # merges at the lower precision
/// >>> both.precision
/// 10
///
/// References
/// ----------
/// Flajolet, Fusy, Gandouet and Meunier, "HyperLogLog: the analysis of a near-optimal cardinality
/// estimation algorithm", AofA 2007. Heule, Nunkesser and Hall, "HyperLogLog in Practice", EDBT 2013
/// (sparse representation). Cohen, "All-Distances Sketches, Revisited: HIP Estimators for Massive
/// Graphs Analysis", TKDE 2015. Ertl, "New cardinality estimation algorithms for HyperLogLog
/// sketches", arXiv:1702.01284, 2017.
#[pyclass(module = "sketchy._native", name = "HyperLogLog", frozen)]
pub struct PyHyperLogLog {
    pub(crate) inner: Shared<HyperLogLog>,
    /// The sketch's seed and hashing (they never change): `add` hashes its item before it takes
    /// the lock.
    seed: u64,
    hashing: Hashing,
}

#[pymethods]
impl PyHyperLogLog {
    #[new]
    #[pyo3(text_signature = "(precision=14, *, seed=0, hash='xxh3')", signature = (precision = 14, *, seed = None, hash = "xxh3"))]
    fn new(precision: i64, seed: Option<&Bound<'_, PyAny>>, hash: &str) -> PyResult<Self> {
        let seed = seed_arg(seed, u64::MAX)?;
        Ok(HyperLogLog::new(precision, seed, name_arg(hash)?)
            .py()?
            .into())
    }

    /// ``"xxh3"`` or ``"datasketches"``: how items are hashed.
    #[getter]
    fn hash(&self) -> &'static str {
        self.hashing.name()
    }

    /// The image ``datasketches.hll_sketch.deserialize`` (and Spark's ``hll_sketch_estimate``,
    /// Druid, Trino...) reads: ``target`` ``"HLL_4"``, ``"HLL_6"`` or ``"HLL_8"``, compact
    /// (``serialize_compact()``) or updatable (``serialize_updatable()``, what Spark writes). Only
    /// for ``hash="datasketches"``: an XXH3 sketch's registers mean nothing to DataSketches.
    #[pyo3(signature = (target = "HLL_4", *, compact = true))]
    fn to_datasketches<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        compact: bool,
    ) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let target: Target = name_arg(target)?;
        let image = match &*self.inner.lock(py)? {
            HyperLogLog::DataSketches(d) => d.to_datasketches(target, compact),
            HyperLogLog::Xxh3(_) => {
                return Err(PyValueError::new_err(
                    "hash: a sketch of hash='xxh3' has no DataSketches image; build it with \
                     HyperLogLog(precision, hash='datasketches') from its first item",
                ))
            }
        };
        Ok(pyo3::types::PyBytes::new(py, &image))
    }

    /// A sketch (``hash="datasketches"``) from any image ``datasketches`` 5.x writes: LIST, SET
    /// or HLL mode, HLL_4, HLL_6 or HLL_8, compact or updatable, lg_k 4 to 21. It keeps taking
    /// updates. ValueError for anything else.
    #[classmethod]
    fn from_datasketches(
        _cls: &Bound<'_, pyo3::types::PyType>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let data = bytes_arg(data)?;
        Ok(HyperLogLog::DataSketches(DsHll::from_datasketches(&data).py()?).into())
    }

    #[getter]
    fn precision(&self, py: Python<'_>) -> PyResult<u8> {
        Ok(self.inner.lock(py)?.precision())
    }
    #[getter]
    fn seed(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.inner.lock(py)?.seed())
    }
    /// The standard error of HyperLogLog at this precision, ``1.04/√m`` (HIP does better on one
    /// stream: ``estimate_bounds`` uses the error actually tracked).
    #[getter]
    fn relative_error(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.lock(py)?.relative_error())
    }
    /// Whether the sketch still holds its hashes (small cardinalities, near-exact estimates).
    #[getter]
    fn is_sparse(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.inner.lock(py)?.is_sparse())
    }

    /// Adds one item (str, bytes, int or float).
    fn add(&self, item: &Bound<'_, PyAny>) -> PyResult<()> {
        // Hashed before the lock is taken: concurrent adds wait for a register update only. XXH3's
        // hash comes back as a u64, not a `Hashed` (returned through memory: 3 ns an add).
        let seed = self.seed;
        let hashed = match self.hashing {
            Hashing::Xxh3 => {
                with_item(item, None, |_, bytes| Hashing::xxh3_hash(seed, bytes)).map(Hashed::Xxh3)
            }
            Hashing::DataSketches => with_item(item, None, |kind, bytes| {
                Hashing::DataSketches.hash(seed, kind, bytes)
            }),
        }?;
        self.inner.lock(item.py())?.add_hashed(hashed);
        Ok(())
    }

    /// Adds every item of a batch (list, numpy array, pandas Series, Arrow array...). All or
    /// nothing: after an error (a bad item) the sketch is as it was.
    fn update(&self, items: &Bound<'_, PyAny>) -> PyResult<()> {
        update_once(&self.inner, items)
    }

    /// The estimated number of distinct items.
    fn estimate(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.lock(py)?.estimate())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.inner.lock(py)?.estimate().round() as usize)
    }

    /// ``(low, high)``: the estimate ± ``num_std`` standard errors (1, 2 or 3: about 68%, 95% and
    /// 99.7% of sketches cover the true count).
    #[pyo3(signature = (num_std = 1))]
    fn estimate_bounds(&self, py: Python<'_>, num_std: i64) -> PyResult<(f64, f64)> {
        self.inner.lock(py)?.estimate_bounds(num_std).py()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.lock(py)?;
        let hash = match s.hashing() {
            Hashing::Xxh3 => String::new(),
            Hashing::DataSketches => ", hash='datasketches'".into(),
        };
        Ok(format!(
            "HyperLogLog(precision={}, seed={}{hash}, estimate={:.1})",
            s.precision(),
            s.seed(),
            s.estimate()
        ))
    }
}

impl From<HyperLogLog> for PyHyperLogLog {
    fn from(sketch: HyperLogLog) -> Self {
        PyHyperLogLog {
            seed: sketch.seed(),
            hashing: sketch.hashing(),
            inner: Shared::new(sketch),
        }
    }
}

sketch_class!(PyHyperLogLog, HyperLogLog, __or__, __ior__, own_from);
