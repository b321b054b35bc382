//! Sketches per group, in one pass: what `GROUP BY key` with an approximate aggregate gives, but
//! keeping each group's sketch (to merge with tomorrow's, to export as an image).
//!
//! [`Groups::of`] numbers the groups of a key column in first-seen order (one hash table lookup a
//! row). [`group_sketches`] then moves each group's values together in one stable counting sort,
//! reading the values once in order and writing each group's run (a scatter, not a gather: the
//! input is never read at random), and builds every group's sketch from its run, the groups shared
//! between threads by rows. A group's rows keep their order, so its sketch is the one built from
//! its rows alone, whatever the number of threads.

use hashbrown::HashTable;

use crate::error::{Result, SketchError};
use crate::items::keys::scatter_slice;
use crate::items::{word_of, ItemKind, KeyBuffer, Keys};
use crate::parallel;
use crate::sketch::{Counts, Sketch};

/// The groups of a key column: each row's group, numbered in first-seen order, and each group's key.
#[derive(Debug, Default)]
pub struct Groups {
    /// The group of each row.
    pub ids: Vec<u32>,
    /// Each group's key, in group order.
    pub keys: KeyBuffer,
}

/// Where groups are found by key: numbers by their word, held in the table itself (a probe reads
/// nothing else); other keys by their hash, held beside the group's number (a probe reads the
/// group's key only on a hash match).
enum Table {
    Words(HashTable<(u64, u32, ItemKind)>),
    Items(HashTable<(u64, u32)>),
}

/// The hash an item key is found by: its canonical bytes', told apart by kind (the int 1 and the
/// str "\x01\0\0\0\0\0\0\0" are two groups).
#[inline(always)]
fn key_hash(kind: ItemKind, bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(bytes, kind as u64)
}

/// The hash a number key is found by: a multiply, its high bits folded into the low ones (the
/// table's buckets) as well as the top ones (its tags).
#[inline(always)]
fn word_hash(word: u64, kind: ItemKind) -> u64 {
    let h = (word ^ (kind as u64) << 59).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

impl Table {
    fn for_keys(keys: &Keys) -> Table {
        if keys.is_numbers() {
            Table::Words(HashTable::new())
        } else {
            Table::Items(HashTable::new())
        }
    }

    /// The group of a key, a new one (its key appended to `groups`) if it has none yet.
    #[inline(always)]
    fn group(&mut self, groups: &mut KeyBuffer, kind: ItemKind, bytes: &[u8]) -> u32 {
        match self {
            Table::Words(table) => {
                let word = word_of(bytes);
                table
                    .entry(
                        word_hash(word, kind),
                        |&(w, _, k)| w == word && k == kind,
                        |&(w, _, k)| word_hash(w, k),
                    )
                    .or_insert_with(|| {
                        groups.push(kind, bytes);
                        (word, (groups.len() - 1) as u32, kind)
                    })
                    .get()
                    .1
            }
            Table::Items(table) => {
                let hash = key_hash(kind, bytes);
                table
                    .entry(
                        hash,
                        |&(h, g)| {
                            let (k, b) = groups.item(g as usize);
                            h == hash && k == kind && same_bytes(b, bytes)
                        },
                        |&(h, _)| h,
                    )
                    .or_insert_with(|| {
                        groups.push(kind, bytes);
                        (hash, (groups.len() - 1) as u32)
                    })
                    .get()
                    .1
            }
        }
    }
}

impl Groups {
    /// Numbers the groups of `keys`, in the order their first rows come. A long column is shared
    /// between threads: each numbers the groups of its rows, then the later shares' groups are
    /// found in (or added to) the first's, in their order, which keeps the first-seen order.
    pub fn of(keys: &Keys) -> Result<Groups> {
        let n = keys.len();
        if n > u32::MAX as usize {
            return Err(SketchError::parameter(
                "keys",
                format!("{n} rows: at most 2**32 - 1 in one call"),
            ));
        }
        let plan = parallel::plan(n, PARALLEL_MIN_ROWS);
        let local = |rows: std::ops::Range<usize>| {
            let mut groups = Groups {
                ids: Vec::with_capacity(rows.len()),
                keys: KeyBuffer::default(),
            };
            let mut table = Table::for_keys(keys);
            keys.sub(rows).for_each(|kind, bytes| {
                let id = table.group(&mut groups.keys, kind, bytes);
                groups.ids.push(id);
            });
            (groups, table)
        };
        let ((mut groups, mut table), others) =
            parallel::for_each_share(n, plan.threads, local, |_, rows| local(rows).0);
        for other in others {
            let ids: Vec<u32> = (0..other.len())
                .map(|g| {
                    let (kind, bytes) = other.keys.item(g);
                    table.group(&mut groups.keys, kind, bytes)
                })
                .collect();
            groups
                .ids
                .extend(other.ids.iter().map(|&g| ids[g as usize]));
        }
        Ok(groups)
    }

    /// The number of groups.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no group (no row).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Whether two keys' bytes are the same: up to 32 bytes with two overlapping loads of the widest
/// word that fits (no `memcmp` call for the usual short key), longer ones with `==`.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn two<const N: usize>(s: &[u8]) -> ([u8; N], [u8; N]) {
        let word = |at: usize| <[u8; N]>::try_from(&s[at..at + N]).unwrap_or([0; N]);
        (word(0), word(s.len() - N))
    }
    let n = a.len();
    n == b.len()
        && match n {
            0 => true,
            1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
            4..=7 => two::<4>(a) == two::<4>(b),
            8..=15 => two::<8>(a) == two::<8>(b),
            16..=32 => two::<16>(a) == two::<16>(b),
            _ => a == b,
        }
}

