//! `sketchy._native.TextHashing`: the Rust half of `sketchy.HashingVectorizer` (tokens, hashing,
//! CSR, binary and norm), for documents already decoded, lowercased and stripped of accents in
//! Python.

use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use sketchy_core::feature_hashing::FeatureHasher;
use sketchy_core::parallel;
use sketchy_core::text::{Analyzer, CharSet, Dtype, Matrix, Norm, Scratch, TextHasher, Values};

use crate::errors::IntoPyResult;

/// Documents per thread below which a batch stays on one thread.
const PARALLEL_MIN: usize = 256;

#[pyclass(module = "sketchy._native", name = "TextHashing", frozen)]
pub struct PyTextHashing {
    inner: TextHasher,
}

fn parse<T: Copy>(name: &str, value: &str, options: &[(&str, T)]) -> PyResult<T> {
    options
        .iter()
        .find(|(n, _)| *n == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| PyValueError::new_err(format!("{name}: unknown value {value:?}")))
}

#[pymethods]
impl PyTextHashing {
    /// TextHashing(word_ranges, space_ranges, analyzer, ngram_range, stop_words, n_features,
    /// alternate_sign, dtype, binary, norm)
    ///
    /// `word_ranges`/`space_ranges`: the code points (half-open ranges) that the running Python's
    /// `re` calls `\w` and `\s`.
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        word_ranges: Vec<(u32, u32)>,
        space_ranges: Vec<(u32, u32)>,
        analyzer: &str,
        ngram_range: (usize, usize),
        stop_words: Option<Vec<String>>,
        n_features: i64,
        alternate_sign: bool,
        dtype: &str,
        binary: bool,
        norm: Option<&str>,
    ) -> PyResult<Self> {
        let analyzer = parse(
            "analyzer",
            analyzer,
            &[
                ("word", Analyzer::Word),
                ("char", Analyzer::Char),
                ("char_wb", Analyzer::CharWb),
            ],
        )?;
        let dtype = parse(
            "dtype",
            dtype,
            &[
                ("float64", Dtype::F64),
                ("float32", Dtype::F32),
                ("int64", Dtype::I64),
                ("int32", Dtype::I32),
            ],
        )?;
        let norm = match norm {
            None => Norm::None,
            Some(n) => parse("norm", n, &[("l1", Norm::L1), ("l2", Norm::L2)])?,
        };
        let hasher = FeatureHasher::new(n_features, alternate_sign, 0).py()?;
        let inner = TextHasher::new(
            hasher,
            analyzer,
            ngram_range,
            stop_words.map(|w| w.into_iter().collect()),
            binary,
            norm,
            dtype,
            CharSet::from_ranges(&word_ranges),
            CharSet::from_ranges(&space_ranges),
        )
        .py()?;
        Ok(PyTextHashing { inner })
    }

    /// transform(docs: list[str]) -> (indptr, indices, data)
    ///
    /// The CSR arrays of the documents (int32 indices and, while they fit, int32 indptr). A document
    /// that is not a str, or has no UTF-8 form (a lone surrogate), raises TypeError or
    /// UnicodeEncodeError before any work.
    fn transform<'py>(
        &self,
        py: Python<'py>,
        docs: &Bound<'py, PyList>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let objects: Vec<Bound<'py, PyString>> = docs
            .iter()
            .map(|d| d.cast_into::<PyString>().map_err(PyErr::from))
            .collect::<PyResult<_>>()?;
        let texts: Vec<&str> = objects
            .iter()
            .map(|s| s.to_str())
            .collect::<PyResult<_>>()?;
        let hasher = &self.inner;
        let texts = &texts;
        // The objects stay alive (and immutable) in `objects` while the GIL is released.
        let parts = py.detach(|| {
            let plan = parallel::plan(texts.len(), PARALLEL_MIN);
            // Shares of equal bytes, not of equal documents: documents' lengths vary a lot.
            let cuts = byte_shares(texts, plan.threads.max(1));
            let run = |t: usize| {
                hasher.matrix(
                    texts[cuts[t]..cuts[t + 1]].iter().copied(),
                    &mut Scratch::default(),
                )
            };
            let (first, rest) =
                parallel::for_each_share(plan.threads, plan.threads, |_| run(0), |t, _| run(t));
            let mut parts = vec![first];
            parts.extend(rest);
            parts
        });
        arrays(py, concat(parts))
    }
    /// transform_tokens(rows) -> (indptr, indices, data)
    ///
    /// The matrix of rows of tokens made by a Python analyzer (iterables of str or bytes), as
    /// scikit-learn's `FeatureHasher(input_type="string")` hashes them, then `binary`, the norm and
    /// the dtype.
    fn transform_tokens<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let (mut indptr, mut indices, mut counts) = (vec![0i64], Vec::new(), Vec::new());
        let mut s = Scratch::default();
        for (i, row) in rows.try_iter()?.enumerate() {
            let row = row?;
            if i == 0 && row.is_instance_of::<PyString>() {
                return Err(PyValueError::new_err(
                    "Samples can not be a single string. The input must be an iterable over iterables of strings.",
                ));
            }
            for token in row.try_iter()? {
                let token = token?;
                if let Ok(t) = token.cast::<PyString>() {
                    self.inner.push_token(t.to_str()?.as_bytes(), &mut s);
                } else if let Ok(b) = token.cast::<pyo3::types::PyBytes>() {
                    self.inner.push_token(b.as_bytes(), &mut s);
                } else {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "tokens must be str or bytes, got {}",
                        token.get_type().name()?
                    )));
                }
            }
            for &(index, count) in self.inner.end_row(&mut s) {
                indices.push(index as i32); // index < n_features <= i32::MAX
                counts.push(count);
            }
            indptr.push(indices.len() as i64);
        }
        let values = self.inner.values(&indptr, &counts);
        arrays(
            py,
            Matrix {
                indptr,
                indices,
                values,
            },
        )
    }

    /// transform_one(doc: str) -> dict[int, float | int]
    ///
    /// One document's row of `transform` as `{column: value}`.
    fn transform_one<'py>(&self, py: Python<'py>, doc: &str) -> PyResult<Bound<'py, PyDict>> {
        let m = self
            .inner
            .matrix(std::iter::once(doc), &mut Scratch::default());
        let out = PyDict::new(py);
        match &m.values {
            Values::F64(v) => fill(&out, &m.indices, v)?,
            Values::F32(v) => fill(&out, &m.indices, v)?,
            Values::I64(v) => fill(&out, &m.indices, v)?,
            Values::I32(v) => fill(&out, &m.indices, v)?,
        }
        Ok(out)
    }
}

