//! KLL: quantiles with an additive rank error (Karnin, Lang and Liberty, "Optimal Quantile
//! Approximation in Streams", FOCS 2016), as Apache DataSketches implements it, so that its images
//! (`kll_doubles_sketch`) can be written and read.
//!
//! Level `h` holds items of weight `2**h`; its capacity is `max(8, round(k (2/3)**d))` at depth `d`
//! below the top. When the whole buffer is full, the lowest level at or over its capacity is
//! sorted and halved: one item of each adjacent pair moves up. Which one is a random bit drawn from
//! the sketch's own generator, seeded by `seed`: the same stream and seed give the same sketch.
//! Items are kept as order-preserving integers (the bits of the float, flipped by sign), so that
//! sorting is an integer sort.

use crate::codec::{check, Kind, Reader, Writer};
use crate::error::{Result, SketchError};
use crate::items::Keys;
use crate::quantiles::ddsketch::check_q;
use crate::sketch::Counts;
use crate::sketch::{Sketch, Takes};

/// DataSketches' `m`: the smallest level capacity.
const M: u32 = 8;
const MIN_K: u32 = 8;
const MAX_K: u32 = 65535;
/// DataSketches' limit on the depth of capacities (and so on the levels).
const MAX_LEVELS: usize = 61;
const FAMILY: u8 = 15;

#[inline(always)]
fn order_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

#[inline(always)]
fn from_order_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// `round(k (2/3)**depth)` in DataSketches' integer arithmetic.
fn cap_aux(k: u64, depth: u32) -> u64 {
    const POWERS_OF_THREE: [u64; 31] = {
        let mut p = [1u64; 31];
        let mut i = 1;
        while i < 31 {
            p[i] = p[i - 1] * 3;
            i += 1;
        }
        p
    };
    if depth > 30 {
        let half = depth / 2;
        return cap_aux(cap_aux(k, half), depth - half);
    }
    (((2 * k) << depth) / POWERS_OF_THREE[depth as usize] + 1) >> 1
}

fn level_capacity(k: u32, levels: usize, height: usize) -> usize {
    let depth = (levels - height - 1) as u32;
    cap_aux(u64::from(k), depth).max(u64::from(M)) as usize
}

fn total_capacity(k: u32, levels: usize) -> usize {
    (0..levels).map(|h| level_capacity(k, levels, h)).sum()
}

/// DataSketches' single-sided normalized rank error of a sketch of (smallest) parameter `k`.
pub fn normalized_rank_error(k: u32) -> f64 {
    2.296 / f64::from(k).powf(0.9723)
}

/// A KLL sketch (see the module docs).
#[derive(Clone, Debug)]
pub struct Kll {
    k: u32,
    min_k: u32,
    seed: u64,
    /// The state of the generator of the compaction bits (SplitMix64).
    rng: u64,
    n: u64,
    nan_count: u64,
    min: f64,
    max: f64,
    /// `levels[h]`: items of weight 2**h as order keys, level 0 in arrival order. A level above 0
    /// is a sorted run per compaction that fed it, sorted whole only when it is compacted itself
    /// (merging each half into it as it comes would move the whole level every time), and when
    /// it is written out: its order never shows.
    levels: Vec<Vec<u64>>,
    retained: usize,
    /// `total_capacity(k, levels.len())` and each level's capacity, kept with the levels.
    capacity: usize,
    capacities: Vec<usize>,
}

impl PartialEq for Kll {
    /// The same parameters, state and items: a level's order above level 0 does not count.
    fn eq(&self, other: &Self) -> bool {
        (
            self.k,
            self.min_k,
            self.seed,
            self.rng,
            self.n,
            self.nan_count,
        ) == (
            other.k,
            other.min_k,
            other.seed,
            other.rng,
            other.n,
            other.nan_count,
        ) && self.min.to_bits() == other.min.to_bits()
            && self.max.to_bits() == other.max.to_bits()
            && self.levels.len() == other.levels.len()
            && (0..self.levels.len()).all(|h| self.written_level(h) == other.written_level(h))
    }
}

