//! Reading files into sketches: lines, a CSV column or a JSON-lines field, plain or gzip, from a
//! file or a stream, with no per-record allocation.
//!
//! A regular file is cut into chunks of [`CHUNK`] bytes that the threads take in turn. A chunk owns
//! the records that start in it (the first one after its first newline) and reads past its end to
//! finish its last record. A stream (stdin, a pipe, gzip) is read by one thread that cuts it into
//! blocks of whole records for the others, so decompression and hashing overlap. Each chunk's
//! records become one [`Keys`] batch per sketch: the same batch path as `update`.
//!
//! The result does not depend on the number of threads: HyperLogLog and count-min merges are
//! exact, and a top-k summary is built per chunk and the chunks' summaries are merged in file order.
//! CSV chunks start at a newline as if it were outside quotes; each chunk's end is checked against
//! the next one's start afterwards, and a file whose quoted fields cross a chunk boundary is read
//! again on one thread, each chunk starting where the previous one ended.
//!
//! Memory is bounded by the threads' buffers (a few chunks) whatever the input: a record longer
//! than `max_record` bytes is skipped and reported, never buffered.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

use jiter::{Jiter, Peek};
use memchr::{memchr, memchr3_iter, memchr_iter, memrchr};

use crate::count_min::{CountMinSketch, Counts};
use crate::ddsketch::DDSketch;
use crate::distinct::Distinct;
use crate::error::{Result, SketchError};
use crate::keys::{encode_f64, encode_int, parse_number, ItemKind, KeyBuffer, Keys};
use crate::kll::Kll;
use crate::parallel;
use crate::top_k::TopK;

/// Bytes of a file per chunk (and of a stream per block).
pub const CHUNK: usize = 2 << 20;
/// What a chunk first reads past its end to finish its last record.
const EXTENSION: usize = 64 << 10;
/// A NUL byte among the first bytes of the input marks it as binary, as in grep and git.
const BINARY_PROBE: usize = 64 << 10;
/// The longest record read by default; longer ones are skipped and reported.
pub const DEFAULT_MAX_RECORD: usize = 1 << 20;

/// A CSV column: by header name (a name of digits that is not in the header is an index, as the
/// command line has always read it) or by index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    Name(String),
    Index(usize),
}

/// What a record is and which item it gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Every line is an item (its UTF-8 text, without `\n` or `\r\n`).
    Lines,
    /// A column of RFC 4180 CSV with a header row.
    Csv { column: Column, delimiter: u8 },
    /// A field of JSON lines, by path (keys, and indices into arrays).
    JsonLines { path: Vec<String> },
}

#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    /// Stop at the first bad record (with an error naming its line) instead of skipping it.
    pub strict: bool,
    pub max_record: usize,
}

impl Options {
    pub fn new(format: Format) -> Self {
        Options {
            format,
            strict: false,
            max_record: DEFAULT_MAX_RECORD,
        }
    }
}

pub enum Source {
    Path(PathBuf),
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
    pub items: AtomicU64,
    /// Set by the caller (on Ctrl-C): the read stops after the chunks under way.
    pub stop: AtomicBool,
}

/// The sketches a read feeds, all from the same records.
#[derive(Clone, Debug, Default)]
pub struct Sketches {
    pub hll: Vec<Distinct>,
    pub cms: Vec<CountMinSketch>,
    pub top: Vec<TopK>,
    pub dd: Vec<DDSketch>,
    pub kll: Vec<Kll>,
}

impl Sketches {
    /// Empty sketches with the same parameters.
    pub fn empty_like(&self) -> Self {
        let ordered = self.empty_ordered();
        Sketches {
            top: ordered.top,
            kll: ordered.kll,
            ..self.empty_unordered()
        }
    }

    /// Empty copies of the sketches whose merge depends on order (top-k, KLL) alone: a file's
    /// chunks each get their own, merged in file order, and copying the other sketches (a
    /// count-min sketch may be many MB) for them would be waste.
    fn empty_ordered(&self) -> Self {
        Sketches {
            top: cleared(&self.top, TopK::clear),
            kll: cleared(&self.kll, Kll::clear),
            ..Sketches::default()
        }
    }

    fn has_ordered(&self) -> bool {
        !self.top.is_empty() || !self.kll.is_empty()
    }

    /// Empty copies of the sketches that one thread fills for all its chunks: those whose merge
    /// is exact whatever the order.
    fn empty_unordered(&self) -> Self {
        Sketches {
            hll: cleared(&self.hll, Distinct::clear),
            cms: cleared(&self.cms, CountMinSketch::clear),
            dd: cleared(&self.dd, DDSketch::clear),
            ..Sketches::default()
        }
    }

    fn add(&mut self, keys: &Keys) -> Result<()> {
        for h in &mut self.hll {
            h.update(keys);
        }
        for c in &mut self.cms {
            c.update(keys, Counts::Each(1))?;
        }
        for t in &mut self.top {
            t.update(keys, Counts::Each(1))?;
        }
        // Quantile sketches read each line as a number.
        for d in &mut self.dd {
            d.update_values(keys, Counts::Each(1), true)?;
        }
        for k in &mut self.kll {
            k.update_values(keys, Counts::Each(1), true)?;
        }
        Ok(())
    }

    /// Adds `other`'s items (sketches of the same parameters, position by position).
    pub fn merge(&mut self, other: &Sketches) -> Result<()> {
        merge_all(&mut self.hll, &other.hll, Distinct::merge)?;
        merge_all(&mut self.cms, &other.cms, CountMinSketch::merge)?;
        merge_all(&mut self.top, &other.top, TopK::merge)?;
        merge_all(&mut self.dd, &other.dd, DDSketch::merge)?;
        merge_all(&mut self.kll, &other.kll, Kll::merge)
    }
}

fn cleared<T: Clone>(sketches: &[T], clear: fn(&mut T)) -> Vec<T> {
    sketches
        .iter()
        .map(|s| {
            let mut s = s.clone();
            clear(&mut s);
            s
        })
        .collect()
}

