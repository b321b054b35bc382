//! Turning Python items and batches into the canonical bytes of `sketchy_core::keys`.
//!
//! One item: [`with_item`] borrows the bytes of a `str`/`bytes` (no copy) or encodes a number on
//! the stack. A batch: [`Batch::extract`] borrows numpy and Arrow buffers, or copies the items of a
//! list or iterable into [`KeyBuffer`]s (a list chunk by chunk, handed to a second thread as it is
//! read: [`Batch::pipelined`]); the core runs with the GIL released.

use numpy::{PyArrayDescrMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple};
use pyo3::Borrowed;
use sketchy_core::count_min::Counts;
use sketchy_core::keys::{encode_f64, encode_int, Kinds, Offsets};
use sketchy_core::parallel::{self, Stopped};
use sketchy_core::{ItemKind, KeyBuffer, Keys, Sketch};

use crate::errors::{to_pyerr, IntoPyResult};
use crate::shared::Shared;

use std::ops::Range;
use std::sync::mpsc;

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
        Err(_) => Err(pyo3::exceptions::PyOverflowError::new_err(format!(
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
unsafe fn ascii_chars<'a>(obj: *mut pyo3::ffi::PyObject) -> Option<&'a [u8]> {
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
fn plain_item<R, F: FnOnce(ItemKind, &[u8]) -> R>(
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
fn with_item_slow<R>(
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

/// What the bytes of a variable-width batch are.
#[derive(Clone, Copy)]
pub enum VarKind {
    Bytes,
    /// Text to check for UTF-8 (sketchy's own readers).
    Str,
    /// Arrow strings, which Arrow has checked to be UTF-8 already.
    Utf8,
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

/// A batch of items ready for the core: borrowed numpy buffers or one owned buffer.
pub enum Batch<'py> {
    I8(PyReadonlyArray1<'py, i8>),
    I16(PyReadonlyArray1<'py, i16>),
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
    U8(PyReadonlyArray1<'py, u8>),
    U16(PyReadonlyArray1<'py, u16>),
    U32(PyReadonlyArray1<'py, u32>),
    U64(PyReadonlyArray1<'py, u64>),
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
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
    /// numpy `S` and `U` arrays, viewed as bytes / UCS-4 code units.
    FixedBytes {
        data: PyReadonlyArray1<'py, u8>,
        width: usize,
    },
    FixedUcs4 {
        data: PyReadonlyArray1<'py, u32>,
        width: usize,
    },
    /// A list or tuple: its items are converted chunk by chunk in [`Batch::pipelined`].
    Seq(Bound<'py, PyAny>),
    /// Any other iterable, converted once into one buffer.
    Buffer(KeyBuffer),
}

fn slice<'a, T: numpy::Element>(a: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err("keys: the array must be contiguous"))
}

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
fn list_item<'a, 'py>(list: &'a Bound<'py, PyList>, i: usize) -> Option<Borrowed<'a, 'py, PyAny>> {
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

/// Items of a list that [`Batch::pipelined`] hands to the other thread at a time: large enough that
/// the handover costs nothing, small enough that the chunks stay in cache.
const CHUNK: usize = 1 << 15;

/// Converts `items` chunk by chunk while another thread calls `f(start, keys)` on the chunks before,
/// in order (see [`Batch::pipelined`]); returns how many items were read.
fn pipeline<'a, 'py: 'a>(
    py: Python<'py>,
    len: usize,
    mut items: impl Iterator<Item = Borrowed<'a, 'py, PyAny>>,
    mut f: impl FnMut(usize, &Keys) -> sketchy_core::Result<()> + Send,
) -> PyResult<usize> {
    let (mut read, mut consumed) = (0, 0);
    let capacity = CHUNK.min(len);
    parallel::pipeline(
        |chunk: &mut KeyBuffer| {
            chunk.reserve(capacity);
            append(&mut items, CHUNK, read, chunk)?;
            read += chunk.len();
            Ok(chunk.len() == CHUNK)
        },
        |chunk: &mut KeyBuffer| {
            let start = consumed;
            consumed += chunk.len();
            f(start, &chunk.keys())
        },
        KeyBuffer::clear,
        |wait| py.detach(wait),
    )
    .map_err(stopped)?;
    Ok(read)
}

/// The error that stopped a pipeline whose producer reads Python objects.
pub fn stopped(stop: Stopped<PyErr, sketchy_core::SketchError>) -> PyErr {
    match stop {
        Stopped::Producer(err) => err,
        Stopped::Consumer(err) => to_pyerr(err),
    }
}

/// What counting an item costs next to reading it out of a list, in percent (reading a short str,
/// about 13 ns here, is 100). It decides how much of a long list the counting thread reads as well
/// (see [`split_pipeline`]): with counting at `c`, this thread reads `(100 + c) / 200` of the list,
/// which gives both threads the same work; from 100 on, the counting thread reads nothing.
#[derive(Clone, Copy)]
pub struct Cost(pub usize);

impl Cost {
    /// Hashing an item.
    pub const HASH: Cost = Cost(35);
}

/// A list whose items another thread may read: see [`read_ascii`].
#[derive(Clone, Copy)]
struct ListItems(*mut pyo3::ffi::PyObject);

// SAFETY: the pointer is only dereferenced by `read_ascii`, whose contract (the list unchanged and
// its items alive while it runs) `split_pipeline` keeps by holding the GIL on the thread that owns
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
unsafe fn read_ascii(
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

/// What [`split_pipeline`] sends to the counting thread: a chunk of the first part, or the end of
/// the first part (count the second part, read by the counting thread itself, then go on).
enum Part {
    Chunk(KeyBuffer),
    EndOfFirst,
}

/// [`pipeline`] for a long list, read on both threads: while this thread reads the first part into
/// chunks (its share by `cost`), the other reads the rest (ASCII str only, in place, see
/// [`read_ascii`]); it then calls `f(start, keys)` on every chunk in the list's order. Until the other thread has
/// stopped reading, this one keeps the GIL and reads ASCII str the same way, so that no Python code
/// runs (nothing can change the list); from its first other item on, and for what the other thread
/// left, it reads as [`pipeline`] does. Returns how many items were read.
fn split_pipeline(
    py: Python<'_>,
    list: &Bound<'_, PyList>,
    cost: Cost,
    mut f: impl FnMut(usize, &Keys) -> sketchy_core::Result<()> + Send,
) -> PyResult<usize> {
    let len = list.len();
    let mid = len / 200 * (100 + cost.0);
    let items = ListItems(list.as_ptr());
    let (to_counter, parts) = mpsc::channel::<Part>();
    let (stopped, stop) = mpsc::sync_channel::<usize>(1);
    let (done, finished) = mpsc::sync_channel::<()>(1);
    // Counted chunks go back to the reader: fresh buffers of a few hundred KB each would cost a page
    // fault per 4 KB.
    let (recycle, spare) = mpsc::channel::<KeyBuffer>();
    let counter = move || -> sketchy_core::Result<()> {
        let mut second = Vec::new();
        let fresh = || KeyBuffer::with_capacity(CHUNK);
        // SAFETY: `mid..len` lies inside the list, and the reading thread holds the GIL and runs no
        // Python code until it has received `stop` (sent just below, before anything can fail).
        let end = unsafe { read_ascii(items, mid..len, fresh, |chunk| second.push(chunk)) };
        let _ = stopped.send(end);
        let mut start = 0;
        let mut count = |chunk: &KeyBuffer| {
            let result = f(start, &chunk.keys());
            start += chunk.len();
            result
        };
        let counted = parts.iter().try_for_each(|part| match part {
            Part::Chunk(mut chunk) => {
                count(&chunk)?;
                chunk.clear();
                let _ = recycle.send(chunk); // the reader may be done: fine
                Ok(())
            }
            Part::EndOfFirst => second.iter().try_for_each(&mut count),
        });
        let _ = done.send(());
        counted
    };
    let reader = move || -> PyResult<usize> {
        let mut going = true;
        let send = |part: Part, going: &mut bool| {
            // false: the counter stopped (on an error, which it reports)
            *going = *going && to_counter.send(part).is_ok();
        };
        let fresh = || {
            spare
                .try_recv()
                .unwrap_or_else(|_| KeyBuffer::with_capacity(CHUNK))
        };
        // The first part, in place, handed over chunk by chunk while the other thread reads too; no
        // Python code runs meanwhile.
        // SAFETY: `0..mid` lies inside the list; this thread holds the GIL and runs no Python code
        // until `stop` has come.
        let mut read = unsafe {
            read_ascii(items, 0..mid, fresh, |chunk| {
                send(Part::Chunk(chunk), &mut going)
            })
        };
        // From here on Python code may run: wait until the other thread has stopped reading.
        let end = stop.recv().unwrap_or(mid);
        let rest = |from: usize, to: usize, going: &mut bool| -> PyResult<usize> {
            let mut at = from;
            let mut slots = (from..to).map_while(|i| list_item(list, i));
            while *going && at < to {
                let mut chunk = fresh();
                append(&mut slots, CHUNK, at, &mut chunk)?;
                if chunk.is_empty() {
                    break; // the list shrank: `same_len` reports it
                }
                at += chunk.len();
                send(Part::Chunk(chunk), going);
            }
            Ok(at - from)
        };
        read += rest(read, mid, &mut going)?;
        send(Part::EndOfFirst, &mut going);
        read += end - mid;
        read += rest(end, len, &mut going)?;
        drop(to_counter); // ends the counter's loop
        py.detach(move || finished.recv()).ok();
        Ok(read)
    };
    let (counted, read) = parallel::join(counter, reader);
    let read = read?;
    counted.py()?;
    Ok(read)
}

/// An error unless the `len` items a list had when reading started were all read and it still has
/// `len`: code run while reading it (an item's `__index__`, or another thread while this one
/// waits) may change its size. Reading stops at `len` items, so the caller's buffers (counts, the
/// output) are never overrun.
fn same_len(list: &Bound<'_, PyList>, read: usize, len: usize) -> PyResult<()> {
    if read == len && list.len() == len {
        return Ok(());
    }
    Err(PyRuntimeError::new_err(format!(
        "the list changed size while it was being read (from {len} items to {})",
        list.len()
    )))
}

/// Converts up to `limit` items into `buffer`, naming positions from `start` in errors.
fn append<'a, 'py: 'a>(
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
        let any = array.as_any();
        let batch = match (dtype.kind(), dtype.itemsize()) {
            (b'i', 1) => Batch::I8(any.extract()?),
            (b'i', 2) => Batch::I16(any.extract()?),
            (b'i', 4) => Batch::I32(any.extract()?),
            (b'i', 8) => Batch::I64(any.extract()?),
            (b'u', 1) => Batch::U8(any.extract()?),
            (b'u', 2) => Batch::U16(any.extract()?),
            (b'u', 4) => Batch::U32(any.extract()?),
            (b'u', 8) => Batch::U64(any.extract()?),
            (b'f', 4) => Batch::F32(any.extract()?),
            (b'f', 8) => Batch::F64(any.extract()?),
            _ => return Ok(None),
        };
        Ok(Some(batch))
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
        match tag.as_str() {
            "var32" => Ok(Batch::Var32 {
                kind: kind_of(&spec.get_item(1)?.extract::<String>()?)?,
                offsets: spec.get_item(2)?.extract()?,
                data: spec.get_item(3)?.extract()?,
            }),
            "var64" => Ok(Batch::Var64 {
                kind: kind_of(&spec.get_item(1)?.extract::<String>()?)?,
                offsets: spec.get_item(2)?.extract()?,
                data: spec.get_item(3)?.extract()?,
            }),
            "fixed_bytes" => Ok(Batch::FixedBytes {
                data: spec.get_item(1)?.extract()?,
                width: spec.get_item(2)?.extract()?,
            }),
            "fixed_ucs4" => Ok(Batch::FixedUcs4 {
                data: spec.get_item(1)?.extract()?,
                width: spec.get_item(2)?.extract()?,
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
            append(
                &mut (0..len).map_while(|i| list_item(list, i)),
                usize::MAX,
                0,
                &mut buffer,
            )?;
            same_len(list, buffer.len(), len)?;
        } else {
            append(
                &mut seq.cast_exact::<PyTuple>()?.iter_borrowed(),
                usize::MAX,
                0,
                &mut buffer,
            )?;
        }
        Ok(Batch::Buffer(buffer))
    }

    /// Calls `f(start, keys)` on consecutive chunks of the batch (`start` is the position of the
    /// chunk's first item), in order, without the GIL. For a list or tuple longer than a chunk, `f`
    /// runs on a second thread while this one converts the next chunk out of the Python objects, so
    /// the two overlap on two cores. An item that cannot be converted stops `f` after the chunks
    /// before it and is reported: a caller that must change nothing on error works on a copy (see
    /// [`Batch::add_to`]).
    pub fn pipelined(
        &self,
        py: Python<'_>,
        cost: Cost,
        mut f: impl FnMut(usize, &Keys) -> sketchy_core::Result<()> + Send,
    ) -> PyResult<()> {
        let Batch::Seq(seq) = self else {
            let keys = self.view()?;
            return py.detach(|| f(0, &keys)).py();
        };
        if let Ok(list) = seq.cast_exact::<PyList>() {
            let len = list.len();
            let read = if len >= 3 * CHUNK && cost.0 < 100 && parallel::pipelining() {
                split_pipeline(py, list, cost, f)?
            } else {
                pipeline(py, len, (0..len).map_while(|i| list_item(list, i)), f)?
            };
            same_len(list, read, len)
        } else {
            let tuple = seq.cast_exact::<PyTuple>()?;
            pipeline(py, tuple.len(), tuple.iter_borrowed(), f).map(|_| ())
        }
    }

    /// Adds the batch to `sketch`, item `i` `counts[i]` times, without the GIL and all or
    /// nothing: an item that cannot be converted leaves the sketch as it was.
    ///
    /// A list or tuple of at least as many items as the sketch has bytes is read on this thread
    /// while another adds the chunks already read to a copy of the sketch, which replaces the sketch
    /// once every item has been read: the copy costs less than a byte per item, and reading and
    /// counting overlap. The sketch stays locked meanwhile, so that no other thread's update is
    /// lost. A shorter one is read whole first, before the sketch is locked; arrays are borrowed.
    pub fn add_to<S: Sketch>(
        self,
        py: Python<'_>,
        shared: &Shared<S>,
        counts: Counts<'_>,
        cost: Cost,
    ) -> PyResult<()> {
        counts.sum(self.len()?).py()?; // one count per item: each chunk can take its share
        if self.is_converted_lazily() {
            let mut sketch = shared.lock_for_python(py)?;
            if sketch.memory_size() <= self.len()? {
                let mut copy = sketch.clone();
                self.pipelined(py, cost, |start, keys| {
                    copy.update(keys, counts.sub(start..start + keys.len()))
                })?;
                *sketch = copy;
                return Ok(());
            }
        }
        let batch = self.materialize()?;
        let keys = batch.view()?;
        let mut sketch = shared.lock(py)?;
        let sketch: &mut S = &mut sketch;
        py.detach(|| sketch.update(&keys, counts)).py()
    }

    /// The number of items, from the buffers' shapes: the checks of [`Batch::view`] (UTF-8, code
    /// points, offsets) would be a second pass over the data.
    pub fn len(&self) -> PyResult<usize> {
        Ok(match self {
            Batch::I8(a) => a.len(),
            Batch::I16(a) => a.len(),
            Batch::I32(a) => a.len(),
            Batch::I64(a) => a.len(),
            Batch::U8(a) => a.len(),
            Batch::U16(a) => a.len(),
            Batch::U32(a) => a.len(),
            Batch::U64(a) => a.len(),
            Batch::F32(a) => a.len(),
            Batch::F64(a) => a.len(),
            Batch::Var32 { offsets, .. } => offsets.len().saturating_sub(1),
            Batch::Var64 { offsets, .. } => offsets.len().saturating_sub(1),
            Batch::FixedBytes { data, width } => data.len().checked_div(*width).unwrap_or(0),
            Batch::FixedUcs4 { data, width } => data.len().checked_div(*width).unwrap_or(0),
            Batch::Buffer(buffer) => buffer.len(),
            Batch::Seq(seq) => seq.len()?,
        })
    }

    /// The core's view of a batch that is not converted lazily (checks Arrow offsets, UTF-8 and
    /// UCS-4 code points).
    pub fn view(&self) -> PyResult<Keys<'_>> {
        Ok(match self {
            Batch::I8(a) => Keys::I8(slice(a)?),
            Batch::I16(a) => Keys::I16(slice(a)?),
            Batch::I32(a) => Keys::I32(slice(a)?),
            Batch::I64(a) => Keys::I64(slice(a)?),
            Batch::U8(a) => Keys::U8(slice(a)?),
            Batch::U16(a) => Keys::U16(slice(a)?),
            Batch::U32(a) => Keys::U32(slice(a)?),
            Batch::U64(a) => Keys::U64(slice(a)?),
            Batch::F32(a) => Keys::F32(slice(a)?),
            Batch::F64(a) => Keys::F64(slice(a)?),
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
            Batch::Seq(_) => {
                return Err(PyValueError::new_err(
                    "internal: a sequence has no single buffer",
                ))
            }
        })
    }
}
