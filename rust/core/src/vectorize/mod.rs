//! Hashed features: the hashing trick for dict observations ([`feature_hashing`], with feature
//! [`crosses`]) and for text ([`text`], its output in [`matrix`]), bit-exact with scikit-learn's
//! `FeatureHasher` and `HashingVectorizer`, and the index-width rule of their CSR output ([`csr`]).

pub mod crosses;
pub mod csr;
pub mod feature_hashing;
pub mod matrix;
pub mod text;

/// The value type of a hashed matrix (scikit-learn's `dtype=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// numpy.float64.
    F64,
    /// numpy.float32.
    F32,
    /// numpy.int64.
    I64,
    /// numpy.int32.
    I32,
}

crate::named!(Dtype, "dtype", { F64 => "float64", F32 => "float32", I64 => "int64", I32 => "int32" });

/// What an observation of `FeatureHasher` is (scikit-learn's `input_type=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputType {
    /// A mapping of feature names to values.
    Dict,
    /// An iterable of `(name, value)` pairs.
    Pair,
    /// An iterable of feature names, each of value 1.
    String,
}

crate::named!(InputType, "input_type", { Dict => "dict", Pair => "pair", String => "string" });
