//! `sketchy._native`: the compiled half of sketchy. Glue only: argument extraction, GIL release and
//! error mapping around `sketchy_core`. Users import from `sketchy`, not from here.

mod args;
mod count_min;
mod errors;
mod fastcall;
mod feature_hashing;
mod hashing;
mod hll;
mod items;
mod quantiles;
mod read;
mod shared;
mod sketch_methods;
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
    m.add_class::<feature_hashing::PyFeatureHashing>()?;
    m.add_class::<count_min::PyCountMinSketch>()?;
    m.add_class::<top_k::PyTopK>()?;
    m.add_class::<hll::PyHyperLogLog>()?;
    m.add_class::<quantiles::PyDDSketch>()?;
    m.add_class::<quantiles::PyKll>()?;
    m.add_class::<read::PyReadReport>()?;
    m.add_class::<text::PyTextHashing>()?;
    m.add_function(wrap_pyfunction!(read::update_from, m)?)?;
    m.add(
        "ALGORITHMS",
        sketchy_core::Algorithm::ALL.map(|a| a.name()).to_vec(),
    )?;
    Ok(())
}
