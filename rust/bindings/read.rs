//! `sketchy.update_from` and every sketch's `update_from`: the core's file reader, run on its own
//! thread (`sketchy_core::read::start`) while the calling thread keeps answering Ctrl-C and feeding
//! the progress callback, with the GIL released in between.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use numpy::IntoPyArray;
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use sketchy_core::read::{self, Column, Format, Options, Report, Sink, Source};
use sketchy_core::Sketch as _;

use crate::errors::IntoPyResult;
use crate::sketch::{any_sketch, class_names, merge_into};

/// How often the calling thread looks for Ctrl-C and reports progress while a file is read.
const POLL: Duration = Duration::from_millis(100);

/// What a read of a file did: bytes, lines and items read, and the records skipped.
///
/// ``warning`` says so when more than 1% of the records were skipped (another format or
/// delimiter, a stray quote...); ``values`` holds every number read when ``update_from`` was
/// called with ``values=True``.
///
/// Examples
/// --------
/// >>> import pathlib, tempfile
/// >>> from sketchy import HyperLogLog
/// >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.txt"
/// >>> _ = path.write_bytes(b"a\nb\n\xff\na\n")
/// >>> report = HyperLogLog().update_from(path)
/// >>> report.items, report.lines, report.skipped
/// (3, 4, {'undecodable bytes (not UTF-8)': 1})
/// >>> report.first_problem.endswith("log.txt:3: undecodable bytes (not UTF-8)")
/// True
/// >>> report.warning
/// '1 of 4 records (25.0%) were skipped, more than 1%: is this the format and the delimiter of the input?'
#[pyclass(module = "sketchy._native", name = "ReadReport", frozen, get_all)]
pub struct PyReadReport {
    /// Input bytes read (compressed bytes for gzip).
    bytes: u64,
    lines: u64,
    /// Records that gave an item (every line, in line mode).
    items: u64,
    /// Records skipped, by reason.
    skipped: Py<PyDict>,
    /// ``"source:line: reason"`` of the first record skipped, or None.
    first_problem: Option<String>,
    /// Set when more than 1% of the records were skipped: how many.
    warning: Option<String>,
    /// Every number read (NaN skipped, in no particular order; ``values=True``), or None.
    values: Option<Py<PyAny>>,
    /// Stopped by Ctrl-C: the sketches hold what was read until then.
    interrupted: bool,
}

#[pymethods]
impl PyReadReport {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let warning = match &self.warning {
            Some(w) => format!(", warning={}", w.into_pyobject(py)?.repr()?),
            None => String::new(),
        };
        Ok(format!(
            "ReadReport(bytes={}, lines={}, items={}, skipped={}, first_problem={}, interrupted={}{warning})",
            self.bytes,
            self.lines,
            self.items,
            self.skipped.bind(py).repr()?,
            self.first_problem.as_deref().into_pyobject(py)?.repr()?,
            if self.interrupted { "True" } else { "False" },
        ))
    }
}

impl PyReadReport {
    fn new(py: Python<'_>, report: Report, values: Option<Vec<f64>>) -> PyResult<Self> {
        let skipped = PyDict::new(py);
        for (reason, count) in &report.skipped {
            skipped.set_item(reason, count)?;
        }
        Ok(PyReadReport {
            bytes: report.bytes,
            lines: report.lines,
            items: report.items,
            skipped: skipped.unbind(),
            first_problem: report.first_problem,
            warning: report.warning,
            values: values.map(|v| v.into_pyarray(py).into_any().unbind()),
            interrupted: report.interrupted,
        })
    }
}

/// How records are read: the keywords of `update_from`.
pub struct How<'a, 'py> {
    pub csv: Option<&'a Bound<'py, PyAny>>,
    pub jsonl: Option<String>,
    pub delimiter: &'a str,
    pub strict: bool,
    pub max_line_bytes: usize,
}

fn source_arg(source: &Bound<'_, PyAny>) -> PyResult<Source> {
    if let Ok(s) = source.cast::<PyString>() {
        if s.to_str()? == "-" {
            return Ok(Source::Stdin);
        }
    }
    source.extract::<PathBuf>().map(Source::Path).map_err(|_| {
        PyTypeError::new_err("source: expected a path (str or os.PathLike) or '-' for stdin")
    })
}

fn column_arg(column: &Bound<'_, PyAny>) -> PyResult<Column> {
    if column.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(
            "csv: expected a column name (str) or index (int >= 0), got a bool",
        ));
    }
    if let Ok(i) = column.extract::<usize>() {
        return Ok(Column::Index(i));
    }
    column
        .extract::<String>()
        .map(Column::Name)
        .map_err(|_| PyTypeError::new_err("csv: expected a column name (str) or index (int >= 0)"))
}

fn options_arg(how: How<'_, '_>) -> PyResult<Options> {
    let format = match (how.csv, how.jsonl) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "csv and jsonl: give one of them, not both",
            ))
        }
        (Some(column), None) => {
            let delimiter = match how.delimiter.as_bytes() {
                [d] if d.is_ascii() && !matches!(d, b'"' | b'\n' | b'\r') => *d,
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "delimiter: expected one ASCII character other than a quote or a line end, got {:?}",
                        how.delimiter
                    )))
                }
            };
            let column = column_arg(column)?;
            Format::Csv { column, delimiter }
        }
        (None, Some(path)) => {
            if path.is_empty() {
                return Err(PyValueError::new_err(
                    "jsonl: expected a field path such as 'user.id'",
                ));
            }
            Format::JsonLines {
                path: path.split('.').map(str::to_owned).collect(),
            }
        }
        (None, None) => Format::Lines,
    };
    if how.max_line_bytes == 0 {
        return Err(PyValueError::new_err("max_line_bytes: must be at least 1"));
    }
    Ok(Options {
        format,
        strict: how.strict,
        max_record: how.max_line_bytes,
    })
}

