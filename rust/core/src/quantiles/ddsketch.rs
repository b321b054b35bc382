//! DDSketch: quantiles with a value-relative error guarantee (Masson, Rim and Lee, "DDSketch: A
//! Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB 2019).
//!
//! A positive value `x` falls in bin `ceil(log_γ x)` with `γ = (1 + α) / (1 − α)`; the bin's
//! representative `2 γ^k / (1 + γ)` is within `α x` of every value of the bin. Negative values have
//! their own bins (of `|x|`), zeros a counter. Past `max_bins` bins in a store the lowest collapse
//! into one: a value's bin is then `max(key, highest key − max_bins + 1)`, which depends only on the
//! values added, so merging is exact and order does not matter — the merge of the parts of a
//! stream is the sketch of the whole, bytes included (the sum is kept exactly, [`ExactSum`]).

use crate::codec::{check, Kind, Reader, Writer};
use crate::error::{Result, SketchError};
use crate::items::Keys;
use crate::quantiles::exact_sum::ExactSum;
use crate::sketch::Counts;
use crate::sketch::{Sketch, Takes};

/// The bins of one sign: `bins[i]` counts the values of key `offset + i`.
#[derive(Clone, Debug, Default)]
struct Store {
    offset: i64,
    bins: Vec<u64>,
}

impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        self.trimmed() == other.trimmed()
    }
}

impl Store {
    /// (key of the first nonzero bin, the bins from it to the last nonzero one).
    fn trimmed(&self) -> (i64, &[u64]) {
        let Some(first) = self.bins.iter().position(|&c| c != 0) else {
            return (0, &[]);
        };
        let last = self.bins.iter().rposition(|&c| c != 0).unwrap_or(first);
        (self.offset + first as i64, &self.bins[first..=last])
    }

    fn total(&self) -> u64 {
        self.bins.iter().sum()
    }

    #[inline]
    fn add(&mut self, key: i64, weight: u64, max_bins: usize) {
        let index = key.wrapping_sub(self.offset);
        if (0..self.bins.len() as i64).contains(&index) {
            self.bins[index as usize] += weight;
            return;
        }
        self.add_outside(key, weight, max_bins);
    }

    #[cold]
    fn add_outside(&mut self, key: i64, weight: u64, max_bins: usize) {
        if self.bins.is_empty() {
            self.offset = key;
            self.bins.push(weight);
            return;
        }
        let high = self.offset + self.bins.len() as i64 - 1;
        if key > high {
            // The bins grow up to `key`; those below `key − max_bins + 1` collapse into it.
            let floor = key - max_bins as i64 + 1;
            if floor > self.offset {
                let gone = ((floor - self.offset) as usize).min(self.bins.len());
                let collapsed: u64 = self.bins.drain(..gone).sum();
                self.offset = floor;
                if self.bins.is_empty() {
                    self.bins.push(0);
                }
                self.bins[0] += collapsed;
            }
            self.bins.resize((key - self.offset + 1) as usize, 0);
            self.bins[(key - self.offset) as usize] += weight;
        } else {
            // Below the lowest bin: down to the floor the highest key allows, no further.
            let floor = high - max_bins as i64 + 1;
            let key = key.max(floor);
            if key < self.offset {
                let grow = (self.offset - key) as usize;
                self.bins.splice(0..0, std::iter::repeat_n(0, grow));
                self.offset = key;
            }
            self.bins[(key - self.offset) as usize] += weight;
        }
    }

    fn merge(&mut self, other: &Store, max_bins: usize) {
        let (offset, bins) = other.trimmed();
        // From the highest bin down: the first addition sets the floor once.
        for (i, &c) in bins.iter().enumerate().rev() {
            if c != 0 {
                self.add(offset + i as i64, c, max_bins);
            }
        }
    }

    fn write(&self, w: &mut Writer) {
        let (offset, bins) = self.trimmed();
        w.u64(offset as u64);
        w.varint(bins.len() as u64);
        for &c in bins {
            w.varint(c);
        }
    }

