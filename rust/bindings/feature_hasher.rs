//! `sketchy._native.FeatureHashing`: the Rust half of `sketchy.FeatureHasher`. Observations are
//! read into tokens with the GIL (`convert::features`) and hashed into a CSR matrix without it, the
//! two overlapping on two cores for large batches.

use std::cell::RefCell;

use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyInt, PyString, PyTuple};
use sketchy_core::parallel;
use sketchy_core::vectorize::csr::{self, Index};
use sketchy_core::vectorize::feature_hashing::{canonical_row, Csr, FeatureHasher, Tokens, Value};
use sketchy_core::vectorize::{Dtype, InputType};

use crate::args::name_arg;
use crate::convert::features::{crosses, feature, observation, Crosses};
use crate::convert::item::str_bytes;
use crate::errors::IntoPyResult;
use crate::pipeline::stopped;

/// Tokens read per chunk before the GIL is released to hash them.
const CHUNK_TOKENS: usize = 1 << 16;

/// The output dtypes, as numpy elements and Python values (float for float dtypes, int for int ones).
trait PyValue: Value + numpy::Element {
    /// The value is a Python float equal to the f64 computed: an input float can be reused.
    const RETURNS_F64: bool = false;
    fn py_value<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

static PLUS_ONE: PyOnceLock<Py<PyFloat>> = PyOnceLock::new();
static MINUS_ONE: PyOnceLock<Py<PyFloat>> = PyOnceLock::new();

impl PyValue for f64 {
    const RETURNS_F64: bool = true;
    fn py_value<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // ±1.0, the value of every string feature, from two shared objects.
        if self == 1.0 {
            return Ok(PLUS_ONE
                .get_or_init(py, || PyFloat::new(py, 1.0).unbind())
                .bind(py)
                .clone()
                .into_any());
        }
        if self == -1.0 {
            return Ok(MINUS_ONE
                .get_or_init(py, || PyFloat::new(py, -1.0).unbind())
                .bind(py)
                .clone()
                .into_any());
        }
        Ok(PyFloat::new(py, self).into_any())
    }
}

impl PyValue for f32 {
    fn py_value<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyFloat::new(py, f64::from(self)).into_any())
    }
}

impl PyValue for i64 {
    fn py_value<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyInt::new(py, self).into_any())
    }
}

impl PyValue for i32 {
    fn py_value<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyInt::new(py, self).into_any())
    }
}

/// Column numbers as Python ints, cached by a direct-mapped table: the columns of a stream's numeric
/// features come back in every row, and an int above 256 is otherwise a fresh allocation each time.
const COLUMN_CACHE: usize = 4096;

/// A cached column: its number and its Python int.
type CachedColumn = Option<(u32, Py<PyInt>)>;

thread_local! {
    static COLUMNS: RefCell<Vec<CachedColumn>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with a function that gives a column's Python int: from the cache, borrowed once for a
/// whole row (a fresh int if the cache is in use, by a call from inside this one).
fn with_columns<'py, R>(
    py: Python<'py>,
    f: impl FnOnce(&mut dyn FnMut(u32) -> Bound<'py, PyInt>) -> R,
) -> R {
    COLUMNS.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return f(&mut |index| PyInt::new(py, index));
        };
        if cache.is_empty() {
            cache.resize_with(COLUMN_CACHE, || None);
        }
        f(&mut |index| {
            let slot = &mut cache[index as usize % COLUMN_CACHE];
            match slot {
                Some((cached, int)) if *cached == index => int.bind(py).clone(),
                _ => {
                    let int = PyInt::new(py, index);
                    *slot = Some((index, int.clone().unbind()));
                    int
                }
            }
        })
    })
}

extern "C" {
    /// CPython's dict sized for `minused` items (`cpython/dictobject.h`, exported by 3.10 to 3.13):
    /// a row's dict is filled without growing (a plain dict grows at its sixth item).
    fn _PyDict_NewPresized(minused: pyo3::ffi::Py_ssize_t) -> *mut pyo3::ffi::PyObject;
}

