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
use crate::fusion::FusionConfig;

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
    /// Many experiments from this file: `grid` (every combination), `zip` (lists position by
    /// position) and `random` (seeded draws) over dotted keys; docs/GRIDS.md. Read from the file
    /// given on the command line (not from `extends`); each cell runs as its own experiment
    /// named `<name>--<key=value,...>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<super::sweep::SweepConfig>,
    /// Named stages trained one after another on the same folds, each with its own
    /// `encoders`, `fusion`, `task`, `train` and `seed` on top of the file's, after the stages
    /// it names in `after`, optionally distilled from one (`distill`); docs/STAGES.md. Empty:
    /// the file is one model (the stage `main`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<super::stages::StageConfig>,
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
            sweep: None,
            stages: Vec::new(),
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
    /// A visual stream of face crops from the corpus's video frames (`kind = "mosei"`,
    /// `"iemocap"` with `iemocap.frames_root`, and `"kemdy20"` with frames beside each clip, as
    /// the synthetic corpus writes them with `synthetic.faces`). Absent: no visual stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faces: Option<super::dataset_options::FacesOptions>,
    /// Seed 001's hand-crafted feature sequences as the text, audio and visual streams (its
    /// LF-LSTM and LF-TRANS baselines), read from the folder of its `.pt`/`.pkl` files. Absent:
    /// the corpus's transcripts and clips.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hcf: Option<super::dataset_options::HcfOptions>,
    /// Seed 000's `--label_transform`: rows labelled with exactly two emotions, one of them
    /// `neutral`, join the *training* split of a fold under the other emotion, unless their
    /// session / speaker is the fold's held-out group (`leave_session_out` /
    /// `leave_speaker_out`) or their id is listed for valid or test (`files`). They are never
    /// tested or used for selection. Applies with `multi_label = "drop"`.
    pub label_transform: bool,
    /// Drop nothing silently: with `strict`, any dropped row is an error before training.
    pub strict: bool,
    /// More corpora read with this table's options and joined to the one at `root`, e.g.
    /// seed 003's KEMDy19 + KEMDy20: `also = [{ kind = "kemdy19", root = "data/KEMDy19" }]`.
    /// Their utterance ids must not repeat the first corpus's; their sessions are numbered after
    /// its last, and their speakers are prefixed with their kind, so that session and speaker
    /// protocols never join two corpora's groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<AlsoCorpus>,
}

/// One more corpus of `dataset.also`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlsoCorpus {
    /// Its layout (not `iemocap_cmu_pickle`, whose features are not transcripts and clips).
    pub kind: DatasetKind,
    /// Its root folder, or file for `manifest`.
    pub root: PathBuf,
}

impl DatasetConfig {
    /// The options of this table applied to the `also` corpus `extra`.
    pub fn with_corpus(&self, extra: &AlsoCorpus) -> DatasetConfig {
        DatasetConfig {
            kind: extra.kind,
            root: extra.root.clone(),
            synthetic: None,
            also: Vec::new(),
            ..self.clone()
        }
    }

    /// The streams the corpus provides and how each arrives: its kind's, plus the face crops of
    /// `[dataset.faces]`, or the hand-crafted sequences of `[dataset.hcf]` in place of all.
    pub fn streams(&self) -> Streams {
        let mut streams = self.kind.streams();
        if self.faces.is_some() {
            let dim = super::dataset_options::FACE_VALUES;
            streams.insert(Modality::Visual, Arrival::Frames { dim });
        }
        if let Some(hcf) = &self.hcf {
            // Validation refuses a kind without a layout; the default only keeps this total.
            let layout = hcf
                .layout_for(self.kind)
                .unwrap_or(super::dataset_options::HcfLayout::SeedIemocap);
            let [text, audio, visual] = hcf.widths(layout);
            streams = Streams::from([
                (Modality::Text, Arrival::Steps { dim: text }),
                (Modality::Audio, Arrival::Steps { dim: audio }),
                (Modality::Visual, Arrival::Steps { dim: visual }),
            ]);
        }
        streams
    }

