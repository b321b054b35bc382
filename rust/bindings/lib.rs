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
mod shared;
mod sketch_methods;
mod top_k;

use pyo3::prelude::*;

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
    m.add(
        "ALGORITHMS",
        sketchy_core::Algorithm::ALL.map(|a| a.name()).to_vec(),
    )?;
    Ok(())
}