fn merge_all<T>(a: &mut [T], b: &[T], merge: impl Fn(&mut T, &T) -> Result<()>) -> Result<()> {
    a.iter_mut().zip(b).try_for_each(|(a, b)| merge(a, b))
}

/// Why a record gave no item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Problem {
    Undecodable,
    MalformedJson,
    MissingField,
    NotScalar,
    IntRange,
    NoColumn,
    TooLong,
    NotANumber,
}

const PROBLEMS: usize = 8;

impl Problem {
    const ALL: [Problem; PROBLEMS] = [
        Problem::Undecodable,
        Problem::MalformedJson,
        Problem::MissingField,
        Problem::NotScalar,
        Problem::IntRange,
        Problem::NoColumn,
        Problem::TooLong,
        Problem::NotANumber,
    ];

    fn describe(self, options: &Options) -> String {
        let what = match &options.format {
            Format::Csv {
                column: Column::Name(n),
                ..
            } => n.clone(),
            Format::Csv {
                column: Column::Index(i),
                ..
            } => i.to_string(),
            Format::JsonLines { path } => path.join("."),
            Format::Lines => String::new(),
        };
        match self {
            Problem::Undecodable => "undecodable bytes (not UTF-8)".into(),
            Problem::MalformedJson => "malformed JSON".into(),
            Problem::MissingField => format!("missing field '{what}'"),
            Problem::NotScalar => format!("field '{what}' is not a string or a number"),
            Problem::IntRange => format!("field '{what}' is an integer outside the 64-bit range"),
            Problem::NoColumn => format!("row has no column '{what}'"),
            Problem::TooLong => format!("line longer than {} bytes", options.max_record),
            Problem::NotANumber => "not a number".into(),
        }
    }
}

/// What a chunk read: lines, items, and the records skipped (the first with its line in the chunk).
#[derive(Clone, Debug, Default)]
struct Tally {
    lines: u64,
    items: u64,
    skipped: [u64; PROBLEMS],
    first: Option<(u64, Problem)>,
}

impl Tally {
    fn problem(&mut self, line: u64, problem: Problem) {
        self.skipped[problem as usize] += 1;
        if self.first.is_none() {
            self.first = Some((line, problem));
        }
    }

    fn add(&mut self, other: &Tally) {
        self.lines += other.lines;
        self.items += other.items;
        for (a, b) in self.skipped.iter_mut().zip(other.skipped) {
            *a += b;
        }
    }
}

/// What a read did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub bytes: u64,
    pub lines: u64,
    pub items: u64,
    /// How many records were skipped, by reason.
    pub skipped: Vec<(String, u64)>,
    /// The first skipped record: `source:line: reason`.
    pub first_problem: Option<String>,
    /// Stopped by [`Control::stop`]: the sketches hold the chunks read until then.
    pub interrupted: bool,
}

// --- records ---------------------------------------------------------------------------------------

/// How records are found and turned into items.
enum Parser<'o> {
    Lines,
    Csv { index: usize, delimiter: u8 },
    Json { path: &'o [String] },
}

/// Where parsing stopped: after the last record that starts before the limit, or at a record the
/// buffer does not hold whole.
enum End {
    Done(usize),
    Incomplete(usize),
}

/// Whitespace as Python's `bytes.strip` sees it: a JSON line of only this is skipped.
fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

