//! `sketchy.CountMinSketch`.

use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyType;
use sketchy_core::count_min::CountMinSketch;

use sketchy_core::Sketch;

use crate::args::{count_arg, seed_arg, size_arg};
use crate::convert::batch::Batch;
use crate::convert::item::with_item;
use crate::errors::IntoPyResult;
use crate::shared::Shared;
use crate::sketch::{sketch_class, update_counted};

/// Frequencies of the items of a stream in ``width × depth`` counters, never below the true count.
///
/// Each of the ``depth`` rows sends an item to one of its ``width`` counters (rows are independent:
/// double hashing on a seeded 128-bit XXH3), adds its count there, and the estimate is the smallest
/// of the item's counters. With ``ε = e / width`` and ``δ = e^-depth``, an estimate exceeds the true
/// count by more than ``ε · total`` with probability at most ``δ`` (Cormode and Muthukrishnan).
/// Unlike ``collections.Counter`` its memory is fixed, whatever the number of distinct items.
///
/// Parameters
/// ----------
/// width : int
///     Counters per row, ≥ 1. ``from_error`` picks it from the error wanted.
/// depth : int
///     Rows, in [1, 64]. ``width × depth`` is capped at 2**28 counters (2 GiB).
/// seed : int
///     Seed of the item hash; sketches merge only with the same seed.
/// conservative : bool
///     Conservative update (Estan and Varghese): raise an item's counters only as far as needed.
///     Estimates stay upper bounds and are tighter on skewed streams; a merge of conservative
///     sketches adds counters and so loses that extra accuracy.
///
/// Counters are 64-bit and never wrap: an update that would take ``total`` past 2**64 - 1 raises
/// ``OverflowError`` and changes nothing. Items hash as in :func:`sketchy.hash_many`, so ``add(5)``
/// and ``update(numpy.array([5], dtype=numpy.int32))`` count the same item.
///
/// Examples
/// --------
/// >>> from sketchy import CountMinSketch
/// >>> cms = CountMinSketch.from_error(epsilon=0.001, delta=0.01)
/// >>> cms.width, cms.depth
/// (2719, 5)
/// >>> cms.update(["apple", "pear", "apple", "fig"])
/// >>> cms.add("apple", 10)
/// >>> cms["apple"], cms["pear"], cms["kiwi"]
/// (12, 1, 0)
/// >>> cms.total, cms.error_bound <= 0.001 * cms.total
/// (14, True)
///
/// References
/// ----------
/// Cormode and Muthukrishnan, "An Improved Data Stream Summary: The Count-Min Sketch and its
/// Applications", J. Algorithms 55(1), 2005. Estan and Varghese, "New Directions in Traffic
/// Measurement and Accounting", SIGCOMM 2002. Kirsch and Mitzenmacher, "Less Hashing, Same
/// Performance", ESA 2006.
#[pyclass(module = "sketchy._native", name = "CountMinSketch", frozen)]
pub struct PyCountMinSketch {
    pub(crate) inner: Shared<CountMinSketch>,
}

#[pymethods]
impl PyCountMinSketch {
    #[new]
    #[pyo3(text_signature = "(width=2048, depth=5, *, seed=0, conservative=False)", signature = (width = 2048, depth = 5, *, seed = None, conservative = false))]
    fn new(
        width: i64,
        depth: i64,
        seed: Option<&Bound<'_, PyAny>>,
        conservative: bool,
    ) -> PyResult<Self> {
        let seed = seed_arg(seed, u64::MAX)?;
        Ok(CountMinSketch::new(
            size_arg("width", width)?,
            size_arg("depth", depth)?,
            seed,
            conservative,
        )
        .py()?
        .into())
    }

    /// The sketch whose estimates exceed the true counts by more than ``epsilon · total`` with
    /// probability at most ``delta``: ``width = ⌈e/ε⌉``, ``depth = ⌈ln(1/δ)⌉``.
    #[classmethod]
    #[pyo3(signature = (epsilon, delta, *, seed = None, conservative = false), text_signature = "(epsilon, delta, *, seed=0, conservative=False)")]
    fn from_error(
        _cls: &Bound<'_, PyType>,
        epsilon: f64,
        delta: f64,
        seed: Option<&Bound<'_, PyAny>>,
        conservative: bool,
    ) -> PyResult<Self> {
        let seed = seed_arg(seed, u64::MAX)?;
        Ok(
            CountMinSketch::from_error(epsilon, delta, seed, conservative)
                .py()?
                .into(),
        )
    }

    #[getter]
    fn width(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.inner.lock(py)?.width())
    }
    #[getter]
    fn depth(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.inner.lock(py)?.depth())
    }
    #[getter]
    fn seed(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.inner.lock(py)?.seed())
    }
    #[getter]
    fn conservative(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.inner.lock(py)?.conservative())
    }
    /// The sum of all counts added.
    #[getter]
    fn total(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.inner.lock(py)?.total())
    }
    /// ε = e / width.
    #[getter]
    fn epsilon(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.lock(py)?.epsilon())
    }
    /// δ = e^-depth.
    #[getter]
    fn delta(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.lock(py)?.delta())
    }
    /// ε · total: with probability ≥ 1 - δ, an estimate exceeds its true count by at most this.
    #[getter]
    fn error_bound(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.lock(py)?.error_bound())
    }

    /// Counts ``count`` more occurrences of ``item`` (str, bytes, int or float).
    #[pyo3(signature = (item, count = None))]
    fn add(&self, item: &Bound<'_, PyAny>, count: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let count = count.map(count_arg).transpose()?.unwrap_or(1);
        let py = item.py();
        with_item(item, None, |_, bytes| {
            self.inner.lock(py)?.add(bytes, count).py()
        })?
    }

    /// Counts every item of a batch (list, numpy array, pandas Series, Arrow array...), once each,
    /// ``counts`` times each (an int), or ``counts[i]`` times item ``i``. All or nothing: after an
    /// error (a bad item or count) the sketch is as it was.
    #[pyo3(signature = (items, counts = None))]
    fn update(&self, items: &Bound<'_, PyAny>, counts: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        update_counted(&self.inner, items, counts)
    }

    fn __getitem__(&self, item: &Bound<'_, PyAny>) -> PyResult<u64> {
        let py = item.py();
        with_item(item, None, |_, bytes| {
            Ok(self.inner.lock(py)?.estimate(bytes))
        })?
    }

    /// The estimates of a batch of items, as a ``uint64`` array.
    fn estimate_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let batch = Batch::extract(items)?;
        let mut out = vec![0u64; batch.len()?];
        let sketch = self.inner.lock_for_python(py)?;
        let inner: &CountMinSketch = &sketch;
        batch.pipelined(py, inner.item_cost(), |start, keys| {
            inner.estimate_many(keys, &mut out[start..start + keys.len()])
        })?;
        Ok(out.into_pyarray(py).into_any())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.lock(py)?;
        Ok(format!(
            "CountMinSketch(width={}, depth={}, seed={}, conservative={}, total={})",
            s.width(),
            s.depth(),
            s.seed(),
            if s.conservative() { "True" } else { "False" },
            s.total()
        ))
    }
}

sketch_class!(PyCountMinSketch, CountMinSketch, __add__, __iadd__);
