//! The experiment file as typed data.
//!
//! Every table rejects unknown keys (`deny_unknown_fields`) so that a typo fails before any work
//! starts. Every field has a default so that a file only states what differs from the embedded
//! quickstart. The JSON Schema in `schemas/experiment.schema.json` is generated from these types.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dataset_options::SynthConfig;
pub use super::encoders::*;
use super::modality::{Arrival, Form, Modality, Streams};

/// One experiment: dataset, split protocol, encoders, fusion, task and training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Experiment {
    /// Name of the experiment; the run directory is `<runs_dir>/<name>/<run-id>`.
    pub name: String,
    /// Other experiment files this one builds on, applied in order before this file (paths are
    /// relative to the file that names them). Later files win.
    pub extends: Vec<PathBuf>,
    /// Seed of every random choice: weight init, shuffling, folds (unless `split.seed`), dropout.
    pub seed: u64,
    /// Compute device: `flex` (pure-Rust CPU, always built), `cuda:N` (feature `cuda`),
    /// `tch` or `tch-cuda:N` (feature `tch`).
    pub device: String,
    pub dataset: DatasetConfig,
    pub split: SplitConfig,
    pub encoders: EncodersConfig,
    pub fusion: FusionConfig,
    pub task: TaskConfig,
    pub train: TrainConfig,
    /// Per-fold settings on top of the file's, by fold name (the emotion under
    /// `split.protocol = "per_emotion"`, the 1-based number otherwise): `fusion`, `train`
    /// and `seed` keys, e.g. `[fold.happy] fusion = { rank = 1 }`.
    pub fold: std::collections::BTreeMap<String, super::fold_override::FoldOverride>,
}

impl Default for Experiment {
    fn default() -> Self {
        Self {
            name: "quickstart".into(),
            extends: Vec::new(),
            seed: 42,
            device: "flex".into(),
            dataset: DatasetConfig::default(),
            split: SplitConfig::default(),
            encoders: EncodersConfig::default(),
            fusion: FusionConfig::default(),
            task: TaskConfig::default(),
            train: TrainConfig::default(),
            fold: Default::default(),
        }
    }
}

/// Which corpus to read and how to turn its rows into labelled utterances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DatasetConfig {
    /// Corpus layout; docs/DATASETS.md shows each one's folders.
    pub kind: DatasetKind,
    /// Corpus root folder, or the file itself for `manifest` and `iemocap_cmu_pickle` (relative
    /// paths are taken from the working directory). When
    /// `[dataset.synthetic]` is present and the folder holds no complete corpus, one is
    /// generated there.
    pub root: PathBuf,
    /// Generate a synthetic corpus in the real layout at `root` on first use (deterministic from
    /// its own seed). Absent: `root` must hold a real corpus.
    pub synthetic: Option<SynthConfig>,
    /// Class names in label-index order. Rows whose label is not in this list are dropped and
    /// counted in data.json.
    pub classes: Vec<String>,
    /// What to do with rows whose Total Evaluation is a tie (`happy;neutral`).
    pub multi_label: MultiLabelPolicy,
    /// How the transcript file is read: `full_line` (seed 004) or `csv_first_field` (seed 000's
    /// quirk: pandas reads the line as a CSV header, so the text stops at the first comma).
    pub text_read: super::dataset_options::TextRead,
    /// Remove KEMDy's inline transcript tags (`n/`, `l/`, ...). Neither seed does.
    pub strip_tags: bool,
    /// Options of `kind = "kemdy19"`.
    pub kemdy19: super::dataset_options::Kemdy19Options,
    /// Options of `kind = "manifest"`.
    pub manifest: super::dataset_options::ManifestOptions,
    /// Options of `kind = "iemocap"`.
    pub iemocap: super::dataset_options::IemocapOptions,
    /// Options of `kind = "mosei"`.
    pub mosei: super::dataset_options::MoseiOptions,
    /// Seed 000's `--label_transform`: rows labelled with exactly two emotions, one of them
    /// `neutral`, join the *training* split of a fold under the other emotion, unless their
    /// session / speaker is the fold's held-out group (`leave_session_out` /
    /// `leave_speaker_out`) or their id is listed for valid or test (`files`). They are never
    /// tested or used for selection. Applies with `multi_label = "drop"`.
    pub label_transform: bool,
    /// Drop nothing silently: with `strict`, any dropped row is an error before training.
    pub strict: bool,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            kind: DatasetKind::Kemdy20,
            root: PathBuf::from("data/KEMDy20_v1_1"),
            synthetic: None,
            classes: [
                "neutral", "happy", "angry", "surprise", "sad", "fear", "disgust",
            ]
            .map(String::from)
            .to_vec(),
            multi_label: MultiLabelPolicy::Drop,
            text_read: super::dataset_options::TextRead::FullLine,
            strip_tags: false,
            kemdy19: Default::default(),
            manifest: Default::default(),
            iemocap: Default::default(),
            mosei: Default::default(),
            label_transform: false,
            strict: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatasetKind {
    /// `annotation/SessNN_eval.csv` and `wav/SessionNN/<id>.{wav,txt}` (CP949 transcripts).
    Kemdy20,
    /// `annotation/SessionNN_{F,M}_res.csv` and `wav/SessionNN/<dialog>/<id>.{wav,txt}` (UTF-8).
    /// Options under `[dataset.kemdy19]`.
    Kemdy19,
    /// A CSV or JSONL file of `id, audio, text, label` (+ optional `valence, arousal, speaker,
    /// session`): a corpus of your own. Options under `[dataset.manifest]`.
    Manifest,
    /// LMF's `iemocap.pkl`: pre-extracted audio (COVAREP, 74), visual (FACET, 35) and text
    /// (20 GloVe vectors of 300) per utterance, one binary sub-dataset per emotion with its own
    /// train/valid/test split (`split.protocol = "per_emotion"`). No encoder runs on it.
    IemocapCmuPickle,
    /// IEMOCAP_full_release: `SessionN/dialog/{EmoEvaluation,transcriptions}`,
    /// `SessionN/sentences/wav`. Options under `[dataset.iemocap]`.
    Iemocap,
    /// Seed 001's processed CMU-MOSEI: `MOSEI_RAW_PROCESSED/meta.pkl` and one `audio.wav` per
    /// clip; the six emotions multi-hot. Options under `[dataset.mosei]`.
    Mosei,
}

