//! `sketchy._native.FeatureHashing`: reads observations (dicts, pairs, strings) into tokens and
//! values, then hands them to `sketchy_core::feature_hashing` with the GIL released.

use std::cell::RefCell;

use numpy::IntoPyArray;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};
use sketchy_core::feature_hashing::{canonical_row, Csr, FeatureHasher, Tokens, Value};
use sketchy_core::parallel;

use crate::errors::IntoPyResult;
use crate::items::{stopped, str_bytes, type_name};

/// Tokens read per chunk before the GIL is released to hash them.
const CHUNK_TOKENS: usize = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InputType {
    Dict,
    Pair,
    String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    F64,
    F32,
    I64,
    I32,
}

/// `str(obj)` as UTF-8, as `"%s" % obj` formats it.
fn formatted<R>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if let Ok(s) = obj.cast_exact::<PyString>() {
        return Ok(f(str_bytes(s)?));
    }
    let s = obj.str()?;
    Ok(f(str_bytes(&s)?))
}

fn feature_label(key: &Bound<'_, PyAny>) -> String {
    key.repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// A numeric feature value, converted like Cython's `cdef double value = v` in scikit-learn
/// (`float(v)`: floats, ints, bool, numpy scalars, Decimal...).
#[inline]
fn number(key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(x) = value.cast_exact::<PyFloat>() {
        return Ok(x.value());
    }
    if let Ok(i) = value.cast_exact::<PyInt>() {
        // Rounded to nearest like PyLong_AsDouble; beyond i64, the general path below.
        if let Ok(i) = i.extract::<i64>() {
            return Ok(i as f64);
        }
    }
    value.extract::<f64>().map_err(|err| {
        if err.is_instance_of::<PyTypeError>(value.py()) {
            PyTypeError::new_err(format!(
                "feature {}: value must be a str or a real number, not {}",
                feature_label(key),
                type_name(value)
            ))
        } else {
            err
        }
    })
}

/// One `(name, value)` feature, by scikit-learn's rules (plus collections of strings).
#[inline]
fn feature(key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>, out: &mut Tokens) -> PyResult<()> {
    if value.is_exact_instance_of::<PyFloat>() || value.is_exact_instance_of::<PyInt>() {
        return numeric_feature(key, value, out);
    }
    if value.is_instance_of::<PyString>() {
        // A string value: the token "name=value", with value 1; any key, formatted with str().
        return formatted(key, |k| formatted(value, |v| out.push_string(k, v)))?;
    }
    if value.is_exact_instance_of::<PyList>()
        || value.is_exact_instance_of::<PyTuple>()
        || value.is_instance_of::<PySet>()
        || value.is_instance_of::<PyFrozenSet>()
    {
        // Extension: one "name=item" token per string of a list, tuple or set.
        return formatted(key, |k| -> PyResult<()> {
            for item in value.try_iter()? {
                let item = item?;
                if !item.is_instance_of::<PyString>() {
                    return Err(PyTypeError::new_err(format!(
                        "feature {}: a collection value must hold only str, not {}",
                        feature_label(key),
                        type_name(&item)
                    )));
                }
                formatted(&item, |v| out.push_string(k, v))?;
            }
            Ok(())
        })?;
    }
    numeric_feature(key, value, out)
}

/// A feature with a numeric value: the token is the name itself.
#[inline]
fn numeric_feature(
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
    out: &mut Tokens,
) -> PyResult<()> {
    let v = number(key, value)?;
    if v == 0.0 {
        return Ok(()); // skipped before the name is checked, as in scikit-learn
    }
    out.push_number(name_bytes(key)?, v);
    Ok(())
}

/// The bytes of a feature name with a numeric value: str (as UTF-8) or bytes, nothing else.
#[inline]
fn name_bytes<'a>(key: &'a Bound<'_, PyAny>) -> PyResult<&'a [u8]> {
    if let Ok(s) = key.cast::<PyString>() {
        str_bytes(s)
    } else if let Ok(b) = key.cast::<PyBytes>() {
        Ok(b.as_bytes())
    } else {
        Err(PyTypeError::new_err(format!(
            "feature names must be strings (str or bytes), got {} {}",
            type_name(key),
            feature_label(key)
        )))
    }
}

fn unpack_pair<'py>(pair: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    if let Ok(t) = pair.cast_exact::<PyTuple>() {
        if t.len() == 2 {
            return Ok((t.get_item(0)?, t.get_item(1)?));
        }
    }
    let mut items = pair.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "cannot unpack non-iterable {} object",
            type_name(pair)
        ))
    })?;
    let mut next = || items.next().transpose();
    match (next()?, next()?, next()?) {
        (Some(k), Some(v), None) => Ok((k, v)),
        (_, _, Some(_)) => Err(PyValueError::new_err(
            "too many values to unpack (expected 2)",
        )),
        _ => Err(PyValueError::new_err(
            "not enough values to unpack (expected 2)",
        )),
    }
}

