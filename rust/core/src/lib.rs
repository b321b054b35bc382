//! sketchy-core: feature hashing and probabilistic sketches for streams, in pure Rust.
//!
//! This crate holds every algorithm of sketchy and no Python: the `sketchy` Python package reaches it
//! through thin PyO3 bindings. Items are hashed through one canonical byte encoding ([`items`]), so an
//! item hashes the same alone or in any kind of batch.

pub mod codec;
pub mod count_min;
pub mod error;
pub mod float;
pub mod hash;
pub mod hll;
pub mod items;
pub mod named;
pub mod parallel;
pub mod quantiles;
pub mod read;
pub mod registry;
pub mod sketch;
pub mod top_k;
pub mod vectorize;

pub use error::{Result, SketchError};
pub use hash::Algorithm;
pub use items::{ItemKind, KeyBuffer, Keys};
pub use registry::{AnySketch, Family, Kind};
pub use sketch::Sketch;