impl DatasetKind {
    /// The streams this kind of corpus provides and how each arrives.
    pub fn streams(self) -> Streams {
        use super::dataset_options::cmu_pickle_layout::*;
        match self {
            DatasetKind::IemocapCmuPickle => Streams::from([
                (Modality::Audio, Arrival::Vector(AUDIO_DIM)),
                (Modality::Visual, Arrival::Vector(VISUAL_DIM)),
                (
                    Modality::Text,
                    Arrival::Sequence {
                        steps: TEXT_STEPS,
                        dim: TEXT_DIM,
                    },
                ),
            ]),
            _ => Streams::from([
                (Modality::Text, Arrival::Raw),
                (Modality::Audio, Arrival::Raw),
            ]),
        }
    }
}

/// Rows whose label is a tie of several classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MultiLabelPolicy {
    /// Drop them (seed 000 and most KEMDy work).
    Drop,
    /// Keep them with the first listed label.
    First,
    /// Keep every listed label as a multi-hot target (a multi-label task); the first one
    /// stratifies the folds.
    All,
    /// Train on the distribution of the individual evaluators' votes over `dataset.classes`
    /// (Multi-Still's soft targets, cross-entropy against the distribution); metrics use the
    /// first Total-Evaluation label. Rows without votes in the classes are dropped.
    SoftVotes,
}

/// How utterances are split into folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SplitConfig {
    pub protocol: SplitProtocol,
    /// Number of folds for `kfold_contiguous`, `kfold_stratified` and `random`; each fold tests
    /// on one part and trains on the rest. The other protocols decide their own fold count.
    pub folds: usize,
    /// Share of the corpus tested by `stratified_holdout` (seed 000: 0.2).
    pub test_ratio: f64,
    /// Split lists for `protocol = "files"`: text files with one utterance id per line
    /// (seed 001's `{train,valid,test}_split.txt`). Relative paths are taken from the working
    /// directory. Without `valid`, validation is carved out of `train`.
    pub files: Option<SplitFiles>,
    /// Share of each fold's training part carved out for validation (model selection). The test
    /// part is never used for selection.
    pub valid_ratio: f64,
    /// Seed of the fold assignment; defaults to the experiment's `seed`.
    pub seed: Option<u64>,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            protocol: SplitProtocol::KfoldStratified,
            folds: 5,
            test_ratio: 0.2,
            files: None,
            valid_ratio: 0.1,
            seed: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SplitProtocol {
    /// Seed 004: contiguous 20% blocks in file order, no shuffle.
    KfoldContiguous,
    /// Shuffled k-fold that keeps each class's share in every fold.
    KfoldStratified,
    /// Seed 000: one stratified, shuffled train/test split with `test_ratio` tested.
    StratifiedHoldout,
    /// Seeded shuffle, then `folds` equal parts; classes are not balanced across folds.
    Random,
    /// The split lists in `split.files` (seed 001); one fold.
    Files,
    /// One fold per recording session, which is tested whole.
    LeaveSessionOut,
    /// One fold per speaker, who is tested whole.
    LeaveSpeakerOut,
    /// `iemocap_cmu_pickle` (seed 002): one fold per emotion, named after it, each an
    /// independent binary task on that emotion's own train/valid/test split as the pickle
    /// stores it. `[fold.<emotion>]` tables set each emotion's hyperparameters.
    PerEmotion,
}