/// Feature crosses added to every dict observation: the tokens that scikit-learn would hash for the
/// dict with the crosses written out (see `sketchy.FeatureHasher`).
#[derive(Debug, Default)]
enum Crosses {
    #[default]
    None,
    /// These pairs of feature names (as indices into the distinct names), when both are in the
    /// observation: each name is looked up and read once per observation, whatever its crosses.
    Pairs {
        names: Vec<Py<PyString>>,
        pairs: Vec<(usize, usize)>,
    },
    /// Every pair of the observation's features, in its order.
    All,
}

/// The two sides of a cross, reused from cross to cross.
#[derive(Default)]
struct CrossScratch {
    left: Tokens,
    right: Tokens,
    /// Per distinct name of the pairs: its tokens in this observation, and whether it is there.
    sides: Vec<Tokens>,
    present: Vec<bool>,
}

thread_local! {
    static CROSS_SCRATCH: RefCell<CrossScratch> = RefCell::new(CrossScratch::default());
}

/// The cross tokens of two features: each side is what the feature alone gives (`name=value` with
/// value 1 for a string, the name with its value for a number, one `name=item` per string of a
/// collection, nothing for a 0), and each pair of sides is the token `left*right` with the product
/// of their values (a 0 product skipped).
fn cross(
    a: &Bound<'_, PyAny>,
    va: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    vb: &Bound<'_, PyAny>,
    out: &mut Tokens,
    s: &mut CrossScratch,
) -> PyResult<()> {
    s.left.clear();
    s.right.clear();
    feature(a, va, &mut s.left)?;
    feature(b, vb, &mut s.right)?;
    cross_sides(&s.left, &s.right, out);
    Ok(())
}

fn cross_sides(left: &Tokens, right: &Tokens, out: &mut Tokens) {
    for i in 0..left.len() {
        let (la, xa) = left.get(i);
        for j in 0..right.len() {
            let (lb, xb) = right.get(j);
            out.push_cross(la, lb, xa * xb);
        }
    }
}

fn crosses(x: &Bound<'_, PyAny>, crosses: &Crosses, out: &mut Tokens) -> PyResult<()> {
    if matches!(crosses, Crosses::None) {
        return Ok(());
    }
    CROSS_SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut s) => crosses_with(x, crosses, out, &mut s),
        // A feature's __str__ calling the hasher again: a fresh scratch for that call.
        Err(_) => crosses_with(x, crosses, out, &mut CrossScratch::default()),
    })
}

fn crosses_with(
    x: &Bound<'_, PyAny>,
    crosses: &Crosses,
    out: &mut Tokens,
    s: &mut CrossScratch,
) -> PyResult<()> {
    let py = x.py();
    match crosses {
        Crosses::None => {}
        Crosses::Pairs { names, pairs } => {
            let dict = x.cast_exact::<PyDict>().ok();
            s.sides
                .resize_with(names.len().max(s.sides.len()), Tokens::default);
            s.present.clear();
            for (name, side) in names.iter().zip(&mut s.sides) {
                let name = name.bind(py).as_any();
                let value = match dict {
                    Some(d) => d.get_item(name)?,
                    None => Some(x.call_method1("get", (name,))?).filter(|v| !v.is_none()),
                };
                side.clear();
                if let Some(value) = &value {
                    feature(name, value, side)?;
                }
                s.present.push(value.is_some());
            }
            for &(a, b) in pairs {
                if s.present[a] && s.present[b] {
                    cross_sides(&s.sides[a], &s.sides[b], out);
                }
            }
        }
        Crosses::All => {
            let items: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)> = match x.cast_exact::<PyDict>() {
                Ok(d) => d.iter().collect(),
                Err(_) => x
                    .call_method0("items")?
                    .try_iter()?
                    .map(|pair| unpack_pair(&pair?))
                    .collect::<PyResult<_>>()?,
            };
            for (i, (a, va)) in items.iter().enumerate() {
                for (b, vb) in &items[i + 1..] {
                    cross(a, va, b, vb, out, s)?;
                }
            }
        }
    }
    Ok(())
}

