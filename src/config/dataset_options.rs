//! Options of the corpus loaders (`[dataset.kemdy19]`, `[dataset.manifest]`, ...) and of the
//! synthetic corpus. They are config types: the loaders in `data` read them, and the config
//! layer, which sits below `data`, must not import from it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the transcript is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextRead {
    /// The whole first line (seed 004).
    FullLine,
    /// Seed 000's quirk: pandas parses the line as a CSV header, so the text stops at the first
    /// comma.
    CsvFirstField,
}

/// How KEMDy19 is read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct Kemdy19Options {
    /// Which of the two annotation rows of each segment to keep: `speaker_only` (default, one
    /// utterance per segment) or `both` (seed 004: each segment twice, the second id suffixed
    /// `@F`/`@M`).
    pub annotation_rows: AnnotationRows,
    /// Remove the inline transcript tags (`b/ c/ l/ n/ u/ o/ s/`, `+`, `*`). Neither seed does.
    /// Set from `dataset.strip_tags`, the key both KEMDy corpora share.
    #[serde(skip)]
    #[schemars(skip)]
    pub strip_tags: bool,
}

/// How a manifest is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct ManifestOptions {
    /// What separates several labels in one `label` cell (CSV) or string (JSONL), e.g.
    /// `happy;neutral`. A JSONL array of labels is never split further.
    pub labels_separator: String,
    /// Name of the column/key holding the audio path (relative to the manifest's folder, or
    /// absolute).
    pub audio_column: String,
    /// Name of the column/key holding the transcript (may be empty, not absent).
    pub text_column: String,
    /// Name of the column/key holding the label(s).
    pub label_column: String,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions {
            labels_separator: ";".into(),
            audio_column: "audio".into(),
            text_column: "text".into(),
            label_column: "label".into(),
        }
    }
}

/// What to read from an IEMOCAP release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct IemocapOptions {
    /// Label set: `"four_class"` (default: neutral, happy+excited → happy, angry, sad),
    /// `"six_class"` (seed 001: angry, excited, frustrated, happy, neutral, sad), `"none"` (every
    /// corpus label), or a table from corpus label (code such as `exc`, or name such as
    /// `excited`) to class name. Utterances with other labels (`xxx`, `oth`, ...) are dropped
    /// and listed; the annotators' votes are mapped the same way and unmapped votes left out.
    pub class_map: ClassMap,
    /// Read only these sessions (1–5); all sessions when absent.
    pub sessions: Option<Vec<u32>>,
    /// Read only the improvised dialogs (`*_impro*`), as some works do; scripted dialogs are
    /// skipped, not listed as dropped.
    pub improvised_only: bool,
    /// Seed 001's text quirk (docs/DATASETS.md, IEMOCAP): take the transcript after the line's last `:` instead
    /// of after the `[start-end]:` stamp, which cuts sentences that contain a colon.
    pub text_after_last_colon: bool,
    /// Seed 001's processed frames (`IEMOCAP_RAW_PROCESSED`, relative paths from the working
    /// directory): `<dialog>/<utterance>/image_L_<i>.jpg` and `image_R_<i>.jpg`, the side of the
    /// speaker (`L` when the utterance's speaker letter is the session's). Read with
    /// `[dataset.faces]`.
    pub frames_root: Option<std::path::PathBuf>,
}

/// How MOSEI's summed annotations become labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct MoseiOptions {
    /// An emotion is present when its summed annotation is strictly greater than this. Seed 001
    /// binarises by `> 0` (the default); raise it to count only emotions more annotators saw.
    pub threshold: f32,
    /// Drop clips with no emotion above the threshold (listed with their reason). Seed 001 keeps
    /// them as all-zero targets (default false).
    pub drop_unlabelled: bool,
}

/// `[dataset.faces]`: a visual stream of face crops from the corpus's video frames (seed 001;
/// docs/DATASETS.md, Frames). Each utterance's frames are sampled every `interval_ms`, cropped
/// to 48 × 48 and normalised per channel; utterances with no sampled frame, or with a frame that
/// does not decode, are dropped for every method and listed in data.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct FacesOptions {
    /// Milliseconds between sampled frames, as seed 001's `--img-interval`: every
    /// `int(interval_ms / 1000 · 30)`-th frame file is read (the seed assumes 30 fps; 1 at least).
    pub interval_ms: u32,
    /// How a frame becomes a face: `seed_left_shifted` (seed 001's fallback crop, 24 px left of
    /// centre; the faithful default), `centre` (a true centre crop) or `given` (the frames are
    /// 48 × 48 face crops already, used as they are).
    pub crop: FaceCropChoice,
}

impl Default for FacesOptions {
    fn default() -> Self {
        FacesOptions {
            interval_ms: 500,
            crop: FaceCropChoice::SeedLeftShifted,
        }
    }
}