/// Split list files, one utterance id per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitFiles {
    pub train: PathBuf,
    pub valid: Option<PathBuf>,
    pub test: PathBuf,
}

/// How the pooled text and audio vectors are combined. Each key below says which methods read
/// it; setting a key that the chosen method does not read is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FusionConfig {
    pub method: FusionMethod,
    /// Which head early_fusion, late_fusion, text_only and audio_only end in: `mlp` (this
    /// crate's two-layer MLP, sized by `hidden` and `dropout`), `seed000` (seed 000's heads,
    /// docs/methods/seed-000-rsa-cfn.md, encoders and heads) or `linear` (text_only and audio_only: seed 004's `Drop -> Linear`,
    /// docs/methods/seed-004-etri.md#models). The other methods have one head each and ignore this key.
    pub head: FusionHead,
    /// Width of the hidden layer of the MLP heads of early_fusion, late_fusion, text_only and
    /// audio_only (`head = "mlp"`). The seed heads (stack .. mlp_mixer) use their seed's widths.
    pub hidden: usize,
    /// Dropout of those MLP heads; the seed heads use their seed's rates.
    pub dropout: f64,
    /// early_fusion and hybrid_fusion's early branch: order of the concatenation (`audio_text` is
    /// seed 000's order).
    pub order: ConcatOrder,
    /// rsa_cfn and hybrid_fusion: width each modality is projected to before the outer product
    /// (seed 000: 128, so the outer product has 129 x 129 = 16,641 features). The head grows
    /// with the fourth power of this width: 128 gives a 328 M-parameter head.
    pub proj_dim: usize,
    /// rsa: keep a running mean of the [D, D] feature-attention map over the samples of every
    /// evaluation pass (training passes are not counted), readable through
    /// `Rsa::attention_mean`. Seed 000 saves that mean (`attn_weights.npy`) but keeps every
    /// per-sample map first (tens of GB of host RAM; docs/methods/seed-000-rsa-cfn.md#heads);
    /// the running mean gives the same array in 4·D² bytes. `false` skips the bookkeeping.
    pub rsa_attention_mean: bool,
    /// mlp_mixer: width both token sequences are projected to (seed 000: 256).
    pub mixer_dim: usize,
    /// mlp_mixer: audio tokens after padding (seed 000: 299, wav2vec2's frames for 6 s). Shorter
    /// audio is zero-padded AFTER the projection, as the seed does; longer audio is truncated.
    /// The text contributes `encoders.text.max_len` tokens.
    pub mixer_audio_tokens: usize,
    /// mlp_mixer quirk (seed 000, docs/methods/seed-000-rsa-cfn.md, quirk 10): the seed builds
    /// the audio padding for a hard-coded batch of 6 rows, so a batch of any other size whose audio is all shorter than
    /// `mixer_audio_tokens` fails. `6` reproduces that failure (an error naming the quirk);
    /// unset (the default, what the seed meant) pads to the actual batch. Only the failure
    /// differs: whenever the seed runs, both give the same numbers.
    pub mixer_pad_batch: Option<usize>,
    /// lmf and tfn: width of the audio subnet (BatchNorm -> Dropout -> 3 x Linear+ReLU).
    pub audio_hidden: usize,
    /// lmf and tfn: width of the visual subnet.
    pub visual_hidden: usize,
    /// lmf and tfn: width of the text LSTM.
    pub text_hidden: usize,
    /// lmf and tfn: width of the Linear after the text LSTM; unset, `text_hidden / 2` (the seed's
    /// scripts hard-code that).
    pub text_out: Option<usize>,
    /// lmf and tfn: dropout of the audio subnet (after its BatchNorm).
    pub audio_dropout: f64,
    /// lmf and tfn: dropout of the visual subnet.
    pub visual_dropout: f64,
    /// lmf and tfn: dropout on the text LSTM's last hidden state.
    pub text_dropout: f64,
    /// lmf: rank of the modality factors.
    pub rank: usize,
    /// tfn: width of the post-fusion MLP's two hidden layers.
    pub post_fusion_dim: usize,
    /// tfn: dropout on the flattened outer product, before the post-fusion MLP. (LMF's source
    /// creates a post-fusion dropout too but never applies it, so lmf has no such key.)
    pub post_fusion_dropout: f64,
    /// tfn: `logits` (a Linear to the classes, the IEMOCAP adaptation) or `mosi_regression`
    /// (the source's MOSI head: `Linear(pf, 1)`, `sigmoid · 6 − 3`, for a one-target regression
    /// task).
    pub tfn_output: TfnOutputKind,
}

