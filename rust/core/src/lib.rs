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
//! - [`sketch`]: the [`Sketch`] trait; [`for_each_sketch!`]: the one list of families, and
//!   [`registry`]: what it makes ([`Kind`], [`AnySketch`]);
//! - one folder per family: [`count_min`], [`top_k`], [`hll`], [`quantiles`], each with its
//!   DataSketches image code in a file of its own;
//! - [`vectorize`]: feature hashing and text; [`read`]: files and streams into sketches;
//!   [`group`]: one sketch per group of a key column, in one pass;
//! - [`parallel`]: the one thread policy; [`error`]: the one error type; [`named`]: parameters
//!   chosen by name; [`float`]: exact powers of two.
//!
//! `unsafe` is denied everywhere but in `hash::kernels` (the SIMD builds and the outputs written
//! in place), each block with its `SAFETY` comment.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod codec;
pub mod error;
pub mod float;
pub mod group;
pub mod hash;
pub mod items;
pub mod named;
pub mod parallel;
pub mod read;
pub mod registry;
pub mod sketch;
pub mod vectorize;

// The sketch families: a folder each, and a line each in `for_each_sketch!` below.
pub mod count_min;
pub mod hll;
pub mod quantiles;
pub mod top_k;

/// The one list of every sketch of sketchy: `$callback! { ... }` with a line per family, `Family:
/// Type { Kind = byte "name", ... }` (the first kind's name is the family's). It makes the format's
/// kind table, [`AnySketch`] and its dispatch ([`registry`]), and the Python bindings' class list.
/// A new family takes the next free kind byte; a released byte never changes meaning.
#[macro_export]
macro_rules! for_each_sketch {
    ($callback:ident) => {
        $callback! {
            CountMin: $crate::count_min::CountMinSketch { CountMin = 1 "CountMinSketch" },
            TopK: $crate::top_k::TopK { TopK = 2 "TopK" },
            HyperLogLog: $crate::hll::HyperLogLog {
                HyperLogLog = 3 "HyperLogLog",
                DsHyperLogLog = 6 "HyperLogLog (DataSketches hashing)"
            },
            DDSketch: $crate::quantiles::DDSketch { DDSketch = 4 "DDSketch" },
            Kll: $crate::quantiles::Kll { Kll = 5 "KLL" },
        }
    };
}

pub use error::{Result, SketchError};
pub use hash::Algorithm;
pub use items::{ItemKind, KeyBuffer, Keys};
pub use registry::{AnySketch, Family, Kind};
pub use sketch::Sketch;
