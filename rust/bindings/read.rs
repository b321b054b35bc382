//! `sketchy.update_from` and every sketch's `update_from`: the core's file reader, run with the GIL
//! released while the calling thread keeps answering Ctrl-C and feeding the progress callback.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use sketchy_core::read::{self, Column, Control, Format, Options, Report, Sketches, Source};

use crate::count_min::PyCountMinSketch;
use crate::errors::to_pyerr;
use crate::hll::PyHyperLogLog;
use crate::quantiles::{PyDDSketch, PyKll};
use crate::top_k::PyTopK;

/// How often the calling thread looks for Ctrl-C and reports progress while a file is read.
const POLL: Duration = Duration::from_millis(100);

/// What a read of a file did: bytes, lines and items read, and the records skipped.
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
    /// Stopped by Ctrl-C: the sketches hold what was read until then.
    interrupted: bool,
}

#[pymethods]
impl PyReadReport {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ReadReport(bytes={}, lines={}, items={}, skipped={}, first_problem={}, interrupted={})",
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
    fn new(py: Python<'_>, report: Report) -> PyResult<Self> {
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
            interrupted: report.interrupted,
        })
    }
}

/// The sketches a read feeds, as the Python objects to merge the result into.
enum Target<'py> {
    Hll(Bound<'py, PyHyperLogLog>),
    Cms(Bound<'py, PyCountMinSketch>),
    Top(Bound<'py, PyTopK>),
    Dd(Bound<'py, PyDDSketch>),
    Kll(Bound<'py, PyKll>),
}

fn targets<'py>(sketches: &[Bound<'py, PyAny>]) -> PyResult<Vec<Target<'py>>> {
    if sketches.is_empty() {
        return Err(PyTypeError::new_err(
            "update_from needs at least one sketch",
        ));
    }
    sketches
        .iter()
        .map(|s| {
            if let Ok(h) = s.cast::<PyHyperLogLog>() {
                Ok(Target::Hll(h.clone()))
            } else if let Ok(c) = s.cast::<PyCountMinSketch>() {
                Ok(Target::Cms(c.clone()))
            } else if let Ok(t) = s.cast::<PyTopK>() {
                Ok(Target::Top(t.clone()))
            } else if let Ok(d) = s.cast::<PyDDSketch>() {
                Ok(Target::Dd(d.clone()))
            } else if let Ok(k) = s.cast::<PyKll>() {
                Ok(Target::Kll(k.clone()))
            } else {
                Err(PyTypeError::new_err(format!(
                    "sketches: expected HyperLogLog, CountMinSketch, TopK, DDSketch or KLL, got {}",
                    s.get_type().name()?
                )))
            }
        })
        .collect()
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

fn options_arg(
    csv: Option<&Bound<'_, PyAny>>,
    jsonl: Option<String>,
    delimiter: &str,
    strict: bool,
    max_line_bytes: usize,
) -> PyResult<Options> {
    let format = match (csv, jsonl) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "csv and jsonl: give one of them, not both",
            ))
        }
        (Some(column), None) => {
            let column = if column.is_instance_of::<pyo3::types::PyBool>() {
                return Err(PyTypeError::new_err(
                    "csv: expected a column name (str) or index (int >= 0), got a bool",
                ));
            } else if let Ok(i) = column.extract::<usize>() {
                Column::Index(i)
            } else if let Ok(name) = column.extract::<String>() {
                Column::Name(name)
            } else {
                return Err(PyTypeError::new_err(
                    "csv: expected a column name (str) or index (int >= 0)",
                ));
            };
            let delimiter = match delimiter.as_bytes() {
                [d] if d.is_ascii() && !matches!(d, b'"' | b'\n' | b'\r') => *d,
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "delimiter: expected one ASCII character other than a quote or a line end, got {delimiter:?}"
                    )))
                }
            };
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
    if max_line_bytes == 0 {
        return Err(PyValueError::new_err("max_line_bytes: must be at least 1"));
    }
    Ok(Options {
        format,
        strict,
        max_record: max_line_bytes,
    })
}