impl Parser<'_> {
    /// The record starting at `pos`: (end of its content, start of the next, newlines it spans),
    /// or `None` when `buf` ends inside it.
    #[inline]
    fn record_end(&self, buf: &[u8], pos: usize) -> Option<(usize, usize, u64)> {
        match self {
            Parser::Csv { delimiter, .. } => csv_record_end(buf, pos, *delimiter),
            _ => memchr(b'\n', &buf[pos..]).map(|i| (pos + i, pos + i + 1, 1)),
        }
    }

    /// Where the last record that `buf` holds whole ends (0: none).
    fn last_end(&self, buf: &[u8]) -> usize {
        match self {
            Parser::Csv { .. } => {
                let mut pos = 0;
                while let Some((_, next, _)) = self.record_end(buf, pos) {
                    pos = next;
                }
                pos
            }
            _ => memrchr(b'\n', buf).map_or(0, |i| i + 1),
        }
    }

    /// Parses the records of `buf` that start in `[from, limit)` into `out`. `at_eof`: the input
    /// ends with `buf`, so a last record without a newline is whole.
    #[allow(clippy::too_many_arguments)]
    fn parse(
        &self,
        buf: &[u8],
        from: usize,
        limit: usize,
        at_eof: bool,
        max_record: usize,
        out: &mut KeyBuffer,
        tally: &mut Tally,
        scratch: &mut Vec<u8>,
        numeric: bool,
    ) -> End {
        // One UTF-8 check of the whole chunk: records are checked one by one only when it fails.
        let all_utf8 = std::str::from_utf8(&buf[from.min(buf.len())..]).is_ok();
        let mut pos = from;
        if let Parser::Lines = self {
            // One pass of memchr over the chunk: a call per short line would cost more than the line.
            for nl in memchr_iter(b'\n', &buf[from.min(buf.len())..]) {
                if pos >= limit {
                    return End::Done(pos);
                }
                let end = from + nl;
                let line = tally.lines + 1;
                tally.lines += 1;
                let content = if end > pos && buf[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                let record = pos..content;
                pos = end + 1;
                if record.len() > max_record {
                    tally.problem(line, Problem::TooLong);
                } else if !all_utf8 && std::str::from_utf8(&buf[record.clone()]).is_err() {
                    tally.problem(line, Problem::Undecodable);
                } else if numeric && parse_number(&buf[record.clone()]).is_none() {
                    tally.problem(line, Problem::NotANumber);
                } else {
                    out.push_range(ItemKind::Str, buf, record);
                    tally.items += 1;
                }
            }
        }
        while pos < limit && pos < buf.len() {
            if let Parser::Csv { index, delimiter } = *self {
                // The common CSV record, a line without quotes: one scan finds the field and the end.
                if let Some((field, end)) = csv_quick(buf, pos, delimiter, index) {
                    let line = tally.lines + 1;
                    tally.lines += 1;
                    let record = &buf[pos..end];
                    pos = end + 1;
                    if record.len() > max_record {
                        tally.problem(line, Problem::TooLong);
                    } else if !all_utf8 && std::str::from_utf8(record).is_err() {
                        tally.problem(line, Problem::Undecodable);
                    } else if let Some((a, b)) = field {
                        if numeric && parse_number(&buf[a..b]).is_none() {
                            tally.problem(line, Problem::NotANumber);
                        } else {
                            out.push_range(ItemKind::Str, buf, a..b);
                            tally.items += 1;
                        }
                    } else {
                        tally.problem(line, Problem::NoColumn);
                    }
                    continue;
                }
            }
            let (content_end, next, newlines) = match self.record_end(buf, pos) {
                Some(r) => r,
                None if at_eof => (buf.len(), buf.len(), 1),
                None => return End::Incomplete(pos),
            };
            let line = tally.lines + 1;
            tally.lines += newlines;
            let record = &buf[pos..content_end];
            pos = next;
            if record.len() > max_record {
                tally.problem(line, Problem::TooLong);
                continue;
            }
            if !all_utf8 && std::str::from_utf8(record).is_err() {
                tally.problem(line, Problem::Undecodable);
                continue;
            }
            match self.item(record, out, scratch) {
                Ok(true) if numeric && !out.last_is_number() => {
                    out.pop();
                    tally.problem(line, Problem::NotANumber);
                }
                Ok(true) => tally.items += 1,
                Ok(false) => {}
                Err(problem) => tally.problem(line, problem),
            }
        }
        End::Done(pos)
    }

    /// Pushes the record's item; `Ok(false)` for a record that has none and is no problem (a blank
    /// JSON line).
    #[inline]
    fn item(
        &self,
        record: &[u8],
        out: &mut KeyBuffer,
        scratch: &mut Vec<u8>,
    ) -> std::result::Result<bool, Problem> {
        match *self {
            Parser::Lines => {
                let line = record.strip_suffix(b"\r").unwrap_or(record);
                out.push(ItemKind::Str, line);
                Ok(true)
            }
            Parser::Csv { index, delimiter } => {
                let mut found = false;
                csv_fields(record, delimiter, scratch, |i, field| {
                    if i == index {
                        out.push(ItemKind::Str, field);
                        found = true;
                    }
                    i < index
                });
                if found {
                    Ok(true)
                } else {
                    Err(Problem::NoColumn)
                }
            }
            Parser::Json { path } => {
                if record.iter().all(|&b| is_py_space(b)) {
                    return Ok(false);
                }
                match json_item(record, path, scratch)? {
                    Leaf::Str => out.push(ItemKind::Str, scratch),
                    Leaf::Bool(b) => out.push(ItemKind::Str, if b { b"true" } else { b"false" }),
                    Leaf::Number(kind, bytes) => out.push(kind, &bytes),
                    Leaf::Missing => return Err(Problem::MissingField),
                    Leaf::Container => return Err(Problem::NotScalar),
                    Leaf::OutOfRange => return Err(Problem::IntRange),
                }
                Ok(true)
            }
        }
    }
}

// --- CSV (RFC 4180, as Python's `csv` module reads it) ---------------------------------------------

/// A CSV record without quotes, ending in a newline: where field `index` is (`None`: the record
/// has no such field) and where the record's content ends. `None` for any other record, which
/// [`csv_record_end`] and [`csv_fields`] read.
#[inline(always)]
fn csv_quick(
    buf: &[u8],
    pos: usize,
    delimiter: u8,
    index: usize,
) -> Option<(Option<(usize, usize)>, usize)> {
    let (mut field, mut start, mut found) = (0, pos, None);
    for p in memchr3_iter(delimiter, b'\n', b'"', &buf[pos..]) {
        let at = pos + p;
        match buf[at] {
            b'\n' => {
                if field == index && found.is_none() {
                    // The last field: its "\r" is the line end's; an empty line has no field.
                    let end = if at > start && buf[at - 1] == b'\r' {
                        at - 1
                    } else {
                        at
                    };
                    if !(field == 0 && end == start) {
                        found = Some((start, end));
                    }
                }
                return Some((found, at));
            }
            b'"' => return None,
            _ => {
                if field == index {
                    found = Some((start, at));
                }
                field += 1;
                start = at + 1;
            }
        }
    }
    None
}

/// The CSV record starting at `pos`: a line, unless a quoted field holds newlines.
#[inline]
fn csv_record_end(buf: &[u8], pos: usize, delimiter: u8) -> Option<(usize, usize, u64)> {
    let rest = &buf[pos..];
    let nl = memchr(b'\n', rest);
    let line = &rest[..nl.unwrap_or(rest.len())];
    if memchr(b'"', line).is_none() {
        return nl.map(|i| (pos + i, pos + i + 1, 1));
    }
    let (mut quoted, mut field_start, mut lines) = (false, true, 1);
    let mut i = 0;
    while i < rest.len() {
        let b = rest[i];
        if quoted {
            if b == b'"' {
                match rest.get(i + 1) {
                    Some(b'"') => i += 1, // an escaped quote
                    Some(_) => quoted = false,
                    None => return None, // the next byte decides
                }
            } else if b == b'\n' {
                lines += 1;
            }
        } else if b == b'\n' {
            return Some((pos + i, pos + i + 1, lines));
        } else if b == delimiter {
            field_start = true;
            i += 1;
            continue;
        } else if b == b'"' && field_start {
            quoted = true;
        }
        field_start = false;
        i += 1;
    }
    None
}

