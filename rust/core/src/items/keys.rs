//! [`Keys`]: a batch of items borrowed from the caller's buffers (numpy, Arrow, a list read into a
//! [`crate::items::KeyBuffer`]), validated once by its constructors so that iteration never fails.

use crate::error::{Result, SketchError};
use crate::hash::kernels::{for_each_word_hash, hash_words};
use crate::hash::ItemHash;
use crate::items::encoding::{parse_number, word_of, ItemKind, Word};

/// An output slot that hashing writes once: a large output need not be zeroed first.
pub type Slot<T> = std::mem::MaybeUninit<T>;

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
    /// Every item of this kind.
    Uniform(ItemKind),
    /// The kind of each item.
    PerItem(&'a [ItemKind]),
}

/// The numeric element types a batch may hold, once: `(Keys variant, Rust type, numpy kind,
/// itemsize)`. `for_each_number_type!(callback!(args))` calls `callback!(args table)`: the core
/// makes [`Keys`] of it and the bindings their numpy dtype table.
#[macro_export]
macro_rules! for_each_number_type {
    ($callback:ident ! ($($arg:tt)*)) => {
        $callback! {
            $($arg)*
            (I8, i8, b'i', 1) (I16, i16, b'i', 2) (I32, i32, b'i', 4) (I64, i64, b'i', 8)
            (U8, u8, b'u', 1) (U16, u16, b'u', 2) (U32, u32, b'u', 4) (U64, u64, b'u', 8)
            (F32, f32, b'f', 4) (F64, f64, b'f', 8)
        }
    };
}

/// Makes [`Keys`] from the table, and `match_numbers!` / `map_numbers!`, which match its numeric
/// variants in one arm (`$d` is a `$`, for the inner macros).
macro_rules! keys_of {
    ($d:tt $(($variant:ident, $ty:ty, $kind:literal, $size:literal))+) => {
        /// A batch of items, borrowed from the caller's buffers. Construct with the checked
        /// constructors; iteration never fails afterwards.
        #[derive(Clone, Copy, Debug)]
        pub enum Keys<'a> {
            $(
                #[doc = concat!("Numbers of type `", stringify!($ty), "` (a numpy or Arrow array).")]
                $variant(&'a [$ty]),
            )+
            /// Variable-width items (Arrow layout).
            Var {
                /// The items' bytes, one after the other.
                data: &'a [u8],
                /// Where each item starts, and the end.
                offsets: Offsets<'a>,
                /// The items' kinds.
                kinds: Kinds<'a>,
            },
            /// numpy `S<width>`: fixed-width bytes, trailing NUL bytes stripped (as numpy does).
            FixedBytes {
                /// The items, `width` bytes each.
                data: &'a [u8],
                /// The bytes of an item.
                width: usize,
            },
            /// numpy `U<width>`: fixed-width UCS-4, trailing NULs stripped, encoded to UTF-8.
            FixedUcs4 {
                /// The items, `width` code points each.
                data: &'a [u32],
                /// The code points of an item.
                width: usize,
            },
        }

        /// `match $keys { ... }` with every numeric variant in the first arm, the slice bound to
        /// `$a` (a `&[T]` of the variant's type, `T: Word`), then the other arms.
        macro_rules! match_numbers {
            ($d keys:expr, $d a:ident => $d numeric:expr, $d ($d rest:tt)*) => {
                match $d keys {
                    $(Keys::$variant($d a) => $d numeric,)+
                    $d ($d rest)*
                }
            };
        }

        /// `match $keys { ... }` that maps a numeric variant's slice `$a` to a slice of the same
        /// variant, then the other arms.
        macro_rules! map_numbers {
            ($d keys:expr, $d a:ident => $d slice:expr, $d ($d rest:tt)*) => {
                match $d keys {
                    $(Keys::$variant($d a) => Keys::$variant($d slice),)+
                    $d ($d rest)*
                }
            };
        }
    };
}

for_each_number_type!(keys_of!($));

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

    /// The number of items.
    pub fn len(&self) -> usize {
        match_numbers! { self, a => a.len(),
            Keys::Var { offsets, .. } => offsets.len() - 1,
            Keys::FixedBytes { data, width } => data.len() / width,
            Keys::FixedUcs4 { data, width } => data.len() / width,
        }
    }

    /// Whether the batch has no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items `range` of the batch (which must lie inside it), as a batch of their own.
    pub fn sub(&self, range: std::ops::Range<usize>) -> Keys<'a> {
        let r = range;
        map_numbers! { *self, a => &a[r],
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
        match_numbers! { *self, a => for_each_word_hash(a, hash, f),
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
        match_numbers! { *self, a => hash_words(a, hash, out),
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
        match_numbers! { *self,
            a => a.iter().for_each(|&v| f(v.kind(), &v.word().to_le_bytes())),
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
        match_numbers! { *self, a => a.iter().for_each(|&v| f(v.to_f64())),
            _ => {
                let mut failed = None;
                self.for_each(|kind, bytes| {
                    if failed.is_some() {
                        return;
                    }
                    match kind {
                        ItemKind::Int => f(word_of(bytes) as i64 as f64),
                        ItemKind::UInt => f(word_of(bytes) as f64),
                        ItemKind::Float => f(f64::from_bits(word_of(bytes))),
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
