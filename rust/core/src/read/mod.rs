//! Reading files into sketches: lines, a CSV column or a JSON-lines field, plain or gzip, from a
//! file or a stream, with no per-record allocation. Split by layer, as BurntSushi's rust-csv and
//! ripgrep's grep-searcher split theirs:
//!
//! - this module: the options and the entry points ([`read`], [`read_slice`], [`start`]);
//! - [`sink`]: what the records go into (any sketches of the registry, and the values);
//! - [`records`]: the record parsers behind one `Parser`, with the format rules in `lines`,
//!   [`csv`] (one quote state machine) and `jsonl`; [`report`]: problems and the report;
//! - `regular` (a regular file, chunked on all cores), `stream` (stdin, pipes, gzip: one thread
//!   cuts, the others parse), `chunks` (what both hand to their threads), `io` (positioned reads,
//!   interruptible streams); [`background`]: a read on a thread of its own, with a poll handle.
//!
//! Each chunk's records become one [`Keys`](crate::items::Keys) batch per sketch: the same batch
//! path as `update`. The result does not depend on the number of threads: order-free sketches
//! merge exactly, and order-dependent ones (top-k, KLL) are built per chunk and merged in file
//! order. Memory is bounded by the threads' buffers (a few chunks) whatever the input: a record
//! longer than `max_record` bytes is skipped and reported, never buffered.

pub mod background;
mod chunks;
pub mod csv;
mod io;
mod jsonl;
mod lines;
pub mod records;
mod regular;
pub mod report;
pub mod sink;
mod stream;

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};

use crate::error::{Result, SketchError};

pub use background::Reading;
pub use report::Report;
pub use sink::Sink;

/// Bytes of a file per chunk (and of a stream per block).
pub const CHUNK: usize = 2 << 20;
/// What a chunk first reads past its end to finish its last record.
const EXTENSION: usize = 64 << 10;
/// The longest record read by default; longer ones are skipped and reported.
pub const DEFAULT_MAX_RECORD: usize = 1 << 20;

/// A CSV column: by header name (a name of digits that is not in the header is an index, as the
/// command line has always read it) or by index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// A header name.
    Name(String),
    /// A position, from 0.
    Index(usize),
}

/// What a record is and which item it gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Every line is an item (its UTF-8 text, without `\n` or `\r\n`).
    Lines,
    /// A column of RFC 4180 CSV with a header row.
    Csv {
        /// The column whose fields are the items.
        column: Column,
        /// The field delimiter (one ASCII byte, not a quote or a line end).
        delimiter: u8,
    },
    /// A field of JSON lines, by path (keys, and indices into arrays).
    JsonLines {
        /// The keys (and array indices) from the document to the field.
        path: Vec<String>,
    },
}

/// How a read reads its records.
#[derive(Clone, Debug)]
pub struct Options {
    /// The records and their items.
    pub format: Format,
    /// Stop at the first bad record (with an error naming its line) instead of skipping it.
    pub strict: bool,
    /// The longest record read; longer ones are skipped.
    pub max_record: usize,
}

impl Options {
    /// `format` with the defaults: skip bad records, records up to [`DEFAULT_MAX_RECORD`] bytes.
    pub fn new(format: Format) -> Self {
        Options {
            format,
            strict: false,
            max_record: DEFAULT_MAX_RECORD,
        }
    }
}

/// Where the records come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file: plain or gzip, regular (read in chunks on all cores) or a pipe.
    Path(PathBuf),
    /// Standard input.
    Stdin,
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".into(),
        }
    }
}

/// Shared with the caller while a read runs: progress to show, and a flag to stop early.
#[derive(Debug, Default)]
pub struct Control {
    /// Input bytes consumed (compressed bytes for gzip).
    pub bytes: AtomicU64,
    /// Records that gave an item so far.
    pub items: AtomicU64,
    /// Set by the caller (on Ctrl-C): the read stops after the chunks under way.
    pub stop: AtomicBool,
}

/// Reads `source` into empty copies of `sinks` (the caller merges them into its own, so that a
/// failed read changes nothing) and reports what it read.
pub fn read(
    source: &Source,
    options: &Options,
    sinks: &[Sink],
    control: &Control,
) -> Result<(Vec<Sink>, Report)> {
    let name = source.name();
    let (file, regular) = match source {
        Source::Path(path) => {
            let file = File::open(path).map_err(|err| {
                SketchError::io(
                    err.kind(),
                    format!("cannot open '{name}': {}", io::describe(&err)),
                )
            })?;
            let meta = file.metadata().map_err(|e| io::io_error(&name, &e))?;
            if meta.is_dir() {
                return Err(SketchError::io(
                    std::io::ErrorKind::IsADirectory,
                    format!("cannot read '{name}': it is a directory"),
                ));
            }
            (Some(file), meta.is_file())
        }
        Source::Stdin => (None, false),
    };
    let mut head = [0u8; 2];
    let reader: Box<dyn std::io::Read + Send> = match file {
        Some(file) if regular => {
            let n = io::read_at(&file, &mut head, 0).map_err(|e| io::io_error(&name, &e))?;
            if head[..n] != [0x1f, 0x8b] {
                return regular::read(&file, &name, options, sinks, control);
            }
            Box::new(file)
        }
        Some(file) => Box::new(io::Unblocking::new(file, control)),
        None => Box::new(io::Unblocking::new(std::io::stdin(), control)),
    };
    stream::read_any(reader, &name, options, sinks, control)
}

/// Reads records from bytes in memory (gzip if they start with its magic), as [`read`] reads a pipe.
pub fn read_slice(
    data: &[u8],
    options: &Options,
    sinks: &[Sink],
    control: &Control,
) -> Result<(Vec<Sink>, Report)> {
    stream::read_any(data, "<bytes>", options, sinks, control)
}

/// [`read`] on a thread of its own: the handle tells when it is done, shares its [`Control`]
/// (progress, stop) and gives its result.
pub fn start(source: Source, options: Options, sinks: Vec<Sink>) -> Reading {
    Reading::start(move |control| read(&source, &options, &sinks, control))
}

#[cfg(test)]
mod tests;