    fn read(r: &mut Reader, max_bins: usize, key_limit: i64) -> Result<Store> {
        let offset = r.u64("bins")? as i64;
        let len = r.varint("bins")?;
        check(len <= max_bins as u64, || {
            format!("{len} bins, more than max_bins {max_bins}")
        })?;
        let len = len as usize;
        // At least a byte a bin: never allocate more than the input holds.
        check(len <= r.remaining(), || "truncated bins".into())?;
        check(
            len == 0
                || (offset >= -key_limit
                    && offset
                        .checked_add(len as i64 - 1)
                        .is_some_and(|high| high <= key_limit)),
            || format!("bin keys {offset}.. outside the keys of finite values"),
        )?;
        let mut bins = Vec::with_capacity(len);
        for _ in 0..len {
            bins.push(r.varint("bins")?);
        }
        check(len == 0 || (bins[0] != 0 && bins[len - 1] != 0), || {
            "bins not trimmed".into()
        })?;
        Ok(Store {
            offset: if len == 0 { 0 } else { offset },
            bins,
        })
    }
}

/// `ceil` without its libm call (x86-64's baseline has no rounding instruction).
#[inline(always)]
fn ceil(t: f64) -> i64 {
    let i = t as i64;
    i + i64::from((i as f64) < t)
}

/// The keys of most values from their bits, without a logarithm: `x = 2**e · f` has
/// `ln x · multiplier = e · ln 2 · multiplier + g(f)`, and `g` is tabulated at the left end of
/// `2**bits` buckets of `f` in [1, 2), each narrower than 1/32 of a bin. When no integer lies
/// between a bucket's two ends (with a margin far above the table's rounding), every value of the
/// bucket has that key, the one the logarithm would give; otherwise (about one value in 16) the
/// caller takes the logarithm.
#[derive(Debug)]
struct KeyTable {
    bits: u32,
    per_binade: f64,
    g: Vec<f64>,
}

/// How far from an integer a bucket's ends must be, in keys.
const KEY_MARGIN: f64 = 1e-7;

impl KeyTable {
    fn new(multiplier: f64) -> Self {
        let bits = (multiplier * 32.0).log2().ceil().clamp(4.0, 14.0) as u32;
        let n = 1usize << bits;
        let g = (0..=n)
            .map(|b| (1.0 + b as f64 / n as f64).ln() * multiplier)
            .collect();
        KeyTable {
            bits,
            per_binade: std::f64::consts::LN_2 * multiplier,
            g,
        }
    }

    #[inline(always)]
    fn key(&self, x: f64) -> Option<i64> {
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i64;
        if exponent == 0 {
            return None; // subnormal
        }
        let bucket = ((bits >> (52 - self.bits)) & ((1 << self.bits) - 1)) as usize;
        let base = (exponent - 1023) as f64 * self.per_binade;
        let low = ceil(base + self.g[bucket] - KEY_MARGIN);
        let high = ceil(base + self.g[bucket + 1] + KEY_MARGIN);
        // Both ends in one bin: `high` is `low` (a bucket is far narrower than a bin).
        (high == low).then_some(low)
    }
}

/// A DDSketch of float64 values with integer weights.
#[derive(Clone, Debug)]
pub struct DDSketch {
    relative_accuracy: f64,
    max_bins: u32,
    gamma: f64,
    /// `1 / ln γ`: a key is `ceil(ln x · multiplier)`.
    multiplier: f64,
    /// Keys without a logarithm (see [`KeyTable`]), shared by a sketch's copies.
    table: std::sync::Arc<KeyTable>,
    positive: Store,
    negative: Store,
    zeros: u64,
    count: u64,
    nan_count: u64,
    min: f64,
    max: f64,
    sum: ExactSum,
}

impl PartialEq for DDSketch {
    fn eq(&self, other: &Self) -> bool {
        self.relative_accuracy == other.relative_accuracy
            && self.max_bins == other.max_bins
            && self.count == other.count
            && self.nan_count == other.nan_count
            && self.zeros == other.zeros
            && self.min.to_bits() == other.min.to_bits()
            && self.max.to_bits() == other.max.to_bits()
            && self.positive == other.positive
            && self.negative == other.negative
            && self.sum == other.sum
    }
}

const MAX_BINS_LIMIT: u32 = 1 << 24;

impl DDSketch {
    /// An empty sketch of relative accuracy `relative_accuracy` in (0, 1).
    pub fn new(relative_accuracy: f64, max_bins: i64) -> Result<Self> {
        if !(relative_accuracy > 0.0 && relative_accuracy < 1.0) {
            return Err(SketchError::parameter(
                "relative_accuracy",
                format!("must be in (0, 1), got {relative_accuracy}"),
            ));
        }
        if !(1..=i64::from(MAX_BINS_LIMIT)).contains(&max_bins) {
            return Err(SketchError::parameter(
                "max_bins",
                format!("must be in [1, {MAX_BINS_LIMIT}], got {max_bins}"),
            ));
        }
        let gamma = (1.0 + relative_accuracy) / (1.0 - relative_accuracy);
        let sketch = DDSketch {
            relative_accuracy,
            max_bins: max_bins as u32,
            gamma,
            multiplier: 1.0 / gamma.ln(),
            table: std::sync::Arc::new(KeyTable::new(1.0 / gamma.ln())),
            positive: Store::default(),
            negative: Store::default(),
            zeros: 0,
            count: 0,
            nan_count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: ExactSum::default(),
        };
        if sketch.key_limit() > i64::from(i32::MAX) {
            return Err(SketchError::parameter(
                "relative_accuracy",
                format!("{relative_accuracy} is too small: the keys would not fit 32 bits"),
            ));
        }
        Ok(sketch)
    }

