//! The one error type of sketchy-core. The Python bindings map each variant to one exception class
//! (see `rust/bindings/errors.rs`), so the message is written for the Python user.

use std::fmt;

/// Everything that can go wrong in the core. Every fallible public function returns this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SketchError {
    /// A parameter is outside its valid range (`ValueError` in Python).
    InvalidParameter {
        /// The parameter, as the user names it.
        name: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// An integer item or seed does not fit the canonical 64-bit encoding (`OverflowError`).
    Overflow {
        /// What does not fit.
        message: String,
    },
    /// An item that is not valid Unicode (a lone surrogate in a numpy `U` array) (`UnicodeEncodeError`).
    InvalidUnicode {
        /// The item's position in its batch.
        position: usize,
        /// The code point that has no UTF-8 form.
        code_point: u32,
    },
    /// Two sketches that cannot be merged: `parameter` differs (`ValueError`).
    Incompatible {
        /// The parameter that differs.
        parameter: &'static str,
        /// Both values.
        message: String,
    },
    /// Bytes given to `from_bytes` that are not a valid serialized sketch (`ValueError`).
    InvalidFormat {
        /// What is wrong with them.
        message: String,
    },
    /// Input buffers that disagree with each other, e.g. Arrow offsets past the data (`ValueError`).
    InvalidInput {
        /// What is wrong with them.
        message: String,
    },
    /// An item of the wrong type, e.g. a string given to a quantile sketch (`TypeError`).
    WrongType {
        /// The type found, and the one wanted.
        message: String,
    },
    /// A file that cannot be opened or read (the reader's): `kind` picks the Python `OSError`.
    Io {
        /// The I/O error's kind.
        kind: std::io::ErrorKind,
        /// The file and the system's message.
        message: String,
    },
}

impl SketchError {
    /// `InvalidParameter` of parameter `name`.
    pub fn parameter(name: &'static str, message: impl Into<String>) -> Self {
        SketchError::InvalidParameter {
            name,
            message: message.into(),
        }
    }

    /// `InvalidFormat`.
    pub fn format(message: impl Into<String>) -> Self {
        SketchError::InvalidFormat {
            message: message.into(),
        }
    }

    /// `InvalidInput`.
    pub fn input(message: impl Into<String>) -> Self {
        SketchError::InvalidInput {
            message: message.into(),
        }
    }

    /// `Io`.
    pub fn io(kind: std::io::ErrorKind, message: impl Into<String>) -> Self {
        SketchError::Io {
            kind,
            message: message.into(),
        }
    }

    /// `WrongType`.
    pub fn wrong_type(message: impl Into<String>) -> Self {
        SketchError::WrongType {
            message: message.into(),
        }
    }

    /// `Overflow`.
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

/// What every fallible function of the core returns.
pub type Result<T> = std::result::Result<T, SketchError>;