/// The side of the face crops (seed 001's MTCNN `image_size`).
pub const FACE_SIZE: usize = 48;
/// Values per face: three channels of `FACE_SIZE` × `FACE_SIZE`.
pub const FACE_VALUES: usize = 3 * FACE_SIZE * FACE_SIZE;

/// How a frame becomes a 48 × 48 face (`dataset.faces.crop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaceCropChoice {
    /// Seed 001's fallback window: centred vertically, 24 px left of centre.
    SeedLeftShifted,
    /// A true centre crop.
    Centre,
    /// The frame is a 48 × 48 face crop already.
    Given,
}

/// The fixed widths of LMF's `iemocap.pkl` (`kind = "iemocap_cmu_pickle"`).
pub mod cmu_pickle_layout {
    /// COVAREP features per utterance, time-averaged.
    pub const AUDIO_DIM: usize = 74;
    /// FACET features per utterance, time-averaged.
    pub const VISUAL_DIM: usize = 35;
    /// GloVe vectors per utterance (fixed, no mask).
    pub const TEXT_STEPS: usize = 20;
    /// GloVe width.
    pub const TEXT_DIM: usize = 300;
    /// The 2-column one-hot label of each emotion's binary task.
    pub const LABEL_COLUMNS: usize = 2;
}

/// Size and seed of the synthetic corpus. For `kind = "iemocap_cmu_pickle"` the pickle holds
/// `sessions × utterances_per_session` utterances per emotion, split 60/20/20 into
/// train/valid/test; the clip settings do not apply there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SynthConfig {
    /// Sessions (SessNN), two speakers each.
    pub sessions: u32,
    /// Utterances per session, alternating between its two speakers.
    pub utterances_per_session: u32,
    /// Shortest clip; clip length is uniform in [min_seconds, max_seconds].
    pub min_seconds: f32,
    /// Longest clip.
    pub max_seconds: f32,
    /// Sample rate of the written WAV files (must match `encoders.audio.sample_rate`).
    pub sample_rate: u32,
    /// The corpus is a pure function of its settings: the same seed writes the same bytes.
    pub seed: u64,
    /// Write video frames too (`kind = "kemdy20"`; read with `[dataset.faces]`): 96 × 96 PNG
    /// frames at 30 fps in `wav/SessionNN/<id>/image_<i>.png`, whose face shows happy and angry
    /// apart. With it, angry utterances take happy's prosody, so that audio no longer separates
    /// the two and only a model that sees the faces can (docs/DATASETS.md, Synthetic corpus).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub faces: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            sessions: 10,
            utterances_per_session: 40,
            min_seconds: 1.0,
            max_seconds: 2.5,
            sample_rate: 16_000,
            seed: 42,
            faces: false,
        }
    }
}

/// Which annotation rows become utterances.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationRows {
    /// Only the row from the file whose gender letter (`_F_res` / `_M_res`) matches the
    /// speaker letter in the segment id (`Sess01_impro01_F001` → the F file), as whkwls2653's
    /// `preprocess.py` does: one utterance per segment. A segment that only the other file
    /// lists is reported as dropped.
    #[default]
    SpeakerOnly,
    /// Both rows, as etri_multimodal (seed 004) does: every segment appears twice, usually
    /// with different labels. The row from the speaker's own file keeps the segment id; the
    /// row from the other file gets `@` and that file's letter appended
    /// (`Sess01_impro01_F001@M`), so ids stay unique.
    Both,
}

/// Which IEMOCAP labels become which classes: a preset name, or a table from corpus label to
/// class name. Table keys may be the 3-letter codes (`exc`) or their names (`excited`). An
/// utterance whose label is not in the table is dropped (listed with its reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ClassMap {
    /// `"four_class"`, `"six_class"` or `"none"`.
    Preset(ClassMapPreset),
    /// E.g. `{ neu = "neutral", hap = "happy", exc = "happy", ang = "angry", sad = "sad" }`.
    Table(BTreeMap<String, String>),
}

impl Default for ClassMap {
    fn default() -> Self {
        ClassMap::Preset(ClassMapPreset::default())
    }
}

/// A named label set (see [`ClassMap`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum ClassMapPreset {
    /// The standard 4-class IEMOCAP set: neutral, happy (happy and excited merged), angry, sad.
    #[default]
    FourClass,
    /// Seed 001's 6 classes (docs/DATASETS.md, IEMOCAP): angry, excited, frustrated, happy, neutral, sad;
    /// excited is kept apart from happy.
    SixClass,
    /// Keep every corpus label under its name (neutral, happy, excited, angry, sad, frustrated,
    /// fear, surprise, disgust, other, xxx).
    None,
}