    /// Every corpus root of the table: `root`, then the `also` ones.
    pub fn roots(&self) -> Vec<&std::path::Path> {
        std::iter::once(self.root.as_path())
            .chain(self.also.iter().map(|a| a.root.as_path()))
            .collect()
    }
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
            faces: None,
            hcf: None,
            label_transform: false,
            strict: false,
            also: Vec::new(),
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
    /// (Multi-Still's soft targets; loss `task.soft_target_loss`, cross-entropy against the
    /// distribution by default); metrics use the first Total-Evaluation label. Rows without
    /// votes in the classes are dropped.
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

impl SplitConfig {
    /// The split lists of `protocol = "files"` that are not files, as `key: problem` lines.
    pub fn missing_files(&self) -> Vec<String> {
        let Some(files) = self
            .files
            .as_ref()
            .filter(|_| self.protocol == SplitProtocol::Files)
        else {
            return Vec::new();
        };
        [
            ("train", Some(&files.train)),
            ("valid", files.valid.as_ref()),
            ("test", Some(&files.test)),
        ]
        .into_iter()
        .filter_map(|(name, path)| {
            let path = path.filter(|p| !p.is_file())?;
            Some(format!(
                "split.files.{name}: {} does not exist; expected a file with one utterance id per line",
                path.display()
            ))
        })
        .collect()
    }
}

/// What is predicted and with which loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TaskConfig {
    pub kind: TaskKind,
    /// Per-class loss weights. For the single-label cross-entropy (`classification`, and
    /// `multitask` without multi-hot targets): a list in `dataset.classes` order, `"none"`, or
    /// `"balanced"` (scikit-learn's `n_samples / (n_classes * count_c)`, counted on each fold's
    /// training split). For multi-hot targets with `multilabel_loss = "bce"`: `"none"` or
    /// `"positive_ratio"`, each class's positive cells weighted by `(n - positives) / positives`
    /// on each fold's training split (`BCEWithLogitsLoss(pos_weight)`, seed 001).
    pub class_weights: ClassWeights,
    /// Loss of the multi-label part (`multilabel`, and `multitask` with
    /// `dataset.multi_label = "all"`).
    pub multilabel_loss: MultilabelLoss,
    /// Training loss of the class part against the evaluators' vote distribution
    /// (`dataset.multi_label = "soft_votes"` only). Validation and test losses are the soft
    /// cross-entropy either way (seed 003 tests with it), so `valid.loss` means the same under
    /// both; the logged `train` loss is the one trained.
    pub soft_target_loss: SoftTargetLoss,
    /// A class is predicted when its score (sigmoid for `bce`, softmax probability for
    /// `soft_margin_on_softmax`, as seed 004's `probs > 0.5`) exceeds this threshold.
    pub threshold: f64,
    /// Seed 001's evaluation beside the standard metrics (`task.kind = "multilabel"` with
    /// `bce`): each class's threshold tuned on the selected epoch's validation split (the best
    /// binary F1 of 0.05, 0.10, ..., 0.95) and applied to the test split. The test rows of
    /// metrics.parquet gain `tuned/accuracy`, `tuned/weighted_accuracy`, `tuned/recall`,
    /// `tuned/precision`, `tuned/f1` and `tuned/auc` (means over classes), and per class
    /// `tuned/f1/<class>` and `tuned/threshold/<class>`. Every epoch's validation rows gain the
    /// same with thresholds tuned on validation itself, which `train.select_by` may name:
    /// `valid.tuned/f1` is the seed's own epoch selection.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tuned_thresholds: bool,
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
            soft_target_loss: SoftTargetLoss::CrossEntropy,
            threshold: 0.5,
            tuned_thresholds: false,
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

/// Training loss of single-label logits against a soft target distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SoftTargetLoss {
    /// `-sum_c p_c log softmax(z)_c`, averaged over the batch (PyTorch's `cross_entropy` with
    /// probability targets).
    CrossEntropy,
    /// Seed 003's (Multi-Still) `MSELoss()` between the RAW logits and the distribution, the
    /// mean over every cell: no softmax, so the logits are regressed onto probabilities.
    MseLogits,
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
    /// Multi-hot targets with `task.multilabel_loss = "bce"` only: each class's positive cells
    /// weighted by `(n - positives) / positives` over the fold's training split
    /// (`BCEWithLogitsLoss(pos_weight=...)`, seed 001's `getPosWeight`).
    PositiveRatio,
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
    /// `valid.ccc/valence`, `valid.mae`, ...; with `task.tuned_thresholds` also `valid.tuned/f1`,
    /// `valid.tuned/auc`, ...; always `valid.loss`), or `last_epoch`. Loss, MAE
    /// and MSE are minimised, the rest maximised. `auto` (the default) picks the task's own:
    /// `valid.weighted_f1` (classification), `valid.micro_f1` (multi-label), `valid.ccc`
    /// (regression), `valid.loss` (multitask, the objective it trains).
    pub select_by: String,
    /// Order of training examples: `shuffle` (every example once per epoch) or `class_balanced`
    /// (seed 000's `--batch_weighted_sampler`: as many draws as examples, with replacement,
    /// each example weighted by 1 / its class's count).
    pub sampler: Sampler,
    /// Sum the gradients of this many batches (each loss divided by it, as PyTorch's
    /// `loss / N`) before one optimizer step; `accumulate_schedule` says which batches step.
    pub accumulate_grad_batches: usize,
    /// Which batches of an epoch end an accumulation group of `accumulate_grad_batches` (N).
    pub accumulate_schedule: AccumulateSchedule,
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

/// See `train.accumulate_schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccumulateSchedule {
    /// A step after every N batches (batch ids N-1, 2N-1, ... counted from 0); a last
    /// incomplete group of the epoch still steps (Lightning's `accumulate_grad_batches`).
    EveryN,
    /// Seed 003's (Multi-Still) loop: a step after the batches whose 0-based id in the epoch is
    /// a multiple of N (`batch_id % N == 0`), so the first step follows batch 0 alone and the
    /// next ones batches 1..N, N+1..2N, ...; the gradients gathered after the epoch's last step
    /// are discarded.
    Seed003,
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
            accumulate_schedule: AccumulateSchedule::EveryN,
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
        self.fusion.method().uses(modality)
            && self.dataset.streams().get(&modality) == Some(&Arrival::Raw)
    }

    /// Whether the method takes `modality` as a sequence (token- or frame-level fusion).
    pub fn takes_sequence(&self, modality: Modality) -> bool {
        self.fusion.method().form_of(modality) == Some(Form::Sequence)
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
