//! One Python item to its canonical bytes (`sketchy_core::items::encoding`), and back.
//!
//! [`with_item`] borrows the bytes of a `str`/`bytes` (no copy) or encodes a number on the stack,
//! exact types first (nearly all items, and the checks are pointer compares); [`item_object`] gives
//! a sketch's item back as the Python object it came from.

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyFloat, PyInt, PyMemoryView, PyString};
use sketchy_core::items::{encode_f64, encode_int, word_of};
use sketchy_core::ItemKind;

use crate::errors::IntoPyResult;

const EXPECTED: &str = "expected str, bytes, int or float";

/// The name of an object's type, for error messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

fn unsupported(obj: &Bound<'_, PyAny>, position: Option<usize>) -> PyErr {
    let name = type_name(obj);
    match position {
        Some(i) => PyTypeError::new_err(format!(
            "unsupported item type '{name}' at position {i}: {EXPECTED}"
        )),
        None => PyTypeError::new_err(format!("unsupported item type '{name}': {EXPECTED}")),
    }
}

#[inline]
fn int_bytes(value: &Bound<'_, PyInt>) -> PyResult<([u8; 8], ItemKind)> {
    if let Ok(v) = value.extract::<i64>() {
        return Ok((v.to_le_bytes(), ItemKind::Int));
    }
    // Outside i64: try the unsigned half, then report the canonical range.
    match value.extract::<i128>() {
        Ok(v) => encode_int(v).py(),
        Err(_) => Err(PyOverflowError::new_err(format!(
            "int {value} is outside the hashable range [-2**63, 2**64)"
        ))),
    }
}

/// numpy scalars that are not subclasses of the Python types: floating types and `numpy.bool`.
fn numpy_scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<(ItemKind, [u8; 8])>> {
    let ty = obj.get_type();
    if !ty
        .module()
        .map(|m| m.to_str().map(|s| s == "numpy").unwrap_or(false))
        .unwrap_or(false)
    {
        return Ok(None);
    }
    let name = ty.name()?;
    let name = name.to_str()?;
    if matches!(name, "float16" | "float32" | "float64" | "longdouble") {
        let v: f64 = obj.extract()?;
        return Ok(Some((ItemKind::Float, encode_f64(v))));
    }
    if name == "bool" {
        let v: bool = obj.extract()?;
        return Ok(Some((ItemKind::Int, i64::from(v).to_le_bytes())));
    }
    Ok(None)
}

/// The characters of a compact ASCII `str`, which are its UTF-8 bytes, read in place: most keys are
/// such strings, and this skips the call into `PyUnicode_AsUTF8AndSize` (a third of the per-key cost
/// of `hash_many` on a list of short keys).
#[inline(always)]
fn compact_ascii<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a [u8]> {
    // SAFETY: `s` is a live `str` (exact type checked by the caller), borrowed for `'a`.
    unsafe { ascii_chars(s.as_ptr()) }
}

/// [`compact_ascii`] of a raw `str` object: reads only its string state, length and characters, no
/// Python API, so another thread may run it while the GIL holder runs no Python code.
///
/// # Safety
///
/// `obj` must be a live object of exact type `str` that stays alive and unchanged for `'a`.
/// CPython stores a compact ASCII string's characters inline after its header, one byte each, and
/// never changes them (str is immutable).
#[inline(always)]
pub(crate) unsafe fn ascii_chars<'a>(obj: *mut pyo3::ffi::PyObject) -> Option<&'a [u8]> {
    use pyo3::ffi;
    // SAFETY: the caller's contract (see above).
    unsafe {
        if ffi::PyUnicode_IS_COMPACT_ASCII(obj) == 0 {
            return None;
        }
        let len = ffi::PyUnicode_GET_LENGTH(obj) as usize;
        Some(std::slice::from_raw_parts(
            ffi::PyUnicode_DATA(obj) as *const u8,
            len,
        ))
    }
}

