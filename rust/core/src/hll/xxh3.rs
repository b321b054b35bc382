//! HyperLogLog: the number of distinct items of a stream in `2**precision` small registers.
//!
//! Each item's 64-bit XXH3 hash gives a register index (its top `p` bits) and a rank (one plus the
//! number of leading zeros of the other `64 - p` bits); a register keeps the largest rank it saw
//! (Flajolet, Fusy, Gandouet and Meunier, 2007). Index and rank come from disjoint bits, so a sketch
//! can be reduced to a lower precision exactly: the result equals, register for register, the sketch
//! built at that precision directly.
//!
//! - While small, the sketch is **sparse**: a sorted list of `(index, rank)` at precision 25, four
//!   bytes per distinct hash, with a near-exact linear-counting estimate (hash collisions at 2**25
//!   are rare). It turns dense when the list would outgrow the dense registers (`2**p / 4` entries).
//! - A sketch built from one stream uses the **HIP** (historic inverse probability, martingale)
//!   estimator: each register change adds `1/q`, `q` the probability that a new item changes a
//!   register (Cohen 2015; Ting 2014), with relative error about `0.83/√m` instead of `1.04/√m`.
//!   It starts, at the switch to dense, from the sparse estimate, so the switch does not show.
//!   The variance of each step, `(1 - q)/q²`, is summed too: `estimate_bounds` uses it.
//! - After merging dense sketches the history is lost; the estimate is then Ertl's improved raw
//!   estimator (Ertl 2017), free of the 2007 estimator's mid-range bias and of empirical tables.
//!   Merging two sparse sketches stays exact, and keeps HIP.

use super::estimate::ertl_estimate;
use crate::error::{Result, SketchError};
use crate::float::pow2;
use crate::hash::{item_hash64, Xxh3x64};
use crate::items::Keys;
use crate::parallel;

/// The smallest precision.
pub const MIN_PRECISION: u8 = 4;
/// The largest precision.
pub const MAX_PRECISION: u8 = 18;
/// Items per thread below which a dense batch stays on one thread.
const PARALLEL_MIN: usize = 1 << 17;
/// The first and the largest chunk of a dense batch shared between threads: chunks double from the
/// first (registers rise fastest early on) to the largest (fewer rounds of thread hand-offs: 10M
/// int64 took 13.6 ms in chunks of 256K, 11.5 ms in chunks of 2M).
const FIRST_CHUNK: usize = 1 << 15;
const MAX_CHUNK: usize = 1 << 21;

/// Items hashed at a time while the sketch is sparse.
const SPARSE_CHUNK: usize = 4096;

