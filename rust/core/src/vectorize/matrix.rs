//! The output of the text vectorizer: a CSR matrix with its values in the output dtype, `binary`
//! and the row norms applied in scikit-learn's order, and a batch of documents shared between the
//! cores by bytes.

use super::text::{Scratch, TextHasher};
use super::Dtype;
use crate::parallel;

/// A row norm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    /// Each row divided by the sum of its values' magnitudes.
    L1,
    /// Each row divided by its Euclidean length.
    L2,
}

crate::named!(Norm, "norm", { L1 => "l1", L2 => "l2" });

/// The values of a matrix, in the dtype's own array.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// float64.
    F64(Vec<f64>),
    /// float32.
    F32(Vec<f32>),
    /// int64.
    I64(Vec<i64>),
    /// int32.
    I32(Vec<i32>),
}

/// A CSR matrix: row `r` is `indices[indptr[r]..indptr[r + 1]]` with its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Where each row starts, and the end.
    pub indptr: Vec<i64>,
    /// The columns.
    pub indices: Vec<i32>,
    /// The values.
    pub values: Values,
}

/// Documents per thread below which a batch stays on one thread.
const PARALLEL_MIN: usize = 256;

impl TextHasher {
    /// The rows' counts as the output's values: cast to the dtype, `binary` (every stored value 1,
    /// the explicit zeros too), then the norm.
    pub fn values(&self, indptr: &[i64], counts: &[i64]) -> Values {
        let count = |c: i64| if self.binary { 1 } else { c };
        match self.output_dtype() {
            Dtype::F64 => {
                let mut v: Vec<f64> = counts.iter().map(|&c| count(c) as f64).collect();
                normalize(&mut v, indptr, self.norm, |x| x, |x| x);
                Values::F64(v)
            }
            Dtype::F32 => {
                let mut v: Vec<f32> = counts.iter().map(|&c| count(c) as f32).collect();
                normalize(&mut v, indptr, self.norm, f64::from, |x| x as f32);
                Values::F32(v)
            }
            Dtype::I64 => Values::I64(counts.iter().map(|&c| count(c)).collect()),
            Dtype::I32 => Values::I32(counts.iter().map(|&c| count(c) as i32).collect()),
        }
    }

    /// The matrix of `texts`, on all cores for large batches: the threads take runs of documents
    /// of about the same number of bytes (documents' lengths vary a lot), and their matrices are
    /// joined in order.
    pub fn matrix_of(&self, texts: &[&str]) -> Matrix {
        let plan = parallel::plan(texts.len(), PARALLEL_MIN);
        let cuts = byte_shares(texts, plan.threads.max(1));
        let run = |t: usize| {
            self.matrix(
                texts[cuts[t]..cuts[t + 1]].iter().copied(),
                &mut Scratch::default(),
            )
        };
        let (first, rest) =
            parallel::for_each_share(plan.threads, plan.threads, |_| run(0), |t, _| run(t));
        concat(std::iter::once(first).chain(rest))
    }
}

/// The threads' matrices, one after the other.
fn concat(parts: impl Iterator<Item = Matrix>) -> Matrix {
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Matrix {
            indptr: vec![0],
            indices: Vec::new(),
            values: Values::F64(Vec::new()),
        };
    };
    let (mut indptr, mut indices, mut values) = (first.indptr, first.indices, first.values);
    for part in parts {
        let base = indices.len() as i64;
        indptr.extend(part.indptr[1..].iter().map(|&p| p + base));
        indices.extend(part.indices);
        match (&mut values, part.values) {
            (Values::F64(a), Values::F64(b)) => a.extend(b),
            (Values::F32(a), Values::F32(b)) => a.extend(b),
            (Values::I64(a), Values::I64(b)) => a.extend(b),
            (Values::I32(a), Values::I32(b)) => a.extend(b),
            // Every part has the hasher's dtype.
            (_, _) => {}
        }
    }
    Matrix {
        indptr,
        indices,
        values,
    }
}

/// Where to cut `texts` into `shares` runs of about the same number of bytes: `shares + 1`
/// increasing indices from 0 to `texts.len()`.
fn byte_shares(texts: &[&str], shares: usize) -> Vec<usize> {
    let total: usize = texts.iter().map(|t| t.len() + 1).sum();
    let mut cuts = vec![0];
    let mut bytes = 0;
    for (i, t) in texts.iter().enumerate() {
        if cuts.len() < shares && bytes >= total * cuts.len() / shares {
            cuts.push(i);
        }
        bytes += t.len() + 1;
    }
    cuts.resize(shares, texts.len());
    cuts.push(texts.len());
    cuts
}

/// scikit-learn's `_inplace_csr_row_normalize_l1`/`_l2`: the row's sum (of |x|, or of x·x computed in
/// the value type) accumulated in a double, each value divided by it (or its square root) in double
/// and stored back in the value type; rows summing to 0 are left alone.
fn normalize<T: Copy + std::ops::Mul<Output = T>>(
    values: &mut [T],
    indptr: &[i64],
    norm: Option<Norm>,
    widen: impl Fn(T) -> f64,
    narrow: impl Fn(f64) -> T,
) {
    let Some(norm) = norm else {
        return;
    };
    for w in indptr.windows(2) {
        let row = &mut values[w[0] as usize..w[1] as usize];
        let mut sum = 0.0f64;
        for &x in row.iter() {
            sum += match norm {
                Norm::L1 => widen(x).abs(),
                _ => widen(x * x),
            };
        }
        if sum == 0.0 {
            continue;
        }
        if norm == Norm::L2 {
            sum = sum.sqrt();
        }
        for x in row.iter_mut() {
            *x = narrow(widen(*x) / sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_follow_scikit_learn() {
        let mut v = vec![3.0f32, -4.0, 0.0];
        normalize(&mut v, &[0, 3], Some(Norm::L2), f64::from, |x| x as f32);
        assert_eq!(v, vec![0.6, -0.8, 0.0]);
        let mut v = vec![1.0f64, -3.0];
        normalize(&mut v, &[0, 2], Some(Norm::L1), |x| x, |x| x);
        assert_eq!(v, vec![0.25, -0.75]);
    }

    #[test]
    fn byte_shares_cut_by_bytes_and_cover_every_document() {
        let texts = ["a", "bbbbbbbbbb", "c", "d", "eeeeeeeeee", "f"];
        for shares in 1..5 {
            let cuts = byte_shares(&texts, shares);
            assert_eq!(cuts.len(), shares + 1);
            assert_eq!((cuts[0], cuts[shares]), (0, texts.len()));
            assert!(cuts.windows(2).all(|w| w[0] <= w[1]), "{cuts:?}");
        }
        assert_eq!(byte_shares(&texts, 2), vec![0, 3, 6]);
    }
}
