//! What `sketchy.DDSketch` and `sketchy.KLL` share: values and weights as arguments, and the
//! quantile methods ([`quantile_methods!`]).

use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert::item::type_name;

/// A value given alone: an int or a float (numpy scalars too), as a float64.
pub fn value_arg(x: &Bound<'_, PyAny>) -> PyResult<f64> {
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
pub fn floats_arg(name: &str, xs: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
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
pub fn as_weights(py: Python<'_>, err: PyErr) -> PyErr {
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
                let value = $crate::quantile::value_arg(x)?;
                let weight = weight
                    .map($crate::args::count_arg)
                    .transpose()
                    .map_err(|e| $crate::quantile::as_weights(py, e))?
                    .unwrap_or(1);
                self.inner
                    .lock(py)?
                    .add(value, weight)
                    .py()
                    .map_err(|e| $crate::quantile::as_weights(py, e))
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
                $crate::sketch::update_counted(&self.inner, values, weights)
                    .map_err(|e| $crate::quantile::as_weights(values.py(), e))
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
            ) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
                let qs = $crate::quantile::floats_arg("qs", qs)?;
                let out = self.inner.lock(py)?.quantiles(&qs).py()?;
                Ok(numpy::PyArray1::from_vec(py, out))
            }

            /// The estimated fraction of the weight at or below ``x`` (NaN when empty).
            fn rank(&self, py: Python<'_>, x: f64) -> PyResult<f64> {
                Ok(self.inner.lock(py)?.ranks(&[x])[0])
            }

            /// ``rank`` of each value of ``xs``, as a float64 array.
            fn cdf<'py>(
                &self,
                py: Python<'py>,
                xs: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
                let xs = $crate::quantile::floats_arg("xs", xs)?;
                let out = self.inner.lock(py)?.ranks(&xs);
                Ok(numpy::PyArray1::from_vec(py, out))
            }
        }
    };
}

pub(crate) use quantile_methods;
