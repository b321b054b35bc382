//! CSV records as Python's `csv` module reads them (RFC 4180, with its lenient rules), through one
//! quote state machine, [`scan`]: it finds where a record ends and, on the way, the fields the
//! caller wants. The reader's records, its header row and the cuts of a stream into blocks all go
//! through it, so they agree on every input.
//!
//! The rules: a quote opens a quoted section only at the start of a field; in it, `""` is a quote
//! and delimiters and line ends are content; after the closing quote the field goes on unquoted
//! (`"ab"cd` is `abcd`, as Python reads it). A record ends at a line end outside quotes; a `\r`
//! before it is the line end's. An empty line has no field. A quoted section that does not close
//! within `max_record` bytes of the record's start, or before the input ends, is *unterminated*:
//! the record is skipped to the end of the line on which that section opened, so that one stray
//! quote loses one record, not the rest of the file.

use memchr::{memchr, memchr2, memchr3_iter};

use super::records::{End, Out};
use super::report::Problem;
use crate::error::{Result, SketchError};

/// How the scan of a record ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scan {
    /// A whole record: its content ends at `end` (its line end excluded), its line end (a `\r`
    /// of it included) at `line_end`, the next record starts at `next`, and it spans `lines` lines.
    Record {
        end: usize,
        line_end: usize,
        next: usize,
        lines: u64,
    },
    /// A quoted section opened on line `line` of the record (0: its first) that does not close:
    /// the record is skipped to the end of that line, `next` (`None`: that line does not end in
    /// the buffer), `line + 1` lines.
    Unterminated { line: u64, next: Option<usize> },
    /// The buffer ends inside the record: more input decides.
    Incomplete,
}

/// A wanted field, given to the caller of [`scan`] as it is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FieldRef<'s> {
    /// A field without quotes: the bytes `buf[range]`.
    Range(std::ops::Range<usize>),
    /// A field with a quoted section, unescaped (in the caller's scratch buffer).
    Unescaped(&'s [u8]),
}

impl FieldRef<'_> {
    /// The field as text, invalid UTF-8 replaced (a header name, a test's view).
    fn lossy(&self, buf: &[u8]) -> String {
        let bytes = match self {
            FieldRef::Range(r) => &buf[r.clone()],
            FieldRef::Unescaped(b) => b,
        };
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Scans the record that starts at `start`, calling `on_field(index, field)` for each field for
/// which `want(index)` holds. The fields given are only the record's when the scan returns
/// [`Scan::Record`]. `at_eof`: the input ends with `buf`.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn scan(
    buf: &[u8],
    start: usize,
    delimiter: u8,
    at_eof: bool,
    max_record: usize,
    scratch: &mut Vec<u8>,
    want: impl Fn(usize) -> bool,
    mut on_field: impl FnMut(usize, FieldRef<'_>),
) -> Scan {
    let (mut index, mut field, mut lines) = (0usize, start, 1u64);
    // Where the current field's quoted section closed (`NO_TAIL`: it has none).
    const NO_TAIL: usize = usize::MAX;
    let mut tail = NO_TAIL;
    let mut pos = start;
    'record: loop {
        if pos == field && buf.get(field) == Some(&b'"') {
            let wanted = want(index);
            if wanted {
                scratch.clear();
            }
            let opened = lines - 1;
            // The quoted state scans at most `max_record` bytes of the record.
            let limit = start.saturating_add(max_record).min(buf.len());
            let (mut i, mut copied) = (field + 1, field + 1);
            loop {
                let hit = buf
                    .get(i..limit)
                    .and_then(|rest| memchr2(b'"', b'\n', rest))
                    .map(|at| i + at);
                match hit {
                    Some(p) if buf[p] == b'\n' => {
                        lines += 1;
                        i = p + 1;
                    }
                    Some(p) => {
                        if wanted {
                            scratch.extend_from_slice(&buf[copied..p]);
                        }
                        match buf.get(p + 1) {
                            Some(b'"') => {
                                if wanted {
                                    scratch.push(b'"');
                                }
                                i = p + 2;
                                copied = i;
                            }
                            Some(_) => {
                                pos = p + 1;
                                break;
                            }
                            None if at_eof => {
                                pos = p + 1;
                                break;
                            }
                            None => return Scan::Incomplete,
                        }
                    }
                    None if limit < buf.len() || at_eof => {
                        let next = match memchr(b'\n', &buf[field..]) {
                            Some(at) => Some(field + at + 1),
                            None if at_eof => Some(buf.len()),
                            None => None,
                        };
                        return Scan::Unterminated { line: opened, next };
                    }
                    None => return Scan::Incomplete,
                }
            }
            tail = pos;
        }
        // A wanted field, from `field` to `end` (its quoted section's unescaped bytes first).
        let mut deliver = |index: usize, field: usize, end: usize, tail: usize| {
            if tail == NO_TAIL {
                on_field(index, FieldRef::Range(field..end));
            } else {
                scratch.extend_from_slice(&buf[tail..end.max(tail)]);
                on_field(index, FieldRef::Unescaped(scratch));
            }
        };
        // Unquoted: to the next delimiter or line end; a quote past a field's start is content.
        // (A quote at a field's start is the next hit of the search, and opens a quoted section.)
        let rest = &buf[pos..];
        for at in memchr3_iter(delimiter, b'\n', b'"', rest) {
            let (b, p) = (rest[at], pos + at);
            if b == delimiter {
                if want(index) {
                    deliver(index, field, p, tail);
                }
                (index, field, tail) = (index + 1, p + 1, NO_TAIL);
            } else if b == b'\n' {
                let end = if p > field && buf[p - 1] == b'\r' {
                    p - 1
                } else {
                    p
                };
                // An empty line has no field.
                if want(index) && (index > 0 || end > field || tail != NO_TAIL) {
                    deliver(index, field, end, tail);
                }
                return Scan::Record {
                    end,
                    line_end: p,
                    next: p + 1,
                    lines,
                };
            } else if p == field {
                pos = p;
                continue 'record;
            }
        }
        if !at_eof {
            return Scan::Incomplete;
        }
        // The last record of the input, without a line end.
        let len = buf.len();
        let end = if len > field && buf[len - 1] == b'\r' {
            len - 1
        } else {
            len
        };
        if want(index) && (index > 0 || end > field || tail != NO_TAIL) {
            deliver(index, field, end, tail);
        }
        return Scan::Record {
            end,
            line_end: len,
            next: len,
            lines,
        };
    }
}

