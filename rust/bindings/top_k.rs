//! `sketchy.TopK`.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use sketchy_core::top_k::TopK;

use crate::args::seed_arg;
use crate::args::{count_arg, item_object, size_arg, update_counted};
use crate::errors::IntoPyResult;
use crate::items::with_item;
use crate::sketch_methods::sketch_methods;

/// The most frequent items of a stream, with a guaranteed error: a mergeable Misra–Gries summary.
///
/// The summary tracks at most ``capacity`` items (default ``8·k``). Its error ``error_bound`` is at
/// most ``2·total / (capacity + 1)``, so about ``total / (4k)`` by default, and it holds after any
/// number of merges: every item's true count is within ``bounds(item)``, an interval of width
/// ``error_bound``, and every item seen more than ``error_bound`` times is tracked. While fewer than
/// ``capacity`` distinct items have been seen, counts are exact and ``most_common`` equals
/// ``collections.Counter(stream).most_common``.
///
/// Parameters
/// ----------
/// k : int
///     How many items ``most_common()`` returns by default, in [1, 2**24].
/// seed : int
///     Seed of the item hash; summaries merge only with the same seed, k and capacity.
/// capacity : int, optional
///     Items tracked, in [k, 2**24]; more capacity, smaller error.
///
/// Items come back as the objects that went in: str, bytes, int or float (bytearray and
/// memoryview come back as bytes, bool as int).
///
/// Examples
/// --------
/// >>> from sketchy import TopK
/// >>> top = TopK(2)
/// >>> top.update("the cat sat on the mat with the hat on".split())
/// >>> top.most_common()
/// [('the', 3), ('on', 2)]
/// >>> top["cat"], top.bounds("cat"), top.error_bound
/// (1, (1, 1), 0)
///
/// References
/// ----------
/// Misra and Gries, "Finding Repeated Elements", Science of Computer Programming 2(2), 1982.
/// Agarwal, Cormode, Huang, Phillips, Wei and Yi, "Mergeable Summaries", PODS 2012.
#[pyclass(module = "sketchy._native", name = "TopK", eq)]
#[derive(Clone, PartialEq)]
pub struct PyTopK {
    inner: TopK,
}

#[pymethods]
impl PyTopK {
    #[new]
    #[pyo3(text_signature = "(k, *, seed=0, capacity=None)", signature = (k, *, seed = None, capacity = None))]
    fn new(k: i64, seed: Option<&Bound<'_, PyAny>>, capacity: Option<i64>) -> PyResult<Self> {
        let seed = seed_arg(seed, u64::MAX)?;
        let capacity = capacity.map(|c| size_arg("capacity", c)).transpose()?;
        Ok(PyTopK {
            inner: TopK::new(size_arg("k", k)?, capacity, seed).py()?,
        })
    }

    #[getter]
    fn k(&self) -> u32 {
        self.inner.k()
    }
    #[getter]
    fn capacity(&self) -> u32 {
        self.inner.capacity()
    }
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed()
    }
    /// The sum of all counts added.
    #[getter]
    fn total(&self) -> u64 {
        self.inner.total()
    }
    /// The summary's error: a true count is at most this much above the lower bound, and every item
    /// seen more often than this is tracked. At most ``2·total / (capacity + 1)``.
    #[getter]
    fn error_bound(&self) -> u64 {
        self.inner.offset()
    }

    /// Counts ``count`` more occurrences of ``item``.
    #[pyo3(signature = (item, count = None))]
    fn add(&mut self, item: &Bound<'_, PyAny>, count: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let count = count.map(count_arg).transpose()?.unwrap_or(1);
        let inner = &mut self.inner;
        with_item(item, None, |kind, bytes| inner.add(kind, bytes, count))?.py()
    }

    /// Counts every item of a batch, like ``CountMinSketch.update``; all or nothing.
    #[pyo3(signature = (items, counts = None))]
    fn update(
        &mut self,
        items: &Bound<'_, PyAny>,
        counts: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let memory = self.inner.memory_size();
        update_counted(items, counts, &mut self.inner, memory, TopK::update)
    }

    /// The ``n`` most frequent items (``k`` by default) as ``(item, count)``, most frequent first,
    /// ties in the order items were first seen, as ``collections.Counter.most_common``. A count is
    /// the upper bound of ``bounds(item)``: never below the true count.
    #[pyo3(signature = (n = None))]
    fn most_common<'py>(&self, py: Python<'py>, n: Option<usize>) -> PyResult<Bound<'py, PyList>> {
        let offset = self.inner.offset();
        let n = n.unwrap_or(self.inner.k() as usize);
        let entries = self.inner.most_common(Some(n));
        let pairs = entries
            .iter()
            .map(|e| {
                PyTuple::new(
                    py,
                    [
                        item_object(py, e.kind, e.item)?,
                        (e.count + offset).into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, pairs)
    }

    /// The estimated count of an item: the upper bound of ``bounds(item)``.
    fn __getitem__(&self, item: &Bound<'_, PyAny>) -> PyResult<u64> {
        with_item(item, None, |_, bytes| {
            self.inner.lower(bytes) + self.inner.offset()
        })
    }

    /// ``(lower, upper)``: the item's true count is in this interval (``upper - lower ==
    /// error_bound``).
    fn bounds(&self, item: &Bound<'_, PyAny>) -> PyResult<(u64, u64)> {
        let lower = with_item(item, None, |_, bytes| self.inner.lower(bytes))?;
        Ok((lower, lower + self.inner.offset()))
    }

    fn __contains__(&self, item: &Bound<'_, PyAny>) -> PyResult<bool> {
        with_item(item, None, |_, bytes| self.inner.lower(bytes) > 0)
    }

    /// The number of items tracked.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __add__(&self, other: &Self) -> PyResult<Self> {
        self.merged(other)
    }

    fn __iadd__(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) -> PyResult<()> {
        Self::merge(slf, other)
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "TopK(k={}, capacity={}, seed={}, total={}, error_bound={})",
            s.k(),
            s.capacity(),
            s.seed(),
            s.total(),
            s.offset()
        )
    }
}

sketch_methods!(PyTopK, TopK);
