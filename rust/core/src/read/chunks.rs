//! The unit of work both readers hand to their threads: a chunk of records, parsed by a [`Worker`]
//! into its sinks, and what the threads of one read share ([`Run`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::records::{End, Out, Parser};
use super::report::{Report, Tally};
use super::sink::{Ordered, Part, Sink};
use super::{Control, Options};
use crate::error::{Result, SketchError};
use crate::items::KeyBuffer;

/// One chunk's outcome, for the report and the CSV boundary check.
#[derive(Debug, Default)]
pub(super) struct Chunk {
    pub(super) index: usize,
    pub(super) tally: Tally,
    /// Where its first record starts and its last ends (`None`: past a skipped long record);
    /// `start` is `None` for a chunk in which no record starts.
    pub(super) start: Option<u64>,
    pub(super) end: Option<u64>,
}

/// What the threads of one read share.
pub(super) struct Run<'a> {
    pub(super) parser: Parser<'a>,
    pub(super) options: &'a Options,
    pub(super) control: &'a Control,
    pub(super) sinks: &'a [Sink],
    /// The order-dependent sinks, merged in chunk order.
    ordered: Mutex<Ordered>,
    has_ordered: bool,
    /// A sink takes numbers: a record that is not one is a problem.
    numeric: bool,
    /// Strict mode: the first chunk with a bad record; later chunks are not read.
    stop_at: AtomicUsize,
    /// A thread failed: the others stop.
    pub(super) failed: AtomicBool,
}

impl<'a> Run<'a> {
    pub(super) fn new(
        parser: Parser<'a>,
        options: &'a Options,
        control: &'a Control,
        sinks: &'a [Sink],
    ) -> Self {
        Run {
            parser,
            options,
            control,
            sinks,
            ordered: Ordered::new(sinks),
            has_ordered: !Part::of(sinks, true).is_empty(),
            numeric: sinks.iter().any(Sink::takes_numbers),
            stop_at: AtomicUsize::new(usize::MAX),
            failed: AtomicBool::new(false),
        }
    }

    /// The same read started again (a CSV file read anew on one thread), with nothing counted.
    pub(super) fn again(self) -> Self {
        Run::new(self.parser, self.options, self.control, self.sinks)
    }

    /// Whether chunk `index` is not to be read: Ctrl-C, a failed thread, or a strict error before.
    pub(super) fn stopped(&self, index: usize) -> bool {
        self.control.stop.load(Ordering::Relaxed)
            || self.failed.load(Ordering::Relaxed)
            || index > self.stop_at.load(Ordering::Relaxed)
    }

    /// Merges the threads' sinks and tallies into the result and the report.
    pub(super) fn finish(
        self,
        workers: Vec<Worker>,
        name: &str,
        header_lines: u64,
        bytes: u64,
    ) -> Result<(Vec<Sink>, Report)> {
        let options = self.options;
        let mut chunks: Vec<&Chunk> = workers.iter().flat_map(|w| &w.chunks).collect();
        chunks.sort_by_key(|c| c.index);
        let tallies = chunks.iter().map(|c| &c.tally);
        let (mut report, first_problem) = Report::of(tallies, header_lines, bytes, name, options);
        if options.strict {
            if let Some(problem) = first_problem {
                return Err(SketchError::input(format!("{problem} (strict)")));
            }
        }
        // A worker keeps no order-dependent sink: those come in chunk order.
        let mut unordered = Part::of(self.sinks, false);
        for w in &workers {
            unordered.merge(&w.acc)?;
        }
        let ordered = Ordered::finish(self.ordered)?;
        report.interrupted = self.control.stop.load(Ordering::Relaxed);
        Ok((Part::join(unordered, ordered), report))
    }
}

/// A thread's state: its order-free sinks (for all its chunks), buffers reused from chunk to
/// chunk, and the chunks it read.
pub(super) struct Worker {
    acc: Part,
    keys: KeyBuffer,
    scratch: Vec<u8>,
    pub(super) buf: Vec<u8>,
    pub(super) chunks: Vec<Chunk>,
}

impl Worker {
    pub(super) fn new(run: &Run) -> Self {
        Worker {
            acc: Part::of(run.sinks, false),
            keys: KeyBuffer::with_capacity(1 << 16),
            scratch: Vec::new(),
            buf: Vec::new(),
            chunks: Vec::new(),
        }
    }

    /// Parses the records of `buf` that start in `[from, limit)` into this worker's keys.
    pub(super) fn parse(
        &mut self,
        run: &Run,
        buf: &[u8],
        (from, limit): (usize, usize),
        at_eof: bool,
        max_record: usize,
        tally: &mut Tally,
    ) -> End {
        let mut out = Out {
            keys: &mut self.keys,
            tally,
            scratch: &mut self.scratch,
            max_record,
            numeric: run.numeric,
            all_utf8: false,
        };
        run.parser.parse(buf, from, limit, at_eof, &mut out)
    }

    /// Adds the chunk's items (in `self.keys`) to the sinks, and records the chunk.
    pub(super) fn finish_chunk(&mut self, run: &Run, chunk: Chunk) -> Result<()> {
        let keys = self.keys.keys();
        self.acc.add(&keys)?;
        if run.has_ordered {
            let mut ordered = Part::of(run.sinks, true);
            ordered.add(&keys)?;
            Ordered::offer(&run.ordered, chunk.index, ordered);
        }
        run.control
            .items
            .fetch_add(chunk.tally.items, Ordering::Relaxed);
        if run.options.strict && chunk.tally.first.is_some() {
            run.stop_at.fetch_min(chunk.index, Ordering::Relaxed);
        }
        self.keys.clear();
        self.chunks.push(chunk);
        Ok(())
    }
}
