//! The one place where core errors become Python exceptions.

use pyo3::exceptions::PyValueError;
use pyo3::exceptions::{PyFileNotFoundError, PyIsADirectoryError, PyOSError};
use pyo3::exceptions::{PyOverflowError, PyPermissionError, PyTypeError, PyUnicodeEncodeError};
use pyo3::prelude::*;
use sketchy_core::SketchError;

/// Maps a [`SketchError`] to the exception a Python user expects for it.
pub fn to_pyerr(err: SketchError) -> PyErr {
    let message = err.to_string();
    match err {
        SketchError::Overflow { .. } => PyOverflowError::new_err(message),
        SketchError::WrongType { .. } => PyTypeError::new_err(message),
        SketchError::InvalidUnicode {
            position,
            code_point,
        } => unicode_error(position, code_point),
        SketchError::InvalidParameter { .. }
        | SketchError::Incompatible { .. }
        | SketchError::InvalidFormat { .. }
        | SketchError::InvalidInput { .. } => PyValueError::new_err(message),
        // The OSError subclass Python raises for the same failure.
        SketchError::Io { kind, .. } => match kind {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
            std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(message),
            _ => PyOSError::new_err(message),
        },
    }
}

/// `UnicodeEncodeError` takes the offending string: rebuild it (one lone surrogate) in Python.
fn unicode_error(position: usize, code_point: u32) -> PyErr {
    Python::attach(|py| {
        let reason = format!("surrogates not allowed (item at position {position})");
        let made = py
            .import("builtins")
            .and_then(|b| b.getattr("chr")?.call1((code_point,)))
            .and_then(|text| {
                py.get_type::<PyUnicodeEncodeError>()
                    .call1(("utf-8", text, 0, 1, reason))
            });
        match made {
            Ok(exception) => PyErr::from_value(exception),
            Err(err) => err,
        }
    })
}

/// `?`-friendly conversion of core results.
pub trait IntoPyResult<T> {
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPyResult<T> for sketchy_core::Result<T> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_pyerr)
    }
}