/// Parses the CSV records of `buf` that start in `[from, limit)`: field `index` of each is an item.
#[inline]
pub(super) fn parse(
    buf: &[u8],
    from: usize,
    limit: usize,
    at_eof: bool,
    index: usize,
    delimiter: u8,
    out: &mut Out,
) -> End {
    let mut pos = from;
    while pos < limit && pos < buf.len() {
        let mut found = None;
        let scan = scan(
            buf,
            pos,
            delimiter,
            at_eof,
            out.max_record,
            out.scratch,
            |i| i == index,
            |_, field| {
                found = Some(match field {
                    FieldRef::Range(r) => Some(r),
                    FieldRef::Unescaped(_) => None, // in the scratch buffer
                })
            },
        );
        match scan {
            Scan::Record {
                line_end,
                next,
                lines,
                ..
            } => {
                let line = out.next_line(lines);
                // The record's length counts a `\r` of its line end, as it always has.
                let record = pos..line_end;
                pos = next;
                if let Some(problem) = out.check(&buf[record]) {
                    out.tally.problem(line, problem);
                    continue;
                }
                match found {
                    Some(Some(field)) => out.push_text(buf, field, line),
                    Some(None) => {
                        let value = std::mem::take(out.scratch);
                        let len = value.len();
                        out.push_text(&value, 0..len, line);
                        *out.scratch = value;
                    }
                    None => out.tally.problem(line, Problem::NoColumn),
                }
            }
            Scan::Unterminated {
                line,
                next: Some(next),
            } => {
                let first = out.next_line(line + 1);
                out.tally.problem(first + line, Problem::Unterminated);
                pos = next;
            }
            // The line the quote opened on goes past the buffer: the caller reads on.
            Scan::Unterminated { next: None, .. } | Scan::Incomplete => {
                return End::Incomplete(pos)
            }
        }
    }
    End::Done(pos)
}

/// Where the last record that `buf` holds whole ends (0: none), scanning from its start: where a
/// stream is cut into blocks. An unterminated record counts as ending with its line.
pub(super) fn last_end(buf: &[u8], delimiter: u8, max_record: usize) -> usize {
    let mut scratch = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        match scan(
            buf,
            pos,
            delimiter,
            false,
            max_record,
            &mut scratch,
            |_| false,
            |_, _| {},
        ) {
            Scan::Record { next, .. }
            | Scan::Unterminated {
                next: Some(next), ..
            } => pos = next,
            Scan::Unterminated { next: None, .. } | Scan::Incomplete => break,
        }
    }
    pos
}

/// The line (0: the first) on which a quoted section of the record at the start of `buf` opened
/// that does not close within `max_record` bytes, or `None` when there is none.
pub(super) fn unterminated_at(buf: &[u8], delimiter: u8, max_record: usize) -> Option<u64> {
    let mut scratch = Vec::new();
    match scan(
        buf,
        0,
        delimiter,
        false,
        max_record,
        &mut scratch,
        |_| false,
        |_, _| {},
    ) {
        Scan::Unterminated { line, .. } => Some(line),
        _ => None,
    }
}