/// All the features of one observation.
fn observation(
    x: &Bound<'_, PyAny>,
    input_type: InputType,
    first: bool,
    with: &Crosses,
    out: &mut Tokens,
) -> PyResult<()> {
    match input_type {
        InputType::Dict => {
            if let Ok(d) = x.cast_exact::<PyDict>() {
                for (k, v) in d.iter() {
                    feature(&k, &v, out)?;
                }
            } else {
                let items = x.call_method0("items").map_err(|_| {
                    PyTypeError::new_err(format!(
                        "with input_type='dict', each sample must be a dict (a mapping), not {}",
                        type_name(x)
                    ))
                })?;
                for pair in items.try_iter()? {
                    let (k, v) = unpack_pair(&pair?)?;
                    feature(&k, &v, out)?;
                }
            }
            crosses(x, with, out)?;
        }
        InputType::Pair => {
            for pair in x.try_iter()? {
                let (k, v) = unpack_pair(&pair?)?;
                feature(&k, &v, out)?;
            }
        }
        InputType::String => {
            if first && x.is_instance_of::<PyString>() {
                return Err(PyValueError::new_err(
                    "Samples can not be a single string. The input must be an iterable over iterables of strings.",
                ));
            }
            let one = 1i64.into_pyobject(x.py())?;
            for name in x.try_iter()? {
                feature(&name?, one.as_any(), out)?;
            }
        }
    }
    out.end_row();
    Ok(())
}

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

fn column(py: Python<'_>, index: u32) -> Bound<'_, PyInt> {
    COLUMNS.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return PyInt::new(py, index);
        };
        if cache.is_empty() {
            cache.resize_with(COLUMN_CACHE, || None);
        }
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
        let input_type = match input_type {
            "dict" => InputType::Dict,
            "pair" => InputType::Pair,
            "string" => InputType::String,
            other => {
                return Err(PyValueError::new_err(format!(
                    "input_type must be 'dict', 'pair' or 'string', got {other:?}"
                )))
            }
        };
        let dtype = match dtype {
            "float64" => Dtype::F64,
            "float32" => Dtype::F32,
            "int64" => Dtype::I64,
            "int32" => Dtype::I32,
            other => {
                return Err(PyValueError::new_err(format!(
                    "dtype must be float64, float32, int64 or int32, got {other}"
                )))
            }
        };
        let crosses = match interactions {
            None => Crosses::None,
            Some(i) if i.is_none() => Crosses::None,
            Some(i)
                if i.cast::<PyString>()
                    .is_ok_and(|s| s.to_str().is_ok_and(|s| s == "all")) =>
            {
                Crosses::All
            }
            Some(i) => {
                let given: Vec<(String, String)> = i
                    .try_iter()?
                    .map(|pair| {
                        let (a, b) = unpack_pair(&pair?)?;
                        Ok((a.extract::<String>()?, b.extract::<String>()?))
                    })
                    .collect::<PyResult<_>>()
                    .map_err(|_: PyErr| {
                        PyValueError::new_err(
                            "interactions must be None, \"all\" or a list of (name, name) pairs of str",
                        )
                    })?;
                let mut distinct: Vec<String> = Vec::new();
                let mut index = |n: &String| match distinct.iter().position(|d| d == n) {
                    Some(i) => i,
                    None => {
                        distinct.push(n.clone());
                        distinct.len() - 1
                    }
                };
                let pairs = given.iter().map(|(a, b)| (index(a), index(b))).collect();
                let py = i.py();
                let names = distinct
                    .iter()
                    .map(|n| PyString::new(py, n).unbind())
                    .collect();
                Crosses::Pairs { names, pairs }
            }
        };
        if !matches!(crosses, Crosses::None) && input_type != InputType::Dict {
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
        let (indptr, indices) = if csr.indices.len() <= i32::MAX as usize {
            let indptr: Vec<i32> = csr.indptr.iter().map(|&v| v as i32).collect();
            (
                indptr.into_pyarray(py).into_any(),
                csr.indices.into_pyarray(py).into_any(),
            )
        } else {
            let indices: Vec<i64> = csr.indices.iter().map(|&v| i64::from(v)).collect();
            (
                csr.indptr.into_pyarray(py).into_any(),
                indices.into_pyarray(py).into_any(),
            )
        };
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
                        // The common feature, a str name with a float value, straight to its entry.
                        if let (Ok(number), Ok(name)) =
                            (value.cast_exact::<PyFloat>(), key.cast_exact::<PyString>())
                        {
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
                        } else {
                            feature(&key, &value, tokens)?;
                            drain(tokens, &mut entries)?; // now, to keep the features in order
                        }
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
        let row = PyDict::new(py);
        for &(index, value) in &entries[..len] {
            let object = match reusable.next_if(|(i, _)| *i == index) {
                Some((_, original)) => original,
                None => value.py_value(py)?,
            };
            row.set_item(column(py, index), object)?;
        }
        Ok(Some(row.into_any()))
    }
}
