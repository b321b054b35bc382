//! All raw access to a Python list's items: borrowed reads (no reference count changes) with
//! prefetching, and the in-place read of compact ASCII `str` items that another thread may do while
//! this one holds the GIL and runs no Python code ([`read_ascii`]). The `unsafe` of the bindings'
//! batch path is here, each block with the contract it relies on.

use std::ops::Range;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use pyo3::Borrowed;
use sketchy_core::{ItemKind, KeyBuffer};

use super::item::{ascii_chars, plain_item, with_item_slow};

/// Items of a list read into one chunk (a [`KeyBuffer`]) at a time: large enough that handing it
/// to another thread costs nothing, small enough that the chunks stay in cache.
pub const CHUNK: usize = 1 << 15;

/// How many items ahead [`list_item`] prefetches: enough to cover a cache miss on each item.
const PREFETCH_AHEAD: usize = 16;

/// Item `i` of `list` (None past the end), borrowed, after prefetching item `i + PREFETCH_AHEAD`.
/// Reading the type and the characters of each object is a cache miss on a large list (objects are
/// scattered in memory); it dominated the cost of `hash_many` over a list of str until the misses
/// overlapped. Borrowing (no reference count changes) keeps the objects' cache lines clean: writing
/// back a million dirtied objects cost as much as reading them.
///
/// The item is valid only until Python code runs (which could remove it from the list):
/// [`append`] takes a reference of its own before anything that could run Python code.
#[inline(always)]
pub fn list_item<'a, 'py>(
    list: &'a Bound<'py, PyList>,
    i: usize,
) -> Option<Borrowed<'a, 'py, PyAny>> {
    let len = list.len();
    if i >= len {
        return None;
    }
    if i + PREFETCH_AHEAD < len {
        // SAFETY: the index is inside the list (checked just above, with the GIL held and no Python
        // code running in between).
        unsafe { prefetch_item(list.as_ptr(), i + PREFETCH_AHEAD) };
    }
    // SAFETY: `i < len` was checked above with the GIL held and nothing ran since, so the slot holds
    // a live object, which the list keeps alive as long as no Python code runs (see above).
    Some(unsafe {
        Borrowed::from_ptr(
            list.py(),
            pyo3::ffi::PyList_GET_ITEM(list.as_ptr(), i as isize),
        )
    })
}

/// Prefetches item `i` of a list (its object, not only the slot).
///
/// # Safety
///
/// `i` must be inside the list `list`, which must not change meanwhile. The object pointer is only
/// prefetched, never dereferenced; a prefetch cannot fault.
#[inline(always)]
unsafe fn prefetch_item(list: *mut pyo3::ffi::PyObject, i: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller's contract: PyList_GET_ITEM reads a valid slot.
    unsafe {
        let item = pyo3::ffi::PyList_GET_ITEM(list, i as isize);
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(item as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (list, i);
}

/// A list whose items another thread may read: see [`read_ascii`].
#[derive(Clone, Copy)]
pub struct ListItems(pub *mut pyo3::ffi::PyObject);

// SAFETY: the pointer is only dereferenced by `read_ascii`, whose contract (the list unchanged and
// its items alive while it runs) `crate::pipeline::split_pipeline` keeps by holding the GIL on the thread that owns
// the list, running no Python code, until the reader has stopped.
unsafe impl Send for ListItems {}

/// Reads items `range` of `list` into chunks of [`CHUNK`] items (empty buffers from `fresh`, each
/// handed to `full` once full, and the last one) as long as they are exact `str` objects in compact
/// ASCII form, whose characters are their UTF-8 bytes, read in place with no call into Python.
/// Returns the position of the first other item, or `range.end`.
///
/// # Safety
///
/// `range` must lie inside the list, and the list and its items must not change or be freed while
/// this runs: the thread that owns them holds the GIL meanwhile and runs no Python code.
pub unsafe fn read_ascii(
    list: ListItems,
    range: Range<usize>,
    mut fresh: impl FnMut() -> KeyBuffer,
    mut full: impl FnMut(KeyBuffer),
) -> usize {
    use pyo3::ffi;
    let mut buffer = fresh();
    let mut stop = range.end;
    for i in range.clone() {
        // SAFETY: `i` is inside the list and the list is unchanged (the caller's contract), so the
        // slot holds a live object; its type is read, and `ascii_chars` reads only an exact `str`.
        let item = unsafe {
            if i + PREFETCH_AHEAD < range.end {
                prefetch_item(list.0, i + PREFETCH_AHEAD);
            }
            let obj = ffi::PyList_GET_ITEM(list.0, i as isize);
            if ffi::Py_TYPE(obj) == std::ptr::addr_of_mut!(ffi::PyUnicode_Type) {
                ascii_chars(obj)
            } else {
                None
            }
        };
        let Some(bytes) = item else {
            stop = i;
            break;
        };
        buffer.push(ItemKind::Str, bytes);
        if buffer.len() == CHUNK {
            full(std::mem::replace(&mut buffer, fresh()));
        }
    }
    if !buffer.is_empty() {
        full(buffer);
    }
    stop
}

/// An error unless the `len` items a list had when reading started were all read and it still has
/// `len`: code run while reading it (an item's `__index__`, or another thread while this one
/// waits) may change its size. Reading stops at `len` items, so the caller's buffers (counts, the
/// output) are never overrun.
pub fn same_len(list: &Bound<'_, PyList>, read: usize, len: usize) -> PyResult<()> {
    if read == len && list.len() == len {
        return Ok(());
    }
    Err(PyRuntimeError::new_err(format!(
        "the list changed size while it was being read (from {len} items to {})",
        list.len()
    )))
}

/// Converts up to `limit` items into `buffer`, naming positions from `start` in errors.
pub fn append<'a, 'py: 'a>(
    items: &mut impl Iterator<Item = Borrowed<'a, 'py, PyAny>>,
    limit: usize,
    start: usize,
    buffer: &mut KeyBuffer,
) -> PyResult<()> {
    for (i, item) in items.take(limit).enumerate() {
        let push = |kind, bytes: &[u8]| buffer.push(kind, bytes);
        // The plain types are read without running Python code: the borrowed item stays valid.
        // Anything else might (`__index__`, say), so it is held by a reference of its own.
        plain_item(&item, push)
            .unwrap_or_else(|push| with_item_slow(&item.to_owned(), Some(start + i), push))?;
    }
    Ok(())
}
