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

/// `[dataset.hcf]`: seed 001's hand-crafted feature sequences (its `--hand-crafted` runs, the
/// LF-LSTM and LF-TRANS baselines) as the corpus's text, audio and visual streams, one vector
/// per word or frame, in place of the transcripts and clips (docs/DATASETS.md, Hand-crafted
/// features). Labels and ids still come from the corpus; utterances the files do not hold are
/// dropped for every method and listed in data.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct HcfOptions {
    /// The folder of the feature files (relative paths from the working directory):
    /// `IEMOCAP_HCF_FEATURES` (`{train,valid,test}_{text,audio,video}_features.pt`) or
    /// `MOSEI_HCF_FEATURES` (`mosei_senti_hcf_{train,valid,test}.pkl`). Every phase's file is
    /// read; which split an utterance lands in is `[split]`'s choice, as for every method.
    pub root: std::path::PathBuf,
    /// Which of the seed's two layouts the folder holds; by default the one of `dataset.kind`
    /// (`iemocap` or `mosei`), required for other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<HcfLayout>,
    /// The columns of IEMOCAP's per-frame audio vectors to keep, as the seed's `-aft`
    /// (`seed_iemocap` layout only): `all` (its default: 144 columns), `no_bbe`, `no_mfcc`,
    /// `no_phonological`, `mean_std`, `no_min_max` or `plus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_columns: Option<AudioColumns>,
}

impl HcfOptions {
    /// The layout in force: the one given, else `dataset.kind`'s.
    pub fn layout_for(&self, kind: super::experiment::DatasetKind) -> Option<HcfLayout> {
        use super::experiment::DatasetKind;
        self.layout.or(match kind {
            DatasetKind::Iemocap => Some(HcfLayout::SeedIemocap),
            DatasetKind::Mosei => Some(HcfLayout::SeedMosei),
            _ => None,
        })
    }

    /// Width of each stream: text, audio, visual.
    pub fn widths(&self, layout: HcfLayout) -> [usize; 3] {
        use hcf_layout::*;
        let audio = match layout {
            HcfLayout::SeedIemocap => self.audio_columns.unwrap_or_default().columns().len(),
            HcfLayout::SeedMosei => MOSEI_AUDIO_DIM,
        };
        [TEXT_DIM, audio, VISUAL_DIM]
    }
}

/// The file layouts of seed 001's hand-crafted features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HcfLayout {
    /// `{phase}_text_features.pt` (`{id: [words × 300]}`), `{phase}_audio_features.pt`
    /// (`{id: {"L"|"R": [columns × frames]}}`, the speaker's side) and
    /// `{phase}_video_features.pt` (`{id: {"image_L_<i>": [..., 35 action units]}}`), pickles.
    SeedIemocap,
    /// `mosei_senti_hcf_{phase}.pkl`: `{id: [N], text: [N, 50, 300], audio: [N, 500, 74],
    /// vision: [N, 500, 35]}` (CMU's unaligned GloVe, COVAREP and FACET, zero-padded).
    SeedMosei,
}

/// Seed 001's `HCFDataLoader.FEATURE_TYPE_DICT`: which columns of IEMOCAP's audio vectors to
/// keep. Columns 0–21 are band energies, 22–33 MFCCs, 655–762 phonological statistics (18 × 6),
/// 100–101 two columns the seed adds to make 144 divisible by its 2 heads.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AudioColumns {
    /// 0–33, 655–762, 100–101: 144 columns (`-aft 0`, the default).
    #[default]
    All,
    /// 22–33, 655–762: 120 (`-aft 1`).
    NoBbe,
    /// 0–21, 655–762: 130 (`-aft 2`).
    NoMfcc,
    /// 0–33: 34 (`-aft 3`).
    NoPhonological,
    /// 0–33 and the first two of every six phonological statistics: 70 (`-aft 4`).
    MeanStd,
    /// 0–33 and the first four of every six: 106 (`-aft 5`).
    NoMinMax,
    /// The seed's larger hand-picked set (`-aft 6`).
    Plus,
}

impl AudioColumns {
    /// The column indices, in the seed's order.
    pub fn columns(self) -> Vec<usize> {
        let phonological =
            |keep: usize| -> Vec<usize> { (655..763).filter(|c| (c - 655) % 6 < keep).collect() };
        let base: Vec<usize> = (0..34).collect();
        match self {
            AudioColumns::All => [base, phonological(6), vec![100, 101]].concat(),
            AudioColumns::NoBbe => [(22..34).collect(), phonological(6)].concat(),
            AudioColumns::NoMfcc => [(0..22).collect(), phonological(6)].concat(),
            AudioColumns::NoPhonological => base,
            AudioColumns::MeanStd => [base, phonological(2)].concat(),
            AudioColumns::NoMinMax => [base, phonological(4)].concat(),
            AudioColumns::Plus => [
                (0..34).collect(),
                (58..104).collect(),
                (116..122).collect(),
                (180..214).collect(),
                (238..244).collect(),
                (360..366).collect(),
                (424..458).collect(),
                (482..488).collect(),
                (552..560).collect(),
                (562..566).collect(),
                (568..582).collect(),
                phonological(6),
            ]
            .concat(),
        }
    }
}

/// The widths of seed 001's hand-crafted features.
pub mod hcf_layout {
    /// One 300-d (GloVe) vector per word, both corpora.
    pub const TEXT_DIM: usize = 300;
    /// The action units kept of each video frame (the seed's `[-35:]`), both corpora.
    pub const VISUAL_DIM: usize = 35;
    /// MOSEI's COVAREP vectors.
    pub const MOSEI_AUDIO_DIM: usize = 74;
    /// IEMOCAP's audio vectors must reach the highest selected column.
    pub const IEMOCAP_AUDIO_MIN_COLUMNS: usize = 763;
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
    /// Write seed 001's hand-crafted feature files too (`kind = "kemdy20"`), in the IEMOCAP
    /// layout under `<root>/hcf`: read them with `[dataset.hcf] root = "<root>/hcf"` and
    /// `layout = "seed_iemocap"` (docs/DATASETS.md, Synthetic corpus).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hcf: bool,
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
            hcf: false,
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
