//! A Python batch to the core's one view of it ([`Keys`]): numpy and Arrow buffers borrowed,
//! lists and tuples read chunk by chunk (`crate::pipeline`), any other iterable copied once.

use numpy::{PyArrayDescrMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use sketchy_core::items::{Kinds, Offsets};
use sketchy_core::{ItemKind, KeyBuffer, Keys};

use super::item::with_item;
use super::list::{append, list_item, same_len};
use crate::errors::IntoPyResult;

/// What the bytes of a variable-width batch are.
#[derive(Clone, Copy)]
pub enum VarKind {
    Bytes,
    /// Text to check for UTF-8 (sketchy's own readers).
    Str,
    /// Arrow strings, which Arrow has checked to be UTF-8 already.
    Utf8,
}

/// The numpy arrays borrowed as they are, from the core's table of numeric types.
macro_rules! number_arrays {
    ($(($variant:ident, $ty:ty, $kind:literal, $size:literal))+) => {
        /// A one-dimensional numeric numpy array, borrowed.
        pub enum NumberArray<'py> {
            $($variant(PyReadonlyArray1<'py, $ty>),)+
        }

        impl<'py> NumberArray<'py> {
            /// The array, if numpy's `dtype.kind` and `itemsize` are one of the table's.
            fn extract(any: &Bound<'py, PyAny>, kind: u8, size: usize) -> PyResult<Option<Self>> {
                Ok(match (kind, size) {
                    $(($kind, $size) => Some(NumberArray::$variant(any.extract()?)),)+
                    _ => None,
                })
            }

            fn len(&self) -> usize {
                match self {
                    $(NumberArray::$variant(a) => a.len(),)+
                }
            }

            fn keys(&self) -> PyResult<Keys<'_>> {
                Ok(match self {
                    $(NumberArray::$variant(a) => Keys::$variant(slice(a)?),)+
                })
            }
        }
    };
}

sketchy_core::for_each_number_type!(number_arrays!());

/// A batch of items ready for the core: borrowed buffers or one owned buffer.
pub enum Batch<'py> {
    /// A numeric numpy array.
    Numbers(NumberArray<'py>),
    /// Arrow-layout variable-width items (from `sketchy._batch`): int32 or int64 offsets.
    Var32 {
        data: PyReadonlyArray1<'py, u8>,
        offsets: PyReadonlyArray1<'py, i32>,
        kind: VarKind,
    },
    Var64 {
        data: PyReadonlyArray1<'py, u8>,
        offsets: PyReadonlyArray1<'py, i64>,
        kind: VarKind,
    },
    /// Arrow `string_view` / `binary_view` (from `sketchy._batch`): the views and the data buffers.
    View {
        views: PyReadonlyArray1<'py, u8>,
        buffers: Vec<PyReadonlyArray1<'py, u8>>,
        kind: VarKind,
    },
    /// numpy `S` and `U` arrays, viewed as bytes / UCS-4 code units.
    FixedBytes {
        data: PyReadonlyArray1<'py, u8>,
        width: usize,
    },
    FixedUcs4 {
        data: PyReadonlyArray1<'py, u32>,
        width: usize,
    },
    /// A list or tuple: its items are converted chunk by chunk in `Batch::pipelined`.
    Seq(Bound<'py, PyAny>),
    /// Any other iterable, converted once into one buffer.
    Buffer(KeyBuffer),
}

fn slice<'a, T: numpy::Element>(a: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err("keys: the array must be contiguous"))
}

/// The view of a variable-width batch.
fn var_keys<'a>(data: &'a [u8], offsets: Offsets<'a>, kind: VarKind) -> PyResult<Keys<'a>> {
    match kind {
        VarKind::Utf8 => Keys::utf8(data, offsets),
        VarKind::Str => Keys::var(data, offsets, Kinds::Uniform(ItemKind::Str)),
        VarKind::Bytes => Keys::var(data, offsets, Kinds::Uniform(ItemKind::Bytes)),
    }
    .py()
}

static NORMALIZE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

impl<'py> Batch<'py> {
    /// Borrows or copies the items of `keys`: a list, tuple or other iterable of items, a numpy array,
    /// or anything `sketchy._batch.normalize` understands (pandas, pyarrow, polars, non-contiguous
    /// or byte-swapped numpy arrays).
    pub fn extract(keys: &Bound<'py, PyAny>) -> PyResult<Self> {
        if keys.is_exact_instance_of::<PyList>() || keys.is_exact_instance_of::<PyTuple>() {
            return Ok(Batch::Seq(keys.clone()));
        }
        if let Ok(array) = keys.cast::<PyUntypedArray>() {
            if let Some(batch) = Self::from_plain_array(array)? {
                return Ok(batch);
            }
        }
        if keys.is_instance_of::<PyString>() || keys.is_instance_of::<PyBytes>() {
            return Err(PyTypeError::new_err(
                "keys must be a collection of items, not a single str or bytes (wrap it in a list)",
            ));
        }
        let py = keys.py();
        let normalize = NORMALIZE.import(py, "sketchy._batch", "normalize")?;
        let normalized = normalize.call1((keys,))?;
        if let Ok(array) = normalized.cast::<PyUntypedArray>() {
            if let Some(batch) = Self::from_plain_array(array)? {
                return Ok(batch);
            }
        }
        if let Ok(spec) = normalized.cast_exact::<PyTuple>() {
            return Self::from_spec(spec);
        }
        if normalized.is_exact_instance_of::<PyList>() {
            return Ok(Batch::Seq(normalized));
        }
        // Any other iterable: a generator, a set, a range, dict keys...
        let mut buffer = KeyBuffer::default();
        for (i, item) in normalized.try_iter()?.enumerate() {
            with_item(&item?, Some(i), |kind, bytes| buffer.push(kind, bytes))?;
        }
        Ok(Batch::Buffer(buffer))
    }

    /// A one-dimensional, C-contiguous, native-endian numeric array is borrowed as is; anything else
    /// returns `None` and goes through `sketchy._batch.normalize`.
    fn from_plain_array(array: &Bound<'py, PyUntypedArray>) -> PyResult<Option<Self>> {
        let dtype = array.dtype();
        // Borrowed only when it can be read as a Rust slice: otherwise `sketchy._batch` copies it.
        // (Data received over a network, from a Dask worker say, can sit at an unaligned address.)
        if array.ndim() != 1
            || !array.is_c_contiguous()
            || !array.is_aligned()
            || dtype.is_native_byteorder() == Some(false)
        {
            return Ok(None);
        }
        let numbers = NumberArray::extract(array.as_any(), dtype.kind(), dtype.itemsize())?;
        Ok(numbers.map(Batch::Numbers))
    }

    /// The tuples `sketchy._batch.normalize` returns for buffers that are not plain numeric arrays.
    fn from_spec(spec: &Bound<'py, PyTuple>) -> PyResult<Self> {
        let tag: String = spec.get_item(0)?.extract()?;
        let kind_of = |name: &str| match name {
            "str" => Ok(VarKind::Str),
            "utf8" => Ok(VarKind::Utf8),
            "bytes" => Ok(VarKind::Bytes),
            other => Err(PyValueError::new_err(format!(
                "unknown item kind {other:?}"
            ))),
        };
        let item = |i: usize| spec.get_item(i);
        match tag.as_str() {
            "var32" => Ok(Batch::Var32 {
                kind: kind_of(&item(1)?.extract::<String>()?)?,
                offsets: item(2)?.extract()?,
                data: item(3)?.extract()?,
            }),
            "var64" => Ok(Batch::Var64 {
                kind: kind_of(&item(1)?.extract::<String>()?)?,
                offsets: item(2)?.extract()?,
                data: item(3)?.extract()?,
            }),
            "view" => Ok(Batch::View {
                kind: kind_of(&item(1)?.extract::<String>()?)?,
                views: item(2)?.extract()?,
                buffers: item(3)?.extract()?,
            }),
            "fixed_bytes" => Ok(Batch::FixedBytes {
                data: item(1)?.extract()?,
                width: item(2)?.extract()?,
            }),
            "fixed_ucs4" => Ok(Batch::FixedUcs4 {
                data: item(1)?.extract()?,
                width: item(2)?.extract()?,
            }),
            other => Err(PyValueError::new_err(format!(
                "unknown batch layout {other:?}"
            ))),
        }
    }

    /// Whether the items are converted as they are read (a list or tuple): an invalid one may come
    /// after valid ones, so a sketch must not change until all have been read.
    pub fn is_converted_lazily(&self) -> bool {
        matches!(self, Batch::Seq(_))
    }

    /// The batch with every item converted into one buffer.
    pub fn materialize(self) -> PyResult<Self> {
        let Batch::Seq(seq) = &self else {
            return Ok(self);
        };
        let mut buffer = KeyBuffer::with_capacity(seq.len()?);
        if let Ok(list) = seq.cast_exact::<PyList>() {
            let len = list.len();
            let mut items = (0..len).map_while(|i| list_item(list, i));
            append(&mut items, usize::MAX, 0, &mut buffer)?;
            same_len(list, buffer.len(), len)?;
        } else {
            let mut items = seq.cast_exact::<PyTuple>()?.iter_borrowed();
            append(&mut items, usize::MAX, 0, &mut buffer)?;
        }
        Ok(Batch::Buffer(buffer))
    }

    /// The number of items, from the buffers' shapes: the checks of [`Batch::view`] (UTF-8, code
    /// points, offsets) would be a second pass over the data.
    pub fn len(&self) -> PyResult<usize> {
        Ok(match self {
            Batch::Numbers(a) => a.len(),
            Batch::Var32 { offsets, .. } => offsets.len().saturating_sub(1),
            Batch::Var64 { offsets, .. } => offsets.len().saturating_sub(1),
            Batch::View { views, .. } => views.len() / 16,
            Batch::FixedBytes { data, width } => data.len().checked_div(*width).unwrap_or(0),
            Batch::FixedUcs4 { data, width } => data.len().checked_div(*width).unwrap_or(0),
            Batch::Buffer(buffer) => buffer.len(),
            Batch::Seq(seq) => seq.len()?,
        })
    }

    /// Calls `f` with the core's view of a batch that is not converted lazily (checks Arrow
    /// offsets and views, UTF-8 and UCS-4 code points).
    pub fn with_view<R>(&self, f: impl FnOnce(&Keys) -> R) -> PyResult<R> {
        if let Batch::View {
            views,
            buffers,
            kind,
        } = self
        {
            let buffers = buffers.iter().map(slice).collect::<PyResult<Vec<_>>>()?;
            let kind = match kind {
                VarKind::Bytes => ItemKind::Bytes,
                VarKind::Str | VarKind::Utf8 => ItemKind::Str,
            };
            return Ok(f(&Keys::views(slice(views)?, &buffers, kind).py()?));
        }
        Ok(f(&self.view()?))
    }

    /// The core's view of a batch that is neither converted lazily nor made of Arrow views.
    fn view(&self) -> PyResult<Keys<'_>> {
        Ok(match self {
            Batch::Numbers(a) => a.keys()?,
            Batch::Var32 {
                data,
                offsets,
                kind,
            } => var_keys(slice(data)?, Offsets::I32(slice(offsets)?), *kind)?,
            Batch::Var64 {
                data,
                offsets,
                kind,
            } => var_keys(slice(data)?, Offsets::I64(slice(offsets)?), *kind)?,
            Batch::FixedBytes { data, width } => Keys::fixed_bytes(slice(data)?, *width).py()?,
            Batch::FixedUcs4 { data, width } => Keys::fixed_ucs4(slice(data)?, *width).py()?,
            Batch::Buffer(buffer) => buffer.keys(),
            Batch::Seq(_) | Batch::View { .. } => {
                return Err(PyValueError::new_err(
                    "internal: a sequence has no single buffer",
                ))
            }
        })
    }
}