/// Groups whose runs add up to fewer rows than this stay on one thread.
const PARALLEL_MIN_ROWS: usize = 1 << 15;

/// One sketch per group, in group order: a copy of `template` (which must be empty) with the rows
/// of `values` in that group, in their order. `values` holds one item per row of `groups`;
/// nothing is returned but an error when an update fails (a value the sketch does not take).
pub fn group_sketches<S: Sketch>(groups: &Groups, values: &Keys, template: &S) -> Result<Vec<S>> {
    if values.len() != groups.ids.len() {
        return Err(SketchError::parameter(
            "values",
            format!(
                "{} values for {} keys: give one value per key",
                values.len(),
                groups.ids.len()
            ),
        ));
    }
    if *template != template.empty_like() {
        return Err(SketchError::parameter(
            "template",
            "must be an empty sketch: every group's sketch starts as a copy of it",
        ));
    }
    let mut starts = vec![0usize; groups.len() + 1];
    for &g in &groups.ids {
        starts[g as usize + 1] += 1;
    }
    for g in 0..groups.len() {
        starts[g + 1] += starts[g];
    }
    // A sketch that sees only a fixed-width form of its items (hashes) gets its groups' runs of
    // those; the others their runs of items.
    let sorted = match template.rows(values) {
        Some(rows) => Sorted::Rows(scatter_slice(&rows, &groups.ids, &starts)),
        None => Sorted::Items(values.scatter(&groups.ids, &starts)),
    };
    let items = match &sorted {
        Sorted::Items(items) => items.keys(),
        Sorted::Rows(_) => Keys::U64(&[]),
    };
    let build = |rows: std::ops::Range<usize>| -> Result<Vec<S>> {
        // The groups whose runs start in `rows`.
        let first = starts.partition_point(|&s| s < rows.start);
        let end = starts[..groups.len()].partition_point(|&s| s < rows.end);
        (first..end.max(first))
            .map(|g| {
                let mut sketch = template.clone();
                let run = starts[g]..starts[g + 1];
                match &sorted {
                    Sorted::Rows(r) => sketch.update_rows(&r[run])?,
                    Sorted::Items(_) => sketch.update(&items.sub(run), Counts::Each(1))?,
                }
                Ok(sketch)
            })
            .collect()
    };
    let plan = parallel::plan(values.len(), PARALLEL_MIN_ROWS);
    let (mine, others) =
        parallel::for_each_share(values.len(), plan.threads, build, |_, rows| build(rows));
    let mut sketches = mine?;
    for part in others {
        sketches.extend(part?);
    }
    Ok(sketches)
}

/// The values in group order: their fixed-width rows, or the items.
enum Sorted {
    Rows(Vec<u64>),
    Items(crate::items::OwnedKeys),
}

#[cfg(test)]
mod tests;
