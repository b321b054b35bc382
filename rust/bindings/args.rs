//! Arguments shared by the classes: seeds, sizes and counts, serialized bytes, and parameters
//! chosen by name (whose names and errors are the core's `FromStr`).

use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyMemoryView};
use sketchy_core::sketch::Counts;

use crate::convert::item::type_name;
use crate::errors::IntoPyResult;

/// A non-negative integer argument `name` no larger than `max`: an int or an integer-like object
/// (numpy ints), not a bool or a float. Seeds and counts.
#[inline]
pub fn uint_arg(obj: &Bound<'_, PyAny>, name: &str, max: u64) -> PyResult<u64> {
    if let Ok(int) = obj.cast_exact::<PyInt>() {
        if let Ok(v) = int.extract::<u64>() {
            if v <= max {
                return Ok(v);
            }
        }
    }
    let not_int = || PyTypeError::new_err(format!("{name} must be an int, not {}", type_name(obj)));
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyFloat>() {
        return Err(not_int());
    }
    let int = match obj.cast::<PyInt>() {
        Ok(int) => int.clone(),
        Err(_) => obj
            .call_method0("__index__")
            .map_err(|_| not_int())?
            .cast_into::<PyInt>()?,
    };
    match int.extract::<i128>() {
        Ok(v) if v < 0 => Err(PyValueError::new_err(format!(
            "{name} must be non-negative, got {v}"
        ))),
        Ok(v) if v <= i128::from(max) => Ok(v as u64),
        _ => Err(PyOverflowError::new_err(format!(
            "{name} {int} is too large: it must be in [0, {max}]"
        ))),
    }
}

/// A non-negative count (`count=` of `add`).
pub fn count_arg(count: &Bound<'_, PyAny>) -> PyResult<u64> {
    uint_arg(count, "count", u64::MAX)
}

/// A seed argument (0 when not given) no larger than `max`.
#[inline(always)]
pub fn seed_arg(seed: Option<&Bound<'_, PyAny>>, max: u64) -> PyResult<u64> {
    seed.map_or(Ok(0), |seed| uint_arg(seed, "seed", max))
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

/// A parameter given by name (`hash="datasketches"`): ValueError listing the valid names otherwise.
pub fn name_arg<T: std::str::FromStr<Err = sketchy_core::SketchError>>(name: &str) -> PyResult<T> {
    name.parse::<T>().py()
}