impl Kll {
    /// An empty sketch of parameter `k` in [8, 65535].
    pub fn new(k: i64, seed: u64) -> Result<Self> {
        if !(i64::from(MIN_K)..=i64::from(MAX_K)).contains(&k) {
            return Err(SketchError::parameter(
                "k",
                format!("must be in [{MIN_K}, {MAX_K}], got {k}"),
            ));
        }
        Ok(Kll {
            k: k as u32,
            min_k: k as u32,
            seed,
            rng: seed,
            n: 0,
            nan_count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            levels: vec![Vec::new()],
            retained: 0,
            capacity: total_capacity(k as u32, 1),
            capacities: vec![level_capacity(k as u32, 1, 0)],
        })
    }

    /// The parameter k.
    pub fn k(&self) -> u32 {
        self.k
    }
    /// The smallest k of the sketches merged into this one.
    pub fn min_k(&self) -> u32 {
        self.min_k
    }
    /// The seed of the compaction bits.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The weight of the values added (NaN not counted).
    pub fn count(&self) -> u64 {
        self.n
    }
    /// The weight of the NaN values skipped.
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }
    /// The items kept.
    pub fn num_retained(&self) -> usize {
        self.retained
    }
    /// The levels.
    pub fn num_levels(&self) -> usize {
        self.levels.len()
    }
    /// The rank error of a quantile, at `min_k`.
    pub fn normalized_rank_error(&self) -> f64 {
        normalized_rank_error(self.min_k)
    }
    /// The smallest value added (NaN when empty).
    pub fn min(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.min
        }
    }
    /// The largest value added (NaN when empty).
    pub fn max(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.max
        }
    }

    fn random_bit(&mut self) -> usize {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) & 1) as usize
    }

    /// Adds one value `weight` times (NaN is counted in `nan_count`; ±inf are values).
    pub fn add(&mut self, value: f64, weight: u64) -> Result<()> {
        self.n.checked_add(weight).ok_or_else(too_many)?;
        self.insert(value, weight);
        Ok(())
    }

    #[inline]
    fn insert(&mut self, value: f64, weight: u64) {
        if value.is_nan() {
            self.nan_count = self.nan_count.saturating_add(weight);
            return;
        }
        if weight == 0 {
            return;
        }
        // -0.0 is 0.0, as in the canonical encoding of a batch's items.
        let value = value + 0.0;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.n += weight;
        let key = order_key(value);
        if weight == 1 {
            if self.retained >= self.capacity {
                self.compress();
            }
            self.levels[0].push(key);
            self.retained += 1;
            return;
        }
        // A weight is its binary digits: one item on each level of a set bit.
        for h in 0..64 {
            if weight >> h & 1 == 0 {
                continue;
            }
            while self.levels.len() <= h {
                self.add_level();
            }
            while self.retained >= self.capacity {
                self.compress();
            }
            self.levels[h].push(key);
            self.retained += 1;
        }
    }

    fn add_level(&mut self) {
        self.levels.push(Vec::new());
        self.set_capacities();
    }

    fn set_capacities(&mut self) {
        let levels = self.levels.len();
        self.capacities = (0..levels)
            .map(|h| level_capacity(self.k, levels, h))
            .collect();
        self.capacity = self.capacities.iter().sum();
    }

    /// `insert(v, 1)` for each value, with min, max and n kept in registers.
    fn insert_all(&mut self, values: &[f64]) {
        let (mut low, mut high, mut nans) = (self.min, self.max, 0u64);
        for &v in values {
            if v.is_nan() {
                nans += 1;
                continue;
            }
            let v = v + 0.0; // -0.0 is 0.0
            low = low.min(v);
            high = high.max(v);
            if self.retained >= self.capacity {
                self.compress();
            }
            self.levels[0].push(order_key(v));
            self.retained += 1;
        }
        (self.min, self.max) = (low, high);
        self.n += values.len() as u64 - nans;
        self.nan_count = self.nan_count.saturating_add(nans);
    }

    /// Compacts the lowest level at or over its capacity (adding a level above the top first).
    fn compress(&mut self) {
        let levels = self.levels.len();
        let h = (0..levels)
            .find(|&h| self.levels[h].len() >= self.capacities[h])
            .unwrap_or(levels - 1);
        self.compact(h);
    }

    /// Sorts level `h` (level 0 is kept in arrival order) and moves one item of each pair up: an
    /// odd item out (level 0's newest, a higher level's smallest) stays.
    fn compact(&mut self, h: usize) {
        if h + 1 == self.levels.len() {
            self.add_level();
        }
        let bit = self.random_bit();
        let (below, above) = self.levels.split_at_mut(h + 1);
        let level = &mut below[h];
        if h > 0 {
            level.sort_unstable();
        }
        let stay = if level.len() % 2 == 1 {
            if h == 0 {
                level.pop()
            } else {
                Some(level.remove(0))
            }
        } else {
            None
        };
        if h == 0 {
            sort_small(level);
        }
        // The kept half, in place at the front of the level, then appended to the level above.
        let half = level.len() / 2;
        for i in 0..half {
            level[i] = level[2 * i + bit];
        }
        level.truncate(half);
        self.retained -= half;
        above[0].extend_from_slice(level);
        level.clear();
        level.extend(stay);
    }

    /// Level `h` as it is written out: sorted above level 0.
    fn written_level(&self, h: usize) -> std::borrow::Cow<'_, [u64]> {
        let level = &self.levels[h];
        if h == 0 || level.windows(2).all(|w| w[0] <= w[1]) {
            return std::borrow::Cow::Borrowed(level);
        }
        let mut sorted = level.clone();
        sorted.sort_unstable();
        std::borrow::Cow::Owned(sorted)
    }

    /// Adds a batch, item `i` `counts[i]` times; text items are parsed when `parse_text`.
    pub fn update_values(&mut self, keys: &Keys, counts: Counts, parse_text: bool) -> Result<()> {
        let total = counts.sum(keys.len())?;
        self.n.checked_add(total).ok_or_else(too_many)?;
        if let (Keys::F64(values), Counts::Each(1)) = (keys, counts) {
            self.insert_all(values);
            return Ok(());
        }
        // Read (and check) every item before anything changes.
        let mut values = Vec::with_capacity(keys.len());
        keys.for_each_number(parse_text, |v| values.push(v))?;
        for (i, &v) in values.iter().enumerate() {
            self.insert(v, counts.get(i));
        }
        Ok(())
    }

    /// Adds `other`'s items: its level 0 as updates, its levels above merged level by level, then
    /// compacted bottom up until the buffer is within capacity. The error bound becomes the
    /// smaller `k`'s.
    pub fn merge(&mut self, other: &Kll) -> Result<()> {
        let n = self.n.checked_add(other.n).ok_or_else(too_many)?;
        let nan = self.nan_count.saturating_add(other.nan_count);
        let other = other.clone(); // `other` may be `self`
        for &key in &other.levels[0] {
            self.insert(from_order_key(key), 1);
        }
        if other.levels.len() > 1 {
            while self.levels.len() < other.levels.len() {
                self.add_level();
            }
            for (h, level) in other.levels.iter().enumerate().skip(1) {
                self.levels[h].extend_from_slice(level);
                self.retained += level.len();
            }
            let mut h = 0;
            while h < self.levels.len() {
                if self.retained >= self.capacity && self.levels[h].len() >= self.capacities[h] {
                    self.compact(h);
                }
                h += 1;
            }
            while self.retained > self.capacity {
                self.compress();
            }
            self.min_k = self.min_k.min(other.min_k);
        }
        self.n = n;
        self.nan_count = nan;
        if other.n > 0 {
            self.min = self.min.min(other.min);
            self.max = self.max.max(other.max);
        }
        Ok(())
    }

    /// The items, sorted, with their cumulative weights.
    fn sorted_view(&self) -> (Vec<u64>, Vec<u64>) {
        let mut pairs: Vec<(u64, u64)> = Vec::with_capacity(self.retained);
        for (h, level) in self.levels.iter().enumerate() {
            pairs.extend(level.iter().map(|&k| (k, 1u64 << h)));
        }
        pairs.sort_unstable();
        let mut cumulative = Vec::with_capacity(pairs.len());
        let mut sum = 0u64;
        for &(_, w) in &pairs {
            sum += w;
            cumulative.push(sum);
        }
        (pairs.into_iter().map(|(k, _)| k).collect(), cumulative)
    }

    /// The values of ranks `qs` (see [`Kll::quantile`]).
    pub fn quantiles(&self, qs: &[f64]) -> Result<Vec<f64>> {
        qs.iter().try_for_each(|&q| check_q(q))?;
        if self.n == 0 {
            return Ok(vec![f64::NAN; qs.len()]);
        }
        let (items, cumulative) = self.sorted_view();
        Ok(qs
            .iter()
            .map(|&q| {
                if q == 0.0 {
                    return self.min;
                }
                if q == 1.0 {
                    return self.max;
                }
                let rank = (q * (self.n - 1) as f64).floor() as u64;
                let i = cumulative.partition_point(|&c| c <= rank);
                items.get(i).map_or(self.max, |&k| from_order_key(k))
            })
            .collect())
    }

    /// An item of the stream whose rank is within the error of `floor(q (n − 1))` (numpy's
    /// `method="lower"`); NaN when empty.
    pub fn quantile(&self, q: f64) -> Result<f64> {
        Ok(self.quantiles(&[q])?[0])
    }

    /// The fractions of the weight at or below each `x` (DataSketches' inclusive rank).
    pub fn ranks(&self, xs: &[f64]) -> Vec<f64> {
        if self.n == 0 {
            return vec![f64::NAN; xs.len()];
        }
        let (items, cumulative) = self.sorted_view();
        xs.iter()
            .map(|&x| {
                if x.is_nan() {
                    return f64::NAN;
                }
                let i = items.partition_point(|&k| k <= order_key(x));
                let i = if x == 0.0 {
                    // -0.0 and 0.0 are one value.
                    items.partition_point(|&k| k <= order_key(0.0))
                } else {
                    i
                };
                if i == 0 {
                    0.0
                } else {
                    cumulative[i - 1] as f64 / self.n as f64
                }
            })
            .collect()
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        let mut empty = Kll::new(i64::from(self.k), self.seed).unwrap_or_else(|_| self.clone());
        empty.rng = self.seed;
        *self = empty;
    }

    /// The bytes it holds.
    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .levels
                .iter()
                .map(|l| 24 + 8 * l.capacity())
                .sum::<usize>()
    }

    /// The serialized sketch (kind 5).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(Kind::Kll, 64 + 8 * self.retained);
        w.u32(self.k);
        w.u32(self.min_k);
        w.u64(self.seed);
        w.u64(self.rng);
        w.u64(self.n);
        w.u64(self.nan_count);
        w.f64(self.min);
        w.f64(self.max);
        w.u8(self.levels.len() as u8);
        for h in 0..self.levels.len() {
            let level = self.written_level(h);
            w.u32(level.len() as u32);
            for &k in level.iter() {
                w.f64(from_order_key(k));
            }
        }
        w.finish()
    }

    #[deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )]
    /// The sketch `to_bytes` wrote; `InvalidFormat` for any other bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Kind::Kll)?;
        let k = r.u32("k")?;
        let min_k = r.u32("min_k")?;
        let seed = r.u64("seed")?;
        let mut s = Kll::new(i64::from(k), seed).map_err(|e| SketchError::format(e.to_string()))?;
        s.min_k = min_k;
        s.rng = r.u64("rng")?;
        s.n = r.u64("n")?;
        s.nan_count = r.u64("nan_count")?;
        s.min = r.f64("min")?;
        s.max = r.f64("max")?;
        let levels = usize::from(r.u8("levels")?);
        check((1..=MAX_LEVELS).contains(&levels), || {
            format!("{levels} levels")
        })?;
        let mut items = Vec::with_capacity(levels);
        for _ in 0..levels {
            let len = r.u32("level")? as usize;
            check(len.saturating_mul(8) <= r.remaining(), || {
                "truncated level".into()
            })?;
            let mut level = Vec::with_capacity(len);
            for _ in 0..len {
                level.push(r.f64("item")?);
            }
            items.push(level);
        }
        r.finish()?;
        s.set_levels(items)?;
        Ok(s)
    }

    /// Installs levels read from bytes, after checking what a sketch built by updates satisfies:
    /// parameters, sorted levels, no NaN, items within [min, max], weights adding up to `n`,
    /// the buffer within its capacity.
    fn set_levels(&mut self, items: Vec<Vec<f64>>) -> Result<()> {
        check((MIN_K..=self.k).contains(&self.min_k), || {
            format!("min_k {} outside [{MIN_K}, k = {}]", self.min_k, self.k)
        })?;
        let mut weight: u128 = 0;
        let mut retained = 0usize;
        let mut levels = Vec::with_capacity(items.len());
        for (h, level) in items.into_iter().enumerate() {
            check(level.iter().all(|v| !v.is_nan()), || "a NaN item".into())?;
            check(
                level.iter().all(|&v| v >= self.min && v <= self.max),
                || "an item outside [min, max]".into(),
            )?;
            // Sorted as DataSketches sorts (`std::less<double>`: -0.0 and 0.0 are equal, in
            // either order); kept sorted by key (-0.0 first), and as they are, -0.0 too, as every
            // item read from an image is.
            check(h == 0 || level.windows(2).all(|w| w[0] <= w[1]), || {
                format!("level {h} is not sorted")
            })?;
            let mut keys: Vec<u64> = level.iter().map(|&v| order_key(v)).collect();
            if h > 0 {
                keys.sort_unstable();
            }
            weight += (keys.len() as u128) << h;
            retained += keys.len();
            levels.push(keys);
        }
        check(weight == u128::from(self.n), || {
            format!("the items weigh {weight}, not n = {}", self.n)
        })?;
        check(retained <= total_capacity(self.k, levels.len()), || {
            "more items than the levels hold".into()
        })?;
        if self.n == 0 {
            check(
                self.min == f64::INFINITY && self.max == f64::NEG_INFINITY,
                || "an empty sketch with a min or max".into(),
            )?;
        } else {
            check(self.min <= self.max, || "min above max".into())?;
        }
        self.levels = levels;
        self.retained = retained;
        self.set_capacities();
        Ok(())
    }
}

