//! [`Image`]: little-endian fields at fixed offsets of a foreign image (DataSketches' preambles),
//! every read checked against the image's length.

use super::items_len;
use crate::error::{Result, SketchError};

/// Little-endian fields at fixed offsets of a foreign image (DataSketches' preambles), each read
/// checked against the image's length.
#[derive(Clone, Copy, Debug)]
pub struct Image<'a>(pub &'a [u8]);

#[deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
impl<'a> Image<'a> {
    /// `n` bytes from offset `at`.
    pub fn bytes(self, at: usize, n: usize) -> Result<&'a [u8]> {
        at.checked_add(n)
            .and_then(|end| self.0.get(at..end))
            .ok_or_else(|| {
                SketchError::format(format!(
                    "truncated: {n} bytes at offset {at} of a {}-byte image",
                    self.0.len()
                ))
            })
    }

    /// `count` items of `size` bytes from offset `at`.
    pub fn items(self, at: usize, count: usize, size: usize) -> Result<&'a [u8]> {
        self.bytes(at, items_len(count, size)?)
    }

    /// Everything from offset `at` on.
    pub fn from(self, at: usize) -> Result<&'a [u8]> {
        self.0.get(at..).ok_or_else(|| {
            SketchError::format(format!(
                "truncated: offset {at} of a {}-byte image",
                self.0.len()
            ))
        })
    }

    fn array<const N: usize>(self, at: usize) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(at, N)?);
        Ok(out)
    }

    /// The byte at `at`.
    pub fn u8(self, at: usize) -> Result<u8> {
        let [b] = self.array(at)?;
        Ok(b)
    }

    /// The little-endian `u16` at `at`.
    pub fn u16(self, at: usize) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(at)?))
    }

    /// The little-endian `u32` at `at`.
    pub fn u32(self, at: usize) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(at)?))
    }

    /// The little-endian `u64` at `at`.
    pub fn u64(self, at: usize) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(at)?))
    }

    /// The little-endian `f64` at `at`.
    pub fn f64(self, at: usize) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array(at)?))
    }
}