/// Calls `f(index, field)` for the fields of a record (without its newline) while `f` returns
/// true, as Python's `csv.reader` splits them: quotes open a field only at its start, `""` in a
/// quoted field is a quote, a `\r` ending the record is its line end, an empty record has no field.
fn csv_fields(
    record: &[u8],
    delimiter: u8,
    scratch: &mut Vec<u8>,
    mut f: impl FnMut(usize, &[u8]) -> bool,
) {
    if memchr(b'"', record).is_none() {
        let record = record.strip_suffix(b"\r").unwrap_or(record);
        if record.is_empty() {
            return;
        }
        let mut start = 0;
        for (i, end) in memchr_iter(delimiter, record)
            .chain(std::iter::once(record.len()))
            .enumerate()
        {
            if !f(i, &record[start..end]) {
                return;
            }
            start = end + 1;
        }
        return;
    }
    scratch.clear();
    let (mut quoted, mut field_start, mut index) = (false, true, 0);
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        if quoted {
            if b == b'"' {
                if record.get(i + 1) == Some(&b'"') {
                    scratch.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                scratch.push(b);
            }
        } else if b == delimiter {
            if !f(index, scratch) {
                return;
            }
            scratch.clear();
            index += 1;
            field_start = true;
            i += 1;
            continue;
        } else if b == b'"' && field_start {
            quoted = true;
        } else if !(b == b'\r' && i + 1 == record.len()) {
            scratch.push(b);
        }
        field_start = false;
        i += 1;
    }
    f(index, scratch);
}

/// The header row's fields.
fn csv_header(record: &[u8], delimiter: u8) -> Vec<String> {
    let mut fields = Vec::new();
    let mut scratch = Vec::new();
    csv_fields(record, delimiter, &mut scratch, |_, field| {
        fields.push(String::from_utf8_lossy(field).into_owned());
        true
    });
    fields
}

fn resolve_column(column: &Column, header: &[String], source: &str) -> Result<usize> {
    match column {
        Column::Index(i) => Ok(*i),
        Column::Name(name) => {
            if let Some(i) = header.iter().position(|h| h == name) {
                return Ok(i);
            }
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(i) = name.parse() {
                    return Ok(i);
                }
            }
            Err(SketchError::input(format!(
                "{source}: no column '{name}' (columns: {})",
                header.join(", ")
            )))
        }
    }
}

// --- JSON lines -------------------------------------------------------------------------------------

/// The value at a JSON path.
enum Leaf {
    /// A string, in the scratch buffer.
    Str,
    Bool(bool),
    Number(ItemKind, [u8; 8]),
    /// Not there, or `null`.
    Missing,
    /// An object or an array.
    Container,
    /// An integer outside [-2**63, 2**64).
    OutOfRange,
}

/// The item at `path` of one JSON document; the whole line is parsed (as `json.loads` does), and a
/// key given twice means its last value.
fn json_item(
    line: &[u8],
    path: &[String],
    scratch: &mut Vec<u8>,
) -> std::result::Result<Leaf, Problem> {
    let mut jiter = Jiter::new(line).with_allow_inf_nan();
    let found = (|| {
        let peek = jiter.peek()?;
        let leaf = json_find(&mut jiter, peek, path, scratch)?;
        jiter.finish()?;
        Ok(leaf)
    })();
    found.map_err(|_: jiter::JiterError| Problem::MalformedJson)
}

fn json_find(
    jiter: &mut Jiter,
    peek: Peek,
    path: &[String],
    scratch: &mut Vec<u8>,
) -> jiter::JiterResult<Leaf> {
    let Some((key, rest)) = path.split_first() else {
        return json_leaf(jiter, peek, scratch);
    };
    let mut found = Leaf::Missing;
    match peek {
        Peek::Object => {
            let mut next = jiter.known_object()?.map(|k| k == key);
            while let Some(matches) = next {
                let value = jiter.peek()?;
                if matches {
                    found = json_find(jiter, value, rest, scratch)?;
                } else {
                    jiter.known_skip(value)?;
                }
                next = jiter.next_key()?.map(|k| k == key);
            }
        }
        Peek::Array => {
            let target = key
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| key.parse::<usize>().ok())
                .flatten();
            let mut at = 0;
            let mut next = jiter.known_array()?;
            while let Some(value) = next {
                if Some(at) == target {
                    found = json_find(jiter, value, rest, scratch)?;
                } else {
                    jiter.known_skip(value)?;
                }
                at += 1;
                next = jiter.array_step()?;
            }
        }
        other => jiter.known_skip(other)?,
    }
    Ok(found)
}

fn json_leaf(jiter: &mut Jiter, peek: Peek, scratch: &mut Vec<u8>) -> jiter::JiterResult<Leaf> {
    Ok(match peek {
        Peek::String => {
            let s = jiter.known_str()?;
            scratch.clear();
            scratch.extend_from_slice(s.as_bytes());
            Leaf::Str
        }
        Peek::True | Peek::False => Leaf::Bool(jiter.known_bool(peek)?),
        Peek::Null => {
            jiter.known_null()?;
            Leaf::Missing
        }
        Peek::Array | Peek::Object => {
            jiter.known_skip(peek)?;
            Leaf::Container
        }
        // The number's text, parsed here: jiter's integers stop at i64, Python's do not.
        _ => number_leaf(jiter.next_number_bytes()?),
    })
}

/// A JSON number as `json.loads` reads it: an int without a fraction or exponent, else a float
/// (`NaN`, `Infinity` included).
fn number_leaf(text: &[u8]) -> Leaf {
    let text = std::str::from_utf8(text).unwrap_or("");
    if text
        .bytes()
        .any(|b| matches!(b, b'.' | b'e' | b'E' | b'N' | b'I'))
    {
        let value = text.parse::<f64>().unwrap_or(f64::NAN);
        return Leaf::Number(ItemKind::Float, encode_f64(value));
    }
    match text.parse::<i128>().map(encode_int) {
        Ok(Ok((bytes, kind))) => Leaf::Number(kind, bytes),
        _ => Leaf::OutOfRange,
    }
}

// --- reading ---------------------------------------------------------------------------------------

fn io_error(source: &str, err: &io::Error) -> SketchError {
    SketchError::io(
        err.kind(),
        format!("cannot read '{source}': {}", describe(err)),
    )
}

