//! Heavy hitters: the most frequent items of a stream with a deterministic error bound, in a
//! mergeable Misra–Gries summary (Misra and Gries, 1982; Agarwal et al., "Mergeable Summaries", 2012).
//!
//! The summary keeps at most `capacity` items with a counter each. A new item gets a counter; when
//! there are more than `capacity`, the median counter `d` is subtracted from every counter (the ones
//! that reach zero are dropped, at least half of them) and `d` is added to `offset`, the summary's
//! error. For every item, `count ≤ true count ≤ count + offset`, and `offset ≤ 2·N / (capacity + 1)`
//! with `N` the total count: each purge removes at least `(capacity + 1)/2 · d` from the counters,
//! which never hold more than `N`. Merging adds the counters and the offsets and purges again; the
//! same argument holds for the merged stream, so the bound survives any tree of merges. Every item
//! whose count exceeds `offset` is therefore in the summary.
//!
//! Items are stored as their canonical bytes and [`ItemKind`] so that the Python objects can be
//! given back. Slots never move: a purged slot keeps its buffer for the next new item, so in the
//! steady state adding allocates nothing, and a purge only drops table entries (no rehashing).

use hashbrown::HashTable;

use crate::count_min::Counts;
use crate::error::{Result, SketchError};
use crate::format::{check, Kind, Reader, Writer};
use crate::hash::item_hash64;
use crate::keys::{ItemKind, Keys};

/// The most counters a summary may keep.
pub const MAX_CAPACITY: u64 = 1 << 24;

/// Bytes kept inline in a slot: most items are short, and a probe that finds its item then reads one
/// cache line instead of following a pointer to the heap.
const INLINE: usize = 30;

#[derive(Clone, Debug)]
enum ItemBytes {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Vec<u8>),
}

impl ItemBytes {
    fn new(item: &[u8]) -> Self {
        let mut bytes = ItemBytes::Inline {
            len: 0,
            bytes: [0; INLINE],
        };
        bytes.set(item);
        bytes
    }

    #[inline(always)]
    fn as_slice(&self) -> &[u8] {
        match self {
            ItemBytes::Inline { len, bytes } => &bytes[..*len as usize],
            ItemBytes::Heap(v) => v,
        }
    }

    /// Replaces the bytes, reusing a heap buffer when there is one.
    fn set(&mut self, item: &[u8]) {
        match self {
            ItemBytes::Heap(v) if item.len() > INLINE => {
                v.clear();
                v.extend_from_slice(item);
            }
            _ if item.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..item.len()].copy_from_slice(item);
                *self = ItemBytes::Inline {
                    len: item.len() as u8,
                    bytes,
                };
            }
            _ => *self = ItemBytes::Heap(item.to_vec()),
        }
    }

    fn heap_size(&self) -> usize {
        match self {
            ItemBytes::Inline { .. } => 0,
            ItemBytes::Heap(v) => v.capacity(),
        }
    }
}

/// One counter: 64 bytes, one cache line.
#[derive(Clone, Debug)]
#[repr(align(64))]
struct Slot {
    hash: u64,
    /// 0 for a free slot (a tracked item's count is at least 1).
    count: u64,
    /// First-insertion order: ties in `most_common` keep it, as `collections.Counter` does.
    stamp: u64,
    kind: ItemKind,
    item: ItemBytes,
}

#[derive(Clone, Debug)]
pub struct TopK {
    k: u32,
    capacity: u32,
    seed: u64,
    total: u64,
    offset: u64,
    slots: Vec<Slot>,
    /// Indices of the free slots.
    free: Vec<u32>,
    /// Slot indices of the tracked items.
    table: HashTable<u32>,
    next_stamp: u64,
    scratch: Vec<u64>,
}

/// One tracked item, as `most_common` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub kind: ItemKind,
    pub item: &'a [u8],
    /// The lower bound of the item's count; the upper bound is `count + offset`.
    pub count: u64,
}

