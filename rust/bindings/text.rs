//! `sketchy._native.TextHashing`: the Rust half of `sketchy.HashingVectorizer` (tokens, hashing,
//! CSR, binary and norm), for documents already decoded, lowercased and stripped of accents in
//! Python.

use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use sketchy_core::vectorize::csr::{self, Index};
use sketchy_core::vectorize::feature_hashing::FeatureHasher;
use sketchy_core::vectorize::matrix::{Matrix, Values};
use sketchy_core::vectorize::text::{CharSet, Scratch, TextHasher};

use crate::args::name_arg;
use crate::errors::IntoPyResult;

#[pyclass(module = "sketchy._native", name = "TextHashing", frozen)]
pub struct PyTextHashing {
    inner: TextHasher,
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
        let analyzer = name_arg(analyzer)?;
        let dtype = name_arg(dtype)?;
        let norm = norm.map(name_arg).transpose()?;
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
        // The objects stay alive (and immutable) in `objects` while the GIL is released.
        let matrix = py.detach(|| self.inner.matrix_of(&texts));
        arrays(py, matrix)
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
    let indptr: Bound<'py, PyAny> = match csr::indptr(m.indptr) {
        Index::I32(v) => v.into_pyarray(py).into_any(),
        Index::I64(v) => v.into_pyarray(py).into_any(),
    };
    let data: Bound<'py, PyAny> = match m.values {
        Values::F64(v) => v.into_pyarray(py).into_any(),
        Values::F32(v) => v.into_pyarray(py).into_any(),
        Values::I64(v) => v.into_pyarray(py).into_any(),
        Values::I32(v) => v.into_pyarray(py).into_any(),
    };
    PyTuple::new(py, [indptr, m.indices.into_pyarray(py).into_any(), data])
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