/// Reads a file (plain or gzip; ``"-"``: stdin) into sketches, with no Python object per record.
///
/// Each line is an item, or with ``csv`` one column of a CSV file with a header row (a name, or an
/// index), or with ``jsonl`` one field of JSON lines (a dotted path; digits index arrays). The
/// items are the same as ``update`` would add for the lines as ``str``, the column's fields as
/// ``str`` and the JSON field's values (str, int, float; ``true``/``false`` as those strings).
/// Records without an item (undecodable bytes, a missing field, a line longer than
/// ``max_line_bytes``, a quoted CSV field that does not close within ``max_line_bytes``: skipped to
/// the end of the line it opened on) are skipped and counted in the report, or raise ValueError
/// with ``strict=True``; when they are more than 1% of the records, ``report.warning`` says so. A
/// file is read on all cores; the sketches do not depend on how many: a TopK gets the merge, in
/// file order, of one summary per 2 MiB chunk (the same error bound as ``update`` with the lines;
/// beyond one chunk the counts it keeps may differ from that one-pass summary's). With
/// ``values=True`` the report also holds every number read (``report.values``, 8 bytes each).
///
/// A failed read (a missing file, corrupt gzip data, a strict error) leaves the sketches as they
/// were. On Ctrl-C the sketches keep what was read and ``KeyboardInterrupt`` is raised, its
/// ``report`` attribute telling how much that was. ``progress(bytes, items)`` is called every
/// 0.1 s while the file is read.
///
/// Examples
/// --------
/// >>> import pathlib, tempfile
/// >>> from sketchy import HyperLogLog, TopK, update_from
/// >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
/// >>> _ = path.write_text("user,page\nann,/\nbob,/a\nann,/b\n")
/// >>> hll, top = HyperLogLog(12), TopK(2)
/// >>> update_from(path, hll, top, csv="user")
/// ReadReport(bytes=30, lines=4, items=3, skipped={}, first_problem=None, interrupted=False)
/// >>> len(hll), top.most_common(1)
/// (2, [('ann', 2)])
#[pyfunction(name = "update_from")]
#[pyo3(signature = (source, *sketches, csv=None, jsonl=None, delimiter=",", strict=false, max_line_bytes=1_048_576, progress=None, values=false))]
#[allow(clippy::too_many_arguments)]
pub fn update_from_py(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    sketches: Vec<Bound<'_, PyAny>>,
    csv: Option<&Bound<'_, PyAny>>,
    jsonl: Option<String>,
    delimiter: &str,
    strict: bool,
    max_line_bytes: usize,
    progress: Option<&Bound<'_, PyAny>>,
    values: bool,
) -> PyResult<PyReadReport> {
    let how = How {
        csv,
        jsonl,
        delimiter,
        strict,
        max_line_bytes,
    };
    update_from(py, source, sketches, how, values, progress)
}

/// [`update_from_py`], for the function and for every sketch's method.
pub fn update_from(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    sketches: Vec<Bound<'_, PyAny>>,
    how: How<'_, '_>,
    values: bool,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyReadReport> {
    let source = source_arg(source)?;
    let options = options_arg(how)?;
    if sketches.is_empty() && !values {
        return Err(PyTypeError::new_err(
            "update_from needs at least one sketch",
        ));
    }
    let mut sinks = Vec::with_capacity(sketches.len() + 1);
    for s in &sketches {
        let Some(sketch) = any_sketch(s)? else {
            return Err(PyTypeError::new_err(format!(
                "sketches: expected {}, got {}",
                class_names(),
                s.get_type().name()?
            )));
        };
        sinks.push(Sink::Sketch(sketch.empty_like()));
    }
    if values {
        sinks.push(Sink::Values(Vec::new()));
    }
    let reading = read::start(source, options, sinks);
    let mut stopped: Option<PyErr> = None;
    loop {
        let done = py.detach(|| reading.wait(POLL));
        let mut polled = py.check_signals();
        if let (Ok(()), Some(callback)) = (&polled, progress) {
            let bytes = reading.control().bytes.load(Ordering::Relaxed);
            let items = reading.control().items.load(Ordering::Relaxed);
            polled = callback.call1((bytes, items)).map(drop);
        }
        if let Err(err) = polled {
            reading.control().stop.store(true, Ordering::Relaxed);
            stopped.get_or_insert(err);
        }
        if done {
            break;
        }
    }
    let (result, report) = py.detach(|| reading.finish()).py()?;
    let interrupted = stopped
        .as_ref()
        .is_some_and(|e| e.is_instance_of::<PyKeyboardInterrupt>(py));
    if let Some(err) = stopped.filter(|_| !interrupted) {
        return Err(err); // the progress callback failed: nothing changes
    }
    let mut numbers = None;
    let mut targets = sketches.iter();
    for sink in result {
        match sink {
            Sink::Sketch(sketch) => match targets.next() {
                Some(target) => merge_into(target, &sketch)?,
                None => break,
            },
            Sink::Values(v) => numbers = Some(v),
        }
    }
    let report = PyReadReport::new(py, report, numbers)?;
    if interrupted {
        let err = PyKeyboardInterrupt::new_err(());
        err.value(py).setattr("report", Py::new(py, report)?)?;
        return Err(err);
    }
    Ok(report)
}