/// The header row at the start of `buf`: its fields and where the first record starts, or `None`
/// while the buffer does not hold it whole. A header with an unterminated quote is an error.
pub(super) fn header(
    buf: &[u8],
    delimiter: u8,
    at_eof: bool,
    max_record: usize,
    source: &str,
) -> Result<Option<(Vec<String>, usize, u64)>> {
    if buf.is_empty() {
        return Ok(Some((Vec::new(), 0, 0)));
    }
    let mut fields = Vec::new();
    let mut scratch = Vec::new();
    let scan = scan(
        buf,
        0,
        delimiter,
        at_eof,
        max_record,
        &mut scratch,
        |_| true,
        |_, f| fields.push(f.lossy(buf)),
    );
    match scan {
        Scan::Record { next, lines, .. } => Ok(Some((fields, next, lines))),
        Scan::Incomplete => Ok(None),
        Scan::Unterminated { .. } => Err(SketchError::input(format!(
            "{source}: the CSV header has a quoted field that does not close"
        ))),
    }
}

/// The column `column` names in `header`: a header name, or an index (a name of digits that is
/// not in the header is an index, as the command line has always read it).
pub(super) fn resolve_column(
    column: &super::Column,
    header: &[String],
    source: &str,
) -> Result<usize> {
    match column {
        super::Column::Index(i) => Ok(*i),
        super::Column::Name(name) => {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every record of `text` as its fields (all wanted), or the unterminated marker.
    fn records(text: &[u8], max_record: usize) -> Vec<std::result::Result<Vec<String>, u64>> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        let mut pos = 0;
        while pos < text.len() {
            let mut fields = Vec::new();
            let got = scan(
                text,
                pos,
                b',',
                true,
                max_record,
                &mut scratch,
                |_| true,
                |_, f| fields.push(f.lossy(text)),
            );
            match got {
                Scan::Record { next, .. } => {
                    out.push(Ok(fields));
                    pos = next;
                }
                Scan::Unterminated { line, next } => {
                    out.push(Err(line));
                    pos = next.unwrap();
                }
                Scan::Incomplete => unreachable!("at the end of the input"),
            }
        }
        out
    }

    fn ok(fields: &[&str]) -> std::result::Result<Vec<String>, u64> {
        Ok(fields.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn fields_as_python_reads_them() {
        let text = b"a,b\r\n\"x,y\",\"he said \"\"hi\"\"\"\n\"two\nlines\",z\n\n\"ab\"cd,e\"f\n,\n\"\"\nlast";
        assert_eq!(
            records(text, 1 << 20),
            vec![
                ok(&["a", "b"]),
                ok(&["x,y", "he said \"hi\""]),
                ok(&["two\nlines", "z"]),
                ok(&[]),
                ok(&["abcd", "e\"f"]),
                ok(&["", ""]),
                ok(&[""]),
                ok(&["last"]),
            ]
        );
    }

    #[test]
    fn an_unterminated_quote_loses_the_line_it_opened_on() {
        let text = b"a,b\n1,\"oops\n2,x\n3,y\n";
        // Closing within max_record: a legal field with newlines (it ends at the end).
        assert_eq!(
            records(text, 8),
            vec![ok(&["a", "b"]), Err(0), ok(&["2", "x"]), ok(&["3", "y"])]
        );
        // With the input's end before a closing quote, the same.
        assert_eq!(records(text, 1 << 20)[1], Err(0));
        // A quote that closes on a later line is a field with newlines.
        let legal = b"1,\"two\nlines\"\n2,x\n";
        assert_eq!(
            records(legal, 1 << 20),
            vec![ok(&["1", "two\nlines"]), ok(&["2", "x"])]
        );
        // A section opened on the record's second line is reported there.
        let second = b"\"a\nb\",\"c\nd\n";
        assert_eq!(records(second, 1 << 20), vec![Err(1), ok(&["d"])]);
    }

    #[test]
    fn a_buffer_that_ends_inside_a_record_is_incomplete() {
        let mut scratch = Vec::new();
        for text in [
            &b"1,\"x"[..],
            b"1,\"x\"",
            b"1,x",
            b"1,\"a\"\"",
            b"\"x\nmore",
        ] {
            let got = scan(
                text,
                0,
                b',',
                false,
                1 << 20,
                &mut scratch,
                |_| true,
                |_, _| {},
            );
            assert_eq!(got, Scan::Incomplete, "{text:?}");
        }
        let got = scan(
            b"1,\"xxxxxxxx\n",
            0,
            b',',
            false,
            4,
            &mut scratch,
            |_| false,
            |_, _| {},
        );
        assert_eq!(
            got,
            Scan::Unterminated {
                line: 0,
                next: Some(12)
            }
        );
        assert_eq!(last_end(b"a\n\"b\nc\n\"d", b',', 1 << 20), 2);
        assert_eq!(last_end(b"a\n\"b\nc\n\"d\nxxxxxxxx", b',', 4), 10);
    }
}
