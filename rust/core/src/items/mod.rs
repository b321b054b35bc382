//! Items: how a Python object becomes the bytes that every hash and sketch sees, and the one view of
//! a batch of them.
//!
//! - [`encoding`]: the canonical encoding (an item hashes the same alone, in a list, in a numpy
//!   array or in an Arrow array).
//! - [`keys`]: [`Keys`], a batch borrowed from the caller's buffers, checked once.
//! - [`buffer`]: [`KeyBuffer`], an owned batch built item by item (Python lists, file records).

pub mod buffer;
pub mod encoding;
pub mod keys;

pub use buffer::KeyBuffer;
pub use encoding::{
    canonical_f64_bits, encode_f64, encode_i64, encode_int, encode_u64, parse_number, word_of,
    ItemKind, Word, CANONICAL_NAN_BITS,
};
pub use keys::{Keys, Kinds, Offsets, OwnedKeys, Slot};

#[cfg(test)]
mod tests;
