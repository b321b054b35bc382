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
            /// Arrow `string_view` / `binary_view` (what Polars holds): 16 bytes an item, the
            /// item itself when at most 12 bytes long, else where it lies in one of `buffers`.
            View {
                /// The items' views, read in place.
                views: &'a [[u8; 16]],
                /// The data buffers the long items lie in.
                buffers: &'a [&'a [u8]],
                /// The items' kind.
                kind: ItemKind,
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

        /// A batch's items in another order, owned (see [`Keys::scatter`]).
        #[derive(Clone, Debug)]
        pub enum OwnedKeys {
            $(
                #[doc = concat!("Numbers of type `", stringify!($ty), "`.")]
                $variant(Vec<$ty>),
            )+
            /// Variable-width items: bytes, the end of each, the kind of each.
            Var {
                /// The items' bytes.
                data: Vec<u8>,
                /// Where each item starts, and the end.
                offsets: Vec<usize>,
                /// The items' kinds.
                kinds: Vec<ItemKind>,
            },
        }

        impl OwnedKeys {
            /// The items as a batch.
            pub fn keys(&self) -> Keys<'_> {
                match self {
                    $(OwnedKeys::$variant(a) => Keys::$variant(a),)+
                    // Built by `Keys::scatter`: offsets in order, inside `data`, one kind per item.
                    OwnedKeys::Var { data, offsets, kinds } => Keys::Var {
                        data,
                        offsets: Offsets::Usize(offsets),
                        kinds: Kinds::PerItem(kinds),
                    },
                }
            }
        }

        impl Keys<'_> {
            /// The items in group order: item `i` goes to the run of its group `ids[i]`, which
            /// starts at `starts[ids[i]]` (`starts`: the groups' first positions, then the end),
            /// in their order within a group. The items are read once, in order.
            pub fn scatter(&self, ids: &[u32], starts: &[usize]) -> OwnedKeys {
                match *self {
                    $(Keys::$variant(a) => OwnedKeys::$variant(scatter_slice(a, ids, starts)),)+
                    _ => self.scatter_var(ids, starts),
                }
            }
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

    /// An Arrow `string_view` / `binary_view` column: `views` (16 bytes an item) and the data
    /// buffers. Checks that every long item lies inside its buffer; like [`Keys::utf8`], trusts
    /// Arrow for the UTF-8 of a `string_view` (the bytes of short items are in the views).
    pub fn views(views: &'a [u8], buffers: &'a [&'a [u8]], kind: ItemKind) -> Result<Self> {
        let (views, rest) = views.as_chunks::<16>();
        if !rest.is_empty() {
            return Err(SketchError::input(
                "views: buffer length is not a multiple of 16 bytes",
            ));
        }
        // One pass without an early exit (vectorized); the slow path names the culprit.
        let fits = |v: &[u8; 16]| {
            let (len, index, offset) = view_parts(v);
            len <= INLINE
                || buffers
                    .get(index)
                    .is_some_and(|b| offset.checked_add(len).is_some_and(|end| end <= b.len()))
        };
        if !views.iter().fold(true, |ok, v| ok & fits(v)) {
            let at = views.iter().position(|v| !fits(v)).unwrap_or(0);
            let (len, index, offset) = view_parts(&views[at]);
            return Err(SketchError::input(format!(
                "view {at} ({len} bytes at {offset} of buffer {index}) lies outside the {} data buffers",
                buffers.len()
            )));
        }
        Ok(Keys::View {
            views,
            buffers,
            kind,
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
        // One pass without an early exit (vectorized, a share on each core: a numpy `U` array is
        // mostly padding, read at memory speed), then the culprit on the slow path.
        let valid = |c: u32| c < 0xD800 || (0xE000..=0x10FFFF).contains(&c);
        let all_valid = |part: &[u32]| part.iter().fold(true, |ok, &c| ok & valid(c));
        let plan = crate::parallel::plan(data.len(), 1 << 20);
        let (first, others) = crate::parallel::for_each_share(
            data.len(),
            plan.threads,
            |range| all_valid(&data[range]),
            |_, range| all_valid(&data[range]),
        );
        if !(first && others.into_iter().all(|ok| ok)) {
            let at = data.iter().position(|&c| !valid(c)).unwrap_or(0);
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
            Keys::View { views, .. } => views.len(),
            Keys::FixedBytes { data, width } => data.len() / width,
            Keys::FixedUcs4 { data, width } => data.len() / width,
        }
    }

    /// Whether the batch holds numbers (a numpy or Arrow numeric array), whose items are 8 bytes.
    pub fn is_numbers(&self) -> bool {
        match_numbers! { self, _a => true, _ => false }
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
            Keys::View { views, buffers, kind } => Keys::View {
                views: &views[r],
                buffers,
                kind,
            },
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
            Keys::View {
                views,
                buffers,
                kind,
            } => {
                for v in views {
                    f(kind, view_item(v, buffers));
                }
            }
            Keys::FixedBytes { data, width } => {
                for item in data.chunks_exact(width) {
                    let n = item.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    f(ItemKind::Bytes, &item[..n]);
                }
            }
            Keys::FixedUcs4 { data, width } => {
                let mut utf8 = Vec::with_capacity(width * 4);
                for item in data.chunks_exact(width) {
                    ucs4_to_utf8(item, &mut utf8);
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

impl Keys<'_> {
    /// [`Keys::scatter`] of variable-width items: one pass sums each group's bytes, a second copies
    /// every item to its group's run.
    fn scatter_var(&self, ids: &[u32], starts: &[usize]) -> OwnedKeys {
        let groups = starts.len().saturating_sub(1);
        let mut byte_next = vec![0usize; groups];
        let mut rows = ids.iter();
        self.for_each(|_, item| {
            if let Some(&g) = rows.next() {
                byte_next[g as usize] += item.len();
            }
        });
        let mut total = 0;
        for next in &mut byte_next {
            (*next, total) = (total, total + *next);
        }
        let mut data = vec![0u8; total];
        let mut offsets = vec![0usize; ids.len() + 1];
        let mut kinds = vec![ItemKind::Bytes; ids.len()];
        let mut row_next = starts[..groups].to_vec();
        let mut rows = ids.iter();
        self.for_each(|kind, item| {
            let Some(&g) = rows.next() else { return };
            let (row, at) = (&mut row_next[g as usize], &mut byte_next[g as usize]);
            data[*at..*at + item.len()].copy_from_slice(item);
            *at += item.len();
            offsets[*row + 1] = *at;
            kinds[*row] = kind;
            *row += 1;
        });
        OwnedKeys::Var {
            data,
            offsets,
            kinds,
        }
    }
}

/// [`Keys::scatter`] of numbers.
pub(crate) fn scatter_slice<T: Copy + Default>(
    items: &[T],
    ids: &[u32],
    starts: &[usize],
) -> Vec<T> {
    let mut next = starts[..starts.len().saturating_sub(1)].to_vec();
    let mut out = vec![T::default(); items.len()];
    for (&item, &g) in items.iter().zip(ids) {
        let at = &mut next[g as usize];
        out[*at] = item;
        *at += 1;
    }
    out
}

/// The longest item an Arrow view holds inline.
const INLINE: usize = 12;

/// An Arrow view's length, buffer index and offset (the last two mean nothing for an inline item).
#[inline(always)]
fn view_parts(v: &[u8; 16]) -> (usize, usize, usize) {
    let word = |at: usize| u32::from_le_bytes([v[at], v[at + 1], v[at + 2], v[at + 3]]) as usize;
    (word(0), word(8), word(12))
}

/// The bytes of an item of an Arrow view column (checked in [`Keys::views`]): a short one from the
/// view itself, with no second load.
#[inline(always)]
fn view_item<'a>(v: &'a [u8; 16], buffers: &[&'a [u8]]) -> &'a [u8] {
    let (len, index, offset) = view_parts(v);
    if len <= INLINE {
        &v[4..4 + len]
    } else {
        // Checked in `Keys::views`: the fallback is unreachable.
        buffers
            .get(index)
            .and_then(|b| b.get(offset..offset + len))
            .unwrap_or_default()
    }
}

/// One numpy `U` item (code points checked in [`Keys::fixed_ucs4`], trailing NULs stripped) as
/// UTF-8 into `out`: an ASCII item, the common case, narrowed in one vectorized pass.
#[inline(always)]
fn ucs4_to_utf8(item: &[u32], out: &mut Vec<u8>) {
    // The padding a block of 8 code units at a time (numpy pads every item to the longest).
    let mut n = item.len();
    while n >= 8 && item[n - 8..n].iter().fold(0, |any, &c| any | c) == 0 {
        n -= 8;
    }
    while n > 0 && item[n - 1] == 0 {
        n -= 1;
    }
    let item = &item[..n];
    out.clear();
    if item.iter().fold(0, |any, &c| any | c) < 0x80 {
        out.extend(item.iter().map(|&c| c as u8));
        return;
    }
    for &c in item {
        // Checked in `fixed_ucs4`; the replacement character is unreachable.
        let ch = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
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
