//! The one error type of sketchy-core. The Python bindings map each variant to one exception class
//! (see `rust/bindings/errors.rs`), so the message is written for the Python user.

use std::fmt;

/// Everything that can go wrong in the core. Every fallible public function returns this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SketchError {
    /// A parameter is outside its valid range (`ValueError` in Python). `name` is the parameter.
    InvalidParameter { name: &'static str, message: String },
    /// An integer item or seed does not fit the canonical 64-bit encoding (`OverflowError`).
    Overflow { message: String },
    /// An item that is not valid Unicode (a lone surrogate in a numpy `U` array) (`UnicodeEncodeError`).
    InvalidUnicode { position: usize, code_point: u32 },
    /// Two sketches that cannot be merged: `parameter` differs (`ValueError`).
    Incompatible {
        parameter: &'static str,
        message: String,
    },
    /// Bytes given to `from_bytes` that are not a valid serialized sketch (`ValueError`).
    InvalidFormat { message: String },
    /// Input buffers that disagree with each other, e.g. Arrow offsets past the data (`ValueError`).
    InvalidInput { message: String },
    /// An item of the wrong type, e.g. a string given to a quantile sketch (`TypeError`).
    WrongType { message: String },
    /// A file that cannot be opened or read (the reader's): `kind` picks the Python `OSError`.
    Io {
        kind: std::io::ErrorKind,
        message: String,
    },
}

impl SketchError {
    pub fn parameter(name: &'static str, message: impl Into<String>) -> Self {
        SketchError::InvalidParameter {
            name,
            message: message.into(),
        }
    }

    pub fn format(message: impl Into<String>) -> Self {
        SketchError::InvalidFormat {
            message: message.into(),
        }
    }

    pub fn input(message: impl Into<String>) -> Self {
        SketchError::InvalidInput {
            message: message.into(),
        }
    }

    pub fn io(kind: std::io::ErrorKind, message: impl Into<String>) -> Self {
        SketchError::Io {
            kind,
            message: message.into(),
        }
    }

    pub fn wrong_type(message: impl Into<String>) -> Self {
        SketchError::WrongType {
            message: message.into(),
        }
    }

    pub fn overflow(message: impl Into<String>) -> Self {
        SketchError::Overflow {
            message: message.into(),
        }
    }

    /// `Ok` if two sketches agree on `parameter`, else `Incompatible` naming it and both values: the
    /// check every `merge` makes before it changes anything.
    pub fn check_same<T: PartialEq + fmt::Display>(
        parameter: &'static str,
        a: T,
        b: T,
    ) -> Result<()> {
        if a == b {
            return Ok(());
        }
        Err(SketchError::Incompatible {
            parameter,
            message: format!("{a} != {b}"),
        })
    }
}

impl fmt::Display for SketchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SketchError::InvalidParameter { name, message } => write!(f, "{name}: {message}"),
            SketchError::Overflow { message } => f.write_str(message),
            SketchError::InvalidUnicode {
                position,
                code_point,
            } => write!(
                f,
                "item at position {position} contains the code point U+{code_point:04X}, \
                 which cannot be encoded as UTF-8 (surrogates not allowed)"
            ),
            SketchError::Incompatible { parameter, message } => {
                write!(
                    f,
                    "cannot merge sketches with different {parameter}: {message}"
                )
            }
            SketchError::InvalidFormat { message } => {
                write!(f, "invalid serialized sketch: {message}")
            }
            SketchError::InvalidInput { message } | SketchError::WrongType { message } => {
                f.write_str(message)
            }
            SketchError::Io { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for SketchError {}

pub type Result<T> = std::result::Result<T, SketchError>;