    /// The largest |key| of a finite nonzero value (from 2**-1074 to 2**1024).
    fn key_limit(&self) -> i64 {
        // Saturates for a tiny accuracy (a huge multiplier), which the caller then refuses.
        ((1075.0 * std::f64::consts::LN_2 * self.multiplier).ceil() as i64).saturating_add(2)
    }

    /// The relative accuracy α.
    pub fn relative_accuracy(&self) -> f64 {
        self.relative_accuracy
    }
    /// The bins per sign before the lowest collapse.
    pub fn max_bins(&self) -> u32 {
        self.max_bins
    }
    /// The total weight of the values added (NaNs not counted).
    pub fn count(&self) -> u64 {
        self.count
    }
    /// The weight of the NaN values skipped.
    pub fn nan_count(&self) -> u64 {
        self.nan_count
    }
    /// The smallest value added (NaN when empty).
    pub fn min(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.min
        }
    }
    /// The largest value added (NaN when empty).
    pub fn max(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.max
        }
    }
    /// The exact sum of the values times their weights, rounded once.
    pub fn sum(&self) -> f64 {
        self.sum.value()
    }
    /// The bins in use.
    pub fn num_bins(&self) -> usize {
        self.positive.trimmed().1.len()
            + self.negative.trimmed().1.len()
            + usize::from(self.zeros > 0)
    }

    #[inline(always)]
    fn key(&self, magnitude: f64) -> i64 {
        self.table
            .key(magnitude)
            .unwrap_or_else(|| ceil(magnitude.ln() * self.multiplier))
    }

    /// The value a bin stands for: within `α` of every value in it.
    fn value(&self, key: i64) -> f64 {
        (key as f64 / self.multiplier).exp() * (2.0 / (1.0 + self.gamma))
    }

    /// Adds `value` `weight` times; NaN is counted in `nan_count`, ±inf is an error.
    pub fn add(&mut self, value: f64, weight: u64) -> Result<()> {
        check_finite(value)?;
        self.count.checked_add(weight).ok_or_else(too_many)?;
        self.insert(value, weight);
        Ok(())
    }

    #[inline(always)]
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
        self.count += weight;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum.add(value, weight);
        let max_bins = self.max_bins as usize;
        if value > 0.0 {
            let key = self.key(value);
            self.positive.add(key, weight, max_bins);
        } else if value < 0.0 {
            let key = self.key(-value);
            self.negative.add(key, weight, max_bins);
        } else {
            self.zeros += weight;
        }
    }

    /// `insert(v, 1)` for each value, with the running totals kept in registers.
    fn insert_all(&mut self, values: &[f64]) {
        let max_bins = self.max_bins as usize;
        for chunk in values.chunks(1 << 24) {
            let (mut low, mut high, mut nans, mut zeros) = (self.min, self.max, 0u64, 0u64);
            for &v in chunk {
                if v.is_nan() {
                    nans += 1;
                    continue;
                }
                let v = v + 0.0; // -0.0 is 0.0
                low = low.min(v);
                high = high.max(v);
                self.sum.add_uncounted(v);
                if v > 0.0 {
                    let key = self.key(v);
                    self.positive.add(key, 1, max_bins);
                } else if v < 0.0 {
                    let key = self.key(-v);
                    self.negative.add(key, 1, max_bins);
                } else {
                    zeros += 1;
                }
            }
            (self.min, self.max) = (low, high);
            self.zeros += zeros;
            self.nan_count = self.nan_count.saturating_add(nans);
            self.count += chunk.len() as u64 - nans;
            self.sum.counted(chunk.len() as u32);
        }
    }

    /// Adds a batch, item `i` `counts[i]` times; all or nothing. Text items are parsed as numbers
    /// when `parse_text` (the file reader's lines), and are a `TypeError` otherwise.
    pub fn update_values(&mut self, keys: &Keys, counts: Counts, parse_text: bool) -> Result<()> {
        let total = counts.sum(keys.len())?;
        self.count.checked_add(total).ok_or_else(too_many)?;
        if let (Keys::F64(values), Counts::Each(1)) = (keys, counts) {
            // One branch-free pass for the check (it vectorizes), one to add.
            if values.iter().fold(false, |any, v| any | v.is_infinite()) {
                let v = values
                    .iter()
                    .find(|v| v.is_infinite())
                    .copied()
                    .unwrap_or_default();
                check_finite(v)?;
            }
            self.insert_all(values);
            return Ok(());
        }
        let mut infinite = None;
        let mut i = 0;
        keys.for_each_number(parse_text, |v| {
            if v.is_infinite() && infinite.is_none() && counts.get(i) > 0 {
                infinite = Some(v);
            }
            i += 1;
        })?;
        if let Some(v) = infinite {
            check_finite(v)?;
        }
        let mut i = 0;
        keys.for_each_number(parse_text, |v| {
            self.insert(v, counts.get(i));
            i += 1;
        })?;
        Ok(())
    }

    /// The values in order as (value of the bin, weight): negatives, zeros, positives.
    fn for_each_bin(&self, mut f: impl FnMut(f64, u64) -> bool) {
        let (offset, bins) = self.negative.trimmed();
        for (i, &c) in bins.iter().enumerate().rev() {
            if c != 0 && !f(-self.value(offset + i as i64), c) {
                return;
            }
        }
        if self.zeros != 0 && !f(0.0, self.zeros) {
            return;
        }
        let (offset, bins) = self.positive.trimmed();
        for (i, &c) in bins.iter().enumerate() {
            if c != 0 && !f(self.value(offset + i as i64), c) {
                return;
            }
        }
    }

    /// The value of rank `q`: within `α` of the order statistic at index `floor(q (n − 1))` (what
    /// `numpy.quantile(values, q, method="lower")` gives), clamped to [min, max]; NaN when empty.
    pub fn quantile(&self, q: f64) -> Result<f64> {
        check_q(q)?;
        if self.count == 0 {
            return Ok(f64::NAN);
        }
        if q == 0.0 {
            return Ok(self.min);
        }
        if q == 1.0 {
            return Ok(self.max);
        }
        let rank = (q * (self.count - 1) as f64).floor() as u64;
        let mut seen = 0u64;
        let mut out = self.max;
        self.for_each_bin(|v, c| {
            seen += c;
            if seen > rank {
                out = v;
                false
            } else {
                true
            }
        });
        Ok(out.clamp(self.min, self.max))
    }

    /// The values of ranks `qs` (see [`DDSketch::quantile`]).
    pub fn quantiles(&self, qs: &[f64]) -> Result<Vec<f64>> {
        qs.iter().map(|&q| self.quantile(q)).collect()
    }

    /// The fractions of the weight at or below each `x` (see [`DDSketch::rank`]).
    pub fn ranks(&self, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| self.rank(x)).collect()
    }

    /// The fraction of the weight at or below `x` (NaN for an empty sketch or a NaN `x`).
    pub fn rank(&self, x: f64) -> f64 {
        if self.count == 0 || x.is_nan() {
            return f64::NAN;
        }
        if x < self.min {
            return 0.0;
        }
        if x >= self.max {
            return 1.0;
        }
        let n = self.count as f64;
        let below_zero = self.negative.total();
        let (pos, neg) = (&self.positive, &self.negative);
        let upto = |store: &Store, key: i64, at_or_above: bool| -> u64 {
            let (offset, bins) = store.trimmed();
            bins.iter()
                .enumerate()
                .filter(|&(i, _)| (offset + i as i64 >= key) == at_or_above)
                .map(|(_, &c)| c)
                .sum()
        };
        let le = if x > 0.0 {
            below_zero + self.zeros + upto(pos, self.key(x) + 1, false)
        } else if x == 0.0 {
            below_zero + self.zeros
        } else {
            upto(neg, self.key(-x), true)
        };
        le as f64 / n
    }

    /// Adds `other`'s bins: `Incompatible` for another accuracy or bin limit.
    pub fn merge(&mut self, other: &DDSketch) -> Result<()> {
        SketchError::check_same(
            "relative_accuracy",
            self.relative_accuracy,
            other.relative_accuracy,
        )?;
        SketchError::check_same("max_bins", self.max_bins, other.max_bins)?;
        let count = self.count.checked_add(other.count).ok_or_else(too_many)?;
        let max_bins = self.max_bins as usize;
        let (pos, neg) = (other.positive.clone(), other.negative.clone());
        self.positive.merge(&pos, max_bins);
        self.negative.merge(&neg, max_bins);
        self.zeros += other.zeros;
        self.count = count;
        self.nan_count = self.nan_count.saturating_add(other.nan_count);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum.merge(&other.sum);
        Ok(())
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        *self = DDSketch::new(self.relative_accuracy, i64::from(self.max_bins))
            .unwrap_or_else(|_| self.clone());
    }

    /// The bytes it holds.
    pub fn memory_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + 8 * (self.positive.bins.capacity() + self.negative.bins.capacity())
    }

    /// The serialized sketch (kind 4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(Kind::DDSketch, 64);
        w.f64(self.relative_accuracy);
        w.u32(self.max_bins);
        w.u64(self.count);
        w.u64(self.nan_count);
        w.u64(self.zeros);
        w.f64(self.min);
        w.f64(self.max);
        self.sum.write(&mut w);
        self.positive.write(&mut w);
        self.negative.write(&mut w);
        w.finish()
    }

    #[deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )]
    /// The sketch `to_bytes` wrote; `InvalidFormat` for any other bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, Kind::DDSketch)?;
        let alpha = r.f64("relative_accuracy")?;
        let max_bins = r.u32("max_bins")?;
        let mut s = DDSketch::new(alpha, i64::from(max_bins))
            .map_err(|e| SketchError::format(e.to_string()))?;
        s.count = r.u64("count")?;
        s.nan_count = r.u64("nan_count")?;
        s.zeros = r.u64("zeros")?;
        s.min = r.f64("min")?;
        s.max = r.f64("max")?;
        s.sum = ExactSum::read(&mut r)?;
        let limit = s.key_limit();
        s.positive = Store::read(&mut r, max_bins as usize, limit)?;
        s.negative = Store::read(&mut r, max_bins as usize, limit)?;
        r.finish()?;
        let total = [
            s.positive.total_checked(),
            s.negative.total_checked(),
            Some(s.zeros),
        ]
        .into_iter()
        .try_fold(0u64, |acc, t| t.and_then(|t| acc.checked_add(t)));
        check(total == Some(s.count), || {
            "the bins do not add up to the count".into()
        })?;
        if s.count == 0 {
            check(s.min == f64::INFINITY && s.max == f64::NEG_INFINITY, || {
                "an empty sketch with a min or max".into()
            })?;
        } else {
            check(
                s.min.is_finite() && s.max.is_finite() && s.min <= s.max,
                || format!("min {} and max {} out of order", s.min, s.max),
            )?;
        }
        Ok(s)
    }
}

