//! Observations of `FeatureHasher` (dicts, pairs, strings) read into the core's tokens and values,
//! by scikit-learn's rules; the crosses' rule is the core's (`sketchy_core::vectorize::crosses`),
//! the lookups of their names here.

use std::cell::RefCell;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};
use sketchy_core::vectorize::crosses::{cross, Pairs, Scratch};
use sketchy_core::vectorize::feature_hashing::Tokens;
use sketchy_core::vectorize::InputType;

use super::item::{str_bytes, type_name};

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
pub fn feature(key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>, out: &mut Tokens) -> PyResult<()> {
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

pub fn unpack_pair<'py>(
    pair: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
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

/// The crosses of a `FeatureHasher(interactions=...)`: the core's rule, with the names to look up
/// as Python strings.
#[derive(Debug, Default)]
pub enum Crosses {
    #[default]
    None,
    /// These pairs of names: each name is looked up and read once per observation.
    Pairs {
        pairs: Pairs,
        names: Vec<Py<PyString>>,
    },
    /// Every pair of the observation's features, in its order.
    All,
}

impl Crosses {
    /// `interactions`: None, "all", or pairs of feature names (str).
    pub fn from_arg(interactions: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let Some(i) = interactions.filter(|i| !i.is_none()) else {
            return Ok(Crosses::None);
        };
        if i.cast::<PyString>()
            .is_ok_and(|s| s.to_str().is_ok_and(|s| s == "all"))
        {
            return Ok(Crosses::All);
        }
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
        let pairs = Pairs::new(&given);
        let py = i.py();
        let names = pairs
            .names()
            .iter()
            .map(|n| PyString::new(py, n).unbind())
            .collect();
        Ok(Crosses::Pairs { pairs, names })
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Crosses::None)
    }
}

thread_local! {
    static CROSS_SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Adds the crosses of observation `x` to `out`.
pub fn crosses(x: &Bound<'_, PyAny>, crosses: &Crosses, out: &mut Tokens) -> PyResult<()> {
    if crosses.is_none() {
        return Ok(());
    }
    CROSS_SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut s) => crosses_with(x, crosses, out, &mut s),
        // A feature's __str__ calling the hasher again: a fresh scratch for that call.
        Err(_) => crosses_with(x, crosses, out, &mut Scratch::default()),
    })
}

fn crosses_with(
    x: &Bound<'_, PyAny>,
    crosses: &Crosses,
    out: &mut Tokens,
    s: &mut Scratch,
) -> PyResult<()> {
    match crosses {
        Crosses::None => {}
        Crosses::Pairs { pairs, names } => {
            let py = x.py();
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
            pairs.cross(&s.sides, &s.present, out);
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
                    s.left.clear();
                    s.right.clear();
                    feature(a, va, &mut s.left)?;
                    feature(b, vb, &mut s.right)?;
                    cross(&s.left, &s.right, out);
                }
            }
        }
    }
    Ok(())
}

/// All the features of one observation.
pub fn observation(
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
