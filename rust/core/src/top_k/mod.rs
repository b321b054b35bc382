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
//! given back. The layout is built for heavy-tailed streams, where each item is a lookup that hits
//! or a new item: an open-addressing table maps a hash to a slot, and a slot's hot half (32 bytes:
//! the item's first 16 bytes, its length and its counter) is all a lookup of a short item reads;
//! both the hash and the comparison of short items work on two zero-padded words, without a byte
//! loop or a call to `memcmp`. The hash is the table's own: items are serialized as bytes, so it
//! never leaves the summary. Slots are reused, so in the steady state adding allocates nothing, and
//! a purge is a few linear passes: a histogram for the median, a subtraction, and a rebuild of the
//! small table.

use crate::codec::{check, Kind, Reader, Writer};
use crate::error::{Result, SketchError};
use crate::hash::item_hash64;
use crate::items::{ItemKind, Keys};
use crate::sketch::Counts;
use crate::sketch::Sketch;

/// The most counters a summary may keep.
pub const MAX_CAPACITY: u64 = 1 << 24;

/// Items up to this long are kept, hashed and compared as two words.
const SHORT: usize = 16;

/// An empty table entry; the others are `tag | (slot + 1)`, the tag being high bits of the hash
/// (checked before the item) above the bits a slot index needs.
const EMPTY: u32 = 0;

/// Counters below this are counted in a histogram to find the median; larger ones are selected.
const SMALL: usize = 64;

/// The first `SHORT` bytes of an item, zero-padded, as two little-endian words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    lo: u64,
    hi: u64,
    len: u32,
}

impl Key {
    /// Overlapping reads instead of a byte loop or a `memcpy` call: one branch on the length class.
    #[inline(always)]
    fn new(item: &[u8]) -> Self {
        let n = item.len();
        let word = |at: usize| u64::from_le_bytes(item[at..at + 8].try_into().unwrap_or([0; 8]));
        let half = |at: usize| {
            u64::from(u32::from_le_bytes(
                item[at..at + 4].try_into().unwrap_or([0; 4]),
            ))
        };
        let byte = |at: usize| u64::from(item[at]);
        let (lo, hi) = match n {
            // The last word overlaps the first; shift out the overlap (all of it when n == 8).
            8.. => {
                let last = if n >= SHORT {
                    word(8)
                } else {
                    word(n - 8).checked_shr(8 * (16 - n) as u32).unwrap_or(0)
                };
                (word(0), last)
            }
            // The overlapping bytes are equal, so OR-ing the two halves is exact.
            4..=7 => (half(0) | half(n - 4) << (8 * (n - 4)), 0),
            1..=3 => (
                byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
                0,
            ),
            0 => (0, 0),
        };
        Key {
            lo,
            hi,
            len: n.min(u32::MAX as usize) as u32,
        }
    }
}

/// The high and low halves of a 128-bit product, XOR-ed (as in wyhash and XXH3).
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// SplitMix64's finalizer: spreads a seed into independent-looking words.
fn spread(x: u64) -> u64 {
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A slot's hot half: what a lookup reads.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(32))]
struct Hot {
    /// The item's first `SHORT` bytes, zero-padded (all of a short item).
    bytes: [u8; SHORT],
    /// 0 for a free slot (a tracked item's count is at least 1).
    count: u64,
    len: u32,
}

impl Hot {
    #[inline(always)]
    fn key(&self) -> Key {
        let word =
            |at: usize| u64::from_le_bytes(self.bytes[at..at + 8].try_into().unwrap_or([0; 8]));
        Key {
            lo: word(0),
            hi: word(8),
            len: self.len,
        }
    }
}

/// A mergeable Misra–Gries summary (see the module docs).
#[derive(Clone, Debug)]
pub struct TopK {
    k: u32,
    capacity: u32,
    seed: u64,
    total: u64,
    offset: u64,
    /// The short-item hash's keys, from the seed.
    keys: [u64; 3],
    /// Per slot: the hot half, the item's hash, kind and first-insertion order (ties in
    /// `most_common` keep it, as `collections.Counter` does), and the bytes of an item longer than
    /// `SHORT` (the buffer's capacity is kept for the slot's next item).
    hot: Vec<Hot>,
    hashes: Vec<u64>,
    kinds: Vec<ItemKind>,
    stamps: Vec<u64>,
    long: Vec<Vec<u8>>,
    /// Indices of the free slots.
    free: Vec<u32>,
    /// Linear probing, a power of two at most half full.
    table: Vec<u32>,
    /// The tag bits of a table entry.
    tag_mask: u32,
    live: usize,
    next_stamp: u64,
    scratch: Vec<u64>,
}

/// One tracked item, as `most_common` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The type the item came as.
    pub kind: ItemKind,
    /// Its canonical bytes.
    pub item: &'a [u8],
    /// The lower bound of the item's count.
    pub count: u64,
    /// The upper bound of the item's count, `count + offset`: never below the true count, and
    /// what `most_common` reports.
    pub upper: u64,
}

