//! Quantile sketches: [`DDSketch`] (relative error on values) and [`Kll`] (rank error, DataSketches'
//! KLL and its images), and the exact sum DDSketch keeps.

pub mod ddsketch;
pub mod exact_sum;
pub mod kll;

pub use ddsketch::DDSketch;
pub use kll::Kll;
