//! `murmur3_32`, `murmur3_128`, `xxh32`, `xxh64`, `xxh3_64`, `xxh3_128` and `hash_many`.

use numpy::{IntoPyArray, PyArrayMethods};
use std::ffi::CStr;

use pyo3::ffi;
use pyo3::prelude::*;
use sketchy_core::hash::{hash_many_128, hash_many_32, hash_many_64, Width};
use sketchy_core::Algorithm;

use sketchy_core::parallel::Cost;

use crate::args::{name_arg, seed_arg};
use crate::convert::batch::Batch;
use crate::convert::item::with_item;
use crate::fastcall;

/// The single-key functions, as (name, algorithm, docstring). Each is registered as a raw
/// `METH_FASTCALL` function (see `fastcall.rs`) running [`single_key`].
pub fn add_single_key_functions(m: &Bound<'_, PyModule>) -> PyResult<()> {
    fastcall::add_function(m, c"murmur3_32", MURMUR3_32_DOC, single_key::<0>)?;
    fastcall::add_function(m, c"murmur3_128", MURMUR3_128_DOC, single_key::<1>)?;
    fastcall::add_function(m, c"xxh32", XXH32_DOC, single_key::<2>)?;
    fastcall::add_function(m, c"xxh64", XXH64_DOC, single_key::<3>)?;
    fastcall::add_function(m, c"xxh3_64", XXH3_64_DOC, single_key::<4>)?;
    fastcall::add_function(m, c"xxh3_128", XXH3_128_DOC, single_key::<5>)
}

/// `sketchy.<algorithm>(key, seed=0[, *, signed])`: `ALGORITHM` indexes [`Algorithm::ALL`], so that
/// each function is compiled for its own algorithm.
unsafe extern "C" fn single_key<const ALGORITHM: usize>(
    _module: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    fastcall::run(|py| {
        let algorithm = Algorithm::ALL[ALGORITHM];
        let murmur = matches!(algorithm, Algorithm::Murmur3_32 | Algorithm::Murmur3_128);
        // SAFETY: CPython calls this METH_FASTCALL | METH_KEYWORDS function with such arguments.
        let args =
            unsafe { fastcall::parse_args(py, algorithm.name(), args, nargs, kwnames, murmur)? };
        let seed = seed_arg(args.seed.as_deref(), algorithm.max_seed())?;
        let h = with_item(&args.key, None, |_, bytes| algorithm.hash(bytes, seed))?;
        let result = match algorithm {
            // mmh3's defaults: hash() is signed, hash128() unsigned.
            Algorithm::Murmur3_32 if args.signed.unwrap_or(true) => {
                (h as u32 as i32).into_pyobject(py)?.into_any()
            }
            Algorithm::Murmur3_128 if args.signed.unwrap_or(false) => {
                (h as i128).into_pyobject(py)?.into_any()
            }
            Algorithm::Murmur3_32 | Algorithm::Xxh32 => (h as u32).into_pyobject(py)?.into_any(),
            Algorithm::Xxh64 | Algorithm::Xxh3_64 => (h as u64).into_pyobject(py)?.into_any(),
            Algorithm::Murmur3_128 | Algorithm::Xxh3_128 => h.into_pyobject(py)?.into_any(),
        };
        Ok(result.into_ptr())
    })
}

const MURMUR3_32_DOC: &CStr = c"murmur3_32(key, seed=0, *, signed=True)
--

MurmurHash3 (x86, 32-bit) of `key`: ``mmh3.hash(key, seed, signed)`` for str and bytes keys.

`key` is a str (hashed as its UTF-8 bytes), bytes-like, int or float (hashed through sketchy's
canonical 8-byte encoding). `seed` is in [0, 2**32).

