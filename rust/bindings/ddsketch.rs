//! `sketchy.DDSketch`.

use pyo3::prelude::*;
use sketchy_core::quantiles::DDSketch;

use crate::errors::IntoPyResult;
use crate::quantile::quantile_methods;
use crate::shared::Shared;
use crate::sketch::sketch_class;

/// Quantiles with a relative error: every quantile is within ``relative_accuracy · |v|`` of the
/// value ``v`` of the stream at that rank.
///
/// A value ``x > 0`` is counted in bin ``ceil(log_γ x)``, ``γ = (1 + α) / (1 − α)``; negative
/// values have bins of their own, zeros a counter. Past ``max_bins`` bins of one sign the lowest
/// collapse into one: the values of the collapsed bins (the smallest magnitudes) lose the
/// guarantee, the larger ones never do. ``min``, ``max``, ``count``, ``sum`` and ``mean`` are exact.
/// Merging adds bins: the merge of the sketches of the parts of a stream equals the sketch of the
/// whole, byte for byte, in any order. NaN values are skipped and counted in ``nan_count``; ±inf
/// raise ValueError.
///
/// Parameters
/// ----------
/// relative_accuracy : float
///     α in (0, 1): 0.01 keeps every quantile within 1%.
/// max_bins : int
///     Bins per sign before the lowest collapse; 2048 at α = 1% covers 18 orders of magnitude.
///
/// Examples
/// --------
/// >>> import numpy as np
/// >>> from sketchy import DDSketch
/// >>> latencies = np.random.default_rng(0).lognormal(0, 2, 100_000)
/// >>> dd = DDSketch(relative_accuracy=0.01)
/// >>> dd.update(latencies)
/// >>> p99 = dd.quantile(0.99)
/// >>> true = np.quantile(latencies, 0.99, method="lower")
/// >>> bool(abs(p99 - true) <= 0.01 * true)
/// True
/// >>> dd.count, bool(dd.min == latencies.min())
/// (100000, True)
///
/// References
/// ----------
/// Masson, Rim and Lee, "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error
/// Guarantees", PVLDB 12(12), 2019.
#[pyclass(module = "sketchy._native", name = "DDSketch", frozen)]
pub struct PyDDSketch {
    pub(crate) inner: Shared<DDSketch>,
}

#[pymethods]
impl PyDDSketch {
    #[new]
    #[pyo3(text_signature = "(relative_accuracy=0.01, *, max_bins=2048)", signature = (relative_accuracy = 0.01, *, max_bins = 2048))]
    fn new(relative_accuracy: f64, max_bins: i64) -> PyResult<Self> {
        Ok(DDSketch::new(relative_accuracy, max_bins).py()?.into())
    }

    #[getter]
    fn relative_accuracy(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.lock(py)?.relative_accuracy())
    }
    #[getter]
    fn max_bins(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.inner.lock(py)?.max_bins())
    }
    /// The bins in use (both signs, and the zero bin).
    #[getter]
    fn num_bins(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.inner.lock(py)?.num_bins())
    }
    /// The exact sum of the values times their weights, rounded once to a float.
    #[getter]
    fn sum(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.inner.lock(py)?.sum())
    }
    /// ``sum / count`` (NaN when empty).
    #[getter]
    fn mean(&self, py: Python<'_>) -> PyResult<f64> {
        let s = self.inner.lock(py)?;
        Ok(if s.count() == 0 {
            f64::NAN
        } else {
            s.sum() / s.count() as f64
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.lock(py)?;
        Ok(format!(
            "DDSketch(relative_accuracy={}, max_bins={}, count={})",
            s.relative_accuracy(),
            s.max_bins(),
            s.count()
        ))
    }
}

quantile_methods!(PyDDSketch);
sketch_class!(PyDDSketch, DDSketch, __add__, __iadd__);
