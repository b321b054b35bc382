//! What every sketch class shares, written once: the methods around the core's
//! [`sketchy_core::Sketch`] trait ([`sketch_class!`]), and the glue that the core's registry
//! generates ([`for_each_sketch!`](sketchy_core::for_each_sketch)): the class list, and a Python
//! sketch to and from [`AnySketch`] (what the file reader feeds).

use pyo3::prelude::*;
use pyo3::PyClass;
use sketchy_core::sketch::Counts;
use sketchy_core::{AnySketch, Family, Sketch};

use crate::args::CountsArg;
use crate::convert::batch::Batch;
use crate::errors::IntoPyResult;
use crate::shared::Shared;

/// A sketch class: its core sketch behind a lock ([`Shared`]).
pub trait PySketch: PyClass + Sync + Send {
    /// The core type.
    type Core: Sketch + Into<AnySketch>;
    /// The locked core sketch.
    fn shared(&self) -> &Shared<Self::Core>;
}

/// The Python class of a core sketch type: a registry line without a class does not compile.
pub trait ClassOf: Sized {
    /// The class.
    type Class: PySketch<Core = Self> + From<Self>;
}

/// `update(items, counts)` of a sketch that counts: all or nothing (see [`Batch::add_to`]).
pub fn update_counted<S: Sketch>(
    sketch: &Shared<S>,
    items: &Bound<'_, PyAny>,
    counts: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let batch = Batch::extract(items)?;
    let counts = CountsArg::extract(counts)?;
    batch.add_to(items.py(), sketch, counts.view()?)
}

/// `update(items)` of a sketch that counts each item once.
pub fn update_once<S: Sketch>(sketch: &Shared<S>, items: &Bound<'_, PyAny>) -> PyResult<()> {
    Batch::extract(items)?.add_to(items.py(), sketch, Counts::Each(1))
}

macro_rules! registry {
    ($($family:ident : $ty:ty { $($kinds:tt)* }),+ $(,)?) => {
        /// Adds every sketch class of the registry to the module.
        pub fn add_classes(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $(m.add_class::<<$ty as ClassOf>::Class>()?;)+
            Ok(())
        }

        /// A copy of the core sketch of a Python sketch (`None`: not a sketch of sketchy).
        pub fn any_sketch(obj: &Bound<'_, PyAny>) -> PyResult<Option<AnySketch>> {
            $(
                if let Ok(class) = obj.cast::<<$ty as ClassOf>::Class>() {
                    let core = class.get().shared().snapshot(obj.py())?;
                    return Ok(Some(AnySketch::$family(core)));
                }
            )+
            Ok(None)
        }

        /// The Python sketch of a core sketch.
        pub fn into_object(py: Python<'_>, sketch: AnySketch) -> PyResult<Bound<'_, PyAny>> {
            match sketch {
                $(AnySketch::$family(s) => {
                    Ok(Bound::new(py, <$ty as ClassOf>::Class::from(s))?.into_any())
                })+
            }
        }

        /// Merges `sketch` into the Python sketch `obj` of the same family.
        pub fn merge_into(obj: &Bound<'_, PyAny>, sketch: &AnySketch) -> PyResult<()> {
            let py = obj.py();
            match sketch {
                $(AnySketch::$family(s) => {
                    let class = obj.cast::<<$ty as ClassOf>::Class>()?;
                    Sketch::merge(&mut *class.get().shared().lock(py)?, s).py()
                })+
            }
        }
    };
}

sketchy_core::for_each_sketch!(registry);

/// The sketch classes' names, for messages: "HyperLogLog, CountMinSketch, ... or KLL".
pub fn class_names() -> String {
    let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// Makes `$class` (a frozen `#[pyclass]` with `inner: Shared<$core>`) a sketch class:
/// [`PySketch`], [`ClassOf`], `From<$core>`, and the methods every sketch has: copies, clearing,
/// merging (`$op`/`$iop`: `__add__`/`__iadd__`, or `__or__`/`__ior__` for a union), comparing,
/// bytes, pickling, `update_from` and memory size. A class with fields beside `inner` ends the list
/// with `own_from` and implements `From<$core>` itself.
macro_rules! sketch_class {
    ($class:ident, $core:ty, $op:ident, $iop:ident) => {
        impl From<$core> for $class {
            fn from(sketch: $core) -> Self {
                $class {
                    inner: $crate::shared::Shared::new(sketch),
                }
            }
        }

        $crate::sketch::sketch_class!($class, $core, $op, $iop, own_from);
    };
    ($class:ident, $core:ty, $op:ident, $iop:ident, own_from) => {
        impl $crate::sketch::PySketch for $class {
            type Core = $core;
            fn shared(&self) -> &$crate::shared::Shared<$core> {
                &self.inner
            }
        }

        impl $crate::sketch::ClassOf for $core {
            type Class = $class;
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
                let data = $crate::args::bytes_arg(data)?;
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
                let out = self.inner.with_other(&other.inner, py, |me, them| {
                    let mut out = me.clone();
                    sketchy_core::Sketch::merge(&mut out, them).map(|()| out)
                })?;
                Ok(out.py()?.into())
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
            ) -> pyo3::PyResult<$crate::read::PyReadReport> {
                let how = $crate::read::How {
                    csv,
                    jsonl,
                    delimiter,
                    strict,
                    max_line_bytes,
                };
                let sketches = vec![slf.clone().into_any()];
                $crate::read::update_from(slf.py(), source, sketches, how, false, progress)
            }

            fn __sizeof__(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<usize> {
                Ok(sketchy_core::Sketch::memory_size(&*self.inner.lock(py)?))
            }
        }
    };
}

pub(crate) use sketch_class;
