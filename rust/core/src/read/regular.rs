//! A regular file, read in chunks of [`CHUNK`] bytes that the threads take in turn.
//!
//! A chunk owns the records that start in it (the first one after its first newline) and reads
//! past its end to finish its last record. CSV chunks start at a newline as if it were outside
//! quotes; each chunk's end is checked against the next one's start afterwards, and a file whose
//! quoted fields cross a chunk boundary is read again on one thread, each chunk starting where the
//! previous one ended. A record longer than `max_record` bytes is skipped, never buffered whole.

use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};

use memchr::memchr;

use super::chunks::{Chunk, Run, Worker};
use super::csv;
use super::io::{binary_check, fill_at, io_error, BINARY_PROBE};
use super::records::{End, Parser};
use super::report::{Problem, Report};
use super::sink::Sink;
use super::{Control, Format, Options, CHUNK, EXTENSION};
use crate::error::{Result, SketchError};
use crate::parallel;

/// Where chunk `i` of a file starts: after its first newline (every thread on its own), or where
/// the previous chunk ended (one thread, chunk after chunk).
#[derive(Clone, Copy)]
enum Start {
    FirstNewline,
    Chained(Option<u64>),
}

/// Reads a regular (seekable, uncompressed) file into empty copies of `sinks`.
pub(super) fn read(
    file: &File,
    name: &str,
    options: &Options,
    sinks: &[Sink],
    control: &Control,
) -> Result<(Vec<Sink>, Report)> {
    let len = file.metadata().map_err(|e| io_error(name, &e))?.len();
    let mut first = Vec::new();
    fill_at(file, &mut first, 0, BINARY_PROBE).map_err(|e| io_error(name, &e))?;
    binary_check(&first, name)?;
    // A CSV header is read first: the column it names is what every chunk extracts.
    let (parser, data_start, header_lines) = match &options.format {
        Format::Lines => (Parser::Lines, 0, 0),
        Format::JsonLines { path } => (Parser::Json { path }, 0, 0),
        Format::Csv { column, delimiter } => {
            let mut ext = EXTENSION;
            let (header, next, lines) = loop {
                fill_at(file, &mut first, 0, ext).map_err(|e| io_error(name, &e))?;
                let eof = first.len() as u64 == len;
                match csv::header(&first, *delimiter, eof, options.max_record, name)? {
                    Some(found) => break found,
                    None if ext > options.max_record => {
                        return Err(SketchError::input(format!(
                            "{name}: the CSV header is longer than {} bytes",
                            options.max_record
                        )))
                    }
                    None => ext *= 4,
                }
            };
            let index = csv::resolve_column(column, &header, name)?;
            let parser = Parser::Csv {
                index,
                delimiter: *delimiter,
            };
            (parser, next as u64, lines)
        }
    };
    let run = Run::new(parser, options, control, sinks);
    let body = len - data_start;
    let chunks = body.div_ceil(CHUNK as u64) as usize;
    let plan = parallel::plan(chunks, 1);
    let next = AtomicUsize::new(0);
    let at = Place {
        file,
        name,
        len,
        data_start,
    };
    let work = |_: usize| -> Result<Worker> {
        let mut worker = Worker::new(&run);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= chunks || run.stopped(i) {
                return Ok(worker);
            }
            read_chunk(&at, i, Start::FirstNewline, &run, &mut worker)?;
        }
    };
    let (mine, others) =
        parallel::for_each_share(plan.threads, plan.threads, |_| work(0), |t, _| work(t));
    drop(plan);
    let mut workers = vec![mine?];
    for w in others {
        workers.push(w?);
    }
    if matches!(run.parser, Parser::Csv { .. }) && !chained(&workers) {
        // A quoted field crossed a chunk boundary: read again, each chunk where the last ended.
        control.items.store(0, Ordering::Relaxed);
        control.bytes.store(0, Ordering::Relaxed);
        let run = run.again();
        let mut worker = Worker::new(&run);
        let mut start = Start::Chained(Some(data_start));
        for i in 0..chunks {
            if run.stopped(i) {
                break;
            }
            read_chunk(&at, i, start, &run, &mut worker)?;
            // A chunk in which no record starts leaves the start as it was; after a skipped long
            // record, whose end is not known, the next chunk starts after its first newline.
            if let Some(c) = worker.chunks.last().filter(|c| c.start.is_some()) {
                start = c
                    .end
                    .map_or(Start::FirstNewline, |e| Start::Chained(Some(e)));
            }
        }
        return run.finish(vec![worker], name, header_lines, len);
    }
    run.finish(workers, name, header_lines, len)
}