impl TopK {
    /// An empty summary reporting `k` items and tracking `capacity` (default `8 k`).
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
        let key = |i: u64| spread(seed.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        Ok(TopK {
            k: k as u32,
            capacity: capacity as u32,
            seed,
            total: 0,
            offset: 0,
            keys: [key(1), key(2), key(3)],
            hot: Vec::new(),
            hashes: Vec::new(),
            kinds: Vec::new(),
            stamps: Vec::new(),
            long: Vec::new(),
            free: Vec::new(),
            table: vec![EMPTY; 8],
            // Up to 2·capacity + 1 slots are live between a merge and its purge.
            tag_mask: u32::MAX << (64 - (2 * capacity + 2).leading_zeros()),
            live: 0,
            next_stamp: 0,
            scratch: Vec::new(),
        })
    }

    /// How many items `most_common` reports by default.
    pub fn k(&self) -> u32 {
        self.k
    }
    /// The most items tracked.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }
    /// The seed of the item hash.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The sum of all counts added.
    pub fn total(&self) -> u64 {
        self.total
    }
    /// The summary's error: every count is at most this much below the true count.
    pub fn offset(&self) -> u64 {
        self.offset
    }
    /// How many items are tracked.
    pub fn len(&self) -> usize {
        self.live
    }
    /// Whether no item is tracked.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The slots of the tracked items.
    fn live_slots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.hot.len()).filter(|&i| self.hot[i].count > 0)
    }

    fn bytes(&self, slot: usize) -> &[u8] {
        let hot = &self.hot[slot];
        let len = hot.len as usize;
        if len <= SHORT {
            &hot.bytes[..len]
        } else {
            &self.long[slot]
        }
    }

    /// The table's hash of an item. Internal to the summary (only its table uses it), so short items
    /// get a cheaper one than XXH3: two multiplications of their words with seeded keys.
    #[inline(always)]
    fn hash(&self, key: &Key, item: &[u8]) -> u64 {
        if key.len as usize > SHORT {
            return item_hash64(item, self.seed);
        }
        let [a, b, c] = self.keys;
        fold(
            fold(key.lo ^ a, key.hi ^ b) ^ c,
            u64::from(key.len) ^ a.rotate_left(29),
        )
    }

    #[inline(always)]
    fn tag(&self, hash: u64) -> u32 {
        (hash >> 32) as u32 & self.tag_mask
    }

    /// The table entry of the item with `hash` in `slot` (0 is `EMPTY`).
    #[inline(always)]
    fn table_entry(&self, hash: u64, slot: usize) -> u32 {
        self.tag(hash) | (slot as u32 + 1)
    }

    /// The item's slot, or the empty table position where it would go.
    #[inline(always)]
    fn probe(&self, hash: u64, key: &Key, item: &[u8]) -> std::result::Result<usize, usize> {
        let mask = self.table.len() - 1;
        let tag = self.tag(hash);
        let mut pos = hash as usize & mask;
        loop {
            let entry = self.table[pos];
            if entry == EMPTY {
                return Err(pos);
            }
            if entry & self.tag_mask == tag {
                let slot = (entry & !self.tag_mask) as usize - 1;
                if self.hot[slot].key() == *key
                    && (key.len as usize <= SHORT || self.long[slot] == item)
                {
                    return Ok(slot);
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    fn find(&self, item: &[u8]) -> Option<usize> {
        let key = Key::new(item);
        self.probe(self.hash(&key, item), &key, item).ok()
    }

    fn insert_entry(&mut self, hash: u64, slot: usize) {
        let mask = self.table.len() - 1;
        let mut pos = hash as usize & mask;
        while self.table[pos] != EMPTY {
            pos = (pos + 1) & mask;
        }
        self.table[pos] = self.table_entry(hash, slot);
    }

    /// Refills the table from the live slots, `size` entries.
    fn rebuild_table(&mut self, size: usize) {
        self.table.clear();
        self.table.resize(size, EMPTY);
        for slot in 0..self.hot.len() {
            if self.hot[slot].count > 0 {
                self.insert_entry(self.hashes[slot], slot);
            }
        }
    }

    /// Adds without checking the total (done by the caller) and without purging.
    #[inline(always)]
    fn bump(&mut self, kind: ItemKind, item: &[u8], count: u64) {
        if 2 * (self.live + 1) > self.table.len() {
            self.rebuild_table(2 * self.table.len());
        }
        let key = Key::new(item);
        let hash = self.hash(&key, item);
        let pos = match self.probe(hash, &key, item) {
            Ok(slot) => {
                self.hot[slot].count += count;
                return;
            }
            Err(pos) => pos,
        };
        let mut hot = Hot {
            count,
            len: key.len,
            ..Hot::default()
        };
        hot.bytes[..8].copy_from_slice(&key.lo.to_le_bytes());
        hot.bytes[8..].copy_from_slice(&key.hi.to_le_bytes());
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                let slot = slot as usize;
                self.hot[slot] = hot;
                self.hashes[slot] = hash;
                self.kinds[slot] = kind;
                self.stamps[slot] = stamp;
                slot
            }
            None => {
                self.hot.push(hot);
                self.hashes.push(hash);
                self.kinds.push(kind);
                self.stamps.push(stamp);
                self.long.push(Vec::new());
                self.hot.len() - 1
            }
        };
        if item.len() > SHORT {
            self.long[slot].clear();
            self.long[slot].extend_from_slice(item);
        }
        self.table[pos] = self.table_entry(hash, slot);
        self.live += 1;
    }

    /// The lower median of the live counters: at least half of them are at most it, and at least
    /// half at least it.
    fn median(&mut self) -> u64 {
        let mid = self.live.div_ceil(2) - 1;
        // Most counters of a heavy-tailed stream are small: a histogram finds the median in one pass.
        let mut histogram = [0usize; SMALL];
        for hot in &self.hot {
            histogram[(hot.count as usize).min(SMALL - 1)] += 1;
        }
        let mut below = 0; // live counters below `value`
        for (value, &n) in histogram.iter().enumerate().take(SMALL - 1).skip(1) {
            if below + n > mid {
                return value as u64;
            }
            below += n;
        }
        self.scratch.clear();
        self.scratch.extend(
            self.hot
                .iter()
                .map(|h| h.count)
                .filter(|&c| c >= SMALL as u64 - 1),
        );
        *self.scratch.select_nth_unstable(mid - below).1
    }

    /// Subtracts the median counter from all while there are more than `capacity`.
    #[inline(never)]
    fn purge(&mut self) {
        while self.live > self.capacity as usize {
            let d = self.median();
            self.offset += d;
            // Without branches: whether a counter survives is a coin toss on a heavy-tailed stream.
            for hot in self.hot.iter_mut() {
                hot.count = hot.count.saturating_sub(d);
            }
            self.free.clear();
            self.free.resize(self.hot.len(), 0);
            let mut n = 0;
            for (slot, hot) in self.hot.iter().enumerate() {
                self.free[n] = slot as u32;
                n += usize::from(hot.count == 0);
            }
            self.free.truncate(n);
            self.live = self.hot.len() - n;
            self.rebuild_table(self.table.len());
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
        // The closures are inlined into each kind of batch: a call per item (saving and restoring
        // registers) was a tenth of the work.
        match counts {
            Counts::Each(count) => keys.for_each(
                #[inline(always)]
                |kind, item| self.count(kind, item, count),
            ),
            Counts::PerItem(counts) => {
                let mut counts = counts.iter();
                keys.for_each(
                    #[inline(always)]
                    |kind, item| self.count(kind, item, counts.next().copied().unwrap_or(0)),
                );
            }
        }
        self.total = total;
        Ok(())
    }

    #[inline(always)]
    fn count(&mut self, kind: ItemKind, item: &[u8], count: u64) {
        if count > 0 {
            self.bump(kind, item, count);
            if self.live > self.capacity as usize {
                self.purge();
            }
        }
    }

    /// The lower bound of an item's count (0 if it is not tracked); the true count is in
    /// `[lower, lower + offset]`.
    pub fn lower(&self, item: &[u8]) -> u64 {
        self.find(item).map_or(0, |i| self.hot[i].count)
    }

    /// `(lower, upper)`: the item's true count is in this interval (`upper - lower == offset`).
    pub fn bounds(&self, item: &[u8]) -> (u64, u64) {
        let lower = self.lower(item);
        (lower, lower + self.offset())
    }

    fn entry(&self, slot: usize) -> Entry<'_> {
        let count = self.hot[slot].count;
        Entry {
            kind: self.kinds[slot],
            item: self.bytes(slot),
            count,
            upper: count.saturating_add(self.offset()),
        }
    }

    /// The tracked items, most frequent first, ties in first-insertion order.
    pub fn most_common(&self, n: Option<usize>) -> Vec<Entry<'_>> {
        let mut order: Vec<usize> = self.live_slots().collect();
        order.sort_unstable_by_key(|&i| (std::cmp::Reverse(self.hot[i].count), self.stamps[i]));
        order.truncate(n.unwrap_or(usize::MAX));
        order.into_iter().map(|i| self.entry(i)).collect()
    }

    /// The tracked items in the order they were first inserted.
    fn in_insertion_order(&self) -> Vec<Entry<'_>> {
        let mut order: Vec<usize> = self.live_slots().collect();
        order.sort_unstable_by_key(|&i| self.stamps[i]);
        order.into_iter().map(|i| self.entry(i)).collect()
    }

    /// Adds `other`'s counters and error into `self`: the bounds hold for the union of the streams.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        SketchError::check_same("k", self.k, other.k)?;
        SketchError::check_same("capacity", self.capacity, other.capacity)?;
        SketchError::check_same("seed", self.seed, other.seed)?;
        let total = self.reserve_total(other.total)?;
        let offset = self
            .offset
            .checked_add(other.offset)
            .ok_or_else(|| SketchError::overflow("the merged error bound is past 2**64 - 1"))?;
        for e in other.in_insertion_order() {
            self.bump(e.kind, e.item, e.count);
        }
        self.offset = offset;
        self.total = total;
        self.purge();
        Ok(())
    }

    /// Forgets every item.
    pub fn clear(&mut self) {
        for hot in self.hot.iter_mut() {
            hot.count = 0;
        }
        self.free.clear();
        self.free.extend((0..self.hot.len() as u32).rev());
        self.table.fill(EMPTY);
        self.live = 0;
        self.total = 0;
        self.offset = 0;
        self.next_stamp = 0;
    }

    /// Heap and inline memory, in bytes.
    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.hot.capacity() * std::mem::size_of::<Hot>()
            + (self.hashes.capacity() + self.stamps.capacity()) * 8
            + self.kinds.capacity()
            + self.long.capacity() * std::mem::size_of::<Vec<u8>>()
            + self.long.iter().map(Vec::capacity).sum::<usize>()
            + self.free.capacity() * 4
            + self.table.capacity() * 4
            + self.scratch.capacity() * 8
    }

    /// `k u32, capacity u32, seed u64, total u64, offset u64, n u32`, then per item in insertion
    /// order: `kind u8, length u32, bytes, count u64`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(
            Kind::TopK,
            36 + self
                .live_slots()
                .map(|i| 13 + self.bytes(i).len())
                .sum::<usize>(),
        );
        w.u32(self.k);
        w.u32(self.capacity);
        w.u64(self.seed);
        w.u64(self.total);
        w.u64(self.offset);
        w.u32(self.len() as u32);
        for e in self.in_insertion_order() {
            w.u8(e.kind as u8);
            w.u32(e.item.len() as u32);
            w.raw(e.item);
            w.u64(e.count);
        }
        w.finish()
    }

    #[deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )]
    /// The summary `to_bytes` wrote; `InvalidFormat` for any other bytes.
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
                ItemKind::UInt => len == 8 && item.last().is_some_and(|b| b & 0x80 != 0),
            };
            check(valid, || format!("item {i} is not a valid {kind:?}"))?;
            check(count >= 1, || format!("item {i} has a zero count"))?;
            check(sketch.find(item).is_none(), || {
                format!("item {i} appears twice")
            })?;
            stored = stored
                .checked_add(count)
                .ok_or_else(|| SketchError::format("counts add up past 2**64 - 1"))?;
            sketch.bump(kind, item, count);
        }
        r.finish()?;
        // Every purge takes at least the offset it adds from the counters (its median counter is
        // dropped): counters + offset <= total. (Our own purges keep the stronger
        // counters + (capacity + 1)/2 · offset <= total; a summary read from DataSketches only this.)
        check(
            stored.checked_add(offset).is_some_and(|sum| sum <= total),
            || format!("counts and error bound exceed the total {total}"),
        )?;
        sketch.total = total;
        sketch.offset = offset;
        Ok(sketch)
    }
}

mod datasketches;
pub use datasketches::DsItems;

impl Sketch for TopK {
    fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
        TopK::update(self, keys, counts)
    }
    fn merge(&mut self, other: &Self) -> Result<()> {
        TopK::merge(self, other)
    }
    fn to_bytes(&self) -> Vec<u8> {
        TopK::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        TopK::from_bytes(bytes)
    }
    fn memory_size(&self) -> usize {
        TopK::memory_size(self)
    }
    fn clear(&mut self) {
        TopK::clear(self)
    }
    /// Counting an item costs about what reading it from a list does.
    fn item_cost(&self) -> crate::parallel::Cost {
        crate::parallel::Cost(100)
    }
    /// Past its capacity a summary's counts depend on the order of the items.
    fn merge_is_ordered(&self) -> bool {
        true
    }
}

impl PartialEq for TopK {
    /// Same parameters, totals, error, and the same items with the same counts in the same order.
    fn eq(&self, other: &Self) -> bool {
        let entries = |s: &TopK| -> Vec<(ItemKind, Vec<u8>, u64)> {
            s.in_insertion_order()
                .into_iter()
                .map(|e| (e.kind, e.item.to_vec(), e.count))
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
mod tests;