/// The comparators of Batcher's odd–even merge sort of `N` (a power of two) inputs.
const fn batcher<const N: usize, const C: usize>() -> [(u8, u8); C] {
    let mut out = [(0u8, 0u8); C];
    let mut c = 0;
    let mut p = 1;
    while p < N {
        let mut k = p;
        while k >= 1 {
            let mut j = k % p;
            while j + k < N {
                let mut i = 0;
                while i < k && i + j + k < N {
                    if (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                        out[c] = ((i + j) as u8, (i + j + k) as u8);
                        c += 1;
                    }
                    i += 1;
                }
                j += 2 * k;
            }
            k /= 2;
        }
        p *= 2;
    }
    assert!(c == C);
    out
}

const NETWORK8: [(u8, u8); 19] = batcher::<8, 19>();
const NETWORK16: [(u8, u8); 63] = batcher::<16, 63>();

/// Sorts a compacted level 0, which is short (most often 8 to 16 items once a sketch has a few
/// levels): a branch-free sorting network, padded with the largest key, where the standard sort
/// would mispredict a branch per item.
fn sort_small(v: &mut [u64]) {
    #[inline(always)]
    fn network<const N: usize>(v: &mut [u64], comparators: &[(u8, u8)]) {
        let mut a = [u64::MAX; N];
        a[..v.len()].copy_from_slice(v);
        for &(i, j) in comparators {
            let (x, y) = (a[usize::from(i)], a[usize::from(j)]);
            a[usize::from(i)] = x.min(y);
            a[usize::from(j)] = x.max(y);
        }
        v.copy_from_slice(&a[..v.len()]);
    }
    match v.len() {
        0 | 1 => {}
        2..=8 => network::<8>(v, &NETWORK8),
        9..=16 => network::<16>(v, &NETWORK16),
        _ => v.sort_unstable(),
    }
}

fn too_many() -> SketchError {
    SketchError::overflow("the weights add up to more than 2**64 - 1")
}

impl Sketch for Kll {
    fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
        // A text item is a `TypeError`; a count is a weight.
        self.update_values(keys, counts, false)
    }
    fn merge(&mut self, other: &Self) -> Result<()> {
        Kll::merge(self, other)
    }
    fn to_bytes(&self) -> Vec<u8> {
        Kll::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Kll::from_bytes(bytes)
    }
    fn memory_size(&self) -> usize {
        Kll::memory_size(self)
    }
    fn clear(&mut self) {
        Kll::clear(self)
    }
    /// Adding a value (a buffer slot) next to reading it from a list.
    fn item_cost(&self) -> crate::parallel::Cost {
        crate::parallel::Cost(40)
    }
    fn takes(&self) -> Takes {
        Takes::Numbers
    }
    fn update_records(&mut self, keys: &Keys) -> Result<()> {
        self.update_values(keys, Counts::Each(1), true)
    }
    /// Which items a compaction keeps depends on the order they came in.
    fn merge_is_ordered(&self) -> bool {
        true
    }
}

#[path = "kll_image.rs"]
mod image;

#[cfg(test)]
#[path = "kll_tests.rs"]
mod tests;
