//! The methods every sketch class shares, written once: copying, clearing, merging, serialization,
//! pickling and memory size, around the core type's methods of the same names.

/// Adds the shared methods to a `#[pyclass]` holding its core sketch in `inner`.
macro_rules! sketch_methods {
    ($class:ident, $core:ty) => {
        #[pyo3::pymethods]
        impl $class {
            /// A copy of the sketch.
            fn copy(&self) -> Self {
                self.clone()
            }

            fn __copy__(&self) -> Self {
                self.clone()
            }

            fn __deepcopy__(&self, _memo: &pyo3::Bound<'_, pyo3::PyAny>) -> Self {
                self.clone()
            }

            /// Forgets everything that was added.
            fn clear(&mut self) {
                self.inner.clear();
            }

            /// Adds ``other``'s items into this sketch; ValueError naming the parameter when the two
            /// cannot be merged. ``other`` may be this sketch itself.
            fn merge(
                slf: &pyo3::Bound<'_, Self>,
                other: &pyo3::Bound<'_, Self>,
            ) -> pyo3::PyResult<()> {
                if slf.is(other) {
                    let copy = other.borrow().inner.clone();
                    return slf.borrow_mut().inner.merge(&copy).py();
                }
                slf.borrow_mut().inner.merge(&other.borrow().inner).py()
            }

            /// The serialized sketch: a versioned header (magic, format version, kind), the
            /// parameters and seed, then the contents.
            fn to_bytes<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::Bound<'py, pyo3::types::PyBytes> {
                pyo3::types::PyBytes::new(py, &self.inner.to_bytes())
            }

            /// The sketch serialized by ``to_bytes``; ValueError for anything else.
            #[classmethod]
            fn from_bytes(
                _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                data: &pyo3::Bound<'_, pyo3::PyAny>,
            ) -> pyo3::PyResult<Self> {
                Ok(Self {
                    inner: <$core>::from_bytes(&crate::args::bytes_arg(data)?).py()?,
                })
            }

            /// Pickled through ``to_bytes``, so plain ``pickle`` (not only cloudpickle) works.
            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<(
                pyo3::Bound<'py, pyo3::PyAny>,
                (pyo3::Bound<'py, pyo3::types::PyBytes>,),
            )> {
                let from_bytes = slf.get_type().getattr("from_bytes")?;
                Ok((from_bytes, (slf.borrow().to_bytes(slf.py()),)))
            }

            fn __sizeof__(&self) -> usize {
                self.inner.memory_size()
            }
        }

        impl $class {
            /// `self` and `other` merged into a new sketch: the `+` or `|` operator.
            fn merged(&self, other: &Self) -> pyo3::PyResult<Self> {
                let mut out = self.clone();
                out.inner.merge(&other.inner).py()?;
                Ok(out)
            }
        }
    };
}

pub(crate) use sketch_methods;
