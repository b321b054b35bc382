//! `group_sketches`: one sketch per group of a key column. The grouping and the sketches are the
//! core's ([`sketchy_core::group`]); here, the columns' views and the dict of Python sketches.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sketchy_core::group::{group_sketches, Groups};

use crate::convert::batch::Batch;
use crate::convert::item::{item_object, type_name};
use crate::errors::IntoPyResult;
use crate::sketch::{any_sketch, class_names, into_object};

/// A column's batch, its errors naming the argument (and keeping their type: a `TypeError`, a
/// `OverflowError`...). The batch errors speak of "keys", the name `update` takes.
fn column<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Batch<'py>> {
    Batch::extract(obj)
        .and_then(Batch::materialize)
        .map_err(|err| {
            let py = obj.py();
            // A UnicodeError's constructor takes more than a message: it goes as it is.
            if err.is_instance_of::<pyo3::exceptions::PyUnicodeError>(py) {
                return err;
            }
            let message = err.value(py).to_string();
            let message = match message.strip_prefix("keys") {
                Some(rest) => format!("{name}{rest}"),
                None => format!("{name}: {message}"),
            };
            PyErr::from_type(err.get_type(py), message)
        })
}

/// One sketch per group of `keys`, as a dict from each group's key to its sketch, in the order
/// the groups first appear.
///
/// Row ``i`` adds ``values[i]`` to the sketch of group ``keys[i]``. Every group's sketch starts as
/// a copy of ``template``, an empty sketch of any kind, whose parameters it keeps; it then equals
/// the sketch of that group's values added alone, in their order, so sketches of the same group
/// from several batches or workers merge as any sketches do. One pass, without the GIL, on all
/// cores.
///
/// Parameters
/// ----------
/// keys : column
///     The groups: ints, floats, str or bytes (a list, numpy array, pandas or Polars Series,
///     Arrow array).
/// values : column
///     One item per key, of what ``template`` takes.
/// template : sketch
///     An empty sketch of sketchy.
///
/// Returns
/// -------
/// dict
///     Group key to sketch.
///
/// Examples
/// --------
/// >>> import sketchy
/// >>> users = sketchy.group_sketches(["fr", "de", "fr"], ["ann", "bob", "cy"], sketchy.HyperLogLog(12))
/// >>> {country: round(hll.estimate()) for country, hll in users.items()}
/// {'fr': 2, 'de': 1}
#[pyfunction(name = "group_sketches")]
pub fn group_sketches_py<'py>(
    keys: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
    template: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let py = keys.py();
    let template = any_sketch(template)?.ok_or_else(|| {
        PyTypeError::new_err(format!(
            "template must be an empty sketch of sketchy ({}), not {}",
            class_names(),
            type_name(template)
        ))
    })?;
    let (keys, values) = (column(keys, "keys")?, column(values, "values")?);
    let (groups, sketches) = keys.with_view(|keys| {
        values.with_view(|values| {
            py.detach(|| {
                let groups = Groups::of(keys)?;
                let sketches = group_sketches(&groups, values, &template)?;
                Ok((groups, sketches))
            })
            .py()
        })
    })???;
    let dict = PyDict::new(py);
    let mut sketches = sketches.into_iter();
    let mut failed = None;
    groups.keys.keys().for_each(|kind, bytes| {
        let Some(sketch) = sketches.next() else {
            return;
        };
        if failed.is_some() {
            return;
        }
        let entry = (|| -> PyResult<()> {
            let key = item_object(py, kind, bytes)?;
            // Keys a dict holds once (1 and 1.0) are one group of the dict's.
            match dict.get_item(&key)? {
                Some(earlier) => crate::sketch::merge_into(&earlier, &sketch),
                None => dict.set_item(key, into_object(py, sketch)?),
            }
        })();
        failed = entry.err();
    });
    match failed {
        Some(err) => Err(err),
        None => Ok(dict),
    }
}