/// An empty dict with room for `len` items.
fn presized_dict(py: Python<'_>, len: usize) -> PyResult<Bound<'_, PyDict>> {
    let len = pyo3::ffi::Py_ssize_t::try_from(len).unwrap_or(0);
    // SAFETY: called with the GIL held (`py`); the function returns a new reference to a dict, or
    // NULL with an exception set, which `from_owned_ptr_or_err` turns into the error.
    let dict = unsafe { Bound::from_owned_ptr_or_err(py, _PyDict_NewPresized(len))? };
    Ok(dict.cast_into::<PyDict>()?)
}

static AMBIGUOUS_ROW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

thread_local! {
    /// `transform_one`'s token buffer, reused from call to call.
    static SCRATCH: RefCell<Tokens> = RefCell::new(Tokens::default());
}

/// The hashing trick with fixed parameters; `sketchy.FeatureHasher` holds one.
#[pyclass(module = "sketchy._native", name = "FeatureHashing", frozen)]
pub struct PyFeatureHashing {
    hasher: FeatureHasher,
    input_type: InputType,
    dtype: Dtype,
    crosses: Crosses,
}

#[pymethods]
impl PyFeatureHashing {
    /// `interactions`: None, "all", or a list of pairs of feature names (input_type "dict").
    #[new]
    #[pyo3(signature = (n_features, input_type, dtype, alternate_sign, seed, interactions=None))]
    fn new(
        n_features: i64,
        input_type: &str,
        dtype: &str,
        alternate_sign: bool,
        seed: u64,
        interactions: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let input_type: InputType = name_arg(input_type)?;
        let dtype: Dtype = name_arg(dtype)?;
        let crosses = Crosses::from_arg(interactions)?;
        if !crosses.is_none() && input_type != InputType::Dict {
            return Err(PyValueError::new_err("interactions need input_type='dict'"));
        }
        Ok(PyFeatureHashing {
            hasher: FeatureHasher::new(n_features, alternate_sign, seed).py()?,
            input_type,
            dtype,
            crosses,
        })
    }

    /// transform(rows) -> (indptr, indices, data, canonical)
    ///
    /// The CSR arrays of the hashed rows. `canonical` is False in the rare case (a row of more than 16
    /// features with three or more float values in one column) where the rows are left as read for
    /// scipy's `sum_duplicates` to sum in its own order.
    fn transform<'py>(&self, rows: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        match self.dtype {
            Dtype::F64 => self.transform_as::<f64>(rows),
            Dtype::F32 => self.transform_as::<f32>(rows),
            Dtype::I64 => self.transform_as::<i64>(rows),
            Dtype::I32 => self.transform_as::<i32>(rows),
        }
    }

    /// transform_one(x) -> dict[int, float]
    ///
    /// One observation's row of `transform` as `{column: value}`.
    fn transform_one<'py>(
        slf: &Bound<'py, Self>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let this = slf.get();
        let row = match this.dtype {
            Dtype::F64 => this.transform_one_as::<f64>(x)?,
            Dtype::F32 => this.transform_one_as::<f32>(x)?,
            Dtype::I64 => this.transform_one_as::<i64>(x)?,
            Dtype::I32 => this.transform_one_as::<i32>(x)?,
        };
        match row {
            Some(row) => Ok(row),
            // The rare row whose sums scipy orders its own way: let scipy build it (see `transform`).
            None => AMBIGUOUS_ROW
                .import(x.py(), "sketchy.feature_hashing", "_row_through_scipy")?
                .call1((slf, x)),
        }
    }
}

