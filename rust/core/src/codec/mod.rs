//! The serialized form shared by every sketch: a versioned header, then the sketch's own payload.
//!
//! ```text
//! offset 0  4 bytes  magic b"SKCH"
//!        4  1 byte   format version (1)
//!        5  1 byte   sketch kind (the registry's `Kind`: 1 count-min, 2 top-k, 3 HyperLogLog,
//!                    4 DDSketch, 5 KLL, 6 HyperLogLog with DataSketches hashing)
//!        6  ...      parameters and payload of that kind, little-endian
//! ```
//!
//! Reading never trusts a length: every read is checked against what is left of the input, so a
//! corrupted or hostile input raises `InvalidFormat` and never makes us allocate more than its size.
//!
//! [`Reader`] and every parser of an image (`from_bytes`, `from_datasketches`) deny clippy's
//! `indexing_slicing`, `arithmetic_side_effects` and `cast_possible_truncation`: on untrusted bytes,
//! an index that may panic or an offset that may wrap is a bug. The fuzz targets (`fuzz/`) check the
//! same parsers at run time.

use crate::error::{Result, SketchError};
pub use crate::registry::Kind;

pub mod image;
pub use image::Image;

/// The first four bytes of every serialized sketch.
pub const MAGIC: &[u8; 4] = b"SKCH";
/// The format version this sketchy writes and reads.
pub const VERSION: u8 = 1;

/// Appends little-endian fields to a buffer.
#[derive(Default)]
pub struct Writer {
    /// The bytes written so far, header first.
    pub bytes: Vec<u8>,
}

impl Writer {
    /// A form of `kind`, its header written, room for `capacity` more bytes.
    pub fn new(kind: Kind, capacity: usize) -> Self {
        let mut bytes = Vec::with_capacity(capacity + 6);
        bytes.extend_from_slice(MAGIC);
        bytes.push(VERSION);
        bytes.push(kind as u8);
        Writer { bytes }
    }

    /// Appends a byte.
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    /// Appends a little-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a little-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a little-endian `f64`.
    pub fn f64(&mut self, v: f64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// LEB128: seven bits a byte, small counts in one byte.
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.bytes.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.bytes.push(v as u8);
    }
    /// Appends bytes as they are.
    pub fn raw(&mut self, v: &[u8]) {
        self.bytes.extend_from_slice(v);
    }

    /// The serialized form.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads little-endian fields, checking each against the input left.
#[derive(Debug)]
pub struct Reader<'a> {
    /// What is left to read.
    rest: &'a [u8],
}

#[deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
impl<'a> Reader<'a> {
    /// Checks the header: magic, version and kind.
    pub fn new(input: &'a [u8], kind: Kind) -> Result<Self> {
        let (found, rest) = header(input)?;
        if found != Some(kind) {
            return Err(SketchError::format(format!(
                "expected a {}, found {}",
                kind.name(),
                found.map_or("an unknown kind", Kind::name)
            )));
        }
        Ok(Reader { rest })
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The next `n` bytes (`what` names them in the error when fewer are left).
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let Some((out, rest)) = self.rest.split_at_checked(n) else {
            return Err(SketchError::format(format!(
                "truncated: {what} needs {n} bytes, {} left",
                self.remaining()
            )));
        };
        self.rest = rest;
        Ok(out)
    }

    /// `count` items of `size` bytes each.
    pub fn take_n(&mut self, count: usize, size: usize, what: &str) -> Result<&'a [u8]> {
        self.take(items_len(count, size)?, what)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// The next byte.
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        let [b] = self.array::<1>(what)?;
        Ok(b)
    }

    /// The next little-endian `u32`.
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// The next little-endian `u64`.
    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A LEB128 integer of at most ten bytes, canonical (no trailing zero byte).
    pub fn varint(&mut self, what: &str) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.u8(what)?;
            let bits = u64::from(b & 0x7f);
            check(shift < 63 || bits <= 1, || {
                format!("{what}: integer past 64 bits")
            })?;
            v |= bits << shift;
            if b & 0x80 == 0 {
                check(shift == 0 || b != 0, || {
                    format!("{what}: integer not canonical")
                })?;
                return Ok(v);
            }
        }
        Err(SketchError::format(format!("{what}: integer past 64 bits")))
    }
    /// The next little-endian `f64`.
    pub fn f64(&mut self, what: &str) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }

    /// Fails if bytes are left over: a valid form is read to its exact end.
    pub fn finish(self) -> Result<()> {
        if self.remaining() != 0 {
            return Err(SketchError::format(format!(
                "{} unexpected bytes after the sketch",
                self.remaining()
            )));
        }
        Ok(())
    }
}

/// The kind of a serialized sketch (`None`: a kind byte of no sketch of ours) and its payload,
/// once the magic and the format version are checked.
#[deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
pub fn header(input: &[u8]) -> Result<(Option<Kind>, &[u8])> {
    let [m0, m1, m2, m3, version, kind, ref rest @ ..] = *input else {
        return Err(SketchError::format(format!(
            "{} bytes is too short for a header",
            input.len()
        )));
    };
    if &[m0, m1, m2, m3] != MAGIC {
        return Err(SketchError::format(
            "wrong magic: not a serialized sketchy sketch",
        ));
    }
    if version != VERSION {
        return Err(SketchError::format(format!(
            "unknown format version {version} (this sketchy reads version {VERSION})"
        )));
    }
    Ok((Kind::from_byte(kind), rest))
}

/// The bytes of `count` items of `size` bytes, or `InvalidFormat` when that overflows.
pub(crate) fn items_len(count: usize, size: usize) -> Result<usize> {
    count
        .checked_mul(size)
        .ok_or_else(|| SketchError::format(format!("{count} items of {size} bytes overflow")))
}

/// The little-endian `u32`s of `bytes` (whole words; a trailing part is ignored).
pub fn le_u32s(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .as_chunks::<4>()
        .0
        .iter()
        .map(|&w| u32::from_le_bytes(w))
}

/// The little-endian `f64`s of `bytes` (whole words; a trailing part is ignored).
pub fn le_f64s(bytes: &[u8]) -> impl Iterator<Item = f64> + '_ {
    bytes
        .as_chunks::<8>()
        .0
        .iter()
        .map(|&w| f64::from_le_bytes(w))
}

/// `Err(InvalidFormat)` unless `ok`.
pub fn check(ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(SketchError::format(message()))
    }
}

#[cfg(test)]
mod tests;
