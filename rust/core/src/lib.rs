//! sketchy-core: feature hashing and probabilistic sketches for streams, in pure Rust.
//!
//! This crate holds every algorithm of sketchy and no Python: the `sketchy` Python package reaches it
//! through thin PyO3 bindings. Items are hashed through one canonical byte encoding ([`keys`]), so an
//! item hashes the same alone or in any kind of batch.

pub mod count_min;
pub mod ddsketch;
pub mod distinct;
pub mod ds_hll;
mod ds_hll_tables;
pub mod error;
pub mod exact_sum;
pub mod feature_hashing;
pub mod format;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod kll;
pub mod murmur3;
pub mod parallel;
pub mod read;
pub mod sketch;
pub mod text;
pub mod top_k;

pub use error::{Result, SketchError};
pub use hash::Algorithm;
pub use keys::{ItemKind, KeyBuffer, Keys};
pub use sketch::Sketch;
