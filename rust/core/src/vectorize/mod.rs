//! Hashed features: the hashing trick for dict observations ([`feature_hashing`]) and for text
//! ([`text`]), bit-exact with scikit-learn's `FeatureHasher` and `HashingVectorizer`.

pub mod feature_hashing;
pub mod text;
