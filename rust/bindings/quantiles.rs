//! `sketchy.DDSketch` and `sketchy.KLL`.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use sketchy_core::ddsketch::DDSketch;
use sketchy_core::kll::Kll;

use crate::args::{bytes_arg, count_arg, seed_arg, update_counted};
use crate::errors::IntoPyResult;
use crate::items::{type_name, Cost};
use crate::shared::Shared;
use crate::sketch_methods::sketch_methods;

/// Adding a value (a logarithm and a bin, or a buffer slot) next to reading it from a list.
const COST: Cost = Cost(40);

/// A value given alone: an int or a float (numpy scalars too), as a float64.
fn value_arg(x: &Bound<'_, PyAny>) -> PyResult<f64> {
    if x.is_instance_of::<pyo3::types::PyString>() || x.is_instance_of::<pyo3::types::PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "x must be a number (int or float), not {}",
            type_name(x)
        )));
    }
    if x.is_instance_of::<pyo3::types::PyInt>() {
        // float(x): OverflowError past the float range, as Python says it.
        return x.call_method0("__float__")?.extract::<f64>();
    }
    x.extract::<f64>().map_err(|_| {
        PyTypeError::new_err(format!(
            "x must be a number (int or float), not {}",
            type_name(x)
        ))
    })
}

/// Ranks or values given as a float, a sequence or an array.
fn floats_arg(name: &str, xs: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(a) = xs.extract::<PyReadonlyArray1<'_, f64>>() {
        return Ok(a.as_array().iter().copied().collect());
    }
    xs.extract::<Vec<f64>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a sequence of numbers, not {}",
            type_name(xs)
        ))
    })
}

/// The same error, about `weights`: the counting sketches' argument checks name their `counts`.
fn as_weights(py: Python<'_>, err: PyErr) -> PyErr {
    let message = err.value(py).to_string();
    if !message.contains("count") {
        return err;
    }
    let message = message
        .replace("counts", "weights")
        .replace("count", "weight");
    match err.get_type(py).call1((message,)) {
        Ok(renamed) => PyErr::from_value(renamed),
        Err(_) => err,
    }
}

/// The methods both quantile sketches share.
macro_rules! quantile_methods {
    ($class:ident) => {
        #[pymethods]
        impl $class {
            /// Adds ``x`` (an int or a float) ``weight`` times; NaN is skipped and counted in
            /// ``nan_count``.
            #[pyo3(signature = (x, weight = None))]
            fn add(&self, x: &Bound<'_, PyAny>, weight: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
                let py = x.py();
                let value = value_arg(x)?;
                let weight = weight
                    .map(count_arg)
                    .transpose()
                    .map_err(|e| as_weights(py, e))?
                    .unwrap_or(1);
                self.inner
                    .lock(py)?
                    .add(value, weight)
                    .py()
                    .map_err(|e| as_weights(py, e))
            }

            /// Adds every value of a batch (numpy array of any int or float dtype, list, pandas,
            /// pyarrow or Polars column), ``weights`` times each (an int) or ``weights[i]`` times
            /// value ``i``. All or nothing: after an error the sketch is as it was.
            #[pyo3(signature = (values, weights = None))]
            fn update(
                &self,
                values: &Bound<'_, PyAny>,
                weights: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<()> {
                update_counted(&self.inner, values, weights, COST)
                    .map_err(|e| as_weights(values.py(), e))
            }

            /// The total weight of the values added (NaNs not counted).
            #[getter]
            fn count(&self, py: Python<'_>) -> PyResult<u64> {
                Ok(self.inner.lock(py)?.count())
            }
            fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
                Ok(self.inner.lock(py)?.count() as usize)
            }
            /// The weight of the NaN values, which are skipped.
            #[getter]
            fn nan_count(&self, py: Python<'_>) -> PyResult<u64> {
                Ok(self.inner.lock(py)?.nan_count())
            }
            /// The smallest value added (exact; NaN when empty).
            #[getter]
            fn min(&self, py: Python<'_>) -> PyResult<f64> {
                Ok(self.inner.lock(py)?.min())
            }
            /// The largest value added (exact; NaN when empty).
            #[getter]
            fn max(&self, py: Python<'_>) -> PyResult<f64> {
                Ok(self.inner.lock(py)?.max())
            }

            /// The value at rank ``q`` in [0, 1]: an estimate of
            /// ``numpy.quantile(values, q, method="lower")``; NaN when the sketch is empty.
            fn quantile(&self, py: Python<'_>, q: f64) -> PyResult<f64> {
                self.inner.lock(py)?.quantile(q).py()
            }

            /// ``quantile`` of each rank of ``qs``, as a float64 array.
            fn quantiles<'py>(
                &self,
                py: Python<'py>,
                qs: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let qs = floats_arg("qs", qs)?;
                let out = Self::quantiles_of(&*self.inner.lock(py)?, &qs).py()?;
                Ok(PyArray1::from_vec(py, out))
            }

            /// The estimated fraction of the weight at or below ``x`` (NaN when empty).
            fn rank(&self, py: Python<'_>, x: f64) -> PyResult<f64> {
                Ok(Self::ranks_of(&*self.inner.lock(py)?, &[x])[0])
            }

            /// ``rank`` of each value of ``xs``, as a float64 array.
            fn cdf<'py>(
                &self,
                py: Python<'py>,
                xs: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyArray1<f64>>> {
                let xs = floats_arg("xs", xs)?;
                let out = Self::ranks_of(&*self.inner.lock(py)?, &xs);
                Ok(PyArray1::from_vec(py, out))
            }
        }
    };
}

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

impl PyDDSketch {
    fn wrap(sketch: DDSketch) -> Self {
        PyDDSketch {
            inner: Shared::new(sketch),
        }
    }
    fn quantiles_of(s: &DDSketch, qs: &[f64]) -> sketchy_core::Result<Vec<f64>> {
        qs.iter().map(|&q| s.quantile(q)).collect()
    }
    fn ranks_of(s: &DDSketch, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| s.rank(x)).collect()
    }
}

quantile_methods!(PyDDSketch);
sketch_methods!(PyDDSketch, DDSketch, __add__, __iadd__);

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

impl PyKll {
    fn wrap(sketch: Kll) -> Self {
        PyKll {
            inner: Shared::new(sketch),
        }
    }
    fn quantiles_of(s: &Kll, qs: &[f64]) -> sketchy_core::Result<Vec<f64>> {
        s.quantiles(qs)
    }
    fn ranks_of(s: &Kll, xs: &[f64]) -> Vec<f64> {
        s.ranks(xs)
    }
}

quantile_methods!(PyKll);
sketch_methods!(PyKll, Kll, __add__, __iadd__);