impl TopK {
    pub fn new(k: u64, capacity: Option<u64>, seed: u64) -> Result<Self> {
        if !(1..=MAX_CAPACITY).contains(&k) {
            return Err(SketchError::parameter(
                "k",
                format!("must be in [1, 2**24], got {k}"),
            ));
        }
        let capacity = capacity.unwrap_or((8 * k).clamp(16, MAX_CAPACITY));
        if capacity < k || capacity > MAX_CAPACITY {
            return Err(SketchError::parameter(
                "capacity",
                format!("must be in [k, 2**24] = [{k}, {MAX_CAPACITY}], got {capacity}"),
            ));
        }
        Ok(TopK {
            k: k as u32,
            capacity: capacity as u32,
            seed,
            total: 0,
            offset: 0,
            slots: Vec::new(),
            free: Vec::new(),
            table: HashTable::new(),
            next_stamp: 0,
            scratch: Vec::new(),
        })
    }

    pub fn k(&self) -> u32 {
        self.k
    }
    pub fn capacity(&self) -> u32 {
        self.capacity
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn total(&self) -> u64 {
        self.total
    }
    /// The summary's error: every count is at most this much below the true count.
    pub fn offset(&self) -> u64 {
        self.offset
    }
    /// How many items are tracked.
    pub fn len(&self) -> usize {
        self.table.len()
    }
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn live(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.count > 0)
    }

    fn find(&self, hash: u64, item: &[u8]) -> Option<usize> {
        let slots = &self.slots;
        self.table
            .find(hash, |&i| {
                let slot = &slots[i as usize];
                slot.hash == hash && slot.item.as_slice() == item
            })
            .map(|&i| i as usize)
    }