/// The file a read is in, and where its records start.
struct Place<'a> {
    file: &'a File,
    name: &'a str,
    len: u64,
    data_start: u64,
}

/// Whether every chunk started where the previous one's records ended.
fn chained(workers: &[Worker]) -> bool {
    let mut chunks: Vec<&Chunk> = workers.iter().flat_map(|w| &w.chunks).collect();
    chunks.sort_by_key(|c| c.index);
    let mut end: Option<u64> = None;
    for c in chunks.iter().filter(|c| c.start.is_some()) {
        if end.is_some() && end != c.start {
            return false;
        }
        end = c.end;
    }
    true
}

fn read_chunk(at: &Place, i: usize, start: Start, run: &Run, worker: &mut Worker) -> Result<()> {
    let (file, name, len) = (at.file, at.name, at.len);
    let nominal = at.data_start + (i * CHUNK) as u64;
    let nominal_end = (nominal + CHUNK as u64).min(len);
    // One byte before the chunk too: whether the chunk starts a line.
    let base = if i == 0 { nominal } else { nominal - 1 };
    let mut buf = std::mem::take(&mut worker.buf);
    let want = (nominal_end - base) as usize + EXTENSION;
    fill_at(file, &mut buf, base, want).map_err(|e| io_error(name, &e))?;
    // A file cut shorter while it is read gives fewer bytes than its length said.
    let limit = ((nominal_end - base) as usize).min(buf.len());
    let from = match start {
        Start::FirstNewline if i == 0 => Some(0),
        Start::FirstNewline => memchr(b'\n', &buf[..limit.saturating_sub(1)]).map(|p| p + 1),
        Start::Chained(Some(at)) if at < nominal_end => Some(((at - base) as usize).min(buf.len())),
        Start::Chained(_) => None,
    };
    let mut chunk = Chunk {
        index: i,
        ..Chunk::default()
    };
    if let Some(from) = from {
        chunk.start = Some(base + from as u64);
        let at_eof = base + buf.len() as u64 == len;
        let max = run.options.max_record;
        let mut tally = std::mem::take(&mut chunk.tally);
        let end = match worker.parse(run, &buf, (from, limit), at_eof, max, &mut tally) {
            End::Done(end) => Some(base + end as u64),
            End::Incomplete(pos) => long_record(at, base + pos as u64, run, worker, &mut tally)?,
        };
        chunk.tally = tally;
        chunk.end = end;
    }
    worker.buf = buf;
    run.control
        .bytes
        .fetch_add(nominal_end - nominal, Ordering::Relaxed);
    worker.finish_chunk(run, chunk)
}

/// The last record of a chunk, longer than the chunk's extension: read alone, in growing pieces up
/// to `max_record` bytes; past that it is skipped and reported (too long, or a quote that does not
/// close). Returns where it ends (`None`: skipped, its end not known).
fn long_record(
    at: &Place,
    pos: u64,
    run: &Run,
    worker: &mut Worker,
    tally: &mut super::report::Tally,
) -> Result<Option<u64>> {
    let max = run.options.max_record;
    let mut ext = EXTENSION * 4;
    let mut buf = Vec::new();
    loop {
        let want = ext.min(max + 1);
        fill_at(at.file, &mut buf, pos, want).map_err(|e| io_error(at.name, &e))?;
        let at_eof = pos + buf.len() as u64 == at.len;
        match worker.parse(run, &buf, (0, 1), at_eof, max, tally) {
            End::Done(end) => return Ok(Some(pos + end as u64)),
            End::Incomplete(_) if want > max => {
                // A quote that opened on line `opened` of the record and does not close, or
                // a record too long whatever its quotes.
                let opened = match run.parser {
                    Parser::Csv { delimiter, .. } => csv::unterminated_at(&buf, delimiter, max),
                    _ => None,
                };
                let first = tally.lines + 1;
                tally.lines += opened.map_or(1, |line| line + 1);
                match opened {
                    Some(line) => tally.problem(first + line, Problem::Unterminated),
                    None => tally.problem(first, Problem::TooLong),
                }
                return Ok(None);
            }
            End::Incomplete(_) => ext *= 4,
        }
    }
}
