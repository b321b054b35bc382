//! The index arrays of a hashed CSR matrix as scipy takes them: int32 while the matrix has at most
//! `2**31 - 1` stored entries, int64 beyond (scikit-learn's rule for its hashers' output).

/// An index array, in the width the rule gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Index {
    /// int32.
    I32(Vec<i32>),
    /// int64.
    I64(Vec<i64>),
}

/// Whether a matrix of `nnz` stored entries takes int32 index arrays.
pub fn fits_i32(nnz: usize) -> bool {
    nnz <= i32::MAX as usize
}

/// `indptr` (whose last entry is the matrix's number of entries) in the rule's width.
pub fn indptr(indptr: Vec<i64>) -> Index {
    let nnz = indptr.last().map_or(0, |&n| n as usize);
    if fits_i32(nnz) {
        Index::I32(indptr.iter().map(|&v| v as i32).collect())
    } else {
        Index::I64(indptr)
    }
}

/// `indices` (columns below `2**31`) in the rule's width for a matrix of their number of entries.
pub fn indices(indices: Vec<i32>) -> Index {
    if fits_i32(indices.len()) {
        Index::I32(indices)
    } else {
        Index::I64(indices.iter().map(|&v| i64::from(v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int32_while_the_entries_fit() {
        assert_eq!(indptr(vec![0, 2, 5]), Index::I32(vec![0, 2, 5]));
        assert_eq!(indices(vec![3, 1]), Index::I32(vec![3, 1]));
        assert!(fits_i32(i32::MAX as usize) && !fits_i32(1 << 31));
        assert_eq!(indptr(vec![0, 1 << 31]), Index::I64(vec![0, 1 << 31]));
    }
}
