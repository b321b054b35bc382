//! Feature hashing (the hashing trick), bit-exact with scikit-learn's `FeatureHasher`.
//!
//! A feature is a token (a name, or `"name=value"` for a string value) and a numeric value. The
//! token's signed 32-bit MurmurHash3 `h` picks the column `|h| mod n_features` and, with
//! `alternate_sign`, the sign of the value (negative when `h < 0`). Values that share a column in one
//! row are summed. This module holds the arithmetic and the sparse-row bookkeeping; reading Python
//! dicts is the bindings' job.
//!
//! References: Weinberger et al., "Feature Hashing for Large Scale Multitask Learning", ICML 2009;
//! scikit-learn `sklearn/feature_extraction/_hashing_fast.pyx`.

use crate::error::{Result, SketchError};
use crate::float::pow2;
use crate::hash::murmur3::murmur3_32;

/// The parameters of a hashing trick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureHasher {
    n_features: u32,
    alternate_sign: bool,
    seed: u32,
    /// `ceil(2**64 / n_features)`, for the modulo by multiplication (a division is the slowest
    /// step of hashing a short token).
    reciprocal: u64,
}

impl FeatureHasher {
    /// The largest `n_features`: columns are `int32` indices of a sparse matrix.
    pub const MAX_FEATURES: i64 = i32::MAX as i64;

    /// The hashing trick into `n_features` columns, in [1, 2**31 - 1].
    pub fn new(n_features: i64, alternate_sign: bool, seed: u64) -> Result<Self> {
        if !(1..=Self::MAX_FEATURES).contains(&n_features) {
            return Err(SketchError::parameter(
                "n_features",
                format!("must be in [1, 2**31 - 1], got {n_features}"),
            ));
        }
        let seed = u32::try_from(seed).map_err(|_| {
            SketchError::parameter("seed", format!("must be in [0, 2**32), got {seed}"))
        })?;
        let n_features = n_features as u32;
        let reciprocal = (u64::MAX / u64::from(n_features)).wrapping_add(1);
        Ok(FeatureHasher {
            n_features,
            alternate_sign,
            seed,
            reciprocal,
        })
    }

    /// The number of columns.
    pub fn n_features(&self) -> u32 {
        self.n_features
    }

    /// The column of `token` and whether its value is negated.
    #[inline(always)]
    pub fn bucket(&self, token: &[u8]) -> (u32, bool) {
        let h = murmur3_32(token, self.seed) as i32;
        // `unsigned_abs` is defined for i32::MIN (2**31), where scikit-learn special-cases C's abs:
        // both give 2**31 mod n_features.
        let index = self.modulo(h.unsigned_abs());
        (index, self.alternate_sign && h < 0)
    }

    /// `a % n_features` without a division: Lemire, Kaser and Kurz, "Faster Remainder by Direct
    /// Computation", 2019 (exact for 32-bit operands).
    #[inline(always)]
    fn modulo(&self, a: u32) -> u32 {
        let low = self.reciprocal.wrapping_mul(u64::from(a));
        ((u128::from(low) * u128::from(self.n_features)) >> 64) as u32
    }

    /// The signed value of a feature, in f64 as scikit-learn computes it. scikit-learn writes
    /// `value *= ±1`, which its compiler turns into a negation: a NaN's sign bit flips too.
    #[inline(always)]
    pub fn signed(negate: bool, value: f64) -> f64 {
        if negate {
            -value
        } else {
            value
        }
    }
}

/// An output dtype: how a signed f64 value is stored (as numpy casts a Python float on assignment)
/// and how duplicates are summed (in the dtype, as scipy's `sum_duplicates`).
pub trait Value: Copy + Send + Sync + PartialEq + std::fmt::Debug + 'static {
    /// Summing three or more floats depends on their order; integer sums do not.
    const ORDER_SENSITIVE: bool;
    /// A signed value in this dtype, cast as numpy casts it.
    fn from_f64(value: f64) -> Result<Self>;
    /// The sum of two values of a column, in this dtype.
    fn add(self, other: Self) -> Self;
    /// The value as an f64.
    fn to_f64(self) -> f64;
}