impl Store {
    fn total_checked(&self) -> Option<u64> {
        self.bins
            .iter()
            .try_fold(0u64, |acc, &c| acc.checked_add(c))
    }
}

fn too_many() -> SketchError {
    SketchError::overflow("the weights add up to more than 2**64 - 1")
}

fn check_finite(value: f64) -> Result<()> {
    if value.is_infinite() {
        return Err(SketchError::parameter(
            "values",
            format!(
                "{value} is not finite: a DDSketch has no bin for it (NaN is skipped and counted)"
            ),
        ));
    }
    Ok(())
}

/// `Ok` for a rank in [0, 1].
pub fn check_q(q: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&q) {
        return Err(SketchError::parameter(
            "q",
            format!("must be in [0, 1], got {q}"),
        ));
    }
    Ok(())
}

impl Sketch for DDSketch {
    fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
        // A text item is a `TypeError`; a count is a weight.
        self.update_values(keys, counts, false)
    }
    fn merge(&mut self, other: &Self) -> Result<()> {
        DDSketch::merge(self, other)
    }
    fn to_bytes(&self) -> Vec<u8> {
        DDSketch::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        DDSketch::from_bytes(bytes)
    }
    fn memory_size(&self) -> usize {
        DDSketch::memory_size(self)
    }
    fn clear(&mut self) {
        DDSketch::clear(self)
    }
    /// Adding a value (a bin from its logarithm) next to reading it from a list.
    fn item_cost(&self) -> crate::parallel::Cost {
        crate::parallel::Cost(40)
    }
    fn takes(&self) -> Takes {
        Takes::Numbers
    }
    fn update_records(&mut self, keys: &Keys) -> Result<()> {
        self.update_values(keys, Counts::Each(1), true)
    }
}

#[cfg(test)]
#[path = "ddsketch_tests.rs"]
mod tests;