/// The last layer of tfn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TfnOutputKind {
    Logits,
    MosiRegression,
}

impl FusionConfig {
    /// `text_out`, or its default `text_hidden / 2`.
    pub fn text_out(&self) -> usize {
        self.text_out.unwrap_or(self.text_hidden / 2)
    }
}

impl Default for FusionConfig {
    fn default() -> Self {
        Self {
            method: FusionMethod::EarlyFusion,
            head: FusionHead::Mlp,
            hidden: 128,
            dropout: 0.1,
            order: ConcatOrder::AudioText,
            proj_dim: 128,
            rsa_attention_mean: true,
            mixer_dim: 256,
            mixer_audio_tokens: 299,
            mixer_pad_batch: None,
            audio_hidden: 4,
            visual_hidden: 16,
            text_hidden: 128,
            text_out: None,
            audio_dropout: 0.3,
            visual_dropout: 0.3,
            text_dropout: 0.3,
            rank: 4,
            post_fusion_dim: 32,
            post_fusion_dropout: 0.3,
            tfn_output: TfnOutputKind::Logits,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FusionMethod {
    /// Concatenate both pooled vectors, then one MLP head.
    EarlyFusion,
    /// One head per modality; the class logits are averaged.
    LateFusion,
    /// The text vector alone.
    TextOnly,
    /// The audio vector alone.
    AudioOnly,
    /// Seed 000 "Stack": LayerNorm of `[audio, text]`, then ONE shared Linear applied to 5
    /// dropout(0.5) samples whose logits are averaged in training (multi-sample dropout); one
    /// plain pass in evaluation.
    Stack,
    /// Seed 000 "Residual": LayerNorm of `[audio, text]`, two residual ReLU blocks (512 wide,
    /// then back to the input width from the concatenation of input and block 1), a skip
    /// connection, Linear to the classes.
    Residual,
    /// Seed 000 "RSA": `residual` whose blocks read the output of a self-attention over the
    /// scalar features of the normed concatenation; the skip still adds the normed concatenation.
    Rsa,
    /// Seed 000 "RSA-CFN": each modality projected to `proj_dim`, self-attention over its scalar
    /// features with a residual LayerNorm, a constant 1 prepended, their outer product
    /// ((proj_dim+1)² features), residual blocks and a two-layer classifier.
    RsaCfn,
    /// Seed 000 "Hybrid": early fusion, late fusion, residual and rsa_cfn heads (own parameters)
    /// trained end to end; their logits are layer-normed and averaged.
    HybridFusion,
    /// Seed 004 concat: `Linear(text + audio, classes)` on the dropped-out `[text, audio]`.
    Concat,
    /// Seed 004 element_wise_add: audio projected to the text width and added to the text
    /// vector, then `Linear(text, classes)`.
    ElementWiseAdd,
    /// Seed 000 "MLP-Mixer" (token level): both encoders' SEQUENCES projected to `mixer_dim`,
    /// text tokens then audio tokens, one MLP-Mixer block, mean over tokens, a two-layer head.
    MlpMixer,
    /// The visual vector alone (an MLP head, like text_only and audio_only).
    VisualOnly,
    /// Seed 002 LMF (low-rank multimodal fusion): audio and visual vectors through
    /// BatchNorm -> Dropout -> three Linear+ReLU subnets, the word sequence through a one-layer
    /// LSTM, a constant 1 prepended to each, rank-`rank` modality factors multiplied elementwise
    /// (docs/methods/seed-002-lmf-model.md).
    Lmf,
    /// Seed 002's TFN baseline (tensor fusion): LMF's subnets, then the explicit outer product of
    /// the three `[1, h]` vectors and a three-layer post-fusion MLP.
    Tfn,
}

impl FusionMethod {
    /// Every method, in the order `emo-run methods` lists them.
    pub const ALL: [FusionMethod; 15] = [
        FusionMethod::EarlyFusion,
        FusionMethod::LateFusion,
        FusionMethod::TextOnly,
        FusionMethod::AudioOnly,
        FusionMethod::VisualOnly,
        FusionMethod::Stack,
        FusionMethod::Residual,
        FusionMethod::Rsa,
        FusionMethod::RsaCfn,
        FusionMethod::HybridFusion,
        FusionMethod::Concat,
        FusionMethod::ElementWiseAdd,
        FusionMethod::MlpMixer,
        FusionMethod::Lmf,
        FusionMethod::Tfn,
    ];

    /// The streams the method consumes and in which form, in its input order.
    pub fn needs(self) -> &'static [(Modality, Form)] {
        use FusionMethod::*;
        use Modality::*;
        const PAIR: &[(Modality, Form)] = &[(Text, Form::Pooled), (Audio, Form::Pooled)];
        match self {
            TextOnly => &[(Text, Form::Pooled)],
            AudioOnly => &[(Audio, Form::Pooled)],
            VisualOnly => &[(Visual, Form::Pooled)],
            MlpMixer => &[(Text, Form::Sequence), (Audio, Form::Sequence)],
            Lmf | Tfn => &[
                (Audio, Form::Pooled),
                (Visual, Form::Pooled),
                (Text, Form::Sequence),
            ],
            EarlyFusion | LateFusion | Stack | Residual | Rsa | RsaCfn | HybridFusion | Concat
            | ElementWiseAdd => PAIR,
        }
    }

    /// Whether the method consumes `modality` at all.
    pub fn uses(self, modality: Modality) -> bool {
        self.needs().iter().any(|(m, _)| *m == modality)
    }

    /// The form in which the method takes `modality`, if it takes it.
    pub fn form_of(self, modality: Modality) -> Option<Form> {
        self.needs()
            .iter()
            .find(|(m, _)| *m == modality)
            .map(|(_, f)| *f)
    }

    /// The name the experiment file writes (`early_fusion`).
    pub fn name(self) -> String {
        super::names::serde_name(&self)
    }
}

/// The head of early_fusion, late_fusion, text_only and audio_only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FusionHead {
    /// `Linear(in, hidden) -> ReLU -> Dropout -> Linear(hidden, classes)`; late_fusion has one
    /// per modality and averages their logits.
    Mlp,
    /// Seed 000's single-Linear heads (docs/methods/seed-000-rsa-cfn.md, encoders and heads). early_fusion: `Lin(D, C)(LN_D(cat))`.
    /// late_fusion: `Lin(A, C)(a)` and `Lin(T, C)(t)`, both rows layer-normed by ONE shared
    /// `LN_C`, then averaged. text_only: `Lin(T, C)(LN_T(t))`. audio_only:
    /// `Drop(0.1) -> Lin(A, A) -> tanh -> Drop(0.1) -> Lin(A, C)` (Wav2Vec2ForSpeechClassification).
    Seed000,
    /// text_only and audio_only only: `Lin(in, C)(Drop(fusion.dropout)(x))`, seed 004's
    /// `text_*` and `speech_*` heads (docs/methods/seed-004-etri.md#models). Seed 004's two-modality heads are the methods
    /// `concat` and `element_wise_add`.
    Linear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConcatOrder {
    AudioText,
    TextAudio,
}

/// What is predicted and with which loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TaskConfig {
    pub kind: TaskKind,
    /// Per-class loss weights: a list in `dataset.classes` order, `"none"`, or `"balanced"`
    /// (scikit-learn's `n_samples / (n_classes * count_c)`, counted on each fold's training split).
    /// Single-label cross-entropy only (`classification`, and `multitask` without multi-hot
    /// targets).
    pub class_weights: ClassWeights,
    /// Loss of the multi-label part (`multilabel`, and `multitask` with
    /// `dataset.multi_label = "all"`).
    pub multilabel_loss: MultilabelLoss,
    /// A class is predicted when its score (sigmoid for `bce`, softmax probability for
    /// `soft_margin_on_softmax`, as seed 004's `probs > 0.5`) exceeds this threshold.
    pub threshold: f64,
    /// Regression targets, in output order (`regression` and `multitask`).
    pub targets: Vec<RegressionTarget>,
    /// `multitask`: weights of the classification and the regression loss in their sum (seed
    /// 004's "total": 1 and 1).
    pub weights: TaskWeights,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            kind: TaskKind::Classification,
            class_weights: ClassWeights::default(),
            multilabel_loss: MultilabelLoss::Bce,
            threshold: 0.5,
            targets: vec![RegressionTarget::Valence, RegressionTarget::Arousal],
            weights: TaskWeights::default(),
        }
    }
}

