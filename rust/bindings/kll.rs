//! `sketchy.KLL`.

use pyo3::prelude::*;
use sketchy_core::quantiles::Kll;

use crate::args::{bytes_arg, seed_arg};
use crate::errors::IntoPyResult;
use crate::quantile::quantile_methods;
use crate::shared::Shared;
use crate::sketch::sketch_class;

/// Quantiles with a rank error: the quantile returned for ``q`` is a value of the stream whose
/// rank is within ``normalized_rank_error`` of ``q`` (with 99% confidence), in about ``3k`` items.
///
/// Apache DataSketches' KLL: levels of items of weight ``2**h``, the lowest full level sorted and
/// halved when the buffer is full. The choice of which half moves up is drawn from ``seed``, so the
/// same stream and seed give the same sketch and the same bytes (DataSketches draws it from the
/// clock). ``to_datasketches()`` writes the image ``datasketches.kll_doubles_sketch.deserialize``
/// reads, ``from_datasketches()`` reads it. NaN values are skipped and counted in ``nan_count``;
/// ±inf are values. Merging sketches of different ``k`` keeps the smaller ``k``'s error.
///
/// Parameters
/// ----------
/// k : int
///     In [8, 65535]; 200 gives a rank error of 1.33%.
/// seed : int
///     Seed of the compaction bits.
///
/// Examples
/// --------
/// >>> import numpy as np
/// >>> from sketchy import KLL
/// >>> values = np.random.default_rng(1).normal(size=100_000)
/// >>> kll = KLL(k=200)
/// >>> kll.update(values)
/// >>> median = kll.quantile(0.5)
/// >>> bool(abs((values <= median).mean() - 0.5) <= kll.normalized_rank_error)
/// True
/// >>> KLL.from_bytes(kll.to_bytes()) == kll
/// True
///
/// References
/// ----------
/// Karnin, Lang and Liberty, "Optimal Quantile Approximation in Streams", FOCS 2016. Ivkin,
/// Liberty, Lang, Karnin and Braverman, "Streaming Quantiles Algorithms with Small Space and Update
/// Time", Sensors 2022.
#[pyclass(module = "sketchy._native", name = "KLL", frozen)]
pub struct PyKll {
    pub(crate) inner: Shared<Kll>,
}

#[pymethods]
impl PyKll {
    #[new]
    #[pyo3(text_signature = "(k=200, *, seed=0)", signature = (k = 200, *, seed = None))]
    fn new(k: i64, seed: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let seed = seed_arg(seed, u64::MAX)?;
        Ok(Kll::new(k, seed).py()?.into())
    }

    #[getter]
    fn k(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.inner.lock(py)?.k())
    }
    /// The smallest ``k`` of the sketches merged into this one: the error is that ``k``'s.
    #[getter]
    fn min_k(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.inner.lock(py)?.min_k())
    }
    #[getter]
    fn seed(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.inner.lock(py)?.seed())
    }
    /// The items kept.
    #[getter]
    fn num_retained(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.inner.lock(py)?.num_retained())
    }
    /// The rank error of a quantile at 99% confidence (DataSketches' single-sided constant
    /// ``2.296 / min_k**0.9723``).
    #[getter]
    fn normalized_rank_error(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.lock(py)?.normalized_rank_error())
    }

    /// The image of the sketch that ``datasketches.kll_doubles_sketch.deserialize`` reads: the
    /// same n, min, max and items.
    fn to_datasketches<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let image = self.inner.lock(py)?.to_datasketches();
        Ok(pyo3::types::PyBytes::new(py, &image))
    }

    /// A sketch from the bytes of ``datasketches.kll_doubles_sketch.serialize()`` (5.x); it keeps
    /// taking updates, with compaction bits drawn from ``seed``. ValueError for any other bytes.
    #[classmethod]
    #[pyo3(signature = (data, *, seed = None), text_signature = "(data, *, seed=0)")]
    fn from_datasketches(
        _cls: &Bound<'_, pyo3::types::PyType>,
        data: &Bound<'_, PyAny>,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let seed = seed_arg(seed, u64::MAX)?;
        let data = bytes_arg(data)?;
        Ok(Kll::from_datasketches(&data, seed).py()?.into())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.lock(py)?;
        Ok(format!(
            "KLL(k={}, seed={}, count={})",
            s.k(),
            s.seed(),
            s.count()
        ))
    }
}

quantile_methods!(PyKll);
sketch_class!(PyKll, Kll, __add__, __iadd__);
