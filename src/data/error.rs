//! Data errors. Every message names the file it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    // The io error is part of the message, not a `#[source]`: anyhow's `{:#}` would print it
    // a second time.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    /// The corpus and a config key do not fit together (too many folds, a class the corpus
    /// never contains, ...): the message names the key, what was found and what is needed.
    #[error("key `{key}`: {reason}")]
    Key { key: String, reason: String },
}

impl DataError {
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            error,
        }
    }

    pub fn key(key: &str, reason: impl Into<String>) -> Self {
        DataError::Key {
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        DataError::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