/// An I/O error as Python words it: the system's message without Rust's "(os error N)".
fn describe(err: &io::Error) -> String {
    let text = err.to_string();
    match (err.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
}

/// Reads `source` into empty copies of `sketches` (the caller merges them into its own, so that a
/// failed read changes nothing) and reports what it read.
pub fn read(
    source: &Source,
    options: &Options,
    sketches: &Sketches,
    control: &Control,
) -> Result<(Sketches, Report)> {
    let name = source.name();
    let (file, regular) = match source {
        Source::Path(path) => {
            let file = File::open(path).map_err(|err| {
                SketchError::io(
                    err.kind(),
                    format!("cannot open '{name}': {}", describe(&err)),
                )
            })?;
            let meta = file.metadata().map_err(|e| io_error(&name, &e))?;
            if meta.is_dir() {
                return Err(SketchError::io(
                    io::ErrorKind::IsADirectory,
                    format!("cannot read '{name}': it is a directory"),
                ));
            }
            (Some(file), meta.is_file())
        }
        Source::Stdin => (None, false),
    };
    let mut head = [0u8; 2];
    let reader: Box<dyn Read + Send> = match file {
        Some(file) if regular => {
            let n = read_at(&file, &mut head, 0).map_err(|e| io_error(&name, &e))?;
            if head[..n] != [0x1f, 0x8b] {
                return read_regular(&file, &name, options, sketches, control);
            }
            Box::new(file)
        }
        Some(file) => Box::new(Unblocking::new(file, control)),
        None => Box::new(Unblocking::new(io::stdin(), control)),
    };
    read_any(reader, &name, options, sketches, control)
}

/// Reads records from bytes in memory (gzip if they start with its magic), as [`read`] reads a pipe.
pub fn read_slice(
    data: &[u8],
    options: &Options,
    sketches: &Sketches,
    control: &Control,
) -> Result<(Sketches, Report)> {
    read_any(data, "<bytes>", options, sketches, control)
}

/// Reads a stream: gzip if it starts with gzip's magic, else records.
fn read_any<R: Read + Send>(
    mut reader: R,
    name: &str,
    options: &Options,
    sketches: &Sketches,
    control: &Control,
) -> Result<(Sketches, Report)> {
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
        read_stream(gz, name, true, options, sketches, control)
    } else {
        read_stream(raw, name, false, options, sketches, control)
    }
}

/// A pipe or a terminal, read on a thread of its own so that a read that waits for input can be
/// given up when [`Control::stop`] is set (Ctrl-C with nothing coming on stdin): the stream then
/// ends where it is. The thread is left waiting on its read, which ends with the process.
struct Unblocking<'c> {
    blocks: mpsc::Receiver<io::Result<Vec<u8>>>,
    pending: io::Cursor<Vec<u8>>,
    control: &'c Control,
}

impl<'c> Unblocking<'c> {
    fn new<R: Read + Send + 'static>(mut inner: R, control: &'c Control) -> Self {
        let (tx, blocks) = mpsc::sync_channel(2);
        std::thread::spawn(move || loop {
            let mut buf = vec![0u8; 256 << 10];
            let block = match inner.read(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    Ok(buf)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
            let last = !matches!(&block, Ok(b) if !b.is_empty());
            if tx.send(block).is_err() || last {
                return;
            }
        });
        Unblocking {
            blocks,
            pending: io::Cursor::new(Vec::new()),
            control,
        }
    }
}

impl Read for Unblocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.pending.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            if self.control.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            match self
                .blocks
                .recv_timeout(std::time::Duration::from_millis(50))
            {
                Ok(block) => self.pending = io::Cursor::new(block?),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
    }
}

/// A reader that counts the bytes it gives, for progress.
struct Counting<'c, R> {
    inner: R,
    control: &'c Control,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.control.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads at `offset` until `buf` is full or the file ends; returns how many bytes it read.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    let read = |buf: &mut [u8], at: u64| std::os::unix::fs::FileExt::read_at(file, buf, at);
    #[cfg(windows)]
    let read = |buf: &mut [u8], at: u64| std::os::windows::fs::FileExt::seek_read(file, buf, at);
    let mut got = 0;
    while got < buf.len() {
        match read(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads `len` bytes at `offset` (fewer at the end of the file) into `buf`.
fn fill_at(file: &File, buf: &mut Vec<u8>, offset: u64, len: usize) -> io::Result<()> {
    // The read overwrites the bytes kept from the last chunk: only a longer buffer's tail is zeroed.
    buf.resize(len, 0);
    let n = read_at(file, buf, offset)?;
    buf.truncate(n);
    Ok(())
}

fn binary_check(data: &[u8], source: &str) -> Result<()> {
    match memchr(0, &data[..data.len().min(BINARY_PROBE)]) {
        Some(at) => Err(SketchError::input(format!(
            "{source}: binary data (a NUL byte at offset {at}), not text"
        ))),
        None => Ok(()),
    }
}

/// One chunk's outcome, for the report and the CSV boundary check.
#[derive(Debug, Default)]
struct Chunk {
    index: usize,
    tally: Tally,
    /// Where its first record starts and its last ends (`None`: past a skipped long record);
    /// `start` is `None` for a chunk in which no record starts.
    start: Option<u64>,
    end: Option<u64>,
}

/// The chunks' top-k and KLL summaries, merged in chunk order as they come.
struct Ordered {
    next: usize,
    pending: BTreeMap<usize, Sketches>,
    acc: Sketches,
    error: Option<SketchError>,
}

impl Ordered {
    fn new(proto: &Sketches) -> Mutex<Self> {
        Mutex::new(Ordered {
            next: 0,
            pending: BTreeMap::new(),
            acc: proto.empty_ordered(),
            error: None,
        })
    }

    fn offer(this: &Mutex<Self>, index: usize, tops: Sketches) {
        let mut o = this.lock().unwrap_or_else(|p| p.into_inner());
        o.pending.insert(index, tops);
        loop {
            let next = o.next;
            let Some(tops) = o.pending.remove(&next) else {
                break;
            };
            o.merge(&tops);
            o.next += 1;
        }
    }

    fn merge(&mut self, tops: &Sketches) {
        if let Err(err) = self.acc.merge(tops) {
            self.error.get_or_insert(err);
        }
    }

    /// The merged summaries, with chunks after a gap (an interrupted read) merged in order too.
    fn finish(this: Mutex<Self>) -> Result<Sketches> {
        let mut o = this.into_inner().unwrap_or_else(|p| p.into_inner());
        let pending = std::mem::take(&mut o.pending);
        for tops in pending.values() {
            o.merge(tops);
        }
        match o.error {
            Some(err) => Err(err),
            None => Ok(o.acc),
        }
    }
}

/// What the threads of one read share.
struct Shared<'a> {
    parser: Parser<'a>,
    options: &'a Options,
    control: &'a Control,
    proto: &'a Sketches,
    tops: Mutex<Ordered>,
    /// A quantile sketch reads the records: one that is not a number is a problem.
    numeric: bool,
    /// Strict mode: the first chunk with a bad record; later chunks are not read.
    stop_at: AtomicUsize,
    /// A thread failed: the others stop.
    failed: AtomicBool,
}

impl Shared<'_> {
    fn stopped(&self, index: usize) -> bool {
        self.control.stop.load(Ordering::Relaxed)
            || self.failed.load(Ordering::Relaxed)
            || index > self.stop_at.load(Ordering::Relaxed)
    }
}

