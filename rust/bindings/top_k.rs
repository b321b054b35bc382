//! `sketchy.TopK`.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use sketchy_core::top_k::{DsItems, TopK};
use sketchy_core::ItemKind;

use crate::args::{bytes_arg, count_arg, name_arg, seed_arg, size_arg};
use crate::convert::item::{item_object, with_item};
use crate::errors::IntoPyResult;
use crate::shared::Shared;
use crate::sketch::{sketch_class, update_counted};

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
#[pyclass(module = "sketchy._native", name = "TopK", frozen)]
pub struct PyTopK {
    pub(crate) inner: Shared<TopK>,
}

#[pymethods]
impl PyTopK {
    #[new]
    #[pyo3(text_signature = "(k, *, seed=0, capacity=None)", signature = (k, *, seed = None, capacity = None))]
    fn new(k: i64, seed: Option<&Bound<'_, PyAny>>, capacity: Option<i64>) -> PyResult<Self> {
        let seed = seed_arg(seed, u64::MAX)?;
        let capacity = capacity.map(|c| size_arg("capacity", c)).transpose()?;
        Ok(TopK::new(size_arg("k", k)?, capacity, seed).py()?.into())
    }

    #[getter]
    fn k(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.inner.lock(py)?.k())
    }
    #[getter]
    fn capacity(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.inner.lock(py)?.capacity())
    }
    #[getter]
    fn seed(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.inner.lock(py)?.seed())
    }
    /// The sum of all counts added.
    #[getter]
    fn total(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.inner.lock(py)?.total())
    }
    /// The summary's error: a true count is at most this much above the lower bound, and every item
    /// seen more often than this is tracked. At most ``2·total / (capacity + 1)``.
    #[getter]
    fn error_bound(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.inner.lock(py)?.offset())
    }

    /// Counts ``count`` more occurrences of ``item``.
    #[pyo3(signature = (item, count = None))]
    fn add(&self, item: &Bound<'_, PyAny>, count: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let count = count.map(count_arg).transpose()?.unwrap_or(1);
        let py = item.py();
        with_item(item, None, |kind, bytes| {
            self.inner.lock(py)?.add(kind, bytes, count).py()
        })?
    }

    /// Counts every item of a batch, like ``CountMinSketch.update``; all or nothing.
    #[pyo3(signature = (items, counts = None))]
    fn update(&self, items: &Bound<'_, PyAny>, counts: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        update_counted(&self.inner, items, counts)
    }

    /// The ``n`` most frequent items (``k`` by default) as ``(item, count)``, most frequent first,
    /// ties in the order items were first seen, as ``collections.Counter.most_common``. A count is
    /// the upper bound of ``bounds(item)``: never below the true count.
    #[pyo3(signature = (n = None))]
    fn most_common<'py>(&self, py: Python<'py>, n: Option<usize>) -> PyResult<Bound<'py, PyList>> {
        // Copied out under the lock, turned into Python objects after it (which may run Python code).
        let entries: Vec<(ItemKind, Vec<u8>, u64)> = {
            let sketch = self.inner.lock(py)?;
            let n = n.unwrap_or(sketch.k() as usize);
            sketch
                .most_common(Some(n))
                .iter()
                .map(|e| (e.kind, e.item.to_vec(), e.upper))
                .collect()
        };
        let pairs = entries
            .iter()
            .map(|(kind, item, count)| {
                PyTuple::new(
                    py,
                    [
                        item_object(py, *kind, item)?,
                        count.into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, pairs)
    }

    /// The estimated count of an item: the upper bound of ``bounds(item)``.
    fn __getitem__(&self, item: &Bound<'_, PyAny>) -> PyResult<u64> {
        Ok(self.bounds(item)?.1)
    }

    /// ``(lower, upper)``: the item's true count is in this interval (``upper - lower ==
    /// error_bound``).
    fn bounds(&self, item: &Bound<'_, PyAny>) -> PyResult<(u64, u64)> {
        let py = item.py();
        with_item(item, None, |_, bytes| {
            Ok(self.inner.lock(py)?.bounds(bytes))
        })?
    }

    fn __contains__(&self, item: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.bounds(item)?.0 > 0)
    }

    /// The number of items tracked.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.inner.lock(py)?.len())
    }

    /// The image of the summary that ``datasketches.frequent_strings_sketch.deserialize`` reads
    /// (``items="str"``), or ``frequent_items_sketch.deserialize(data, PyLongsSerDe())``
    /// (``items="int"``): the same items, lower bounds, total and error offset. ValueError for an
    /// item of another type.
    #[pyo3(signature = (items = "str"))]
    fn to_datasketches<'py>(
        &self,
        py: Python<'py>,
        items: &str,
    ) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let items: DsItems = name_arg(items)?;
        let image = self.inner.lock(py)?.to_datasketches(items).py()?;
        Ok(pyo3::types::PyBytes::new(py, &image))
    }

    /// A summary from a DataSketches frequent-items image (``items="str"``: a
    /// ``frequent_strings_sketch``; ``"int"``: ``frequent_items_sketch`` with ``PyLongsSerDe``),
    /// of capacity ``0.75 * 2**lg_max_map_size``, reporting ``k`` items (default: as many as it
    /// holds). ValueError for anything else.
    #[classmethod]
    #[pyo3(signature = (data, *, items = "str", k = None, seed = None), text_signature = "(data, *, items='str', k=None, seed=0)")]
    fn from_datasketches(
        _cls: &Bound<'_, pyo3::types::PyType>,
        data: &Bound<'_, PyAny>,
        items: &str,
        k: Option<i64>,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let items: DsItems = name_arg(items)?;
        let seed = seed_arg(seed, u64::MAX)?;
        let k = k.map(|k| size_arg("k", k)).transpose()?;
        let data = bytes_arg(data)?;
        Ok(TopK::from_datasketches(&data, items, k, seed).py()?.into())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.lock(py)?;
        Ok(format!(
            "TopK(k={}, capacity={}, seed={}, total={}, error_bound={})",
            s.k(),
            s.capacity(),
            s.seed(),
            s.total(),
            s.offset()
        ))
    }
}

sketch_class!(PyTopK, TopK, __add__, __iadd__);
