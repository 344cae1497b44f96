//! What every corpus loader returns: the utterances it read, before any label policy, and every
//! row it could not use with its path and reason. Loaders never drop a row silently.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One utterance with its files, as the corpus annotates it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RawUtterance {
    /// Corpus-wide unique id (KEMDy's Segment ID, IEMOCAP's utterance name, ...).
    pub id: String,
    /// Recording session, 1-based where the corpus numbers them (KEMDy `SessNN`, IEMOCAP
    /// `SessionN`); 0 when the corpus has none.
    pub session: u32,
    /// Speaker key, unique across the corpus (e.g. `Sess01_User002M`, `Ses01F`).
    pub speaker: String,
    pub wav_path: PathBuf,
    /// Where the transcript came from (a `.txt` file, or the annotation file itself).
    pub txt_path: PathBuf,
    pub text: String,
    /// The corpus's label(s) for the utterance, lowercase; several on a tie or for multi-label
    /// corpora. Spelling fixes (`disqust`) are applied by the loader.
    pub emotions: Vec<String>,
    pub valence: Option<f32>,
    pub arousal: Option<f32>,
    /// The individual annotators' emotion votes, normalised like `emotions` (empty when the
    /// corpus does not publish them).
    pub votes: Vec<String>,
}

/// A row that did not become an utterance, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedRow {
    pub id: String,
    pub path: Option<PathBuf>,
    pub reason: String,
}

impl DroppedRow {
    /// The row's file for a listing, `-` when it has none.
    pub fn path_display(&self) -> String {
        self.path
            .as_deref()
            .map_or("-".into(), |p| p.display().to_string())
    }
}

/// Why an example cannot be used: the file at fault (the example's clip when `None`) and the
/// reason.
#[derive(Debug, Clone, PartialEq)]
pub struct DropReason {
    pub path: Option<PathBuf>,
    pub reason: String,
}

/// How many dropped rows a `dataset.strict` error lists where there may be thousands (a corpus's
/// rows, its frames, its feature files); the audio screen lists every clip.
pub const STRICT_LISTED: usize = 20;

/// The first `at_most` dropped rows, one per line, for a `dataset.strict` error (a larger
/// count is in the message that heads it).
pub fn strict_listing(rows: &[DroppedRow], at_most: usize) -> String {
    rows.iter()
        .take(at_most)
        .map(|d| format!("  {} ({}): {}", d.id, d.path_display(), d.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RawCorpus {
    pub utterances: Vec<RawUtterance>,
    pub dropped: Vec<DroppedRow>,
}
