//! The methods every sketch class shares, written once: copying, clearing, merging, comparing,
//! serialization, pickling and memory size, around the core's [`sketchy_core::Sketch`] trait.

/// Adds the shared methods to a frozen `#[pyclass]` holding its core sketch in `inner:
/// Shared<$core>` (see `shared.rs`: every call locks it) and made by its `wrap(sketch)`; `$op` and `$iop` are the merge operators
/// (`__add__`/`__iadd__`, or `__or__`/`__ior__` for a union).
macro_rules! sketch_methods {
    ($class:ident, $core:ty, $op:ident, $iop:ident) => {
        impl From<$core> for $class {
            fn from(sketch: $core) -> Self {
                $class::wrap(sketch)
            }
        }

        #[pyo3::pymethods]
        impl $class {
            /// A copy of the sketch.
            fn copy(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<Self> {
                Ok(self.inner.snapshot(py)?.into())
            }

            fn __copy__(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<Self> {
                self.copy(py)
            }

            fn __deepcopy__(
                &self,
                py: pyo3::Python<'_>,
                _memo: &pyo3::Bound<'_, pyo3::PyAny>,
            ) -> pyo3::PyResult<Self> {
                self.copy(py)
            }

            /// Forgets everything that was added.
            fn clear(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
                sketchy_core::Sketch::clear(&mut *self.inner.lock(py)?);
                Ok(())
            }

            /// Adds ``other``'s items into this sketch; ValueError naming the parameter when the two
            /// cannot be merged. ``other`` may be this sketch itself.
            fn merge(&self, py: pyo3::Python<'_>, other: &Self) -> pyo3::PyResult<()> {
                self.inner
                    .with_other(&other.inner, py, |me, them| {
                        sketchy_core::Sketch::merge(me, them)
                    })?
                    .py()
            }

            fn __eq__(&self, py: pyo3::Python<'_>, other: &Self) -> pyo3::PyResult<bool> {
                self.inner
                    .with_other(&other.inner, py, |me, them| *me == *them)
            }

            /// The serialized sketch: a versioned header (magic, format version, kind), the
            /// parameters and seed, then the contents.
            fn to_bytes<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyBytes>> {
                let bytes = sketchy_core::Sketch::to_bytes(&*self.inner.lock(py)?);
                Ok(pyo3::types::PyBytes::new(py, &bytes))
            }

            /// The sketch serialized by ``to_bytes``; ValueError for anything else.
            #[classmethod]
            fn from_bytes(
                _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                data: &pyo3::Bound<'_, pyo3::PyAny>,
            ) -> pyo3::PyResult<Self> {
                let data = crate::args::bytes_arg(data)?;
                Ok(<$core as sketchy_core::Sketch>::from_bytes(&data)
                    .py()?
                    .into())
            }

            /// Pickled through ``to_bytes``, so plain ``pickle`` (not only cloudpickle) works.
            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<(
                pyo3::Bound<'py, pyo3::PyAny>,
                (pyo3::Bound<'py, pyo3::types::PyBytes>,),
            )> {
                let from_bytes = slf.get_type().getattr("from_bytes")?;
                Ok((from_bytes, (slf.get().to_bytes(slf.py())?,)))
            }

            /// ``self`` and ``other`` merged into a new sketch.
            fn $op(&self, py: pyo3::Python<'_>, other: &Self) -> pyo3::PyResult<Self> {
                self.merged(py, other)
            }

            fn $iop(&self, py: pyo3::Python<'_>, other: &Self) -> pyo3::PyResult<()> {
                self.merge(py, other)
            }

            /// Reads a file (plain or gzip; ``"-"``: stdin) into this sketch: its lines, a CSV
            /// column (``csv=``) or a JSON-lines field (``jsonl=``), on all cores. See
            /// :func:`sketchy.update_from`, which also feeds several sketches in one pass.
            #[pyo3(signature = (source, *, csv=None, jsonl=None, delimiter=",", strict=false, max_line_bytes=1_048_576, progress=None))]
            #[allow(clippy::too_many_arguments)]
            fn update_from(
                slf: &pyo3::Bound<'_, Self>,
                source: &pyo3::Bound<'_, pyo3::PyAny>,
                csv: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
                jsonl: Option<String>,
                delimiter: &str,
                strict: bool,
                max_line_bytes: usize,
                progress: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
            ) -> pyo3::PyResult<crate::read::PyReadReport> {
                let sketches = vec![slf.clone().into_any()];
                crate::read::update_from(
                    slf.py(), source, sketches, csv, jsonl, delimiter, strict, max_line_bytes,
                    progress,
                )
            }

            fn __sizeof__(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<usize> {
                Ok(sketchy_core::Sketch::memory_size(&*self.inner.lock(py)?))
            }
        }

        impl $class {
            /// `self` and `other` merged into a new sketch.
            fn merged(&self, py: pyo3::Python<'_>, other: &Self) -> pyo3::PyResult<Self> {
                let out = self.inner.with_other(&other.inner, py, |me, them| {
                    let mut out = me.clone();
                    sketchy_core::Sketch::merge(&mut out, them).map(|()| out)
                })?;
                Ok(out.py()?.into())
            }
        }
    };
}

pub(crate) use sketch_methods;