/// The entries of `chunk` with one per index (the largest rank), sorted, into `out`: through a small
/// open-addressing table (`table`, reused), so that only distinct entries are sorted.
fn distinct_entries(chunk: &[u32], table: &mut Vec<u32>, out: &mut Vec<u32>) {
    const EMPTY: u32 = u32::MAX; // never an entry: index < 2**25, rank < 64
    let bits = (2 * chunk.len())
        .max(16)
        .next_power_of_two()
        .trailing_zeros();
    table.clear();
    table.resize(1 << bits, EMPTY);
    let mask = (1usize << bits) - 1;
    for &e in chunk {
        let mut slot = ((e >> 6).wrapping_mul(0x9e37_79b1) >> (32 - bits)) as usize;
        loop {
            let t = table[slot];
            if t == EMPTY {
                table[slot] = e;
                break;
            }
            if t >> 6 == e >> 6 {
                table[slot] = t.max(e);
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    out.clear();
    out.extend(table.iter().copied().filter(|&t| t != EMPTY));
    out.sort_unstable();
}

/// The precision of sparse entries.
const SPARSE_P: u32 = 25;
/// The largest rank at the sparse precision: 64 - 25 + 1.
const SPARSE_MAX_RANK: u32 = 64 - SPARSE_P + 1;

#[derive(Clone, Debug, PartialEq)]
enum Registers {
    /// Entries `index25 << 6 | rank25`, sorted, one per index (the largest rank).
    Sparse(Vec<u32>),
    /// One rank per register.
    Dense(Vec<u8>),
}

/// The state of the HIP estimator; `None` once dense sketches have been merged.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Hip {
    estimate: f64,
    variance: f64,
}

/// sketchy's own HyperLogLog (see the module docs).
#[derive(Clone, Debug)]
pub struct Xxh3Hll {
    p: u8,
    seed: u64,
    registers: Registers,
    hip: Option<Hip>,
    /// `Σ 2**(max_rank - register)` over the dense registers: exact, so that the probability of a
    /// register change, `kxq / (m · 2**max_rank)`, never drifts.
    kxq: u128,
}

#[inline(always)]
fn rank_at(hash: u64, p: u32) -> u32 {
    let w = hash << p;
    if w == 0 {
        64 - p + 1
    } else {
        w.leading_zeros() + 1
    }
}

#[inline(always)]
fn sparse_entry(hash: u64) -> u32 {
    let index = (hash >> (64 - SPARSE_P)) as u32;
    (index << 6) | rank_at(hash, SPARSE_P)
}

/// A sparse entry seen at precision `p`: `(index, rank)`.
#[inline(always)]
fn entry_at(entry: u32, p: u32) -> (usize, u8) {
    let index25 = entry >> 6;
    let rank25 = entry & 63;
    let extra = SPARSE_P - p;
    let low = index25 & ((1 << extra) - 1);
    let rank = if low == 0 {
        extra + rank25
    } else {
        extra - (32 - low.leading_zeros()) + 1
    };
    ((index25 >> extra) as usize, rank as u8)
}

impl Xxh3Hll {
    /// An empty sketch of `2**precision` registers.
    pub fn new(precision: i64, seed: u64) -> Result<Self> {
        if !(i64::from(MIN_PRECISION)..=i64::from(MAX_PRECISION)).contains(&precision) {
            return Err(SketchError::parameter(
                "precision",
                format!("must be in [{MIN_PRECISION}, {MAX_PRECISION}], got {precision}"),
            ));
        }
        Ok(Xxh3Hll {
            p: precision as u8,
            seed,
            registers: Registers::Sparse(Vec::new()),
            hip: Some(Hip {
                estimate: 0.0,
                variance: 0.0,
            }),
            kxq: 0,
        })
    }

    /// The precision `p`: `2**p` registers.
    pub fn precision(&self) -> u8 {
        self.p
    }
    /// The seed of the item hash.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The number of registers, `m = 2**precision`.
    pub fn m(&self) -> usize {
        1 << self.p
    }
    /// Whether it still keeps its hashes.
    pub fn is_sparse(&self) -> bool {
        matches!(self.registers, Registers::Sparse(_))
    }
    /// Whether the estimate comes from HIP (one stream) rather than the merged estimator.
    pub fn uses_hip(&self) -> bool {
        self.hip.is_some()
    }
    fn max_rank(&self) -> u32 {
        64 - u32::from(self.p) + 1
    }
    fn sparse_limit(&self) -> usize {
        self.m() / 4
    }

    /// The standard error of a (merged) HyperLogLog, `1.04 / √m`.
    pub fn relative_error(&self) -> f64 {
        1.04 / (self.m() as f64).sqrt()
    }

    /// The hash of an item's canonical bytes with this sketch's seed.
    #[inline(always)]
    pub fn hash(&self, item: &[u8]) -> u64 {
        item_hash64(item, self.seed)
    }

    /// Adds one item.
    pub fn add(&mut self, item: &[u8]) {
        self.add_hash(self.hash(item));
    }

    /// Adds an item by its hash ([`Xxh3Hll::hash`]).
    #[inline]
    pub fn add_hash(&mut self, hash: u64) {
        match &mut self.registers {
            Registers::Dense(registers) => {
                Self::add_dense(self.p, registers, &mut self.hip, &mut self.kxq, hash);
            }
            Registers::Sparse(entries) => {
                let entry = sparse_entry(hash);
                let index = entry >> 6;
                match entries.binary_search_by_key(&index, |e| e >> 6) {
                    Ok(at) => entries[at] = entries[at].max(entry),
                    Err(at) => {
                        entries.insert(at, entry);
                        if entries.len() > self.sparse_limit() {
                            self.densify();
                        }
                    }
                }
            }
        }
    }

    /// The dense update: raise the item's register to its rank, with the HIP step if it changes.
    #[inline(always)]
    fn add_dense(p: u8, registers: &mut [u8], hip: &mut Option<Hip>, kxq: &mut u128, hash: u64) {
        let p = u32::from(p);
        let index = (hash >> (64 - p)) as usize;
        let rank = rank_at(hash, p) as u8;
        let old = registers[index];
        if rank > old {
            registers[index] = rank;
            Self::register_changed(p, hip, kxq, old, rank);
        }
    }

    /// The HIP step for a register raised from `old` to `new` (rare once the sketch has filled up).
    #[inline(never)]
    fn register_changed(p: u32, hip: &mut Option<Hip>, kxq: &mut u128, old: u8, new: u8) {
        let max_rank = 64 - p + 1;
        if let Some(hip) = hip {
            // q = kxq / (m · 2**max_rank): the scale is a power of two, so the product is exact.
            let q = u128_to_f64(*kxq) * pow2(-((max_rank + p) as i32));
            let inverse = 1.0 / q;
            hip.estimate += inverse;
            hip.variance += (1.0 - q) * inverse * inverse;
        }
        *kxq =
            *kxq - (1u128 << (max_rank - u32::from(old))) + (1u128 << (max_rank - u32::from(new)));
    }

    /// The hash of each item as [`Xxh3Hll::update`] adds it, on all cores.
    pub fn hashes(&self, keys: &Keys) -> Vec<u64> {
        let mut out = Vec::new();
        crate::hash::kernels::append(keys, &mut out, &Xxh3x64::new(self.seed));
        out
    }

    /// Adds the items `hashes` gave, in order: the same as [`Xxh3Hll::update`] with them.
    pub fn update_hashes(&mut self, hashes: &[u64]) {
        let done = self.fill_sparse(hashes.len(), |range, f| {
            hashes[range].iter().for_each(|&h| f(h))
        });
        let p = self.p;
        let Registers::Dense(registers) = &mut self.registers else {
            return;
        };
        let (hip, kxq) = (&mut self.hip, &mut self.kxq);
        for &h in &hashes[done..] {
            Self::add_dense(p, registers, hip, kxq, h);
        }
    }

    /// Adds a batch of items.
    pub fn update(&mut self, keys: &Keys) {
        let seed = self.seed;
        let hash = Xxh3x64::new(seed);
        let done = self.fill_sparse(keys.len(), |range, f| {
            keys.sub(range).for_each_hash(&hash, f)
        });
        let p = self.p;
        let Registers::Dense(registers) = &mut self.registers else {
            return;
        };
        let (hip, kxq) = (&mut self.hip, &mut self.kxq);
        let rest = keys.sub(done..keys.len());
        let plan = parallel::plan(rest.len(), PARALLEL_MIN);
        if plan.threads < 2 {
            rest.for_each_hash(
                &hash,
                #[inline(always)]
                |h| Self::add_dense(p, registers, hip, kxq, h),
            );
            return;
        }
        // Each chunk plans its own threads.
        drop(plan);

        // A large batch, a chunk at a time: all threads hash their share of the chunk and keep only
        // the items that can raise a register, those whose rank is above the register as it was
        // before the chunk (registers only grow, so the others cannot change it within the chunk
        // either); this thread then applies the kept items in order. Registers and HIP (which
        // depends on the order) come out exactly as from one thread, and once the registers fill
        // up, nearly every item is dropped on the other threads.
        let mut mine = Vec::new();
        // Small chunks first: while the registers are low, most items are kept, and the sooner
        // the registers are raised the more the next chunks drop.
        let mut size = FIRST_CHUNK;
        let mut start = 0;
        while start < rest.len() {
            let chunk = rest.sub(start..(start + size).min(rest.len()));
            start += chunk.len();
            size = (size * 2).min(MAX_CHUNK);
            let before: &[u8] = registers;
            let (p32, before) = (u32::from(p), &before[..1 << p]);
            // The rank without a branch: a sentinel bit below the shifted hash caps its leading
            // zeros at 64 - p, the rank of a hash whose remaining bits are all zero (see `rank_at`).
            let sentinel = 1u64 << (p32 - 1);
            // Each thread also raises a copy of the registers with the items it keeps: an item of its
            // share whose rank an earlier item of the same share already reached cannot raise the
            // register either when the items are applied in order.
            let keep = |keys: &Keys, out: &mut Vec<u64>| {
                let mut seen = before.to_vec();
                keys.for_each_hash(&hash, |h| {
                    let rank = ((h << p32) | sentinel).leading_zeros() as u8 + 1;
                    let index = (h >> (64 - p32)) as usize;
                    if rank > seen[index] {
                        seen[index] = rank;
                        out.push(h);
                    }
                })
            };
            mine.clear();
            // Planned again for each chunk: batches on other threads may have started or ended.
            let chunk_plan = parallel::plan(chunk.len(), FIRST_CHUNK / 2);
            let ((), others) = parallel::for_each_share(
                chunk.len(),
                chunk_plan.threads,
                |range| keep(&chunk.sub(range), &mut mine),
                |_, range| {
                    let mut kept = Vec::new();
                    keep(&chunk.sub(range), &mut kept);
                    kept
                },
            );
            for &h in mine.iter().chain(others.iter().flatten()) {
                Self::add_dense(p, registers, hip, kxq, h);
            }
        }
    }

    /// Adds the first of `n` hashes, produced range by range by `hashes(range, sink)`, while the
    /// sketch is sparse; returns how many it took. Hashes are taken a chunk at a time, sorted and
    /// merged into the entries at once (inserting one by one shifts the list each time). In the chunk
    /// that would take the entries past their limit, the item that does is found first: the chunk is
    /// merged up to it and the sketch turns dense there, at exactly the item where `add` would turn it
    /// (the HIP estimate starts there).
    fn fill_sparse(
        &mut self,
        n: usize,
        mut hashes: impl FnMut(std::ops::Range<usize>, &mut dyn FnMut(u64)),
    ) -> usize {
        let mut done = 0;
        let mut chunk = Vec::new();
        let (mut sorted, mut table) = (Vec::new(), Vec::new());
        let limit = self.sparse_limit();
        while done < n {
            let Registers::Sparse(entries) = &self.registers else {
                break;
            };
            let room = limit - entries.len();
            // At least a few thousand items per chunk: a stream with many repeats adds few entries
            // per chunk, and each merge costs a pass over the entries.
            let end = (done + room.max(SPARSE_CHUNK)).min(n);
            chunk.clear();
            hashes(done..end, &mut |h| chunk.push(sparse_entry(h)));
            // The usual case: the whole chunk fits. Its distinct entries (a stream repeats itself:
            // often a small part of the chunk) are sorted and merged.
            distinct_entries(&chunk, &mut table, &mut sorted);
            let merged = Self::merged_entries(entries, &sorted);
            if merged.len() <= limit {
                self.registers = Registers::Sparse(merged);
                done = end;
                continue;
            }
            // The chunk takes the entries past their limit: the item that makes `room + 1` new
            // entries is the switch. Merge up to it, and turn dense.
            let mut new_indices = std::collections::HashSet::new();
            let known = |index: u32| entries.binary_search_by_key(&index, |e| e >> 6).is_ok();
            let take = chunk
                .iter()
                .position(|&e| {
                    !known(e >> 6) && new_indices.insert(e >> 6) && new_indices.len() > room
                })
                .map_or(chunk.len(), |i| i + 1);
            chunk.truncate(take);
            chunk.sort_unstable();
            let merged = Self::merged_entries(entries, &chunk);
            self.registers = Registers::Sparse(merged);
            done += take;
            self.densify();
        }
        done
    }

    /// The sparse entries `entries` and `sorted` (sorted too) together: one per index, the largest
    /// rank.
    fn merged_entries(entries: &[u32], sorted: &[u32]) -> Vec<u32> {
        let mut merged: Vec<u32> = Vec::with_capacity(entries.len() + sorted.len());
        let (mut i, mut j) = (0, 0);
        while i < entries.len() || j < sorted.len() {
            let take_chunk = match (entries.get(i), sorted.get(j)) {
                (Some(&a), Some(&b)) => b >> 6 < a >> 6 || (b >> 6 == a >> 6 && b > a),
                (None, Some(_)) => true,
                _ => false,
            };
            let e = if take_chunk {
                j += 1;
                sorted[j - 1]
            } else {
                i += 1;
                entries[i - 1]
            };
            // Sorted input: one entry per index, the largest rank (which comes last).
            match merged.last_mut() {
                Some(last) if *last >> 6 == e >> 6 => *last = (*last).max(e),
                _ => merged.push(e),
            }
        }
        merged
    }

    /// The linear-counting estimate of the sparse entries, at precision 25.
    fn sparse_estimate(entries: &[u32]) -> f64 {
        let m = (1u64 << SPARSE_P) as f64;
        let k = entries.len() as f64;
        m * (m / (m - k)).ln()
    }

    /// Turns the sparse entries into dense registers; HIP starts from the (near exact) sparse estimate.
    fn densify(&mut self) {
        let Registers::Sparse(entries) = &self.registers else {
            return;
        };
        let p = u32::from(self.p);
        let mut registers = vec![0u8; 1 << p];
        for &e in entries {
            let (index, rank) = entry_at(e, p);
            registers[index] = registers[index].max(rank);
        }
        let start = Self::sparse_estimate(entries);
        self.kxq = Self::kxq_of(&registers, self.max_rank());
        if let Some(hip) = &mut self.hip {
            hip.estimate = start;
            // The linear-counting variance at precision 25: m(e^t - t - 1), t = n/m.
            let m = (1u64 << SPARSE_P) as f64;
            let t = start / m;
            hip.variance = m * (t.exp() - t - 1.0);
        }
        self.registers = Registers::Dense(registers);
    }

    fn kxq_of(registers: &[u8], max_rank: u32) -> u128 {
        registers
            .iter()
            .map(|&r| 1u128 << (max_rank - u32::from(r)))
            .sum()
    }

    /// The estimated number of distinct items.
    pub fn estimate(&self) -> f64 {
        match (&self.registers, &self.hip) {
            (Registers::Sparse(entries), _) => Self::sparse_estimate(entries),
            (Registers::Dense(_), Some(hip)) => hip.estimate,
            (Registers::Dense(registers), None) => ertl_estimate(registers, u32::from(self.p)),
        }
    }

    /// The standard deviation of the estimate: tracked by HIP, `1.04/√m · estimate` after merges.
    pub fn standard_error(&self) -> f64 {
        match (&self.registers, &self.hip) {
            (Registers::Sparse(entries), _) => {
                let m = (1u64 << SPARSE_P) as f64;
                let t = Self::sparse_estimate(entries) / m;
                (m * (t.exp() - t - 1.0)).max(0.0).sqrt()
            }
            (Registers::Dense(_), Some(hip)) => hip.variance.sqrt(),
            (Registers::Dense(_), None) => self.relative_error() * self.estimate(),
        }
    }

    /// `(low, high)`: the estimate ± `num_std` standard errors (1, 2 or 3: about 68%, 95% and
    /// 99.7% of sketches cover the true count), the low end at least 0.
    pub fn estimate_bounds(&self, num_std: i64) -> Result<(f64, f64)> {
        if !(1..=3).contains(&num_std) {
            return Err(SketchError::parameter(
                "num_std",
                format!("num_std must be 1, 2 or 3, got {num_std}"),
            ));
        }
        let estimate = self.estimate();
        let spread = num_std as f64 * self.standard_error();
        Ok(((estimate - spread).max(0.0), estimate + spread))
    }

    /// The registers at this precision (sparse entries expanded).
    pub fn dense_registers(&self) -> Vec<u8> {
        match &self.registers {
            Registers::Dense(r) => r.clone(),
            Registers::Sparse(entries) => {
                let p = u32::from(self.p);
                let mut registers = vec![0u8; 1 << p];
                for &e in entries {
                    let (index, rank) = entry_at(e, p);
                    registers[index] = registers[index].max(rank);
                }
                registers
            }
        }
    }

    /// Reduces the sketch to a lower precision, exactly as if built there.
    pub fn reduce(&mut self, precision: u8) -> Result<()> {
        if precision > self.p || precision < MIN_PRECISION {
            return Err(SketchError::parameter(
                "precision",
                format!(
                    "can only reduce to a precision in [{MIN_PRECISION}, {}], got {precision}",
                    self.p
                ),
            ));
        }
        if precision == self.p {
            return Ok(());
        }
        let (from, to) = (u32::from(self.p), u32::from(precision));
        self.p = precision;
        match &mut self.registers {
            Registers::Sparse(entries) => {
                // Entries are at precision 25 whatever the sketch's: only the limit changes.
                if entries.len() > self.m() / 4 {
                    self.densify();
                }
            }
            Registers::Dense(registers) => {
                let extra = from - to;
                let mut reduced = vec![0u8; 1 << to];
                for (i, &r) in registers.iter().enumerate() {
                    if r == 0 {
                        continue;
                    }
                    let low = (i as u32) & ((1 << extra) - 1);
                    let rank = if low == 0 {
                        extra + u32::from(r)
                    } else {
                        extra - (32 - low.leading_zeros()) + 1
                    };
                    let j = i >> extra;
                    reduced[j] = reduced[j].max(rank as u8);
                }
                self.kxq = Self::kxq_of(&reduced, self.max_rank());
                self.registers = Registers::Dense(reduced);
                self.hip = None; // the history at the old precision says nothing at the new one
            }
        }
        Ok(())
    }

    /// Adds `other`'s items into `self` (seeds must agree). The result has the lower of the two
    /// precisions: equal, register for register, to a sketch built at that precision directly.
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        SketchError::check_same("seed", self.seed, other.seed)?;
        let p = self.p.min(other.p);
        self.reduce(p)?;
        match (&mut self.registers, &other.registers) {
            (Registers::Sparse(mine), Registers::Sparse(theirs)) => {
                // A union of near-exact lists stays near exact: HIP carries on after densifying.
                let mut union = Vec::with_capacity(mine.len() + theirs.len());
                let (mut i, mut j) = (0, 0);
                while i < mine.len() || j < theirs.len() {
                    let a = mine.get(i).map(|e| e >> 6);
                    let b = theirs.get(j).map(|e| e >> 6);
                    match (a, b) {
                        (Some(x), Some(y)) if x == y => {
                            union.push(mine[i].max(theirs[j]));
                            i += 1;
                            j += 1;
                        }
                        (Some(x), Some(y)) if x < y => {
                            union.push(mine[i]);
                            i += 1;
                        }
                        (Some(_), None) => {
                            union.push(mine[i]);
                            i += 1;
                        }
                        _ => {
                            union.push(theirs[j]);
                            j += 1;
                        }
                    }
                }
                *mine = union;
                if mine.len() > self.sparse_limit() {
                    self.densify();
                }
            }
            _ => {
                let mut registers = self.dense_registers();
                let mut theirs = other.clone();
                theirs.reduce(p)?;
                for (a, b) in registers.iter_mut().zip(theirs.dense_registers()) {
                    *a = (*a).max(b);
                }
                self.kxq = Self::kxq_of(&registers, self.max_rank());
                self.registers = Registers::Dense(registers);
                self.hip = None;
            }
        }
        Ok(())
    }

    /// Forgets every item.
    pub fn clear(&mut self) {
        self.registers = Registers::Sparse(Vec::new());
        self.hip = Some(Hip {
            estimate: 0.0,
            variance: 0.0,
        });
        self.kxq = 0;
    }

    /// Heap and inline memory, in bytes.
    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.registers {
                Registers::Sparse(e) => e.capacity() * 4,
                Registers::Dense(r) => r.capacity(),
            }
    }
}

impl PartialEq for Xxh3Hll {
    /// Same precision, seed and registers (not the estimator's history).
    fn eq(&self, other: &Self) -> bool {
        self.p == other.p && self.seed == other.seed && self.registers == other.registers
    }
}

/// `x` as f64 from its two 64-bit halves (cheaper than the u128 conversion routine, and the same
/// result every time, which is all HIP's determinism needs).
#[inline(always)]
fn u128_to_f64(x: u128) -> f64 {
    ((x >> 64) as u64 as f64) * 18_446_744_073_709_551_616.0 + (x as u64 as f64)
}

#[path = "xxh3_bytes.rs"]
mod bytes;

#[cfg(test)]
#[path = "xxh3_tests.rs"]
mod tests;
