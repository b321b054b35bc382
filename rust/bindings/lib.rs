//! `sketchy._native`: the compiled half of sketchy. Glue only: argument extraction, GIL release and
//! error mapping around `sketchy_core`. Users import from `sketchy`, not from here.
//!
//! - `convert/`: Python objects to the core's views (one item, a batch, a list's raw items,
//!   `FeatureHasher`'s observations); `pipeline`: the GIL and lock choreography of a batch;
//!   `shared`: the lock every sketch class holds its core sketch behind;
//! - `sketch`: what every sketch class shares, and the class list from the core's registry;
//! - one file per Python class or function family: `count_min`, `top_k`, `hyperloglog`,
//!   `ddsketch`, `kll` (with `quantile`), `hashing` (`fastcall` for the single-key functions),
//!   `feature_hasher`, `text`, `read`, `group` (`group_sketches`).

mod args;
mod convert;
mod count_min;
mod ddsketch;
mod errors;
mod fastcall;
mod feature_hasher;
mod group;
mod hashing;
mod hyperloglog;
mod kll;
mod pipeline;
mod quantile;
mod read;
mod shared;
mod sketch;
mod text;
mod top_k;

use pyo3::prelude::*;

/// Rust allocations of this module (not Python's) go to jemalloc: see Cargo.toml.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options (its `malloc_conf`, which it declares weak): a background thread returns freed
/// memory to the system, instead of whichever call allocates next. `hash_many` of 1M Arrow str took 3.3–16 ms with that purging in the calls, 2.8–3.4 ms with
/// it in the background; on int64, 0.40 ns per item at 1M, 10M and 30M items (0.94 at 10M before).
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[export_name = "_rjem_malloc_conf"]
static JEMALLOC_CONF: &[u8; 23] = b"background_thread:true\0";

// Not free-threading safe yet: list items are read borrowed (`PyList_GET_ITEM`), which another
// thread could free without the GIL. Until that has a critical section, the GIL stays on.
#[pymodule(gil_used = true)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    hashing::add_single_key_functions(m)?;
    m.add_function(wrap_pyfunction!(hashing::hash_many, m)?)?;
    m.add_function(wrap_pyfunction!(read::update_from_py, m)?)?;
    m.add_function(wrap_pyfunction!(group::group_sketches_py, m)?)?;
    sketch::add_classes(m)?;
    m.add_class::<read::PyReadReport>()?;
    m.add_class::<feature_hasher::PyFeatureHashing>()?;
    m.add_class::<text::PyTextHashing>()?;
    let algorithms: Vec<&str> = sketchy_core::Algorithm::ALL
        .iter()
        .map(|a| a.name())
        .collect();
    m.add("ALGORITHMS", algorithms)?;
    Ok(())
}
