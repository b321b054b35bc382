//! The canonical encoding: how an item becomes the bytes every hash and sketch of sketchy sees.
//!
//! - `str` → its UTF-8 bytes; `bytes` → the raw bytes.
//! - integers (any width, signed or unsigned) → 8 bytes, little-endian two's complement.
//! - floats (float32 widened exactly to float64) → the 8 little-endian bytes of the float64, with
//!   `-0.0` mapped to `0.0` and every NaN mapped to one canonical quiet NaN.

use crate::error::{Result, SketchError};

/// The Python type an item came from: kept by `TopK` to give back the object that went in.
/// It is not part of an item's identity (that is its canonical bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ItemKind {
    /// A `str`: its UTF-8 bytes.
    Str = 0,
    /// `bytes` (and `bytearray`, `memoryview`): the raw bytes.
    Bytes = 1,
    /// An integer in [-2**63, 2**63): the 8 bytes are an `i64`.
    Int = 2,
    /// An integer in [2**63, 2**64): the 8 bytes are a `u64`.
    UInt = 3,
    /// A float: its canonical float64.
    Float = 4,
}

impl ItemKind {
    /// The kind of a serialized tag (`None`: no kind).
    pub fn from_u8(tag: u8) -> Option<ItemKind> {
        match tag {
            0 => Some(ItemKind::Str),
            1 => Some(ItemKind::Bytes),
            2 => Some(ItemKind::Int),
            3 => Some(ItemKind::UInt),
            4 => Some(ItemKind::Float),
            _ => None,
        }
    }
}

/// The canonical NaN: the quiet NaN with an empty payload (`float("nan")` on every common platform).
pub const CANONICAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0000;

/// The canonical bytes of a signed integer.
#[inline(always)]
pub fn encode_i64(value: i64) -> [u8; 8] {
    value.to_le_bytes()
}

/// The canonical bytes of an unsigned integer.
#[inline(always)]
pub fn encode_u64(value: u64) -> [u8; 8] {
    value.to_le_bytes()
}

/// The canonical bytes of a float (-0.0 as 0.0, every NaN as one).
#[inline(always)]
pub fn encode_f64(value: f64) -> [u8; 8] {
    canonical_f64_bits(value).to_le_bytes()
}

/// The bits of a float's canonical encoding (as a little-endian `u64`).
#[inline(always)]
pub fn canonical_f64_bits(value: f64) -> u64 {
    if value.is_nan() {
        CANONICAL_NAN_BITS
    } else if value == 0.0 {
        0 // -0.0 == 0.0: both become +0.0
    } else {
        value.to_bits()
    }
}

/// Encodes an integer given as `i128` (what the bindings extract from a Python int), raising
/// `Overflow` outside [-2**63, 2**64). Returns the bytes and whether it is an `Int` or a `UInt`.
pub fn encode_int(value: i128) -> Result<([u8; 8], ItemKind)> {
    if let Ok(v) = i64::try_from(value) {
        Ok((encode_i64(v), ItemKind::Int))
    } else if let Ok(v) = u64::try_from(value) {
        Ok((encode_u64(v), ItemKind::UInt))
    } else {
        Err(SketchError::overflow(format!(
            "int {value} is outside the hashable range [-2**63, 2**64)"
        )))
    }
}

/// The little-endian `u64` of an item's first 8 bytes (zero-padded): the value of an `Int`,
/// `UInt` or `Float` item, whose canonical bytes are 8.
#[inline(always)]
pub fn word_of(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(word)
}

/// A number of a numeric batch: its canonical 8 bytes as a little-endian `u64` (see the module
/// docs), its item kind, and its value as a float64 (what the quantile sketches take).
pub trait Word: Copy + Send + Sync {
    /// The canonical 8 bytes, as a little-endian `u64`.
    fn word(self) -> u64;
    /// The kind of item it is.
    fn kind(self) -> ItemKind;
    /// `float(x)`: integers rounded to the nearest float64.
    fn to_f64(self) -> f64;
}

macro_rules! words {
    ($($t:ty => $word:expr, $kind:expr, $f64:expr;)*) => {
        $(impl Word for $t {
            #[inline(always)]
            fn word(self) -> u64 {
                $word(self)
            }
            #[inline(always)]
            fn kind(self) -> ItemKind {
                $kind(self)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                $f64(self)
            }
        })*
    };
}

const fn int(_: impl Copy) -> ItemKind {
    ItemKind::Int
}

const fn float(_: impl Copy) -> ItemKind {
    ItemKind::Float
}

/// `UInt` past `i64::MAX`, as a Python int of that value is.
fn uint(v: impl Into<u64>) -> ItemKind {
    if v.into() > i64::MAX as u64 {
        ItemKind::UInt
    } else {
        ItemKind::Int
    }
}

words! {
    i8 => |v| i64::from(v) as u64, int, f64::from;
    i16 => |v| i64::from(v) as u64, int, f64::from;
    i32 => |v| i64::from(v) as u64, int, f64::from;
    i64 => |v| v as u64, int, |v| v as f64;
    u8 => u64::from, uint, f64::from;
    u16 => u64::from, uint, f64::from;
    u32 => u64::from, uint, f64::from;
    u64 => |v| v, uint, |v| v as f64;
    f32 => |v| canonical_f64_bits(f64::from(v)), float, f64::from;
    f64 => canonical_f64_bits, float, |v| v;
}

/// A number written as text, as Python's `float()` reads it (surrounding whitespace allowed,
/// `inf`, `nan`, exponents, `_` between digits); `None` for anything else.
pub fn parse_number(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?.trim();
    if let Ok(v) = text.parse::<f64>() {
        return Some(v);
    }
    // Python also takes digit groups ("1_000.5"): an underscore between two digits.
    let b = text.as_bytes();
    let grouped = b.iter().enumerate().all(|(i, &c)| {
        c != b'_'
            || (i > 0 && i + 1 < b.len() && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit())
    });
    if grouped && text.contains('_') {
        return text.replace('_', "").parse::<f64>().ok();
    }
    None
}