    /// Adds without checking the total (done by the caller) and without purging.
    #[inline]
    fn bump(&mut self, kind: ItemKind, item: &[u8], count: u64) {
        let hash = item_hash64(item, self.seed);
        if let Some(i) = self.find(hash, item) {
            self.slots[i].count += count;
            return;
        }
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        let index = match self.free.pop() {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                slot.item.set(item);
                (slot.hash, slot.count, slot.stamp, slot.kind) = (hash, count, stamp, kind);
                i
            }
            None => {
                self.slots.push(Slot {
                    hash,
                    count,
                    stamp,
                    kind,
                    item: ItemBytes::new(item),
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.table
            .insert_unique(hash, index, |&i| slots[i as usize].hash);
    }

    /// Subtracts the median counter from all while there are more than `capacity`.
    fn purge(&mut self) {
        while self.len() > self.capacity as usize {
            self.scratch.clear();
            self.scratch
                .extend(self.slots.iter().map(|s| s.count).filter(|&c| c > 0));
            let mid = self.scratch.len().div_ceil(2) - 1;
            let (_, &mut d, _) = self.scratch.select_nth_unstable(mid);
            self.offset += d;
            for (i, slot) in self.slots.iter_mut().enumerate() {
                if slot.count > d {
                    slot.count -= d;
                } else if slot.count > 0 {
                    slot.count = 0;
                    self.free.push(i as u32);
                }
            }
            let slots = &self.slots;
            self.table.retain(|&mut i| slots[i as usize].count > 0);
        }
    }

    fn reserve_total(&self, count: u64) -> Result<u64> {
        self.total.checked_add(count).ok_or_else(|| {
            SketchError::overflow(format!(
                "adding {count} would take the total count past 2**64 - 1"
            ))
        })
    }

    /// Adds `count` occurrences of one item.
    pub fn add(&mut self, kind: ItemKind, item: &[u8], count: u64) -> Result<()> {
        let total = self.reserve_total(count)?;
        if count > 0 {
            self.bump(kind, item, count);
            self.purge();
        }
        self.total = total;
        Ok(())
    }

    /// Adds a batch; checks the counts before changing anything.
    pub fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
        let total = self.reserve_total(counts.sum(keys.len())?)?;
        let mut i = 0;
        keys.for_each(|kind, item| {
            let count = counts.get(i);
            if count > 0 {
                self.bump(kind, item, count);
                if self.len() > self.capacity as usize {
                    self.purge();
                }
            }
            i += 1;
        });
        self.total = total;
        Ok(())
    }

    /// The lower bound of an item's count (0 if it is not tracked); the true count is in
    /// `[lower, lower + offset]`.
    pub fn lower(&self, item: &[u8]) -> u64 {
        let hash = item_hash64(item, self.seed);
        self.find(hash, item).map_or(0, |i| self.slots[i].count)
    }

    /// The tracked items, most frequent first, ties in first-insertion order.
    pub fn most_common(&self, n: Option<usize>) -> Vec<Entry<'_>> {
        let mut order: Vec<&Slot> = self.live().collect();
        order.sort_unstable_by(|a, b| b.count.cmp(&a.count).then(a.stamp.cmp(&b.stamp)));
        order.truncate(n.unwrap_or(usize::MAX));
        order
            .into_iter()
            .map(|s| Entry {
                kind: s.kind,
                item: s.item.as_slice(),
                count: s.count,
            })
            .collect()
    }

    fn in_insertion_order(&self) -> Vec<&Slot> {
        let mut order: Vec<&Slot> = self.live().collect();
        order.sort_unstable_by_key(|s| s.stamp);
        order
    }

    /// Adds `other`'s counters and error into `self`: the bounds hold for the union of the streams.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        let mismatch = |parameter, a: u64, b: u64| {
            Err(SketchError::incompatible(parameter, format!("{a} != {b}")))
        };
        if self.k != other.k {
            return mismatch("k", self.k.into(), other.k.into());
        }
        if self.capacity != other.capacity {
            return mismatch("capacity", self.capacity.into(), other.capacity.into());
        }
        if self.seed != other.seed {
            return mismatch("seed", self.seed, other.seed);
        }
        let total = self.reserve_total(other.total)?;
        let offset = self
            .offset
            .checked_add(other.offset)
            .ok_or_else(|| SketchError::overflow("the merged error bound is past 2**64 - 1"))?;
        for slot in other.in_insertion_order() {
            self.bump(slot.kind, slot.item.as_slice(), slot.count);
        }
        self.offset = offset;
        self.total = total;
        self.purge();
        Ok(())
    }

    pub fn clear(&mut self) {
        self.free.clear();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            slot.count = 0;
            self.free.push(i as u32);
        }
        self.table.clear();
        self.total = 0;
        self.offset = 0;
        self.next_stamp = 0;
    }

    /// Heap and inline memory, in bytes.
    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.slots.iter().map(|s| s.item.heap_size()).sum::<usize>()
            + self.free.capacity() * 4
            + self.table.allocation_size()
            + self.scratch.capacity() * 8
    }

    /// `k u32, capacity u32, seed u64, total u64, offset u64, n u32`, then per item in insertion
    /// order: `kind u8, length u32, bytes, count u64`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(
            Kind::TopK,
            36 + self
                .live()
                .map(|s| 13 + s.item.as_slice().len())
                .sum::<usize>(),
        );
        w.u32(self.k);
        w.u32(self.capacity);
        w.u64(self.seed);
        w.u64(self.total);
        w.u64(self.offset);
        w.u32(self.len() as u32);
        for slot in self.in_insertion_order() {
            w.u8(slot.kind as u8);
            w.u32(slot.item.as_slice().len() as u32);
            w.raw(slot.item.as_slice());
            w.u64(slot.count);
        }
        w.finish()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Kind::TopK)?;
        let k = r.u32("k")?;
        let capacity = r.u32("capacity")?;
        let seed = r.u64("seed")?;
        let total = r.u64("total")?;
        let offset = r.u64("offset")?;
        let n = r.u32("item count")?;
        let mut sketch = TopK::new(u64::from(k), Some(u64::from(capacity)), seed)
            .map_err(|e| SketchError::format(e.to_string()))?;
        check(n <= capacity, || {
            format!("{n} items for a capacity of {capacity}")
        })?;
        // An item takes at least 13 bytes: the input bounds what we allocate.
        check(n as usize <= r.remaining() / 13, || {
            format!("truncated: {n} items cannot fit")
        })?;
        let mut stored = 0u64;
        for i in 0..n {
            let kind = r.u8("item kind")?;
            let kind = ItemKind::from_u8(kind)
                .ok_or_else(|| SketchError::format(format!("item {i}: unknown kind {kind}")))?;
            let len = r.u32("item length")? as usize;
            let item = r.take(len, "an item")?;
            let count = r.u64("item count")?;
            let valid = match kind {
                ItemKind::Str => std::str::from_utf8(item).is_ok(),
                ItemKind::Bytes => true,
                ItemKind::Int | ItemKind::Float => len == 8,
                ItemKind::UInt => len == 8 && item[7] & 0x80 != 0,
            };
            check(valid, || format!("item {i} is not a valid {kind:?}"))?;
            check(count >= 1, || format!("item {i} has a zero count"))?;
            check(sketch.find(item_hash64(item, seed), item).is_none(), || {
                format!("item {i} appears twice")
            })?;
            stored = stored
                .checked_add(count)
                .ok_or_else(|| SketchError::format("counts add up past 2**64 - 1"))?;
            sketch.bump(kind, item, count);
        }
        r.finish()?;
        // The invariant of the summary: counters + (capacity + 1)/2 · offset <= total.
        let bound = u128::from(stored) + u128::from(capacity + 1) * u128::from(offset) / 2;
        check(bound <= u128::from(total), || {
            format!("counts and error bound exceed the total {total}")
        })?;
        sketch.total = total;
        sketch.offset = offset;
        Ok(sketch)
    }
}