/// Loss of a multi-label head against multi-hot targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MultilabelLoss {
    /// One sigmoid per class, binary cross-entropy on the logits (`BCEWithLogitsLoss`).
    Bce,
    /// Seed 004's quirk: `MultiLabelSoftMarginLoss` applied to the SOFTMAX probabilities, so a
    /// sigmoid runs on top of a softmax (weak gradients, at most one class above 0.5).
    SoftMarginOnSoftmax,
}

/// A continuous annotation predicted by the regression head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegressionTarget {
    Valence,
    Arousal,
}

impl RegressionTarget {
    pub fn name(self) -> &'static str {
        match self {
            Self::Valence => "valence",
            Self::Arousal => "arousal",
        }
    }
}

/// Weights of the two losses of a `multitask` experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TaskWeights {
    pub classification: f64,
    pub regression: f64,
}

impl Default for TaskWeights {
    fn default() -> Self {
        Self {
            classification: 1.0,
            regression: 1.0,
        }
    }
}

/// Loss weights per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ClassWeights {
    Named(ClassWeightRule),
    /// One weight per class, in `dataset.classes` order.
    List(Vec<f32>),
}

impl Default for ClassWeights {
    fn default() -> Self {
        Self::Named(ClassWeightRule::None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeightRule {
    /// Unweighted cross-entropy.
    None,
    /// Inverse class frequency on the fold's training split.
    Balanced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Single-label classification with cross-entropy.
    Classification,
    /// Multi-hot targets (`dataset.multi_label = "all"`), loss `task.multilabel_loss`, a class
    /// predicted when its score exceeds `task.threshold`.
    Multilabel,
    /// `task.targets` (valence, arousal) with the sum of one MSE per target (seed 004).
    Regression,
    /// Seed 004's "total": the classification head (single-label, or multi-label when
    /// `dataset.multi_label = "all"`) and the regression head on the same fused vector, loss
    /// `weights.classification * classification + weights.regression * regression`.
    Multitask,
}

/// The training loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Batch size for validation and test (defaults to `batch_size`).
    pub eval_batch_size: Option<usize>,
    pub optimizer: OptimizerConfig,
    /// Metric that picks the best epoch: `valid.<metric>` with a metric the task reports
    /// (classification: `valid.weighted_f1`, `valid.accuracy`, `valid.ua`, ...; multilabel:
    /// `valid.micro_f1`, `valid.hamming_accuracy`, ...; regression: `valid.ccc`,
    /// `valid.ccc/valence`, `valid.mae`, ...; always `valid.loss`), or `last_epoch`. Loss, MAE
    /// and MSE are minimised, the rest maximised. `auto` (the default) picks the task's own:
    /// `valid.weighted_f1` (classification), `valid.micro_f1` (multi-label), `valid.ccc`
    /// (regression), `valid.loss` (multitask, the objective it trains).
    pub select_by: String,
    /// Order of training examples: `shuffle` (every example once per epoch) or `class_balanced`
    /// (seed 000's `--batch_weighted_sampler`: as many draws as examples, with replacement,
    /// each example weighted by 1 / its class's count).
    pub sampler: Sampler,
    /// Sum the gradients of this many batches (each loss divided by it, as PyTorch's
    /// `loss / N`) before one optimizer step. A last incomplete group still steps.
    pub accumulate_grad_batches: usize,
    /// Rescale all gradients together so that their global L2 norm is at most this
    /// (`torch.nn.utils.clip_grad_norm_`). Unset: no norm clipping.
    pub clip_grad_norm: Option<f64>,
    /// Clamp every gradient element to [-x, x] (`clip_grad_value_`), applied before the norm
    /// clipping. Unset: none.
    pub clip_grad_value: Option<f64>,
    /// Floating-point precision of training. Only `f32` runs: burn 0.22 has no autocast or
    /// loss scaling, so `bf16`/`f16` are refused with an explanation (docs/METHODS.md).
    pub precision: Precision,
    /// Seed 000's quirk (docs/methods/seed-000-rsa-cfn.md, quirk 7): the evaluation loaders use `drop_last`, so the last
    /// partial batch of the valid and test splits is never scored (nor predicted).
    pub eval_drop_last: bool,
    /// How a batch's per-example losses become the loss that is backpropagated: `mean` (the
    /// usual), or `sum` (seed 002's `CrossEntropyLoss(reduction='sum')`: gradients grow with
    /// the batch size). Logged losses are per-example means either way.
    pub loss_reduction: LossReduction,
    /// Early stopping: end training once the selection metric (`select_by`) has not improved
    /// for this many epochs (seed 002: 20 on `valid.loss`); the best epoch's weights are tested.
    /// Unset: every one of `epochs` runs.
    pub patience: Option<usize>,
}

/// See `train.loss_reduction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LossReduction {
    Mean,
    Sum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sampler {
    Shuffle,
    ClassBalanced,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 12,
            batch_size: 16,
            eval_batch_size: None,
            optimizer: OptimizerConfig::default(),
            select_by: "auto".into(),
            sampler: Sampler::Shuffle,
            accumulate_grad_batches: 1,
            clip_grad_norm: None,
            clip_grad_value: None,
            precision: Precision::F32,
            eval_drop_last: false,
            loss_reduction: LossReduction::Mean,
            patience: None,
        }
    }
}