/// Reads a file (plain or gzip; ``"-"``: stdin) into sketches, with no Python object per record.
///
/// Each line is an item, or with ``csv`` one column of a CSV file with a header row (a name, or an
/// index), or with ``jsonl`` one field of JSON lines (a dotted path; digits index arrays). The
/// items are the same as ``update`` would add for the lines as ``str``, the column's fields as
/// ``str`` and the JSON field's values (str, int, float; ``true``/``false`` as those strings).
/// Records without an item (undecodable bytes, a missing field, a line longer than
/// ``max_line_bytes``) are skipped and counted in the report, or raise ValueError with
/// ``strict=True``. A file is read on all cores; the sketches do not depend on how many: a TopK
/// gets the merge, in file order, of one summary per 2 MiB chunk (the same error bound as ``update``
/// with the lines; beyond one chunk the counts it keeps may differ from that one-pass summary's).
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
#[pyfunction]
#[pyo3(signature = (source, *sketches, csv=None, jsonl=None, delimiter=",", strict=false, max_line_bytes=1_048_576, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn update_from(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    sketches: Vec<Bound<'_, PyAny>>,
    csv: Option<&Bound<'_, PyAny>>,
    jsonl: Option<String>,
    delimiter: &str,
    strict: bool,
    max_line_bytes: usize,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyReadReport> {
    let source = source_arg(source)?;
    let options = options_arg(csv, jsonl, delimiter, strict, max_line_bytes)?;
    let targets = targets(&sketches)?;
    let mut proto = Sketches::default();
    for t in &targets {
        match t {
            Target::Hll(h) => proto.hll.push(h.get().inner.snapshot(py)?),
            Target::Cms(c) => proto.cms.push(c.get().inner.snapshot(py)?),
            Target::Top(k) => proto.top.push(k.get().inner.snapshot(py)?),
            Target::Dd(d) => proto.dd.push(d.get().inner.snapshot(py)?),
            Target::Kll(k) => proto.kll.push(k.get().inner.snapshot(py)?),
        }
    }
    let proto = proto.empty_like();
    let control = Control::default();
    let mut stopped: Option<PyErr> = None;
    let outcome = std::thread::scope(|scope| {
        let (done, mut finished) = mpsc::channel::<()>();
        let (source, options, proto, control) = (&source, &options, &proto, &control);
        let reader = scope.spawn(move || {
            let result = read::read(source, options, proto, control);
            let _ = done.send(());
            result
        });
        loop {
            // The receiver goes into the GIL-free wait and comes back out: it is not `Sync`.
            let (receiver, done) = py.detach(move || {
                let done = finished.recv_timeout(POLL).is_ok();
                (finished, done)
            });
            finished = receiver;
            let mut polled = py.check_signals();
            if let (Ok(()), Some(callback)) = (&polled, progress) {
                let bytes = control.bytes.load(Ordering::Relaxed);
                let items = control.items.load(Ordering::Relaxed);
                polled = callback.call1((bytes, items)).map(drop);
            }
            if let Err(err) = polled {
                control.stop.store(true, Ordering::Relaxed);
                stopped.get_or_insert(err);
            }
            if done {
                break;
            }
        }
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    let (result, report) = outcome.map_err(to_pyerr)?;
    let interrupted = stopped
        .as_ref()
        .is_some_and(|e| e.is_instance_of::<PyKeyboardInterrupt>(py));
    if let Some(err) = stopped.filter(|_| !interrupted) {
        return Err(err); // the progress callback failed: nothing changes
    }
    let (mut hll, mut cms, mut top) = (result.hll.iter(), result.cms.iter(), result.top.iter());
    let (mut dd, mut kll) = (result.dd.iter(), result.kll.iter());
    for t in &targets {
        let merged = match t {
            Target::Hll(h) => hll
                .next()
                .map(|r| h.get().inner.lock(py)?.merge(r).map_err(to_pyerr)),
            Target::Cms(c) => cms
                .next()
                .map(|r| c.get().inner.lock(py)?.merge(r).map_err(to_pyerr)),
            Target::Top(k) => top
                .next()
                .map(|r| k.get().inner.lock(py)?.merge(r).map_err(to_pyerr)),
            Target::Dd(d) => dd
                .next()
                .map(|r| d.get().inner.lock(py)?.merge(r).map_err(to_pyerr)),
            Target::Kll(k) => kll
                .next()
                .map(|r| k.get().inner.lock(py)?.merge(r).map_err(to_pyerr)),
        };
        merged.transpose()?;
    }
    let report = PyReadReport::new(py, report)?;
    if interrupted {
        let err = PyKeyboardInterrupt::new_err(());
        err.value(py).setattr("report", Py::new(py, report)?)?;
        return Err(err);
    }
    Ok(report)
}