impl Value for f64 {
    const ORDER_SENSITIVE: bool = true;
    fn from_f64(value: f64) -> Result<Self> {
        Ok(value)
    }
    fn add(self, other: Self) -> Self {
        self + other
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Value for f32 {
    const ORDER_SENSITIVE: bool = true;
    fn from_f64(value: f64) -> Result<Self> {
        Ok(value as f32) // round to nearest, overflow to ±inf: numpy's cast
    }
    fn add(self, other: Self) -> Self {
        self + other
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

fn float_to_int(value: f64, min: f64, max_exclusive: f64, dtype: &str) -> Result<f64> {
    if value.is_nan() {
        return Err(SketchError::input("cannot convert float NaN to integer"));
    }
    if value.is_infinite() {
        return Err(SketchError::overflow(
            "cannot convert float infinity to integer",
        ));
    }
    let truncated = value.trunc();
    if truncated < min || truncated >= max_exclusive {
        return Err(SketchError::overflow(format!(
            "value {value} is out of bounds for {dtype}"
        )));
    }
    Ok(truncated)
}

impl Value for i64 {
    const ORDER_SENSITIVE: bool = false;
    fn from_f64(value: f64) -> Result<Self> {
        Ok(float_to_int(value, -pow2(63), pow2(63), "int64")? as i64)
    }
    fn add(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Value for i32 {
    const ORDER_SENSITIVE: bool = false;
    fn from_f64(value: f64) -> Result<Self> {
        Ok(float_to_int(value, -pow2(31), pow2(31), "int32")? as i32)
    }
    fn add(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

/// Puts one row in canonical form in place: sorted by column, values of a column summed from left to
/// right. Returns the new length, or `None` when scipy's `sum_duplicates` could sum in another order:
/// it sorts a row with `std::sort`, stable (insertion sort) up to 16 entries but not beyond, so a row
/// of more than 16 entries with three or more float values in one column is left to scipy.
pub fn canonical_row<T: Value>(row: &mut [(u32, T)]) -> Option<usize> {
    // Rows are short (a few dozen features): a stable insertion sort beats the general sort there.
    for i in 1..row.len() {
        let entry = row[i];
        let mut j = i;
        while j > 0 && row[j - 1].0 > entry.0 {
            row[j] = row[j - 1];
            j -= 1;
        }
        row[j] = entry;
    }
    let mut out = 0;
    let mut i = 0;
    while i < row.len() {
        let (index, mut sum) = row[i];
        let mut run = 1;
        i += 1;
        while i < row.len() && row[i].0 == index {
            sum = sum.add(row[i].1);
            run += 1;
            i += 1;
        }
        if T::ORDER_SENSITIVE && run >= 3 && row.len() > 16 {
            return None;
        }
        row[out] = (index, sum);
        out += 1;
    }
    Some(out)
}

/// The features of observations, flattened into tokens and values by scikit-learn's rules: a
/// numeric feature is its name with its value (zeros skipped), a string feature the token
/// `"name=value"` with value 1 (and a collection of strings one such token per string). Token `i`
/// is `data[ends[i - 1]..ends[i]]` with value `values[i]`; `row_ends[r]` counts the tokens up to
/// the end of row `r`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tokens {
    data: Vec<u8>,
    ends: Vec<usize>,
    values: Vec<f64>,
    row_ends: Vec<usize>,
}

impl Tokens {
    /// Forgets every token.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.values.clear();
        self.row_ends.clear();
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether it holds no token.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The number of complete rows.
    pub fn rows(&self) -> usize {
        self.row_ends.len()
    }

    /// A feature with a numeric value: the token is the name. A zero value adds nothing (scikit-learn
    /// skips it before it looks at the name).
    #[inline]
    pub fn push_number(&mut self, name: &[u8], value: f64) {
        if value != 0.0 {
            self.data.extend_from_slice(name);
            self.ends.push(self.data.len());
            self.values.push(value);
        }
    }

    /// A feature with a string value: the token `"{name}={value}"` (both as UTF-8) with value 1.
    #[inline]
    pub fn push_string(&mut self, name: &[u8], value: &[u8]) {
        self.data.extend_from_slice(name);
        self.data.push(b'=');
        self.data.extend_from_slice(value);
        self.ends.push(self.data.len());
        self.values.push(1.0);
    }

    /// A cross of two features: the token `"{left}*{right}"` with the product of their values (a 0
    /// product adds nothing, as a 0 feature).
    #[inline]
    pub fn push_cross(&mut self, left: &[u8], right: &[u8], value: f64) {
        if value != 0.0 {
            self.data.extend_from_slice(left);
            self.data.push(b'*');
            self.data.extend_from_slice(right);
            self.ends.push(self.data.len());
            self.values.push(value);
        }
    }

    /// Ends the current observation.
    pub fn end_row(&mut self) {
        self.row_ends.push(self.values.len());
    }

    /// Token `i` and its value.
    #[inline(always)]
    pub fn get(&self, i: usize) -> (&[u8], f64) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (&self.data[start..self.ends[i]], self.values[i])
    }

    /// Drops the tokens, keeping the rows' ends: for a caller that hashes tokens as they come.
    pub fn take_each(&mut self, mut f: impl FnMut(&[u8], f64)) {
        for i in 0..self.len() {
            let (token, value) = self.get(i);
            f(token, value);
        }
        self.data.clear();
        self.ends.clear();
        self.values.clear();
    }
}

impl FeatureHasher {
    /// The column and signed value of one token, in the output dtype.
    #[inline(always)]
    pub fn entry<T: Value>(&self, token: &[u8], value: f64) -> Result<(u32, T)> {
        let (index, negate) = self.bucket(token);
        Ok((index, T::from_f64(Self::signed(negate, value))?))
    }

    /// Hashes the tokens of whole rows into `csr`, one CSR row per observation: the columns of a
    /// row sorted and the values of a column summed (see [`Csr::end_row`]).
    pub fn hash_rows<T: Value>(&self, tokens: &Tokens, csr: &mut Csr<T>) -> Result<()> {
        let mut token = 0;
        for &row_end in &tokens.row_ends {
            while token < row_end {
                let (bytes, value) = tokens.get(token);
                let (index, value) = self.entry(bytes, value)?;
                csr.push(index, value);
                token += 1;
            }
            csr.end_row();
        }
        Ok(())
    }
}

/// The three arrays of a CSR matrix, built row by row; each row is put in canonical form (see
/// [`canonical_row`]) as it ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Csr<T> {
    /// Where each row starts, and the end.
    pub indptr: Vec<i64>,
    /// The columns.
    pub indices: Vec<i32>,
    /// The values.
    pub data: Vec<T>,
    /// Some row was left as read, for scipy's `sum_duplicates` to sum in its own order. scipy leaves
    /// the canonical rows as they are, so the whole matrix can go through it.
    pub has_raw_rows: bool,
    scratch: Vec<(u32, T)>,
}

impl<T: Value> Csr<T> {
    /// An empty matrix.
    pub fn new() -> Self {
        Csr {
            indptr: vec![0],
            indices: Vec::new(),
            data: Vec::new(),
            has_raw_rows: false,
            scratch: Vec::new(),
        }
    }

    /// Adds a value to the row under way.
    #[inline(always)]
    pub fn push(&mut self, index: u32, value: T) {
        self.indices.push(index as i32); // index < n_features <= i32::MAX
        self.data.push(value);
    }

    /// Ends the current row, sorting it and summing its duplicates in place.
    pub fn end_row(&mut self) {
        let start = self.indptr.last().map_or(0, |&v| v as usize);
        if self.indices.len() - start > 1 {
            self.scratch.clear();
            let row = self.indices[start..].iter().zip(&self.data[start..]);
            self.scratch.extend(row.map(|(&i, &v)| (i as u32, v)));
            match canonical_row(&mut self.scratch) {
                Some(len) => {
                    self.indices.truncate(start + len);
                    self.data.truncate(start + len);
                    for (k, &(index, value)) in self.scratch[..len].iter().enumerate() {
                        self.indices[start + k] = index as i32;
                        self.data[start + k] = value;
                    }
                }
                None => self.has_raw_rows = true,
            }
        }
        self.indptr.push(self.indices.len() as i64);
    }

    /// The rows ended so far.
    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A feature: its name and a number or a string.
    type Feature<'a> = (&'a str, Option<f64>, Option<&'a str>);

    fn csr_of(hasher: &FeatureHasher, rows: &[&[Feature]]) -> Csr<f64> {
        let mut tokens = Tokens::default();
        for row in rows {
            for &(name, number, string) in *row {
                match (number, string) {
                    (Some(v), _) => tokens.push_number(name.as_bytes(), v),
                    (_, Some(s)) => tokens.push_string(name.as_bytes(), s.as_bytes()),
                    _ => unreachable!(),
                }
            }
            tokens.end_row();
        }
        let mut csr = Csr::new();
        hasher.hash_rows(&tokens, &mut csr).unwrap();
        csr
    }

    #[test]
    fn rows_equal_scikit_learns() {
        // sklearn.feature_extraction.FeatureHasher(n_features=16).transform([
        //     {"dog": 1.5, "cat": "tabby", "zero": 0.0}, {"dog": -2, "dog2": 3.0}, {}])
        let hasher = FeatureHasher::new(16, true, 0).unwrap();
        let csr = csr_of(
            &hasher,
            &[
                &[
                    ("dog", Some(1.5), None),
                    ("cat", None, Some("tabby")),
                    ("zero", Some(0.0), None),
                ],
                &[("dog", Some(-2.0), None), ("dog2", Some(3.0), None)],
                &[],
            ],
        );
        assert_eq!(csr.indptr, [0, 2, 4, 4]);
        assert_eq!(csr.indices, [4, 5, 5, 12]);
        assert_eq!(csr.data, [-1.0, -1.5, 2.0, -3.0]);
        // FeatureHasher(n_features=2**20, alternate_sign=False).transform(
        //     [{"city=Paris": 1.0, "temp": 21.5}]): a string feature is the token "name=value".
        let hasher = FeatureHasher::new(1 << 20, false, 0).unwrap();
        let csr = csr_of(
            &hasher,
            &[&[("city", None, Some("Paris")), ("temp", Some(21.5), None)]],
        );
        assert_eq!(
            (csr.indices.as_slice(), csr.data.as_slice()),
            (&[493975, 662641][..], &[21.5, 1.0][..])
        );
    }

    #[test]
    fn zeros_are_skipped_and_collisions_summed() {
        let hasher = FeatureHasher::new(1, false, 0).unwrap();
        let csr = csr_of(
            &hasher,
            &[&[
                ("a", Some(0.0), None),
                ("b", Some(2.0), None),
                ("c", Some(0.5), None),
            ]],
        );
        assert_eq!((csr.indices, csr.data), (vec![0], vec![2.5]));
        let mut tokens = Tokens::default();
        tokens.push_number(b"x", -0.0);
        assert!(tokens.is_empty());
    }

    #[test]
    fn parameters_are_checked() {
        assert!(FeatureHasher::new(0, true, 0).is_err());
        assert!(FeatureHasher::new(1 << 31, true, 0).is_err());
        assert!(FeatureHasher::new((1 << 31) - 1, true, 0).is_ok());
        assert!(FeatureHasher::new(8, true, 1 << 32).is_err());
    }

    #[test]
    fn bucket_matches_scikit_learn_docstring() {
        // sklearn FeatureHasher(n_features=10).transform([{"dog": 1, "cat": 2, "elephant": 4}])
        // == [[0, 0, -4, -1, 0, 0, 0, 0, 0, 2]]
        let h = FeatureHasher::new(10, true, 0).unwrap();
        assert_eq!(h.bucket(b"dog"), (3, true));
        assert_eq!(h.bucket(b"cat"), (9, false));
        assert_eq!(h.bucket(b"elephant"), (2, true));
        let unsigned = FeatureHasher::new(10, false, 0).unwrap();
        assert_eq!(unsigned.bucket(b"dog"), (3, false));
        assert!(FeatureHasher::signed(true, f64::NAN).is_sign_negative());
    }

    #[test]
    fn modulo_by_multiplication_is_exact() {
        for n in [
            1u32,
            2,
            3,
            7,
            10,
            1000,
            1 << 20,
            (1 << 20) + 1,
            (1 << 31) - 1,
        ] {
            let h = FeatureHasher::new(i64::from(n), true, 0).unwrap();
            for a in [
                0u32,
                1,
                2,
                n - 1,
                n,
                n.wrapping_add(1),
                12345,
                1 << 31,
                u32::MAX,
                u32::MAX - 1,
            ] {
                assert_eq!(h.modulo(a), a % n, "{a} % {n}");
            }
        }
    }

    #[test]
    fn int_dtypes_truncate_and_check() {
        assert_eq!(i64::from_f64(-2.7).unwrap(), -2);
        assert!(matches!(
            i64::from_f64(f64::NAN),
            Err(SketchError::InvalidInput { .. })
        ));
        assert!(matches!(
            i64::from_f64(f64::INFINITY),
            Err(SketchError::Overflow { .. })
        ));
        assert!(matches!(
            i32::from_f64(3e9),
            Err(SketchError::Overflow { .. })
        ));
        assert_eq!(f32::from_f64(1e300).unwrap(), f32::INFINITY);
    }

    #[test]
    fn canonical_rows() {
        let mut row = vec![(5, 1.0), (2, 2.0), (5, -1.0), (1, 0.5)];
        assert_eq!(canonical_row(&mut row), Some(3));
        assert_eq!(&row[..3], &[(1, 0.5), (2, 2.0), (5, 0.0)]); // explicit zero kept
        let mut long: Vec<(u32, f64)> = (0..17).map(|i| (i, 1.0)).collect();
        long[1].0 = 0;
        long[2].0 = 0;
        assert_eq!(canonical_row(&mut long), None);
        let mut ints: Vec<(u32, i64)> = (0..17).map(|_| (0, 1)).collect();
        assert_eq!(canonical_row(&mut ints), Some(1));
        assert_eq!(ints[0], (0, 17));
    }

    #[test]
    fn csr_rows_are_canonical_unless_ambiguous() {
        let mut csr = Csr::<f64>::new();
        csr.push(3, 1.0);
        csr.push(1, 2.0);
        csr.push(3, 0.5);
        csr.end_row();
        csr.end_row();
        assert_eq!(
            (csr.indptr.clone(), csr.indices.clone(), csr.data.clone()),
            (vec![0, 2, 2], vec![1, 3], vec![2.0, 1.5])
        );
        assert!(!csr.has_raw_rows);
        for i in 0..20 {
            csr.push(if i < 3 { 7 } else { 20 - i }, 0.1);
        }
        csr.end_row();
        assert!(csr.has_raw_rows);
        assert_eq!(&csr.indices[2..5], &[7, 7, 7]); // left as read
        assert_eq!(csr.indptr, vec![0, 2, 2, 22]);
    }
}
