//! sketchy-core: feature hashing and probabilistic sketches for streams, in pure Rust.
//!
//! This crate holds every algorithm of sketchy and no Python: the `sketchy` Python package reaches it
//! through thin PyO3 bindings. Items are hashed through one canonical byte encoding ([`items`]), so an
//! item hashes the same alone or in any kind of batch.
//!
//! The map (ARCHITECTURE.md at the top of the repository has the whole of it):
//!
//! - [`items`]: the canonical encoding and [`Keys`], the one view of a batch;
//! - [`hash`]: the hash functions, over one item or a batch (the SIMD kernels in `hash::kernels`);
//! - [`codec`]: sketchy's versioned format and the cursor foreign images are read with;
//! - [`sketch`]: the [`Sketch`] trait; [`registry`]: the one list of families, [`AnySketch`];
//! - one folder per family: [`count_min`], [`top_k`], [`hll`], [`quantiles`], each with its
//!   DataSketches image code in a file of its own;
//! - [`vectorize`]: feature hashing and text; [`read`]: files and streams into sketches;
//! - [`parallel`]: the one thread policy; [`error`]: the one error type.
//!
//! `unsafe` is denied everywhere but in `hash::kernels` (the SIMD builds and the outputs written
//! in place), each block with its `SAFETY` comment.
#![deny(missing_docs)]
#![deny(unsafe_code)]

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