/// A thread's state: its sketches (count-min and HyperLogLog for all its chunks), buffers reused
/// from chunk to chunk, and the chunks it read.
struct Worker {
    acc: Sketches,
    keys: KeyBuffer,
    scratch: Vec<u8>,
    buf: Vec<u8>,
    chunks: Vec<Chunk>,
}

impl Worker {
    fn new(proto: &Sketches) -> Self {
        Worker {
            acc: proto.empty_unordered(),
            keys: KeyBuffer::with_capacity(1 << 16),
            scratch: Vec::new(),
            buf: Vec::new(),
            chunks: Vec::new(),
        }
    }

    /// Adds the chunk's items (in `self.keys`) to the sketches, and records the chunk.
    fn finish_chunk(&mut self, shared: &Shared, chunk: Chunk) -> Result<()> {
        let keys = self.keys.keys();
        self.acc.add(&keys)?;
        if shared.proto.has_ordered() {
            let mut ordered = shared.proto.empty_ordered();
            ordered.add(&keys)?;
            Ordered::offer(&shared.tops, chunk.index, ordered);
        }
        shared
            .control
            .items
            .fetch_add(chunk.tally.items, Ordering::Relaxed);
        if shared.options.strict && chunk.tally.first.is_some() {
            shared.stop_at.fetch_min(chunk.index, Ordering::Relaxed);
        }
        self.keys.clear();
        self.chunks.push(chunk);
        Ok(())
    }
}

/// Where chunk `i` of a file starts: after its first newline (every thread on its own), or where
/// the previous chunk ended (one thread, chunk after chunk).
#[derive(Clone, Copy)]
enum Start {
    FirstNewline,
    Chained(Option<u64>),
}

fn read_regular(
    file: &File,
    name: &str,
    options: &Options,
    proto: &Sketches,
    control: &Control,
) -> Result<(Sketches, Report)> {
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
            let (record, next, lines) = loop {
                fill_at(file, &mut first, 0, ext).map_err(|e| io_error(name, &e))?;
                let eof = first.len() as u64 == len;
                match csv_record_end(&first, 0, *delimiter) {
                    Some(r) => break r,
                    None if eof => break (first.len(), first.len(), u64::from(!first.is_empty())),
                    None if ext > options.max_record => {
                        return Err(SketchError::input(format!(
                            "{name}: the CSV header is longer than {} bytes",
                            options.max_record
                        )))
                    }
                    None => ext *= 4,
                }
            };
            let header = csv_header(&first[..record], *delimiter);
            let index = resolve_column(column, &header, name)?;
            (
                Parser::Csv {
                    index,
                    delimiter: *delimiter,
                },
                next as u64,
                lines,
            )
        }
    };
    let shared = Shared {
        parser,
        options,
        control,
        proto,
        tops: Ordered::new(proto),
        numeric: !proto.dd.is_empty() || !proto.kll.is_empty(),
        stop_at: AtomicUsize::new(usize::MAX),
        failed: AtomicBool::new(false),
    };
    let body = len - data_start;
    let chunks = body.div_ceil(CHUNK as u64) as usize;
    let plan = parallel::plan(chunks, 1);
    let next = AtomicUsize::new(0);
    let work = |_: usize| -> Result<Worker> {
        let mut worker = Worker::new(proto);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= chunks || shared.stopped(i) {
                return Ok(worker);
            }
            read_chunk(
                file,
                name,
                len,
                data_start,
                i,
                Start::FirstNewline,
                &shared,
                &mut worker,
            )?;
        }
    };
    let (mine, others) =
        parallel::for_each_share(plan.threads, plan.threads, |_| work(0), |t, _| work(t));
    drop(plan);
    let mut workers = vec![mine?];
    for w in others {
        workers.push(w?);
    }
    let mut all: Vec<&Chunk> = workers.iter().flat_map(|w| &w.chunks).collect();
    all.sort_by_key(|c| c.index);
    if matches!(shared.parser, Parser::Csv { .. }) && !chained(&all) {
        // A quoted field crossed a chunk boundary: read again, each chunk where the last ended.
        drop(all);
        control.items.store(0, Ordering::Relaxed);
        control.bytes.store(0, Ordering::Relaxed);
        let shared = Shared {
            tops: Ordered::new(proto),
            numeric: !proto.dd.is_empty() || !proto.kll.is_empty(),
            stop_at: AtomicUsize::new(usize::MAX),
            ..shared
        };
        let mut worker = Worker::new(proto);
        let mut start = Start::Chained(Some(data_start));
        for i in 0..chunks {
            if shared.stopped(i) {
                break;
            }
            read_chunk(file, name, len, data_start, i, start, &shared, &mut worker)?;
            // A chunk in which no record starts leaves the start as it was; after a skipped long
            // record, whose end is not known, the next chunk starts after its first newline.
            if let Some(c) = worker.chunks.last().filter(|c| c.start.is_some()) {
                start = c
                    .end
                    .map_or(Start::FirstNewline, |e| Start::Chained(Some(e)));
            }
        }
        return finish(shared, vec![worker], name, header_lines, len);
    }
    drop(all);
    finish(shared, workers, name, header_lines, len)
}