impl PartialEq for TopK {
    /// Same parameters, totals, error, and the same items with the same counts in the same order.
    fn eq(&self, other: &Self) -> bool {
        let entries = |s: &TopK| -> Vec<(ItemKind, Vec<u8>, u64)> {
            s.in_insertion_order()
                .into_iter()
                .map(|s| (s.kind, s.item.as_slice().to_vec(), s.count))
                .collect()
        };
        (self.k, self.capacity, self.seed, self.total, self.offset)
            == (
                other.k,
                other.capacity,
                other.seed,
                other.total,
                other.offset,
            )
            && entries(self) == entries(other)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn add_str(t: &mut TopK, s: &str, c: u64) {
        t.add(ItemKind::Str, s.as_bytes(), c).unwrap();
    }

    #[test]
    fn exact_while_under_capacity() {
        let mut t = TopK::new(2, Some(4), 0).unwrap();
        for s in ["a", "b", "a", "c", "b", "a"] {
            add_str(&mut t, s, 1);
        }
        let top: Vec<(&[u8], u64)> = t
            .most_common(None)
            .iter()
            .map(|e| (e.item, e.count))
            .collect();
        assert_eq!(top, vec![(&b"a"[..], 3), (&b"b"[..], 2), (&b"c"[..], 1)]);
        assert_eq!(t.offset(), 0);
        assert_eq!(TopK::from_bytes(&t.to_bytes()).unwrap(), t);
    }

    #[test]
    fn bounds_hold_after_purges_and_merges() {
        let mut parts = [
            TopK::new(4, Some(8), 3).unwrap(),
            TopK::new(4, Some(8), 3).unwrap(),
        ];
        let mut truth = std::collections::HashMap::new();
        let mut x = 12345u64;
        for i in 0..5000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let item = ((x >> 33) % 100).min((x >> 40) % 7 + (i % 3)); // skewed
            *truth.entry(item).or_insert(0u64) += 1;
            parts[(i % 2) as usize]
                .add(ItemKind::Int, &item.to_le_bytes(), 1)
                .unwrap();
        }
        let [mut a, b] = parts;
        a.merge(&b).unwrap();
        assert_eq!(a.total(), 5000);
        assert!(a.offset() <= 2 * 5000 / 9);
        for (&item, &t) in &truth {
            let lower = a.lower(&item.to_le_bytes());
            assert!(
                lower <= t && t <= lower + a.offset(),
                "item {item}: {lower} {t} {}",
                a.offset()
            );
            if t > a.offset() {
                assert!(lower > 0);
            }
        }
        let copy = TopK::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(copy, a);
    }

    #[test]
    fn from_bytes_rejects_bad_input() {
        let mut t = TopK::new(2, Some(4), 0).unwrap();
        add_str(&mut t, "a", 2);
        add_str(&mut t, "b", 1);
        let bytes = t.to_bytes();
        for cut in 0..bytes.len() {
            assert!(TopK::from_bytes(&bytes[..cut]).is_err());
        }
        let mut dup = bytes.clone();
        let b_at = dup.len() - 8 - 1;
        dup[b_at] = b'a';
        assert!(TopK::from_bytes(&dup)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let mut big = bytes.clone();
        big[6 + 16..6 + 24].copy_from_slice(&1u64.to_le_bytes()); // total = 1 < counts
        assert!(TopK::from_bytes(&big).is_err());
    }
}