/// The matrix as the numpy arrays of a `csr_matrix`: int32 indptr while the entries fit.
fn arrays<'py>(py: Python<'py>, m: Matrix) -> PyResult<Bound<'py, PyTuple>> {
    let Matrix {
        indptr,
        indices,
        values,
    } = m;
    let nnz = indices.len();
    let indptr: Bound<'py, PyAny> = if nnz <= i32::MAX as usize {
        let narrow: Vec<i32> = indptr.iter().map(|&v| v as i32).collect();
        narrow.into_pyarray(py).into_any()
    } else {
        indptr.into_pyarray(py).into_any()
    };
    let data: Bound<'py, PyAny> = match values {
        Values::F64(v) => v.into_pyarray(py).into_any(),
        Values::F32(v) => v.into_pyarray(py).into_any(),
        Values::I64(v) => v.into_pyarray(py).into_any(),
        Values::I32(v) => v.into_pyarray(py).into_any(),
    };
    PyTuple::new(py, [indptr, indices.into_pyarray(py).into_any(), data])
}

fn fill<'py, T: Copy + IntoPyObject<'py>>(
    out: &Bound<'py, PyDict>,
    indices: &[i32],
    values: &[T],
) -> PyResult<()> {
    for (&i, &v) in indices.iter().zip(values) {
        out.set_item(i, v)?;
    }
    Ok(())
}

/// The threads' matrices, one after the other.
fn concat(parts: Vec<Matrix>) -> Matrix {
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
            _ => unreachable!("every part has the hasher's dtype"),
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
