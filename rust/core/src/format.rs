//! The serialized form shared by every sketch: a versioned header, then the sketch's own payload.
//!
//! ```text
//! offset 0  4 bytes  magic b"SKCH"
//!        4  1 byte   format version (1)
//!        5  1 byte   sketch kind (1 count-min, 2 top-k, 3 HyperLogLog, 4 DDSketch, 5 KLL,
//!                    6 HyperLogLog with DataSketches hashing)
//!        6  ...      parameters and payload of that kind, little-endian
//! ```
//!
//! Reading never trusts a length: every read is checked against what is left of the input, so a
//! corrupted or hostile input raises `InvalidFormat` and never makes us allocate more than its size.

use crate::error::{Result, SketchError};

pub const MAGIC: &[u8; 4] = b"SKCH";
pub const VERSION: u8 = 1;

/// Which sketch a serialized form holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    CountMin = 1,
    TopK = 2,
    HyperLogLog = 3,
    DDSketch = 4,
    Kll = 5,
    /// A HyperLogLog with DataSketches hashing.
    DsHll = 6,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::CountMin => "CountMinSketch",
            Kind::TopK => "TopK",
            Kind::HyperLogLog => "HyperLogLog",
            Kind::DDSketch => "DDSketch",
            Kind::Kll => "KLL",
            Kind::DsHll => "HyperLogLog (DataSketches hashing)",
        }
    }
}

/// Appends little-endian fields to a buffer.
#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn new(kind: Kind, capacity: usize) -> Self {
        let mut bytes = Vec::with_capacity(capacity + 6);
        bytes.extend_from_slice(MAGIC);
        bytes.push(VERSION);
        bytes.push(kind as u8);
        Writer { bytes }
    }

    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

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
    pub fn raw(&mut self, v: &[u8]) {
        self.bytes.extend_from_slice(v);
    }

    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads little-endian fields, checking each against the input left.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Checks the header: magic, version and kind.
    pub fn new(input: &'a [u8], kind: Kind) -> Result<Self> {
        if input.len() < 6 {
            return Err(SketchError::format(format!(
                "{} bytes is too short for a header",
                input.len()
            )));
        }
        if &input[..4] != MAGIC {
            return Err(SketchError::format(
                "wrong magic: not a serialized sketchy sketch",
            ));
        }
        if input[4] != VERSION {
            return Err(SketchError::format(format!(
                "unknown format version {} (this sketchy reads version {VERSION})",
                input[4]
            )));
        }
        if input[5] != kind as u8 {
            let found = match input[5] {
                1 => Kind::CountMin.name(),
                2 => Kind::TopK.name(),
                3 => Kind::HyperLogLog.name(),
                4 => Kind::DDSketch.name(),
                5 => Kind::Kll.name(),
                6 => Kind::DsHll.name(),
                _ => "an unknown kind",
            };
            return Err(SketchError::format(format!(
                "expected a {}, found {found}",
                kind.name()
            )));
        }
        Ok(Reader { input, at: 6 })
    }

    pub fn remaining(&self) -> usize {
        self.input.len() - self.at
    }

    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(SketchError::format(format!(
                "truncated: {what} needs {n} bytes, {} left",
                self.remaining()
            )));
        }
        let out = &self.input[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A LEB128 integer of at most ten bytes, canonical (no trailing zero byte).
    pub fn varint(&mut self, what: &str) -> Result<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8(what)?;
            let bits = u64::from(b & 0x7f);
            check(i < 9 || bits <= 1, || {
                format!("{what}: integer past 64 bits")
            })?;
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                check(i == 0 || b != 0, || {
                    format!("{what}: integer not canonical")
                })?;
                return Ok(v);
            }
        }
        Err(SketchError::format(format!("{what}: integer past 64 bits")))
    }
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

/// `Err(InvalidFormat)` unless `ok`.
pub fn check(ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(SketchError::format(message()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let mut w = Writer::new(Kind::TopK, 16);
        w.u32(7);
        w.u64(u64::MAX);
        w.f64(1.5);
        let bytes = w.finish();
        let mut r = Reader::new(&bytes, Kind::TopK).unwrap();
        assert_eq!(r.u32("a").unwrap(), 7);
        assert_eq!(r.u64("b").unwrap(), u64::MAX);
        assert_eq!(r.f64("c").unwrap(), 1.5);
        r.finish().unwrap();
        assert!(Reader::new(&bytes, Kind::CountMin)
            .unwrap_err()
            .to_string()
            .contains("found TopK"));
        assert!(Reader::new(&bytes[..3], Kind::TopK).is_err());
        let mut bad = bytes.clone();
        bad[4] = 9;
        assert!(Reader::new(&bad, Kind::TopK)
            .unwrap_err()
            .to_string()
            .contains("version 9"));
        let mut r = Reader::new(&bytes[..8], Kind::TopK).unwrap();
        assert!(r
            .u32("width")
            .unwrap_err()
            .to_string()
            .contains("truncated: width"));
        let r = Reader::new(&bytes, Kind::TopK).unwrap();
        assert!(r.finish().is_err());
    }
}