/// Whether every chunk started where the previous one's records ended.
fn chained(chunks: &[&Chunk]) -> bool {
    let mut end: Option<u64> = None;
    for c in chunks.iter().filter(|c| c.start.is_some()) {
        if end.is_some() && end != c.start {
            return false;
        }
        end = c.end;
    }
    true
}

#[allow(clippy::too_many_arguments)]
fn read_chunk(
    file: &File,
    name: &str,
    len: u64,
    data_start: u64,
    i: usize,
    start: Start,
    shared: &Shared,
    worker: &mut Worker,
) -> Result<()> {
    let options = shared.options;
    let nominal = data_start + (i * CHUNK) as u64;
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
        let t = &mut chunk.tally;
        let end = match shared.parser.parse(
            &buf,
            from,
            limit,
            at_eof,
            options.max_record,
            &mut worker.keys,
            t,
            &mut worker.scratch,
            shared.numeric,
        ) {
            End::Done(end) => Some(base + end as u64),
            End::Incomplete(pos) => long_record(
                file,
                name,
                len,
                base + pos as u64,
                shared,
                worker,
                &mut chunk,
            )?,
        };
        chunk.end = end;
    }
    worker.buf = buf;
    shared
        .control
        .bytes
        .fetch_add(nominal_end - nominal, Ordering::Relaxed);
    worker.finish_chunk(shared, chunk)
}

/// The last record of a chunk, longer than the chunk's extension: read alone, in growing pieces up
/// to `max_record` bytes; past that it is skipped and reported. Returns where it ends (`None` when
/// skipped).
fn long_record(
    file: &File,
    name: &str,
    len: u64,
    at: u64,
    shared: &Shared,
    worker: &mut Worker,
    chunk: &mut Chunk,
) -> Result<Option<u64>> {
    let max = shared.options.max_record;
    let mut ext = EXTENSION * 4;
    let mut buf = Vec::new();
    loop {
        let want = ext.min(max + 1);
        fill_at(file, &mut buf, at, want).map_err(|e| io_error(name, &e))?;
        let at_eof = at + buf.len() as u64 == len;
        let t = &mut chunk.tally;
        match shared.parser.parse(
            &buf,
            0,
            1,
            at_eof,
            max,
            &mut worker.keys,
            t,
            &mut worker.scratch,
            shared.numeric,
        ) {
            End::Done(end) => return Ok(Some(at + end as u64)),
            End::Incomplete(_) if want > max => {
                let line = chunk.tally.lines + 1;
                chunk.tally.lines += 1;
                chunk.tally.problem(line, Problem::TooLong);
                return Ok(None);
            }
            End::Incomplete(_) => ext *= 4,
        }
    }
}

/// A block of a stream: whole records, or a record too long to keep.
enum Block {
    Records(usize, Vec<u8>),
    TooLong(usize),
}

