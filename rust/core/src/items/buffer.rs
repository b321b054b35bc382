//! [`KeyBuffer`]: the owned batch the bindings fill from a Python list or iterable, and the file
//! reader from its records.

use crate::items::encoding::{parse_number, ItemKind};
use crate::items::keys::{Keys, Kinds, Offsets};

/// Builds a `Keys::Var` batch item by item: what the bindings use for Python lists and iterables.
/// One growing buffer for all items, so a batch costs no allocation per item.
#[derive(Debug, Default, Clone)]
pub struct KeyBuffer {
    data: Vec<u8>,
    offsets: Vec<usize>,
    kinds: Vec<ItemKind>,
}

impl KeyBuffer {
    /// An empty buffer with room for `items` items of 8 bytes.
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

    /// Appends an item: its kind and canonical bytes.
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

    /// The number of items.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Item `i`: its kind and canonical bytes.
    #[inline]
    pub fn item(&self, i: usize) -> (ItemKind, &[u8]) {
        (
            self.kinds[i],
            &self.data[self.offsets[i]..self.offsets[i + 1]],
        )
    }

    /// Empties the buffer and keeps its memory, to refill it with the next chunk of a batch.
    pub fn clear(&mut self) {
        self.data.clear();
        self.offsets.clear();
        self.offsets.push(0);
        self.kinds.clear();
    }

    /// Whether it holds no item.
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

    /// The items as a batch.
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
