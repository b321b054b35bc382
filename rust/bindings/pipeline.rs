//! The GIL and lock choreography of a batch: a list converted chunk by chunk on this thread while
//! another adds the chunks already read (the two overlap on two cores), a long list read on both
//! threads ([`Cost::list_split`] decides the shares), and the all-or-nothing update of a shared
//! sketch. The threads come from `sketchy_core::parallel`; no Python code runs while another
//! thread reads the list.

use std::sync::mpsc;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::Borrowed;
use sketchy_core::parallel::{self, Cost, Stopped};
use sketchy_core::sketch::Counts;
use sketchy_core::{KeyBuffer, Keys, Sketch};

use crate::convert::batch::Batch;
use crate::convert::list::{append, list_item, read_ascii, same_len, ListItems, CHUNK};
use crate::errors::{to_pyerr, IntoPyResult};
use crate::shared::Shared;

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

/// What [`split_pipeline`] sends to the counting thread: a chunk of the first part, or the end of
/// the first part (count the second part, read by the counting thread itself, then go on).
enum Part {
    Chunk(KeyBuffer),
    EndOfFirst,
}

/// [`pipeline`] for a long list, read on both threads: while this thread reads the first part into
/// chunks (items `..mid`, its share by [`Cost::list_split`]), the other reads the rest (ASCII str only, in place, see
/// [`read_ascii`]); it then calls `f(start, keys)` on every chunk in the list's order. Until the other thread has
/// stopped reading, this one keeps the GIL and reads ASCII str the same way, so that no Python code
/// runs (nothing can change the list); from its first other item on, and for what the other thread
/// left, it reads as [`pipeline`] does. Returns how many items were read.
fn split_pipeline(
    py: Python<'_>,
    list: &Bound<'_, PyList>,
    mid: usize,
    mut f: impl FnMut(usize, &Keys) -> sketchy_core::Result<()> + Send,
) -> PyResult<usize> {
    let len = list.len();
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

impl<'py> Batch<'py> {
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
            return self.with_view(|keys| py.detach(|| f(0, keys)))?.py();
        };
        if let Ok(list) = seq.cast_exact::<PyList>() {
            let len = list.len();
            let read = match cost.list_split(len, CHUNK) {
                Some(mid) => split_pipeline(py, list, mid, f)?,
                None => pipeline(py, len, (0..len).map_while(|i| list_item(list, i)), f)?,
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
    ) -> PyResult<()> {
        counts.sum(self.len()?).py()?; // one count per item: each chunk can take its share
        if self.is_converted_lazily() {
            let mut sketch = shared.lock_for_python(py)?;
            if sketch.memory_size() <= self.len()? {
                let mut copy = sketch.clone();
                let cost = sketch.item_cost();
                self.pipelined(py, cost, |start, keys| {
                    copy.update(keys, counts.sub(start..start + keys.len()))
                })?;
                *sketch = copy;
                return Ok(());
            }
        }
        self.materialize()?.with_view(|keys| {
            let mut sketch = shared.lock(py)?;
            let sketch: &mut S = &mut sketch;
            py.detach(|| sketch.update(keys, counts)).py()
        })?
    }
}
