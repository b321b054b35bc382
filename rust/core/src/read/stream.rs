//! A stream (stdin, a pipe, gzip, bytes in memory): read by one thread that cuts it into blocks of
//! whole records for the others, so that decompression and parsing overlap. A record longer than
//! `max_record` bytes is skipped to the end of its line without being kept.

use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Mutex};

use memchr::memchr;

use super::chunks::{Chunk, Run, Worker};
use super::csv;
use super::io::{binary_check, fill, io_error, Counting, BINARY_PROBE};
use super::records::Parser;
use super::report::{Problem, Report};
use super::sink::Sink;
use super::{Control, Format, Options, CHUNK, EXTENSION};
use crate::error::{Result, SketchError};
use crate::parallel;

/// Reads a stream: gzip if it starts with gzip's magic, else records.
pub(super) fn read_any<R: Read + Send>(
    mut reader: R,
    name: &str,
    options: &Options,
    sinks: &[Sink],
    control: &Control,
) -> Result<(Vec<Sink>, Report)> {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(name, &e)),
        }
    }
    let raw = Counting {
        inner: io::Cursor::new(head[..got].to_vec()).chain(reader),
        control,
    };
    if head[..got] == [0x1f, 0x8b] {
        let gz = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(256 << 10, raw));
        read_stream(gz, name, true, options, sinks, control)
    } else {
        read_stream(raw, name, false, options, sinks, control)
    }
}

/// A block of a stream: whole records, or a record skipped without being kept (its problem, and
/// the lines it took).
enum Block {
    Records(usize, Vec<u8>),
    Skipped(usize, Problem, u64),
}

