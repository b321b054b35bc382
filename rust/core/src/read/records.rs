//! From a buffer of bytes to items: the record parsers of the three formats (`lines`, [`csv`],
//! `jsonl`, a file each) behind one [`Parser`], and the checks every record goes through (length,
//! UTF-8, a number where numbers are read).
//!
//! A parser takes the records that *start* in `[from, limit)` of a buffer (a chunk reads past its
//! end to finish its last record) and pushes one item per record into a [`KeyBuffer`], counting
//! lines, items and problems in a [`Tally`]. It never allocates per record.

use std::ops::Range;

use super::report::{Problem, Tally};
use super::{csv, jsonl, lines};
use crate::items::{parse_number, ItemKind, KeyBuffer};

/// How records are found and turned into items.
pub(super) enum Parser<'o> {
    /// Every line is an item.
    Lines,
    /// Field `index` of each CSV record.
    Csv { index: usize, delimiter: u8 },
    /// The field at `path` of each JSON line.
    Json { path: &'o [String] },
}

/// Where parsing stopped: after the last record that starts before the limit, or at a record the
/// buffer does not hold whole.
pub(super) enum End {
    Done(usize),
    Incomplete(usize),
}

/// Where the records of one parse go, and the rules they are checked by.
pub(super) struct Out<'a> {
    pub(super) keys: &'a mut KeyBuffer,
    pub(super) tally: &'a mut Tally,
    pub(super) scratch: &'a mut Vec<u8>,
    pub(super) max_record: usize,
    /// A sink takes numbers: a record that is not one is a problem.
    pub(super) numeric: bool,
    /// The buffer from `from` on is UTF-8: records need no check of their own.
    pub(super) all_utf8: bool,
}

impl Out<'_> {
    /// The checks of a record's bytes, before its item is looked for: the first problem, if any.
    #[inline(always)]
    pub(super) fn check(&self, record: &[u8]) -> Option<Problem> {
        if record.len() > self.max_record {
            Some(Problem::TooLong)
        } else if !self.all_utf8 && std::str::from_utf8(record).is_err() {
            Some(Problem::Undecodable)
        } else {
            None
        }
    }

    /// Pushes `buf[item]` as a `str` item of line `line`, or counts it as not a number.
    #[inline(always)]
    pub(super) fn push_text(&mut self, buf: &[u8], item: Range<usize>, line: u64) {
        if self.numeric && parse_number(&buf[item.clone()]).is_none() {
            self.tally.problem(line, Problem::NotANumber);
        } else {
            self.keys.push_range(ItemKind::Str, buf, item);
            self.tally.items += 1;
        }
    }

    /// Counts the next line, and returns its number.
    #[inline(always)]
    pub(super) fn next_line(&mut self, lines: u64) -> u64 {
        let line = self.tally.lines + 1;
        self.tally.lines += lines;
        line
    }
}

impl Parser<'_> {
    /// Parses the records of `buf` that start in `[from, limit)` into `out`. `at_eof`: the input
    /// ends with `buf`, so a last record without a line end is whole.
    pub(super) fn parse(
        &self,
        buf: &[u8],
        from: usize,
        limit: usize,
        at_eof: bool,
        out: &mut Out,
    ) -> End {
        // One UTF-8 check of the whole chunk: records are checked one by one only when it fails.
        out.all_utf8 = std::str::from_utf8(&buf[from.min(buf.len())..]).is_ok();
        match *self {
            Parser::Lines => lines::parse(buf, from, limit, at_eof, out),
            Parser::Csv { index, delimiter } => {
                csv::parse(buf, from, limit, at_eof, index, delimiter, out)
            }
            Parser::Json { path } => lines::each_line(buf, from, limit, at_eof, |record| {
                let line = out.next_line(1);
                let record = &buf[record];
                match out.check(record) {
                    Some(problem) => out.tally.problem(line, problem),
                    None => jsonl::push(record, path, line, out),
                }
            }),
        }
    }

    /// Where the last record that `buf` holds whole ends (0: none): where a stream is cut.
    pub(super) fn last_end(&self, buf: &[u8], max_record: usize) -> usize {
        match *self {
            Parser::Csv { delimiter, .. } => csv::last_end(buf, delimiter, max_record),
            _ => memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1),
        }
    }
}
