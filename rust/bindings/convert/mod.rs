//! Python objects to the core's views, and back: [`item`] (one item to its canonical bytes),
//! [`batch`] (a batch to one `Keys` view), [`list`] (all raw access to a list's items),
//! [`features`] (`FeatureHasher`'s observations to tokens).

pub mod batch;
pub mod features;
pub mod item;
pub mod list;
