//! Raw `METH_FASTCALL` functions, for the single-key hash functions only.
//!
//! `sketchy.murmur3_32(key)` must cost no more than `mmh3.hash(key)`, about 14 ns above a bare
//! builtin call on this machine. A `#[pyfunction]` spends about 10 ns of that in PyO3's generic
//! trampoline and argument parser before our code runs, so these few functions are registered by
//! hand with a small parser for their fixed signature `(key, seed=0, *, signed=...)`. Everything
//! else in the bindings is plain PyO3.

use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use pyo3::exceptions::PyTypeError;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{ffi, Borrowed};

/// The arguments of a single-key hash function.
pub struct Args<'a, 'py> {
    pub key: Borrowed<'a, 'py, PyAny>,
    pub seed: Option<Borrowed<'a, 'py, PyAny>>,
    pub signed: Option<bool>,
}

/// Parses `(key, seed=0, *, signed=...)` from a vectorcall; `signed` only if `accepts_signed`.
///
/// # Safety
/// `args` must point to `nargs` positional arguments followed by one argument per name in
/// `kwnames` (a tuple of str, or NULL), all alive for `'a`: what CPython passes to a
/// `METH_FASTCALL | METH_KEYWORDS` function.
#[inline(always)]
pub unsafe fn parse_args<'a, 'py>(
    py: Python<'py>,
    name: &str,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
    accepts_signed: bool,
) -> PyResult<Args<'a, 'py>> {
    // The common calls, `f(key)` and `f(key, seed)`: positional arguments only.
    if kwnames.is_null() && (nargs == 1 || nargs == 2) {
        // SAFETY: guaranteed by the caller: `nargs` positional arguments.
        let key = unsafe { Borrowed::from_ptr(py, *args) };
        // SAFETY: as above; the second is read only when `nargs` is 2.
        let seed = (nargs == 2).then(|| unsafe { Borrowed::from_ptr(py, *args.add(1)) });
        return Ok(Args {
            key,
            seed,
            signed: None,
        });
    }
    // SAFETY: forwarded from the caller.
    unsafe { parse_general(py, name, args, nargs, kwnames, accepts_signed) }
}

/// [`parse_args`] for calls with a seed, keywords or wrong arguments.
#[cold]
unsafe fn parse_general<'a, 'py>(
    py: Python<'py>,
    name: &str,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
    accepts_signed: bool,
) -> PyResult<Args<'a, 'py>> {
    let nargs = nargs as usize;
    if nargs > 2 {
        return Err(PyTypeError::new_err(format!(
            "{name}() takes at most 2 positional arguments ({nargs} given)"
        )));
    }
    let arg = |i: usize| {
        // SAFETY: guaranteed by the caller (see `parse_args`): `i` is below `nargs` plus the
        // number of keywords, the arguments the vectorcall passed.
        unsafe { Borrowed::from_ptr(py, *args.add(i)) }
    };
    let mut key = (nargs > 0).then(|| arg(0));
    let mut seed = (nargs > 1).then(|| arg(1));
    let mut signed = None;
    if !kwnames.is_null() {
        // SAFETY: a non-null `kwnames` of a vectorcall is a live tuple of the keyword names, owned
        // by the caller for the duration of the call (see `parse_args`).
        let names = unsafe { Borrowed::from_ptr(py, kwnames) };
        let names = names.cast::<PyTuple>()?;
        for (i, keyword) in names.iter().enumerate() {
            let value = arg(nargs + i);
            let duplicate = match keyword.extract::<&str>()? {
                "key" => key.replace(value).is_some(),
                "seed" => seed.replace(value).is_some(),
                "signed" if accepts_signed => signed.replace(value.extract::<bool>()?).is_some(),
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "{name}() got an unexpected keyword argument '{other}'"
                    )))
                }
            };
            if duplicate {
                return Err(PyTypeError::new_err(format!(
                    "{name}() got multiple values for argument '{keyword}'"
                )));
            }
        }
    }
    let key = key
        .ok_or_else(|| PyTypeError::new_err(format!("{name}() missing required argument 'key'")))?;
    Ok(Args { key, seed, signed })
}

/// Runs the body of a raw function: a Python exception (or a Rust panic, which would be a bug) is
/// set as the current exception and NULL returned, as CPython expects.
#[inline(always)]
pub fn run(body: impl FnOnce(Python<'_>) -> PyResult<*mut ffi::PyObject>) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a module's functions from a thread attached to the interpreter.
    let py = unsafe { Python::assume_attached() };
    match catch_unwind(AssertUnwindSafe(|| body(py))) {
        Ok(Ok(result)) => result,
        Ok(Err(err)) => {
            err.restore(py);
            ptr::null_mut()
        }
        Err(_) => {
            PanicException::new_err("a Rust panic in sketchy (a bug: please report it)")
                .restore(py);
            ptr::null_mut()
        }
    }
}

/// Adds a raw `METH_FASTCALL | METH_KEYWORDS` function to module `m`. `doc` starts with the
/// `name(signature)\n--\n\n` line from which CPython derives `__text_signature__`.
pub fn add_function(
    m: &Bound<'_, PyModule>,
    name: &'static CStr,
    doc: &'static CStr,
    function: ffi::PyCFunctionFastWithKeywords,
) -> PyResult<()> {
    let py = m.py();
    // CPython keeps a pointer to the definition for the function's lifetime: give it one that lives
    // forever (a few dozen bytes, once per interpreter).
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFastWithKeywords: function,
        },
        ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: doc.as_ptr(),
    }));
    let module_name = m.name()?;
    // SAFETY: `def` is valid forever and describes `function` with the matching flags; the module
    // name is a live str. A NULL result is turned into the pending Python exception.
    let function = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyCFunction_NewEx(def, ptr::null_mut(), module_name.as_ptr()),
        )?
    };
    m.add(name.to_string_lossy().as_ref(), function)
}