fn read_stream<R: Read + Send>(
    mut reader: R,
    name: &str,
    gzip: bool,
    options: &Options,
    proto: &Sketches,
    control: &Control,
) -> Result<(Sketches, Report)> {
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
            let (record, next, lines) = loop {
                match csv_record_end(&carry, 0, *delimiter) {
                    Some(r) => break r,
                    None if eof => break (carry.len(), carry.len(), u64::from(!carry.is_empty())),
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
            let index = resolve_column(column, &csv_header(&carry[..record], *delimiter), name)?;
            carry.drain(..next);
            header_lines = lines;
            Parser::Csv {
                index,
                delimiter: *delimiter,
            }
        }
    };
    let shared = Shared {
        parser,
        options,
        control,
        proto,
        tops: Ordered::new(proto),
        numeric: !proto.dd.is_empty() || !proto.kll.is_empty(),
        stop_at: AtomicUsize::new(usize::MAX),
        failed: AtomicBool::new(false),
    };
    let consumers = parallel::max_threads().max(1);
    let (to_workers, blocks) = mpsc::sync_channel::<Block>(consumers);
    let (recycle, spare) = mpsc::channel::<Vec<u8>>();
    let blocks = Mutex::new(blocks);
    let mut produce = |to_workers: mpsc::SyncSender<Block>| -> Result<()> {
        let mut index = 0;
        loop {
            if shared.stopped(index) {
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
                shared.parser.last_end(&buf)
            };
            if cut == 0 && !eof {
                if buf.len() > options.max_record {
                    // Skip to the end of the line, without keeping it.
                    let mut found = memchr(b'\n', &buf).map(|p| p + 1);
                    while found.is_none() && !eof {
                        buf.clear();
                        eof = fill(&mut reader, &mut buf, CHUNK).map_err(|e| damaged(&e))?;
                        found = memchr(b'\n', &buf).map(|p| p + 1);
                    }
                    carry.extend_from_slice(&buf[found.unwrap_or(buf.len())..]);
                    if to_workers.send(Block::TooLong(index)).is_err() {
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
        let mut worker = Worker::new(proto);
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
                    if !shared.stopped(index) {
                        let t = &mut chunk.tally;
                        let (keys, scratch) = (&mut worker.keys, &mut worker.scratch);
                        let max = options.max_record;
                        shared.parser.parse(
                            &buf,
                            0,
                            buf.len(),
                            true,
                            max,
                            keys,
                            t,
                            scratch,
                            shared.numeric,
                        );
                    }
                    let _ = recycle.send(buf);
                }
                Block::TooLong(index) => {
                    chunk.index = index;
                    chunk.tally.lines = 1;
                    chunk.tally.problem(1, Problem::TooLong);
                }
            }
            if let Err(err) = worker.finish_chunk(&shared, chunk) {
                // Stop the producer and take what it still sends, so that it never waits on us.
                shared.failed.store(true, Ordering::Relaxed);
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
    finish(
        shared,
        workers,
        name,
        header_lines,
        control.bytes.load(Ordering::Relaxed),
    )
}

/// Reads until `buf` holds `want` bytes or the input ends; returns whether it ended.
fn fill<R: Read>(reader: &mut R, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while buf.len() < want {
        let start = buf.len();
        buf.resize(want, 0);
        match reader.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return Ok(true);
            }
            Ok(n) => buf.truncate(start + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    Ok(false)
}

/// Merges the threads' sketches and tallies into the result and the report.
fn finish(
    shared: Shared,
    workers: Vec<Worker>,
    name: &str,
    header_lines: u64,
    bytes: u64,
) -> Result<(Sketches, Report)> {
    let options = shared.options;
    let mut chunks: Vec<&Chunk> = workers.iter().flat_map(|w| &w.chunks).collect();
    chunks.sort_by_key(|c| c.index);
    let mut total = Tally {
        lines: header_lines,
        ..Tally::default()
    };
    let mut first = None;
    for c in &chunks {
        if first.is_none() {
            if let Some((line, problem)) = c.tally.first {
                first = Some((total.lines + line, problem));
            }
        }
        total.add(&c.tally);
    }
    let first_problem = first.map(|(line, p)| format!("{name}:{line}: {}", p.describe(options)));
    if options.strict {
        if let Some(problem) = first_problem {
            return Err(SketchError::input(format!("{problem} (strict)")));
        }
    }
    let mut result = shared.proto.empty_unordered();
    for w in &workers {
        result.merge(&w.acc)?; // a worker keeps no top-k or KLL summary: those come in chunk order
    }
    let ordered = Ordered::finish(shared.tops)?;
    (result.top, result.kll) = (ordered.top, ordered.kll);
    let report = Report {
        bytes,
        lines: total.lines,
        items: total.items,
        skipped: Problem::ALL
            .iter()
            .filter(|p| total.skipped[**p as usize] > 0)
            .map(|p| (p.describe(options), total.skipped[*p as usize]))
            .collect(),
        first_problem,
        interrupted: shared.control.stop.load(Ordering::Relaxed),
    };
    Ok((result, report))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn items(format: Format, text: &[u8]) -> (Vec<(u8, Vec<u8>)>, Report) {
        let dir = std::env::temp_dir().join(format!(
            "sketchy-read-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("input");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text)
            .unwrap();
        // A top-k summary large enough to be exact gives back every item with its count.
        let proto = Sketches {
            top: vec![TopK::new(1 << 16, Some(1 << 16), 0).unwrap()],
            ..Sketches::default()
        };
        let (got, report) = read(
            &Source::Path(path),
            &Options::new(format),
            &proto,
            &Control::default(),
        )
        .unwrap();
        let mut out = Vec::new();
        for e in got.top[0].most_common(None) {
            for _ in 0..e.count {
                out.push((e.kind as u8, e.item.to_vec()));
            }
        }
        out.sort();
        (out, report)
    }

    fn strs(v: &[&str]) -> Vec<(u8, Vec<u8>)> {
        let mut v: Vec<_> = v
            .iter()
            .map(|s| (ItemKind::Str as u8, s.as_bytes().to_vec()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn lines_lf_crlf_and_a_last_line_without_newline() {
        let (got, report) = items(Format::Lines, b"a\r\nbb\n\nc");
        assert_eq!(got, strs(&["a", "bb", "", "c"]));
        assert_eq!((report.lines, report.items), (4, 4));
    }

    #[test]
    fn csv_quoting() {
        let column = Column::Name("b".into());
        let text = b"a,b\n1,\"x,y\"\n2,\"he said \"\"hi\"\"\"\n3,\"two\nlines\"\n\n4\n5,z\r\n";
        let (got, report) = items(
            Format::Csv {
                column,
                delimiter: b',',
            },
            text,
        );
        assert_eq!(got, strs(&["x,y", "he said \"hi\"", "two\nlines", "z"]));
        assert_eq!(report.skipped, vec![("row has no column 'b'".into(), 2)]);
        assert_eq!(report.lines, 8);
    }

    #[test]
    fn json_paths() {
        let path = vec!["a".to_string(), "1".to_string()];
        let text = b"{\"a\": [0, \"x\"]}\n{\"a\": [0, 7], \"a\": [0, 2.5]}\n  \n{\"a\": {\"1\": true}}\n[1]\n{bad\n";
        let (got, report) = items(Format::JsonLines { path }, text);
        let mut want = strs(&["x", "true"]);
        want.push((ItemKind::Float as u8, encode_f64(2.5).to_vec()));
        want.sort();
        assert_eq!(got, want);
        assert_eq!(report.items, 3);
        assert_eq!(
            report
                .first_problem
                .as_deref()
                .map(|p| p.ends_with(":5: missing field 'a.1'")),
            Some(true)
        );
    }

    #[test]
    fn csv_chunks_split_inside_quoted_fields_are_read_again() {
        // Quoted fields with newlines across every chunk boundary.
        let mut text = b"k\n".to_vec();
        let mut want = Vec::new();
        let mut i = 0;
        while text.len() < 3 * CHUNK {
            let field = format!("v{i}\n{}", "x".repeat(i % 5000));
            text.extend_from_slice(format!("\"{field}\"\n").as_bytes());
            want.push(field);
            i += 1;
        }
        let column = Column::Index(0);
        let (got, _) = items(
            Format::Csv {
                column,
                delimiter: b',',
            },
            &text,
        );
        let want: Vec<&str> = want.iter().map(String::as_str).collect();
        assert_eq!(got, strs(&want));
    }
}