fn read_stream<R: Read + Send>(
    mut reader: R,
    name: &str,
    gzip: bool,
    options: &Options,
    sinks: &[Sink],
    control: &Control,
) -> Result<(Vec<Sink>, Report)> {
    let damaged = |err: &io::Error| {
        let items = control.items.load(Ordering::Relaxed);
        if gzip && err.kind() != io::ErrorKind::Interrupted {
            SketchError::input(format!(
                "{name}: corrupt or truncated gzip data ({err}) after {} compressed bytes; \
                 nothing was counted ({items} items were read before it)",
                control.bytes.load(Ordering::Relaxed)
            ))
        } else {
            io_error(name, err)
        }
    };
    let mut carry: Vec<u8> = Vec::new();
    let mut eof = fill(&mut reader, &mut carry, BINARY_PROBE).map_err(|e| damaged(&e))?;
    binary_check(&carry, name)?;
    let mut header_lines = 0;
    let parser = match &options.format {
        Format::Lines => Parser::Lines,
        Format::JsonLines { path } => Parser::Json { path },
        Format::Csv { column, delimiter } => {
            let (header, next, lines) = loop {
                match csv::header(&carry, *delimiter, eof, options.max_record, name)? {
                    Some(found) => break found,
                    None if carry.len() > options.max_record => {
                        return Err(SketchError::input(format!(
                            "{name}: the CSV header is longer than {} bytes",
                            options.max_record
                        )))
                    }
                    None => {
                        let want = carry.len() + EXTENSION;
                        eof = fill(&mut reader, &mut carry, want).map_err(|e| damaged(&e))?;
                    }
                }
            };
            let index = csv::resolve_column(column, &header, name)?;
            carry.drain(..next);
            header_lines = lines;
            Parser::Csv {
                index,
                delimiter: *delimiter,
            }
        }
    };
    let run = Run::new(parser, options, control, sinks);
    let max = options.max_record;
    let consumers = parallel::max_threads().max(1);
    let (to_workers, blocks) = mpsc::sync_channel::<Block>(consumers);
    let (recycle, spare) = mpsc::channel::<Vec<u8>>();
    let blocks = Mutex::new(blocks);
    let mut produce = |to_workers: mpsc::SyncSender<Block>| -> Result<()> {
        let mut index = 0;
        loop {
            if run.stopped(index) {
                return Ok(());
            }
            let mut buf = spare.try_recv().unwrap_or_default();
            buf.clear();
            buf.append(&mut carry);
            let want = CHUNK.max(buf.len() + EXTENSION);
            if !eof {
                eof = fill(&mut reader, &mut buf, want).map_err(|e| damaged(&e))?;
            }
            let cut = if eof {
                buf.len()
            } else {
                run.parser.last_end(&buf, max)
            };
            if cut == 0 && !eof {
                if buf.len() > max {
                    // Skip to the end of the line, without keeping it: a quote that does not
                    // close (to the end of the line it opened on), or a record too long.
                    let (problem, lines, from) = match run.parser {
                        Parser::Csv { delimiter, .. } => {
                            match csv::unterminated_at(&buf, delimiter, max) {
                                Some(line) => {
                                    (Problem::Unterminated, line + 1, nth_line(&buf, line))
                                }
                                None => (Problem::TooLong, 1, 0),
                            }
                        }
                        _ => (Problem::TooLong, 1, 0),
                    };
                    let mut found = memchr(b'\n', &buf[from..]).map(|p| from + p + 1);
                    while found.is_none() && !eof {
                        buf.clear();
                        eof = fill(&mut reader, &mut buf, CHUNK).map_err(|e| damaged(&e))?;
                        found = memchr(b'\n', &buf).map(|p| p + 1);
                    }
                    carry.extend_from_slice(&buf[found.unwrap_or(buf.len())..]);
                    if to_workers
                        .send(Block::Skipped(index, problem, lines))
                        .is_err()
                    {
                        return Ok(());
                    }
                    index += 1;
                } else {
                    carry = buf;
                }
                continue;
            }
            carry.extend_from_slice(&buf[cut..]);
            buf.truncate(cut);
            if !buf.is_empty() {
                if to_workers.send(Block::Records(index, buf)).is_err() {
                    return Ok(());
                }
                index += 1;
            }
            if eof && carry.is_empty() {
                return Ok(());
            }
        }
    };
    let consume = || -> Result<Worker> {
        let mut worker = Worker::new(&run);
        loop {
            let block = {
                let rx = blocks.lock().unwrap_or_else(|p| p.into_inner());
                rx.recv()
            };
            let Ok(block) = block else {
                return Ok(worker);
            };
            let mut chunk = Chunk::default();
            match block {
                Block::Records(index, buf) => {
                    chunk.index = index;
                    if !run.stopped(index) {
                        let range = (0, buf.len());
                        worker.parse(&run, &buf, range, true, max, &mut chunk.tally);
                    }
                    let _ = recycle.send(buf);
                }
                Block::Skipped(index, problem, lines) => {
                    chunk.index = index;
                    chunk.tally.lines = lines;
                    chunk.tally.problem(lines, problem);
                }
            }
            if let Err(err) = worker.finish_chunk(&run, chunk) {
                // Stop the producer and take what it still sends, so that it never waits on us.
                run.failed.store(true, Ordering::Relaxed);
                while blocks.lock().map(|rx| rx.recv().is_ok()).unwrap_or(false) {}
                return Err(err);
            }
        }
    };
    let plan = parallel::plan(2 * consumers, 1);
    let (produced, workers) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..consumers).map(|_| scope.spawn(consume)).collect();
        let produced = produce(to_workers);
        let workers: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (produced, workers)
    });
    drop(plan);
    let workers = workers.into_iter().collect::<Result<Vec<_>>>()?;
    produced?;
    let bytes = control.bytes.load(Ordering::Relaxed);
    run.finish(workers, name, header_lines, bytes)
}

/// Where line `n` (0: the first) of `buf` starts.
fn nth_line(buf: &[u8], n: u64) -> usize {
    memchr::memchr_iter(b'\n', buf)
        .nth(n.saturating_sub(1) as usize)
        .filter(|_| n > 0)
        .map_or(0, |p| p + 1)
}
