//! How items become bytes: the one canonical encoding that every hash and sketch in sketchy uses, so
//! that an item hashes the same alone, in a list, in a numpy array or in an Arrow array.
//!
//! - `str` → its UTF-8 bytes; `bytes` → the raw bytes.
//! - integers (any width, signed or unsigned) → 8 bytes, little-endian two's complement.
//! - floats (float32 widened exactly to float64) → the 8 little-endian bytes of the float64, with
//!   `-0.0` mapped to `0.0` and every NaN mapped to one canonical quiet NaN.

use crate::error::{Result, SketchError};
use crate::hash::ItemHash;

/// An output slot that hashing writes once: a large output need not be zeroed first.
pub type Slot<T> = std::mem::MaybeUninit<T>;

/// The Python type an item came from: kept by `TopK` to give back the object that went in.
/// It is not part of an item's identity (that is its canonical bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ItemKind {
    Str = 0,
    Bytes = 1,
    /// An integer in [-2**63, 2**63): the 8 bytes are an `i64`.
    Int = 2,
    /// An integer in [2**63, 2**64): the 8 bytes are a `u64`.
    UInt = 3,
    Float = 4,
}

impl ItemKind {
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

#[inline(always)]
pub fn encode_i64(value: i64) -> [u8; 8] {
    value.to_le_bytes()
}

#[inline(always)]
pub fn encode_u64(value: u64) -> [u8; 8] {
    value.to_le_bytes()
}

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

/// A number's canonical 8 bytes as a little-endian `u64` (see the module docs).
pub trait Word: Copy + Send + Sync {
    fn word(self) -> u64;
}

macro_rules! word_by {
    ($($t:ty => $e:expr),* $(,)?) => {
        $(impl Word for $t {
            #[inline(always)]
            fn word(self) -> u64 {
                $e(self)
            }
        })*
    };
}

word_by! {
    i8 => |v| i64::from(v) as u64,
    i16 => |v| i64::from(v) as u64,
    i32 => |v| i64::from(v) as u64,
    i64 => |v| v as u64,
    u8 => u64::from,
    u16 => u64::from,
    u32 => u64::from,
    u64 => |v| v,
    f32 => |v| canonical_f64_bits(f64::from(v)),
    f64 => canonical_f64_bits,
}

/// The hashes of numbers into `out` (one slot per number, written once). The loop is compiled a second time for
/// AVX2, chosen at run time where the processor has it: the 64-bit multiplies of a fixed-width hash
/// then run four at a time (10M int64: 15 ms on one core without, 7 ms with).
#[inline]
pub fn hash_words<T: Word, H: ItemHash>(values: &[T], hash: &H, out: &mut [Slot<H::Output>]) {
    #[inline(always)]
    fn plain<T: Word, H: ItemHash>(values: &[T], hash: &H, out: &mut [Slot<H::Output>]) {
        for (o, &v) in out.iter_mut().zip(values) {
            o.write(hash.word(v.word()));
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        fn avx2<T: Word, H: ItemHash>(values: &[T], hash: &H, out: &mut [Slot<H::Output>]) {
            plain(values, hash, out)
        }
        #[target_feature(enable = "avx512f,avx512dq,avx512cd,avx512vl")]
        fn avx512<T: Word, H: ItemHash>(values: &[T], hash: &H, out: &mut [Slot<H::Output>]) {
            plain(values, hash, out)
        }
        if std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512cd")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the processor has these AVX-512 extensions (checked just above), the one
            // requirement of `avx512`.
            unsafe { avx512(values, hash, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just above), the one requirement of `avx2`.
            unsafe { avx2(values, hash, out) };
            return;
        }
    }
    plain(values, hash, out)
}

/// Calls `f` with the hash of every number, in order, hashed a block at a time by [`hash_words`].
#[inline(always)]
fn for_each_word_hash<T: Word, H: ItemHash>(values: &[T], hash: &H, mut f: impl FnMut(H::Output)) {
    const BLOCK: usize = 256;
    let mut hashes = [Slot::new(H::Output::default()); BLOCK];
    for block in values.chunks(BLOCK) {
        let hashes = &mut hashes[..block.len()];
        hash_words(block, hash, hashes);
        // SAFETY: every slot holds a value: initialized above, and written by `hash_words` since.
        hashes.iter().for_each(|h| f(unsafe { h.assume_init() }));
    }
}

/// The offsets of a variable-width column: item `i` is `data[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Copy, Debug)]
pub enum Offsets<'a> {
    /// Arrow `string` / `binary`.
    I32(&'a [i32]),
    /// Arrow `large_string` / `large_binary`.
    I64(&'a [i64]),
    /// Built by the bindings from a Python sequence.
    Usize(&'a [usize]),
}

impl Offsets<'_> {
    fn len(&self) -> usize {
        match self {
            Offsets::I32(o) => o.len(),
            Offsets::I64(o) => o.len(),
            Offsets::Usize(o) => o.len(),
        }
    }

    /// Whether the data between the first and last offsets is UTF-8 and every offset falls on a
    /// character boundary (the offsets must have passed [`Offsets::check`]).
    fn splits_utf8(&self, data: &[u8]) -> bool {
        fn splits<T: Copy + TryInto<usize>>(o: &[T], data: &[u8]) -> bool {
            let at = |v: T| v.try_into().unwrap_or(0);
            let (Some(&first), Some(&last)) = (o.first(), o.last()) else {
                return true;
            };
            let (first, last) = (at(first), at(last));
            std::str::from_utf8(&data[first..last]).is_ok()
                // not a continuation byte (10xxxxxx)
                && o.iter().all(|&v| data.get(at(v)).is_none_or(|&b| (b as i8) >= -0x40))
        }
        match self {
            Offsets::I32(o) => splits(o, data),
            Offsets::I64(o) => splits(o, data),
            Offsets::Usize(o) => splits(o, data),
        }
    }

    fn check(&self, data_len: usize) -> Result<()> {
        /// Whether `o` never decreases, its first entry is at least 0 and its last at most
        /// `data_len` (so all are): one pass without an early exit, which the compiler vectorizes.
        fn valid<T: Copy + PartialOrd + TryInto<usize>>(o: &[T], data_len: usize) -> bool {
            let ordered = o.windows(2).fold(true, |ok, w| ok & (w[0] <= w[1]));
            let inside =
                |v: Option<&T>| v.is_none_or(|&v| v.try_into().is_ok_and(|v: usize| v <= data_len));
            ordered && inside(o.first()) && inside(o.last())
        }
        /// The first bad offset, for the message.
        fn culprit<T: Copy + PartialOrd + TryInto<usize>>(o: &[T], data_len: usize) -> SketchError {
            let mut prev = 0usize;
            for (i, &v) in o.iter().enumerate() {
                let Ok(v) = v.try_into() else {
                    return SketchError::input(format!("offset {i} is negative"));
                };
                if v < prev || v > data_len {
                    return SketchError::input(format!(
                        "offset {i} ({v}) is out of order or past the end of the data ({data_len} bytes)"
                    ));
                }
                prev = v;
            }
            SketchError::input("offsets out of order")
        }
        fn monotonic<T: Copy + PartialOrd + TryInto<usize>>(
            o: &[T],
            data_len: usize,
        ) -> Result<()> {
            if valid(o, data_len) {
                Ok(())
            } else {
                Err(culprit(o, data_len))
            }
        }
        if self.len() == 0 {
            return Err(SketchError::input("offsets must hold at least one entry"));
        }
        match self {
            Offsets::I32(o) => monotonic(o, data_len),
            Offsets::I64(o) => monotonic(o, data_len),
            Offsets::Usize(o) => monotonic(o, data_len),
        }
    }
}

/// The kinds of the items of a variable-width column: all the same (Arrow) or one per item
/// (a Python list of mixed items).
#[derive(Clone, Copy, Debug)]
pub enum Kinds<'a> {
    Uniform(ItemKind),
    PerItem(&'a [ItemKind]),
}

/// A batch of items, borrowed from the caller's buffers. Construct with the checked constructors;
/// iteration never fails afterwards.
#[derive(Clone, Copy, Debug)]
pub enum Keys<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
    /// Variable-width items (Arrow layout).
    Var {
        data: &'a [u8],
        offsets: Offsets<'a>,
        kinds: Kinds<'a>,
    },
    /// numpy `S<width>`: fixed-width bytes, trailing NUL bytes stripped (as numpy does).
    FixedBytes {
        data: &'a [u8],
        width: usize,
    },
    /// numpy `U<width>`: fixed-width UCS-4, trailing NULs stripped, encoded to UTF-8.
    FixedUcs4 {
        data: &'a [u32],
        width: usize,
    },
}

impl<'a> Keys<'a> {
    /// A variable-width column; checks that the offsets are in order and inside `data`.
    pub fn var(data: &'a [u8], offsets: Offsets<'a>, kinds: Kinds<'a>) -> Result<Self> {
        offsets.check(data.len())?;
        if let Kinds::PerItem(k) = kinds {
            if k.len() + 1 != offsets.len() {
                return Err(SketchError::input("one kind per item is required"));
            }
        }
        // Arrow guarantees UTF-8 for string arrays, but check: these bytes become `str` again. One
        // check of the whole data (items split at character boundaries are then valid too) is much
        // faster than one per short item; the slow path finds the culprit.
        if matches!(kinds, Kinds::Uniform(ItemKind::Str)) && !offsets.splits_utf8(data) {
            let mut position = 0;
            let mut valid = true;
            Keys::Var {
                data,
                offsets,
                kinds,
            }
            .for_each(|_, item| {
                if valid && std::str::from_utf8(item).is_err() {
                    valid = false;
                }
                position += usize::from(valid);
            });
            if !valid {
                return Err(SketchError::input(format!(
                    "item at position {position} is not valid UTF-8"
                )));
            }
        }
        Ok(Keys::Var {
            data,
            offsets,
            kinds,
        })
    }

    /// An Arrow `string`/`large_string` column, whose data Arrow has already checked to be UTF-8: only
    /// the offsets are checked (a second pass over the data costs as much as hashing it). Were the
    /// data not UTF-8 after all, nothing unsafe follows: TopK gives such items back with U+FFFD.
    pub fn utf8(data: &'a [u8], offsets: Offsets<'a>) -> Result<Self> {
        offsets.check(data.len())?;
        Ok(Keys::Var {
            data,
            offsets,
            kinds: Kinds::Uniform(ItemKind::Str),
        })
    }

    /// A numpy `S` array's buffer: `data.len()` must be a multiple of `width`.
    pub fn fixed_bytes(data: &'a [u8], width: usize) -> Result<Self> {
        if width == 0 || !data.len().is_multiple_of(width) {
            if data.is_empty() {
                return Ok(Keys::FixedBytes { data, width: 1 });
            }
            return Err(SketchError::input(
                "fixed-width bytes: buffer length is not a multiple of the width",
            ));
        }
        Ok(Keys::FixedBytes { data, width })
    }

    /// A numpy `U` array's buffer; rejects surrogates and values past U+10FFFF up front, as
    /// `str.encode("utf-8")` would, so that iteration cannot fail.
    pub fn fixed_ucs4(data: &'a [u32], width: usize) -> Result<Self> {
        if width == 0 || !data.len().is_multiple_of(width) {
            if data.is_empty() {
                return Ok(Keys::FixedUcs4 { data, width: 1 });
            }
            return Err(SketchError::input(
                "fixed-width str: buffer length is not a multiple of the width",
            ));
        }
        if let Some(at) = data.iter().position(|&c| char::from_u32(c).is_none()) {
            return Err(SketchError::InvalidUnicode {
                position: at / width,
                code_point: data[at],
            });
        }
        Ok(Keys::FixedUcs4 { data, width })
    }

    pub fn len(&self) -> usize {
        match self {
            Keys::I8(a) => a.len(),
            Keys::I16(a) => a.len(),
            Keys::I32(a) => a.len(),
            Keys::I64(a) => a.len(),
            Keys::U8(a) => a.len(),
            Keys::U16(a) => a.len(),
            Keys::U32(a) => a.len(),
            Keys::U64(a) => a.len(),
            Keys::F32(a) => a.len(),
            Keys::F64(a) => a.len(),
            Keys::Var { offsets, .. } => offsets.len() - 1,
            Keys::FixedBytes { data, width } => data.len() / width,
            Keys::FixedUcs4 { data, width } => data.len() / width,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items `range` of the batch (which must lie inside it), as a batch of their own.
    pub fn sub(&self, range: std::ops::Range<usize>) -> Keys<'a> {
        let r = range;
        match *self {
            Keys::I8(a) => Keys::I8(&a[r]),
            Keys::I16(a) => Keys::I16(&a[r]),
            Keys::I32(a) => Keys::I32(&a[r]),
            Keys::I64(a) => Keys::I64(&a[r]),
            Keys::U8(a) => Keys::U8(&a[r]),
            Keys::U16(a) => Keys::U16(&a[r]),
            Keys::U32(a) => Keys::U32(&a[r]),
            Keys::U64(a) => Keys::U64(&a[r]),
            Keys::F32(a) => Keys::F32(&a[r]),
            Keys::F64(a) => Keys::F64(&a[r]),
            Keys::Var {
                data,
                offsets,
                kinds,
            } => {
                let offsets = match offsets {
                    Offsets::I32(o) => Offsets::I32(&o[r.start..=r.end]),
                    Offsets::I64(o) => Offsets::I64(&o[r.start..=r.end]),
                    Offsets::Usize(o) => Offsets::Usize(&o[r.start..=r.end]),
                };
                let kinds = match kinds {
                    Kinds::Uniform(k) => Kinds::Uniform(k),
                    Kinds::PerItem(k) => Kinds::PerItem(&k[r]),
                };
                Keys::Var {
                    data,
                    offsets,
                    kinds,
                }
            }
            Keys::FixedBytes { data, width } => Keys::FixedBytes {
                data: &data[r.start * width..r.end * width],
                width,
            },
            Keys::FixedUcs4 { data, width } => Keys::FixedUcs4 {
                data: &data[r.start * width..r.end * width],
                width,
            },
        }
    }

    /// Calls `f(hash)` with the hash of every item, in order: numbers through the hash's 8-byte
    /// kernel ([`ItemHash::word`]), other items through its byte kernel.
    #[inline(always)]
    pub fn for_each_hash<H: ItemHash>(&self, hash: &H, mut f: impl FnMut(H::Output)) {
        match *self {
            Keys::I8(a) => for_each_word_hash(a, hash, f),
            Keys::I16(a) => for_each_word_hash(a, hash, f),
            Keys::I32(a) => for_each_word_hash(a, hash, f),
            Keys::I64(a) => for_each_word_hash(a, hash, f),
            Keys::U8(a) => for_each_word_hash(a, hash, f),
            Keys::U16(a) => for_each_word_hash(a, hash, f),
            Keys::U32(a) => for_each_word_hash(a, hash, f),
            Keys::U64(a) => for_each_word_hash(a, hash, f),
            Keys::F32(a) => for_each_word_hash(a, hash, f),
            Keys::F64(a) => for_each_word_hash(a, hash, f),
            // The kinds do not matter to a hash: lists (one kind per item) take this path too.
            Keys::Var { data, offsets, .. } => match offsets {
                Offsets::I32(o) => hash.for_each_var(data, o, f),
                Offsets::I64(o) => hash.for_each_var(data, o, f),
                Offsets::Usize(o) => hash.for_each_var(data, o, f),
            },
            _ => self.for_each(|_, item| f(hash.bytes(item))),
        }
    }

    /// The hash of every item into `out`, one slot per item, each written once (extra slots are
    /// left as they are). Returns how many were written: `min(self.len(), out.len())`.
    #[inline]
    pub fn hash_into<H: ItemHash>(&self, hash: &H, out: &mut [Slot<H::Output>]) -> usize {
        match *self {
            Keys::I8(a) => hash_words(a, hash, out),
            Keys::I16(a) => hash_words(a, hash, out),
            Keys::I32(a) => hash_words(a, hash, out),
            Keys::I64(a) => hash_words(a, hash, out),
            Keys::U8(a) => hash_words(a, hash, out),
            Keys::U16(a) => hash_words(a, hash, out),
            Keys::U32(a) => hash_words(a, hash, out),
            Keys::U64(a) => hash_words(a, hash, out),
            Keys::F32(a) => hash_words(a, hash, out),
            Keys::F64(a) => hash_words(a, hash, out),
            Keys::Var { data, offsets, .. } => match offsets {
                Offsets::I32(o) => hash.fill_var(data, o, out),
                Offsets::I64(o) => hash.fill_var(data, o, out),
                Offsets::Usize(o) => hash.fill_var(data, o, out),
            },
            _ => {
                let mut slots = out.iter_mut();
                self.for_each_hash(hash, |h| {
                    if let Some(slot) = slots.next() {
                        slot.write(h);
                    }
                });
            }
        }
        self.len().min(out.len())
    }

    /// Calls `f(kind, canonical_bytes)` for every item, in order.
    #[inline]
    pub fn for_each<F: FnMut(ItemKind, &[u8])>(&self, mut f: F) {
        #[inline(always)]
        fn signed<T: Copy + Into<i64>, F: FnMut(ItemKind, &[u8])>(a: &[T], f: &mut F) {
            for &v in a {
                f(ItemKind::Int, &encode_i64(v.into()));
            }
        }
        #[inline(always)]
        fn unsigned<T: Copy + Into<u64>, F: FnMut(ItemKind, &[u8])>(a: &[T], f: &mut F) {
            for &v in a {
                let v: u64 = v.into();
                let kind = if v > i64::MAX as u64 {
                    ItemKind::UInt
                } else {
                    ItemKind::Int
                };
                f(kind, &encode_u64(v));
            }
        }
        match *self {
            Keys::I8(a) => signed(a, &mut f),
            Keys::I16(a) => signed(a, &mut f),
            Keys::I32(a) => signed(a, &mut f),
            Keys::I64(a) => signed(a, &mut f),
            Keys::U8(a) => unsigned(a, &mut f),
            Keys::U16(a) => unsigned(a, &mut f),
            Keys::U32(a) => unsigned(a, &mut f),
            Keys::U64(a) => unsigned(a, &mut f),
            Keys::F32(a) => a
                .iter()
                .for_each(|&v| f(ItemKind::Float, &encode_f64(f64::from(v)))),
            Keys::F64(a) => a.iter().for_each(|&v| f(ItemKind::Float, &encode_f64(v))),
            Keys::Var {
                data,
                offsets,
                kinds,
            } => match offsets {
                Offsets::I32(o) => var_items(data, o, kinds, &mut f),
                Offsets::I64(o) => var_items(data, o, kinds, &mut f),
                Offsets::Usize(o) => var_items(data, o, kinds, &mut f),
            },
            Keys::FixedBytes { data, width } => {
                for item in data.chunks_exact(width) {
                    let n = item.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    f(ItemKind::Bytes, &item[..n]);
                }
            }
            Keys::FixedUcs4 { data, width } => {
                let mut utf8 = Vec::with_capacity(width * 4);
                for item in data.chunks_exact(width) {
                    let n = item.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
                    utf8.clear();
                    for &c in &item[..n] {
                        // Checked in `fixed_ucs4`; the replacement character is unreachable.
                        let ch = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
                        let mut buf = [0u8; 4];
                        utf8.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    f(ItemKind::Str, &utf8);
                }
            }
        }
    }
}

impl Keys<'_> {
    /// Calls `f` with every item as a float64 (integers rounded to the nearest, as `float(i)` does),
    /// in order: what the quantile sketches take. Text items are parsed as numbers when
    /// `parse_text` (lines of a file), and are a `WrongType` error otherwise; nothing is called
    /// back before the whole batch has been checked only for fixed-width arrays, so a caller that
    /// must change nothing on error collects first.
    pub fn for_each_number(&self, parse_text: bool, mut f: impl FnMut(f64)) -> Result<()> {
        match *self {
            Keys::I8(a) => a.iter().for_each(|&v| f(f64::from(v))),
            Keys::I16(a) => a.iter().for_each(|&v| f(f64::from(v))),
            Keys::I32(a) => a.iter().for_each(|&v| f(f64::from(v))),
            Keys::I64(a) => a.iter().for_each(|&v| f(v as f64)),
            Keys::U8(a) => a.iter().for_each(|&v| f(f64::from(v))),
            Keys::U16(a) => a.iter().for_each(|&v| f(f64::from(v))),
            Keys::U32(a) => a.iter().for_each(|&v| f(f64::from(v))),
            Keys::U64(a) => a.iter().for_each(|&v| f(v as f64)),
            Keys::F32(a) => a.iter().for_each(|&v| f(f64::from(v))),
            Keys::F64(a) => a.iter().for_each(|&v| f(v)),
            _ => {
                let mut failed = None;
                self.for_each(|kind, bytes| {
                    if failed.is_some() {
                        return;
                    }
                    let word = || {
                        let mut w = [0u8; 8];
                        w.copy_from_slice(&bytes[..8.min(bytes.len())]);
                        w
                    };
                    match kind {
                        ItemKind::Int => f(i64::from_le_bytes(word()) as f64),
                        ItemKind::UInt => f(u64::from_le_bytes(word()) as f64),
                        ItemKind::Float => f(f64::from_le_bytes(word())),
                        ItemKind::Str | ItemKind::Bytes if parse_text => {
                            match parse_number(bytes) {
                                Some(v) => f(v),
                                None => {
                                    failed = Some(SketchError::input(format!(
                                        "not a number: {:?}",
                                        String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
                                    )))
                                }
                            }
                        }
                        ItemKind::Str | ItemKind::Bytes => {
                            failed = Some(SketchError::wrong_type(format!(
                                "values must be numbers (int or float), not {}",
                                if kind == ItemKind::Str {
                                    "str"
                                } else {
                                    "bytes"
                                }
                            )))
                        }
                    }
                });
                if let Some(err) = failed {
                    return Err(err);
                }
            }
        }
        Ok(())
    }
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

/// The items of a variable-width column, with the offset type and the kinds resolved outside the loop.
#[inline(always)]
fn var_items<T: Copy + TryInto<usize>, F: FnMut(ItemKind, &[u8])>(
    data: &[u8],
    offsets: &[T],
    kinds: Kinds,
    f: &mut F,
) {
    // Validated in `Keys::var`: in order and inside `data`, so the conversions cannot fail.
    let at = |v: T| v.try_into().unwrap_or(0);
    match kinds {
        Kinds::Uniform(kind) => {
            for w in offsets.windows(2) {
                f(kind, &data[at(w[0])..at(w[1])]);
            }
        }
        Kinds::PerItem(kinds) => {
            for (w, &kind) in offsets.windows(2).zip(kinds) {
                f(kind, &data[at(w[0])..at(w[1])]);
            }
        }
    }
}

/// Builds a `Keys::Var` batch item by item: what the bindings use for Python lists and iterables.
/// One growing buffer for all items, so a batch costs no allocation per item.
#[derive(Debug, Default, Clone)]
pub struct KeyBuffer {
    data: Vec<u8>,
    offsets: Vec<usize>,
    kinds: Vec<ItemKind>,
}

impl KeyBuffer {
    pub fn with_capacity(items: usize) -> Self {
        let mut offsets = Vec::with_capacity(items + 1);
        offsets.push(0);
        KeyBuffer {
            data: Vec::with_capacity(items * 8),
            offsets,
            kinds: Vec::with_capacity(items),
        }
    }

    /// Makes room for `items` more items (of 8 bytes each, a guess the buffer grows past).
    pub fn reserve(&mut self, items: usize) {
        self.offsets.reserve(items + 1);
        self.data.reserve(items * 8);
        self.kinds.reserve(items);
    }

    #[inline]
    pub fn push(&mut self, kind: ItemKind, bytes: &[u8]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.data.extend_from_slice(bytes);
        self.offsets.push(self.data.len());
        self.kinds.push(kind);
    }

    /// [`KeyBuffer::push`] of `src[range]`: an item of up to 16 bytes is copied as 16 fixed bytes
    /// when `src` has them (one load and store, not a `memcpy` call per short item).
    #[inline(always)]
    pub fn push_range(&mut self, kind: ItemKind, src: &[u8], range: std::ops::Range<usize>) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        let n = range.len();
        match src.get(range.start..range.start + 16) {
            Some(wide) if n <= 16 => {
                let at = self.data.len();
                self.data.extend_from_slice(wide);
                self.data.truncate(at + n);
            }
            _ => self.data.extend_from_slice(&src[range]),
        }
        self.offsets.push(self.data.len());
        self.kinds.push(kind);
    }

    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Empties the buffer and keeps its memory, to refill it with the next chunk of a batch.
    pub fn clear(&mut self) {
        self.data.clear();
        self.offsets.clear();
        self.offsets.push(0);
        self.kinds.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Whether the last item is a number or text that reads as one (what a quantile sketch takes).
    pub fn last_is_number(&self) -> bool {
        let (Some(&kind), [.., from, to]) = (self.kinds.last(), self.offsets.as_slice()) else {
            return false;
        };
        match kind {
            ItemKind::Int | ItemKind::UInt | ItemKind::Float => true,
            ItemKind::Str | ItemKind::Bytes => parse_number(&self.data[*from..*to]).is_some(),
        }
    }

    /// Drops the last item.
    pub fn pop(&mut self) {
        if self.kinds.pop().is_some() {
            self.offsets.pop();
            self.data
                .truncate(self.offsets.last().copied().unwrap_or(0));
        }
    }

    pub fn keys(&self) -> Keys<'_> {
        if self.offsets.is_empty() {
            return Keys::Var {
                data: &[],
                offsets: Offsets::Usize(&[0]),
                kinds: Kinds::PerItem(&[]),
            };
        }
        // Built by `push`: offsets are in order and inside `data` by construction.
        Keys::Var {
            data: &self.data,
            offsets: Offsets::Usize(&self.offsets),
            kinds: Kinds::PerItem(&self.kinds),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn collect(keys: &Keys) -> Vec<(ItemKind, Vec<u8>)> {
        let mut out = Vec::new();
        keys.for_each(|k, b| out.push((k, b.to_vec())));
        out
    }

    #[test]
    fn ints_of_any_width_encode_alike() {
        let a = collect(&Keys::I8(&[-1, 5]));
        let b = collect(&Keys::I64(&[-1, 5]));
        assert_eq!(a, b);
        assert_eq!(collect(&Keys::U32(&[5]))[0], b[1]);
        assert_eq!(
            collect(&Keys::U64(&[u64::MAX]))[0],
            (ItemKind::UInt, vec![0xff; 8])
        );
    }

    #[test]
    fn floats_are_canonical() {
        assert_eq!(encode_f64(-0.0), encode_f64(0.0));
        assert_eq!(encode_f64(f64::NAN), encode_f64(-f64::NAN));
        assert_eq!(
            encode_f64(f64::from_bits(0x7ff0_0000_0000_0001)),
            CANONICAL_NAN_BITS.to_le_bytes()
        );
        assert_eq!(collect(&Keys::F32(&[1.5]))[0].1, encode_f64(1.5));
    }

    #[test]
    fn int_range() {
        assert!(encode_int(-(1 << 63)).is_ok());
        assert!(encode_int((1 << 64) - 1).is_ok());
        assert!(matches!(
            encode_int(1 << 64),
            Err(SketchError::Overflow { .. })
        ));
        assert!(matches!(
            encode_int(-(1 << 63) - 1),
            Err(SketchError::Overflow { .. })
        ));
        assert_eq!(encode_int(-1).unwrap(), ([0xff; 8], ItemKind::Int));
    }

    #[test]
    fn fixed_width_strip_trailing_nuls() {
        let s = Keys::fixed_bytes(b"ab\0\0a\0b\0", 4).unwrap();
        assert_eq!(
            collect(&s),
            vec![
                (ItemKind::Bytes, b"ab".to_vec()),
                (ItemKind::Bytes, b"a\0b".to_vec())
            ]
        );
        let u = Keys::fixed_ucs4(&[0xe9, 0, 0x1F600, 0x41], 2).unwrap();
        assert_eq!(collect(&u)[0].1, "é".as_bytes());
        assert_eq!(collect(&u)[1].1, "😀A".as_bytes());
        assert!(matches!(
            Keys::fixed_ucs4(&[0x41, 0xD800], 1),
            Err(SketchError::InvalidUnicode {
                position: 1,
                code_point: 0xD800
            })
        ));
    }

    #[test]
    fn var_offsets_are_checked() {
        let data = b"hello";
        assert!(Keys::var(
            data,
            Offsets::I32(&[0, 2, 5]),
            Kinds::Uniform(ItemKind::Bytes)
        )
        .is_ok());
        assert!(Keys::var(data, Offsets::I32(&[0, 6]), Kinds::Uniform(ItemKind::Bytes)).is_err());
        assert!(Keys::var(data, Offsets::I32(&[3, 2]), Kinds::Uniform(ItemKind::Bytes)).is_err());
        assert!(Keys::var(
            data,
            Offsets::I64(&[-1, 2]),
            Kinds::Uniform(ItemKind::Bytes)
        )
        .is_err());
        assert!(Keys::var(data, Offsets::I64(&[]), Kinds::Uniform(ItemKind::Bytes)).is_err());
        // Arrow strings: only the offsets are checked, anywhere in the array.
        for (bad, at) in [
            (&[0, 3, 2, 5][..], "offset 2"),
            (&[0, 2, 6], "offset 2"),
            (&[0, -1, 3], "offset 1"),
        ] {
            let err = Keys::utf8(data, Offsets::I32(bad)).unwrap_err().to_string();
            assert!(err.contains(at), "{err}");
        }
        assert!(Keys::utf8(data, Offsets::I32(&[1, 1, 5])).is_ok());
        assert!(Keys::var(
            &[0xff],
            Offsets::I32(&[0, 1]),
            Kinds::Uniform(ItemKind::Str)
        )
        .is_err());
        let k = Keys::var(
            data,
            Offsets::I32(&[1, 3, 5]),
            Kinds::Uniform(ItemKind::Bytes),
        )
        .unwrap();
        assert_eq!(
            collect(&k),
            vec![
                (ItemKind::Bytes, b"el".to_vec()),
                (ItemKind::Bytes, b"lo".to_vec())
            ]
        );
    }

    #[test]
    fn arrow_strings_are_utf8_item_by_item() {
        let str_keys = |data: &'static [u8], offsets: &'static [i32]| {
            Keys::var(data, Offsets::I32(offsets), Kinds::Uniform(ItemKind::Str))
        };
        let data = "aé€b".as_bytes(); // 1 + 2 + 3 + 1 bytes
        assert_eq!(collect(&str_keys(data, &[0, 1, 3, 6, 7]).unwrap()).len(), 4);
        assert!(str_keys(data, &[2, 3]).is_err()); // starts inside 'é'
        let err = str_keys(data, &[0, 1, 4, 7]).unwrap_err().to_string(); // splits '€'
        assert!(err.contains("position 1"), "{err}");
        let err = str_keys(b"ok\xffno", &[0, 2, 5]).unwrap_err().to_string();
        assert!(err.contains("position 1"), "{err}");
        // Bytes after the last offset are not part of the batch.
        assert!(str_keys(b"ab\xff", &[0, 1, 2]).is_ok());
    }

    #[test]
    fn sub_batches() {
        let all = Keys::var(
            b"abcdef",
            Offsets::I32(&[0, 1, 3, 6]),
            Kinds::Uniform(ItemKind::Bytes),
        )
        .unwrap();
        assert_eq!(
            collect(&all.sub(1..3)),
            vec![
                (ItemKind::Bytes, b"bc".to_vec()),
                (ItemKind::Bytes, b"def".to_vec())
            ]
        );
        assert!(all.sub(2..2).is_empty());
        let u = Keys::fixed_ucs4(&[0x41, 0, 0x42, 0x43], 2).unwrap();
        assert_eq!(collect(&u.sub(1..2)), vec![(ItemKind::Str, b"BC".to_vec())]);
        assert_eq!(
            collect(&Keys::I8(&[1, 2, 3]).sub(2..3)),
            collect(&Keys::I64(&[3]))
        );
    }

    #[test]
    fn key_buffer() {
        let mut buf = KeyBuffer::with_capacity(2);
        buf.push(ItemKind::Str, b"ab");
        buf.push(ItemKind::Int, &encode_i64(7));
        assert_eq!(buf.len(), 2);
        assert_eq!(
            collect(&buf.keys()),
            vec![
                (ItemKind::Str, b"ab".to_vec()),
                (ItemKind::Int, encode_i64(7).to_vec())
            ]
        );
        assert!(KeyBuffer::default().keys().is_empty());
    }
}