/// The UTF-8 bytes of a `str` (read in place when ASCII); `UnicodeEncodeError` on lone surrogates.
#[inline(always)]
pub fn str_bytes<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a [u8]> {
    match compact_ascii(s) {
        Some(ascii) => Ok(ascii),
        None => Ok(s.to_str()?.as_bytes()),
    }
}

/// Calls `f(kind, canonical_bytes)` on one item; the error names `position` when given.
#[inline]
pub fn with_item<R>(
    obj: &Bound<'_, PyAny>,
    position: Option<usize>,
    f: impl FnOnce(ItemKind, &[u8]) -> R,
) -> PyResult<R> {
    plain_item(obj, f).unwrap_or_else(|f| with_item_slow(obj, position, f))
}

/// [`with_item`] for an exact str, bytes, int or float, which it converts without running Python
/// code; anything else gives `f` back. Exact types first: they are nearly all items, and the checks
/// are pointer compares.
#[inline(always)]
pub(crate) fn plain_item<R, F: FnOnce(ItemKind, &[u8]) -> R>(
    obj: &Bound<'_, PyAny>,
    f: F,
) -> Result<PyResult<R>, F> {
    Ok(if let Ok(s) = obj.cast_exact::<PyString>() {
        str_bytes(s).map(|bytes| f(ItemKind::Str, bytes))
    } else if let Ok(b) = obj.cast_exact::<PyBytes>() {
        Ok(f(ItemKind::Bytes, b.as_bytes()))
    } else if let Ok(i) = obj.cast_exact::<PyInt>() {
        int_bytes(i).map(|(bytes, kind)| f(kind, &bytes))
    } else if let Ok(x) = obj.cast_exact::<PyFloat>() {
        Ok(f(ItemKind::Float, &encode_f64(x.value())))
    } else {
        return Err(f);
    })
}

#[cold]
pub(crate) fn with_item_slow<R>(
    obj: &Bound<'_, PyAny>,
    position: Option<usize>,
    f: impl FnOnce(ItemKind, &[u8]) -> R,
) -> PyResult<R> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(f(ItemKind::Str, s.to_str()?.as_bytes()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(f(ItemKind::Bytes, b.as_bytes()));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        // Also `bool`: True is the int 1.
        let (bytes, kind) = int_bytes(i)?;
        return Ok(f(kind, &bytes));
    }
    if let Ok(x) = obj.cast::<PyFloat>() {
        return Ok(f(ItemKind::Float, &encode_f64(x.value())));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(f(ItemKind::Bytes, &b.to_vec()));
    }
    if obj.cast::<PyMemoryView>().is_ok() {
        let bytes = obj.call_method0("tobytes")?;
        return Ok(f(ItemKind::Bytes, bytes.cast::<PyBytes>()?.as_bytes()));
    }
    if let Some((kind, bytes)) = numpy_scalar(obj)? {
        return Ok(f(kind, &bytes));
    }
    // Integer-like objects (numpy integers, anything with __index__).
    if obj.hasattr("__index__")? {
        let index = obj.call_method0("__index__")?;
        if let Ok(i) = index.cast::<PyInt>() {
            let (bytes, kind) = int_bytes(i)?;
            return Ok(f(kind, &bytes));
        }
    }
    Err(unsupported(obj, position))
}

/// An item as the Python object it came from (str, bytes, int or float).
pub fn item_object<'py>(
    py: Python<'py>,
    kind: ItemKind,
    bytes: &[u8],
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match kind {
        ItemKind::Str => PyString::new(py, &String::from_utf8_lossy(bytes)).into_any(),
        ItemKind::Bytes => PyBytes::new(py, bytes).into_any(),
        ItemKind::Int => PyInt::new(py, word_of(bytes) as i64).into_any(),
        ItemKind::UInt => PyInt::new(py, word_of(bytes)).into_any(),
        ItemKind::Float => PyFloat::new(py, f64::from_bits(word_of(bytes))).into_any(),
    })
}
