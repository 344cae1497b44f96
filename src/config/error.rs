//! Configuration errors. Every message names the file, the line (where TOML gives one), the key,
//! the bad value and what was expected, because a researcher reads them before any run starts.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem at one place in the experiment sources.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// Where the key was set: a file, or the `--set` assignment or `EMO_*` variable that set it;
    /// `None` for a built-in default.
    pub file: Option<PathBuf>,
    /// 1-based line and column; 0 when unknown.
    pub line: usize,
    pub column: usize,
    /// Dotted key, e.g. `train.optimizer.lr`.
    pub key: String,
    pub message: String,
}

impl Located {
    /// A problem with `key`, its place filled in later from the sources.
    pub fn key_only(key: String, message: String) -> Self {
        Self {
            file: None,
            line: 0,
            column: 0,
            key,
            message,
        }
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), 0) => write!(f, "{}: ", file.display())?,
            (Some(file), line) => write!(f, "{}:{}:{}: ", file.display(), line, self.column)?,
            (None, _) => write!(f, "(built-in default): ")?,
        }
        write!(f, "key `{}`: {}", self.key, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read experiment file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: TOML syntax error: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`extends` forms a cycle: {}", chain.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" -> "))]
    ExtendsCycle { chain: Vec<PathBuf> },
    #[error("--set {assignment}: {message}")]
    BadSet { assignment: String, message: String },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Located>),
}

impl ConfigError {
    /// Turn figment's error chain (one per bad key) into located problems.
    pub fn from_figment(error: figment::Error, layers: &[PathBuf]) -> Self {
        ConfigError::Invalid(
            error
                .into_iter()
                .map(|e| locate_figment(e, layers))
                .collect(),
        )
    }
}

fn locate_figment(error: figment::Error, layers: &[PathBuf]) -> Located {
    let mut key_path = error.path.clone();
    // For an unknown key figment's path is the parent table; the key itself is in the kind.
    if let figment::error::Kind::UnknownField(field, _) = &error.kind
        && key_path.last() != Some(field)
    {
        key_path.push(field.clone());
    }
    // `[fusion]` is parsed as one table (its `method` picks the keys), so a bad value inside
    // it comes back as a message `"<key>: ..."` on the table; point at the key itself.
    let mut kind = error.kind.clone();
    if key_path.last().map(String::as_str) == Some("fusion")
        && let figment::error::Kind::Message(message) = &error.kind
        && let Some((key, rest)) = message.split_once(": ")
        && crate::fusion::FusionMethod::ALL
            .iter()
            .any(|m| m.has_key(key))
    {
        key_path.push(key.to_string());
        let rest = rest
            .strip_prefix("invalid type: ")
            .map_or(rest.to_string(), |r| format!("found {r}"));
        kind = figment::error::Kind::Message(rest);
    }
    let file = error
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .and_then(|s| s.file_path())
        .map(Path::to_path_buf)
        .filter(|p| layers.contains(p));
    let (line, column) = file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|text| super::locate::locate_key(&text, &key_path))
        .unwrap_or((0, 0));
    Located {
        file,
        line,
        column,
        key: key_path.join("."),
        message: describe_kind(&kind),
    }
}

/// figment's wording, with the expected shape spelled out for the common cases.
fn describe_kind(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        Kind::UnknownField(field, expected) => format!(
            "unknown key `{field}`; expected one of: {}",
            expected.join(", ")
        ),
        Kind::InvalidType(found, expected) => format!("found {found}, expected {expected}"),
        Kind::InvalidValue(found, expected) => format!("found {found}, expected {expected}"),
        Kind::UnknownVariant(found, expected) => format!(
            "unknown value `{found}`; expected one of: {}",
            expected.join(", ")
        ),
        Kind::MissingField(field) => format!("missing key `{field}`"),
        other => other.to_string(),
    }
}