/// Training precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    F32,
    Bf16,
    F16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OptimizerConfig {
    pub kind: OptimizerKind,
    /// Learning rate of every parameter not covered by `module_lr`.
    pub lr: f64,
    /// AdamW: decoupled decay; Adam: L2 penalty added to the gradient (torch.optim.Adam).
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Learning rate per module, by the names `emo-run inspect` prints: `encoders.text`,
    /// `encoders.audio`, `fusion` (e.g. `{ "encoders.text" = 1e-5, fusion = 1e-3 }`).
    pub module_lr: std::collections::BTreeMap<String, f64>,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adamw,
            lr: 1e-3,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            module_lr: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Decoupled weight decay (torch.optim.AdamW).
    Adamw,
    /// Weight decay as an L2 term added to the gradient (torch.optim.Adam).
    Adam,
}

impl Experiment {
    /// Whether the method consumes `modality` and the corpus delivers it raw, so that the
    /// encoder of `encoders.<modality>` runs on it.
    pub fn encodes(&self, modality: Modality) -> bool {
        self.fusion.method.uses(modality)
            && self.dataset.kind.streams().get(&modality) == Some(&Arrival::Raw)
    }

    /// Whether the method takes `modality` as a sequence (token- or frame-level fusion).
    pub fn takes_sequence(&self, modality: Modality) -> bool {
        self.fusion.method.form_of(modality) == Some(Form::Sequence)
    }

    /// `train.select_by` with `auto` replaced by the task's own metric.
    pub fn selection_metric(&self) -> String {
        if self.train.select_by != "auto" {
            return self.train.select_by.clone();
        }
        match self.task.kind {
            TaskKind::Classification => "valid.weighted_f1",
            TaskKind::Multilabel => "valid.micro_f1",
            TaskKind::Regression => "valid.ccc",
            TaskKind::Multitask => "valid.loss",
        }
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_selection_follows_the_task_and_an_explicit_metric_wins() {
        let mut exp = Experiment::default();
        assert_eq!(exp.selection_metric(), "valid.weighted_f1");
        for (kind, metric) in [
            (TaskKind::Multilabel, "valid.micro_f1"),
            (TaskKind::Regression, "valid.ccc"),
            (TaskKind::Multitask, "valid.loss"),
        ] {
            exp.task.kind = kind;
            assert_eq!(exp.selection_metric(), metric);
        }
        exp.train.select_by = "valid.mae".into();
        assert_eq!(exp.selection_metric(), "valid.mae");
    }
}