impl PyFeatureHashing {
    fn transform_as<'py, T: PyValue>(
        &self,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let py = rows.py();
        let csr = self.read_and_hash::<T>(rows)?;
        if csr.rows() == 0 {
            return Err(PyValueError::new_err("Cannot vectorize empty sequence."));
        }
        let canonical = !csr.has_raw_rows;
        // int32 index arrays unless the matrix is too large for them, as scikit-learn.
        let (indptr, indices) = (
            array(py, csr::indptr(csr.indptr)),
            array(py, csr::indices(csr.indices)),
        );
        let data = csr.data.into_pyarray(py).into_any();
        PyTuple::new(
            py,
            [
                indptr,
                indices,
                data,
                canonical.into_pyobject(py)?.to_owned().into_any(),
            ],
        )
    }

    /// Reads the rows (with the GIL) and hashes their tokens into a CSR matrix (without it). A small
    /// batch is one chunk, on this thread. A larger one is a pipeline: while this thread reads chunk
    /// `i + 1` out of the Python objects, another hashes chunk `i`, so the hashing, a third of the
    /// work, costs no time when there is a second core.
    fn read_and_hash<T: PyValue>(&self, rows: &Bound<'_, PyAny>) -> PyResult<Csr<T>> {
        let py = rows.py();
        let hasher = self.hasher;
        let mut tokens = Tokens::default();
        let mut rows = rows.try_iter()?.enumerate();
        // The first chunk: most batches end here.
        for (i, x) in rows.by_ref() {
            observation(&x?, self.input_type, i == 0, &self.crosses, &mut tokens)?;
            if tokens.len() >= CHUNK_TOKENS {
                break;
            }
        }
        let mut csr = Csr::<T>::new();
        let mut first = Some(tokens);
        parallel::pipeline(
            |chunk: &mut Tokens| -> PyResult<bool> {
                if let Some(first) = first.take() {
                    *chunk = first;
                } else {
                    for (i, x) in rows.by_ref() {
                        observation(&x?, self.input_type, i == 0, &self.crosses, chunk)?;
                        if chunk.len() >= CHUNK_TOKENS {
                            break;
                        }
                    }
                }
                Ok(chunk.len() >= CHUNK_TOKENS)
            },
            |chunk: &mut Tokens| hasher.hash_rows(chunk, &mut csr),
            Tokens::clear,
            |wait| py.detach(wait),
        )
        .map_err(stopped)?;
        Ok(csr)
    }

    /// The row as a dict, or None when it must go through scipy.
    fn transform_one_as<'py, T: PyValue>(
        &self,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = x.py();
        let mut entries: Vec<(u32, T)> = Vec::with_capacity(16);
        // Python floats that can be returned as they are (float64 output, not negated): no allocation.
        let mut reusable: Vec<(u32, Bound<'py, PyAny>)> = Vec::new();
        let mut fresh = None;
        SCRATCH.with(|scratch| -> PyResult<()> {
            // A feature's __str__ or __float__ could call transform_one again: use a fresh buffer then.
            let mut borrowed = scratch.try_borrow_mut().ok();
            let tokens = match borrowed.as_deref_mut() {
                Some(tokens) => tokens,
                None => fresh.insert(Tokens::default()),
            };
            let drain = |tokens: &mut Tokens, entries: &mut Vec<(u32, T)>| -> PyResult<()> {
                let mut failed = Ok(());
                tokens.take_each(|token, value| match self.hasher.entry(token, value) {
                    Ok(entry) => entries.push(entry),
                    Err(err) => failed = Err(err),
                });
                failed.py()
            };
            tokens.clear();
            match (self.input_type, x.cast_exact::<PyDict>()) {
                (InputType::Dict, Ok(dict)) => {
                    for (key, value) in dict.iter() {
                        // The common features, a str name with a float, an int or a str value,
                        // straight to their entry (what `feature` gives them, without the tokens).
                        if let Ok(name) = key.cast_exact::<PyString>() {
                            if let Ok(number) = value.cast_exact::<PyFloat>() {
                                let v = number.value();
                                if v != 0.0 {
                                    let (index, entry) =
                                        self.hasher.entry::<T>(str_bytes(name)?, v).py()?;
                                    entries.push((index, entry));
                                    // The output is the input float itself when it is not negated.
                                    if T::RETURNS_F64 && entry.to_f64().to_bits() == v.to_bits() {
                                        reusable.push((index, value));
                                    }
                                }
                                continue;
                            }
                            if let Some(v) = value
                                .cast_exact::<PyInt>()
                                .ok()
                                .and_then(|i| i.extract::<i64>().ok())
                            {
                                if v != 0 {
                                    // Rounded to nearest, as `float(v)`.
                                    entries.push(
                                        self.hasher.entry::<T>(str_bytes(name)?, v as f64).py()?,
                                    );
                                }
                                continue;
                            }
                            if let Ok(text) = value.cast_exact::<PyString>() {
                                tokens.push_string(str_bytes(name)?, str_bytes(text)?);
                                drain(tokens, &mut entries)?;
                                continue;
                            }
                        }
                        feature(&key, &value, tokens)?;
                        drain(tokens, &mut entries)?; // now, to keep the features in order
                    }
                    crosses(x, &self.crosses, tokens)?;
                    drain(tokens, &mut entries)?;
                }
                _ => {
                    observation(x, self.input_type, true, &self.crosses, tokens)?;
                    drain(tokens, &mut entries)?;
                }
            }
            Ok(())
        })?;
        let read = entries.len();
        let Some(len) = canonical_row(&mut entries) else {
            return Ok(None);
        };
        if len < read {
            reusable.clear(); // some columns were summed: keep it simple, build every value
        }
        reusable.sort_unstable_by_key(|(index, _)| *index);
        let mut reusable = reusable.into_iter().peekable();
        let row = presized_dict(py, len)?;
        with_columns(py, |column| -> PyResult<()> {
            for &(index, value) in &entries[..len] {
                let object = match reusable.next_if(|(i, _)| *i == index) {
                    Some((_, original)) => original,
                    None => value.py_value(py)?,
                };
                row.set_item(column(index), object)?;
            }
            Ok(())
        })?;
        Ok(Some(row.into_any()))
    }
}

/// An index array as numpy's.
fn array<'py>(py: Python<'py>, index: Index) -> Bound<'py, PyAny> {
    match index {
        Index::I32(v) => v.into_pyarray(py).into_any(),
        Index::I64(v) => v.into_pyarray(py).into_any(),
    }
}