Examples
--------
>>> murmur3_32(\"foo\")
-156908512
>>> murmur3_32(b\"foo\", seed=42, signed=False)
2972666014
";

const MURMUR3_128_DOC: &CStr = c"murmur3_128(key, seed=0, *, signed=False)
--

MurmurHash3 (x64, 128-bit) of `key`: ``mmh3.hash128(key, seed, signed=signed)``.

Examples
--------
>>> murmur3_128(\"baz\"), murmur3_128(\"baz\", signed=True)
(320138815729982638693876754053892644106, -20143551190955824769497853377875567350)
";

const XXH32_DOC: &CStr = c"xxh32(key, seed=0)
--

XXH32 of `key`: ``xxhash.xxh32_intdigest(key, seed)``; `seed` is in [0, 2**32).

Examples
--------
>>> xxh32(b\"foo\")
3792637401
";

const XXH64_DOC: &CStr = c"xxh64(key, seed=0)
--

XXH64 of `key`: ``xxhash.xxh64_intdigest(key, seed)``; `seed` is in [0, 2**64).

Examples
--------
>>> xxh64(\"foo\")
3728699739546630719
";

const XXH3_64_DOC: &CStr = c"xxh3_64(key, seed=0)
--

XXH3 (64-bit) of `key`: ``xxhash.xxh3_64_intdigest(key, seed)``; `seed` is in [0, 2**64).

Examples
--------
>>> xxh3_64(\"foo\")  # == xxhash.xxh3_64_intdigest(b\"foo\")
12352915711150947722
";

const XXH3_128_DOC: &CStr = c"xxh3_128(key, seed=0)
--

XXH3 (128-bit) of `key`: ``xxhash.xxh3_128_intdigest(key, seed)``; `seed` is in [0, 2**64).

Examples
--------
>>> xxh3_128(\"foo\")
161745101148472925293886522910304009610
";

/// Hashes every item of `keys` in one call, without the GIL; item ``i`` of the result equals the
/// single-key function (``xxh3_64``, ``murmur3_32``...) on ``keys[i]``.
///
/// Parameters
/// ----------
/// keys : iterable of items, numpy.ndarray, pandas.Series or pyarrow.(Chunked)Array
///     str, bytes, int or float items; numpy arrays of any integer width, float32/64, ``U``,
///     ``S`` or object dtype; Arrow string, binary and integer arrays are read from their buffers.
/// algorithm : str
///     ``"murmur3_32"``, ``"murmur3_128"``, ``"xxh32"``, ``"xxh64"``, ``"xxh3_64"`` or ``"xxh3_128"``.
/// seed : int
///     In [0, 2**32) for murmur3 and xxh32, [0, 2**64) for the others.
///
/// Returns
/// -------
/// numpy.ndarray
///     ``uint32`` of shape ``(n,)`` for the 32-bit algorithms (murmur3_32 as unsigned: view it as
///     ``int32`` for mmh3's signed value), ``uint64`` of shape ``(n,)`` for the 64-bit ones, and
///     ``uint64`` of shape ``(n, 2)`` for the 128-bit ones, as ``[low 64 bits, high 64 bits]``.
///
/// Examples
/// --------
/// >>> hash_many(["foo", b"foo", 7])  # a str hashes as its UTF-8 bytes
/// array([12352915711150947722, 12352915711150947722,  9324454920402081455], dtype=uint64)
/// >>> hash_many(["foo"], "murmur3_32").view("int32")
/// array([-156908512], dtype=int32)
#[pyfunction]
#[pyo3(signature = (keys, algorithm = "xxh3_64", seed = None), text_signature = "(keys, algorithm=\"xxh3_64\", seed=0)")]
pub fn hash_many<'py>(
    keys: &Bound<'py, PyAny>,
    algorithm: &str,
    seed: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = keys.py();
    let algorithm: Algorithm = name_arg(algorithm)?;
    let seed = seed_arg(seed, algorithm.max_seed())?;
    let batch = Batch::extract(keys)?;
    let n = batch.len()?;
    // Chunks come in order: each appends its hashes (written once, never zeroed first).
    Ok(match algorithm.width() {
        Width::W32 => {
            let mut out = Vec::with_capacity(n);
            batch.pipelined(py, Cost::HASH, |_, keys| {
                hash_many_32(algorithm, keys, seed, &mut out)
            })?;
            out.into_pyarray(py).into_any()
        }
        Width::W64 => {
            let mut out = Vec::with_capacity(n);
            batch.pipelined(py, Cost::HASH, |_, keys| {
                hash_many_64(algorithm, keys, seed, &mut out)
            })?;
            out.into_pyarray(py).into_any()
        }
        Width::W128 => {
            let mut out: Vec<[u64; 2]> = Vec::with_capacity(n);
            batch.pipelined(py, Cost::HASH, |_, keys| {
                hash_many_128(algorithm, keys, seed, &mut out)
            })?;
            out.into_flattened()
                .into_pyarray(py)
                .reshape([n, 2])?
                .into_any()
        }
    })
}
