//! JSON lines: the field at a path of each line, as `json.loads` reads it, navigated with jiter
//! without building values (a key given twice means its last value).

use jiter::{Jiter, Peek};

use super::records::Out;
use super::report::Problem;
use crate::items::{encode_f64, encode_int, ItemKind};

/// Whitespace as Python's `bytes.strip` sees it: a JSON line of only this is skipped.
fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Pushes the item at `path` of one JSON line (checked for length and UTF-8), or counts why there is
/// none; a blank line has no item and is no problem.
#[inline]
pub(super) fn push(record: &[u8], path: &[String], line: u64, out: &mut Out) {
    if record.iter().all(|&b| is_py_space(b)) {
        return;
    }
    let keys = &mut *out.keys;
    match json_item(record, path, out.scratch) {
        Ok(Leaf::Str) => keys.push(ItemKind::Str, out.scratch),
        Ok(Leaf::Bool(b)) => keys.push(ItemKind::Str, if b { b"true" } else { b"false" }),
        Ok(Leaf::Number(kind, bytes)) => keys.push(kind, &bytes),
        Ok(Leaf::Missing) => return out.tally.problem(line, Problem::MissingField),
        Ok(Leaf::Container) => return out.tally.problem(line, Problem::NotScalar),
        Ok(Leaf::OutOfRange) => return out.tally.problem(line, Problem::IntRange),
        Err(problem) => return out.tally.problem(line, problem),
    }
    if out.numeric && !out.keys.last_is_number() {
        out.keys.pop();
        out.tally.problem(line, Problem::NotANumber);
    } else {
        out.tally.items += 1;
    }
}

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
