//! Arguments shared by the sketches: counts, serialized bytes, and items given back to Python.

use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyMemoryView, PyString};
use sketchy_core::count_min::Counts;
use sketchy_core::ItemKind;

use crate::items::type_name;

/// A non-negative count (`count=` of `add`): an int or an integer-like object (numpy ints).
pub fn count_arg(count: &Bound<'_, PyAny>) -> PyResult<u64> {
    let not_int =
        || PyTypeError::new_err(format!("count must be an int, not {}", type_name(count)));
    if count.is_instance_of::<PyBool>() || count.is_instance_of::<PyFloat>() {
        return Err(not_int());
    }
    let int = match count.cast::<PyInt>() {
        Ok(int) => int.clone(),
        Err(_) => count
            .call_method0("__index__")
            .map_err(|_| not_int())?
            .cast_into::<PyInt>()?,
    };
    if let Ok(v) = int.extract::<u64>() {
        return Ok(v);
    }
    match int.extract::<i128>() {
        Ok(v) if v < 0 => Err(PyValueError::new_err(format!(
            "count must be non-negative, got {v}"
        ))),
        _ => Err(PyOverflowError::new_err(format!(
            "count {int} is larger than 2**64 - 1"
        ))),
    }
}

/// A size parameter (`width`, `k`...) as the core takes it; a negative one is refused by name.
pub fn size_arg(name: &str, value: i64) -> PyResult<u64> {
    u64::try_from(value)
        .map_err(|_| PyValueError::new_err(format!("{name}: must be at least 1, got {value}")))
}

/// The `counts=` of `update`: one int for every item, or one per item (a sequence or an array).
pub enum CountsArg<'py> {
    Each(u64),
    PerItem(PyReadonlyArray1<'py, u64>),
}

static COUNTS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

impl<'py> CountsArg<'py> {
    pub fn extract(counts: Option<&Bound<'py, PyAny>>) -> PyResult<Self> {
        let Some(counts) = counts.filter(|c| !c.is_none()) else {
            return Ok(CountsArg::Each(1));
        };
        if counts.is_instance_of::<PyInt>() && !counts.is_instance_of::<PyBool>() {
            return Ok(CountsArg::Each(count_arg(counts)?));
        }
        let array = COUNTS
            .import(counts.py(), "sketchy._batch", "counts")?
            .call1((counts,))?;
        Ok(CountsArg::PerItem(array.extract()?))
    }

    pub fn view(&self) -> PyResult<Counts<'_>> {
        Ok(match self {
            CountsArg::Each(c) => Counts::Each(*c),
            CountsArg::PerItem(a) => Counts::PerItem(a.as_slice()?),
        })
    }
}

/// The bytes given to `from_bytes`: bytes, bytearray or memoryview.
pub fn bytes_arg(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if data.is_instance_of::<PyMemoryView>() {
        return Ok(data
            .call_method0("tobytes")?
            .cast::<PyBytes>()?
            .as_bytes()
            .to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "data must be bytes, not {}",
        type_name(data)
    )))
}

/// An item as the Python object it came from (str, bytes, int or float).
pub fn item_object<'py>(
    py: Python<'py>,
    kind: ItemKind,
    bytes: &[u8],
) -> PyResult<Bound<'py, PyAny>> {
    let eight = || -> [u8; 8] {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[..8.min(bytes.len())]);
        b
    };
    Ok(match kind {
        ItemKind::Str => PyString::new(py, &String::from_utf8_lossy(bytes)).into_any(),
        ItemKind::Bytes => PyBytes::new(py, bytes).into_any(),
        ItemKind::Int => PyInt::new(py, i64::from_le_bytes(eight())).into_any(),
        ItemKind::UInt => PyInt::new(py, u64::from_le_bytes(eight())).into_any(),
        ItemKind::Float => PyFloat::new(py, f64::from_le_bytes(eight())).into_any(),
    })
}
