//! Lines: every line is an item, its text without `\n` or `\r\n`; JSON lines are cut the same way.

use std::ops::Range;

use memchr::memchr_iter;

use super::records::{End, Out};

/// Parses the lines of `buf` that start in `[from, limit)`: each is a `str` item.
#[inline]
pub(super) fn parse(buf: &[u8], from: usize, limit: usize, at_eof: bool, out: &mut Out) -> End {
    each_line(buf, from, limit, at_eof, |record| {
        let line = out.next_line(1);
        let content = strip_cr(buf, record);
        match out.check(&buf[content.clone()]) {
            Some(problem) => out.tally.problem(line, problem),
            None => out.push_text(buf, content, line),
        }
    })
}

/// `record` without the `\r` of a `\r\n` line end.
#[inline(always)]
fn strip_cr(buf: &[u8], record: Range<usize>) -> Range<usize> {
    if record.end > record.start && buf[record.end - 1] == b'\r' {
        record.start..record.end - 1
    } else {
        record
    }
}

/// Calls `f(record)` with each line (its `\n` excluded) that starts in `[from, limit)`: one pass of
/// memchr over the buffer (a call per short line would cost more than the line).
#[inline(always)]
pub(super) fn each_line(
    buf: &[u8],
    from: usize,
    limit: usize,
    at_eof: bool,
    mut f: impl FnMut(Range<usize>),
) -> End {
    let mut pos = from;
    for nl in memchr_iter(b'\n', &buf[from.min(buf.len())..]) {
        if pos >= limit {
            return End::Done(pos);
        }
        let end = from + nl;
        f(pos..end);
        pos = end + 1;
    }
    if pos < limit && pos < buf.len() {
        if !at_eof {
            return End::Incomplete(pos);
        }
        f(pos..buf.len());
        pos = buf.len();
    }
    End::Done(pos)
}
