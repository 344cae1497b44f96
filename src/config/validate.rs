//! Checks that types alone cannot express: ranges, cross-field rules, files that must exist.
//! All problems are collected, not just the first, so one edit fixes them all.

use std::collections::HashSet;

use super::error::Located;
use super::experiment::{
    ClassWeightRule, ClassWeights, DatasetKind, Experiment, MultiLabelPolicy, MultilabelLoss,
    Precision, Sampler, SoftTargetLoss, SplitProtocol, TaskKind,
};
use super::modality::Modality;
use super::names::{MODULE_NAMES, selectable_metrics};
use crate::device::parse_device;
use crate::fusion::FusionMethod;
use crate::fusion::registry::TaskShape;

/// Every problem found, each with its dotted key; the caller adds file and line.
pub fn validate(exp: &Experiment) -> Vec<Located> {
    let mut problems = Vec::new();
    let mut fail = |key: &str, message: String| {
        problems.push(Located {
            file: None,
            line: 0,
            column: 0,
            key: key.to_string(),
            message,
        })
    };

    if exp.name.trim().is_empty() || exp.name.contains(['/', '\\']) {
        fail(
            "name",
            format!(
                "found {:?}, expected a non-empty name without path separators",
                exp.name
            ),
        );
    }
    if let Err(e) = parse_device(&exp.device) {
        fail("device", e);
    }
    check_dataset(exp, &mut fail);
    check_split(exp, &mut fail);
    check_encoders(exp, &mut fail);
    check_train(exp, &mut fail);
    check_task(exp, &mut fail);
    super::validate_fusion::check_streams(exp, &mut fail);
    super::validate_fusion::check_per_emotion(exp, &mut fail);
    for (key, message) in exp.fusion.problems(task_shape(exp)) {
        fail(&format!("fusion.{key}"), message);
    }
    problems
}

/// `dataset.also`: corpora of transcripts and clips that deliver the same streams as the
/// first one, at other roots.
fn check_also(ds: &super::experiment::DatasetConfig, fail: &mut impl FnMut(&str, String)) {
    if ds.also.is_empty() {
        return;
    }
    if ds.kind == DatasetKind::IemocapCmuPickle {
        fail(
            "dataset.also",
            "found corpora to join to LMF's feature pickle, which is read by its own loader; expected no `also` with kind = \"iemocap_cmu_pickle\"".into(),
        );
        return;
    }
    for extra in &ds.also {
        if extra.kind == DatasetKind::IemocapCmuPickle {
            fail(
                "dataset.also.kind",
                "found \"iemocap_cmu_pickle\", expected a corpus of transcripts and clips".into(),
            );
        } else if extra.kind.streams() != ds.kind.streams() {
            fail(
                "dataset.also.kind",
                format!(
                    "found {:?}, whose streams differ from dataset.kind {:?}'s; joined corpora must deliver the same streams",
                    extra.kind, ds.kind
                ),
            );
        }
        if extra.root == ds.root || ds.also.iter().filter(|o| o.root == extra.root).count() > 1 {
            fail(
                "dataset.also.root",
                format!("{} is joined twice", extra.root.display()),
            );
        }
    }
}

/// `[dataset.faces]` needs a corpus whose loader finds frames.
fn check_faces(ds: &super::experiment::DatasetConfig, fail: &mut impl FnMut(&str, String)) {
    let Some(faces) = &ds.faces else { return };
    let found = |kind: DatasetKind| {
        format!(
            "found [dataset.faces] with kind = {}, whose loader reads no frames; expected kind = \"mosei\", \"iemocap\" (with iemocap.frames_root) or \"kemdy20\" (frames beside each clip)",
            super::names::serde_name(&kind)
        )
    };
    if !matches!(
        ds.kind,
        DatasetKind::Mosei | DatasetKind::Iemocap | DatasetKind::Kemdy20
    ) {
        fail("dataset.faces", found(ds.kind));
    }
    if let Some(extra) = ds.also.iter().find(|a| a.kind != ds.kind) {
        fail("dataset.also.kind", found(extra.kind));
    }
    if ds.kind == DatasetKind::Iemocap && ds.iemocap.frames_root.is_none() {
        fail(
            "dataset.iemocap.frames_root",
            "[dataset.faces] reads IEMOCAP's frames from seed 001's processed folder; expected frames_root = the folder that holds <dialog>/<utterance>/image_{L,R}_<i>.jpg".into(),
        );
    }
    if faces.interval_ms == 0 {
        fail(
            "dataset.faces.interval_ms",
            "found 0, expected the milliseconds between sampled frames (seed 001: 500)".into(),
        );
    }
}

/// `[dataset.hcf]` needs a layout, replaces every stream (so no faces beside it), and takes
/// `audio_columns` only where audio vectors have them.
fn check_hcf(ds: &super::experiment::DatasetConfig, fail: &mut impl FnMut(&str, String)) {
    use super::dataset_options::HcfLayout;
    let Some(hcf) = &ds.hcf else { return };
    let layout = hcf.layout_for(ds.kind);
    if layout.is_none() {
        fail(
            "dataset.hcf.layout",
            format!(
                "kind = {} has no layout of its own; expected layout = \"seed_iemocap\" or \"seed_mosei\"",
                super::names::serde_name(&ds.kind)
            ),
        );
    }
    if ds.kind == DatasetKind::IemocapCmuPickle {
        fail(
            "dataset.hcf",
            "kind = \"iemocap_cmu_pickle\" is pre-extracted already; expected a corpus of transcripts and clips (iemocap, mosei, ...) whose ids the feature files name".into(),
        );
    }
    if ds.faces.is_some() {
        fail(
            "dataset.faces",
            "[dataset.hcf] gives the visual stream (action units per frame); expected one of [dataset.faces] and [dataset.hcf]".into(),
        );
    }
    if hcf.audio_columns.is_some() && layout == Some(HcfLayout::SeedMosei) {
        fail(
            "dataset.hcf.audio_columns",
            "selects columns of IEMOCAP's audio vectors; MOSEI's 74 COVAREP values are kept whole, expected no audio_columns with layout \"seed_mosei\"".into(),
        );
    }
    if hcf.root.as_os_str().is_empty() {
        fail(
            "dataset.hcf.root",
            "found an empty path, expected the folder of the feature files".into(),
        );
    }
}

fn check_dataset(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let ds = &exp.dataset;
    check_also(ds, fail);
    check_faces(ds, fail);
    check_hcf(ds, fail);
    if ds.classes.len() < 2 {
        fail(
            "dataset.classes",
            format!("found {:?}, expected at least two class names", ds.classes),
        );
    }
    let mut seen = HashSet::new();
    for class in &ds.classes {
        if !seen.insert(class) {
            fail(
                "dataset.classes",
                format!("class {class:?} is listed twice"),
            );
        }
    }
    if ds.synthetic.is_some()
        && !matches!(
            ds.kind,
            DatasetKind::Kemdy20 | DatasetKind::IemocapCmuPickle
        )
    {
        fail(
            "dataset.synthetic",
            format!(
                "generates the KEMDy20 layout or LMF's feature pickle, but dataset.kind is {:?}; expected kind = \"kemdy20\" or \"iemocap_cmu_pickle\"",
                ds.kind
            ),
        );
    }
    let foreign_options = [
        (
            "dataset.kemdy19",
            DatasetKind::Kemdy19,
            ds.kemdy19 != Default::default(),
        ),
        (
            "dataset.manifest",
            DatasetKind::Manifest,
            ds.manifest != Default::default(),
        ),
        (
            "dataset.iemocap",
            DatasetKind::Iemocap,
            ds.iemocap != Default::default(),
        ),
        (
            "dataset.mosei",
            DatasetKind::Mosei,
            ds.mosei != Default::default(),
        ),
    ];
    for (key, kind, set) in foreign_options {
        if set && ds.kind != kind {
            fail(
                key,
                format!(
                    "is only read when dataset.kind = {kind:?}; found kind = {:?}",
                    ds.kind
                ),
            );
        }
    }
    if let Some(synth) = &ds.synthetic {
        if synth.sessions < 2 || synth.utterances_per_session == 0 {
            fail(
                "dataset.synthetic",
                "expected at least 2 sessions and 1 utterance per session".into(),
            );
        }
        if !(synth.min_seconds > 0.0 && synth.min_seconds <= synth.max_seconds) {
            fail(
                "dataset.synthetic.min_seconds",
                format!(
                    "found {}..{}, expected 0 < min_seconds <= max_seconds",
                    synth.min_seconds, synth.max_seconds
                ),
            );
        }
        if synth.sample_rate != exp.encoders.audio.sample_rate {
            fail(
                "dataset.synthetic.sample_rate",
                format!(
                    "found {}, expected the audio encoder's rate {}",
                    synth.sample_rate, exp.encoders.audio.sample_rate
                ),
            );
        }
    }
}

fn check_task(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    if let ClassWeights::List(weights) = &exp.task.class_weights {
        if weights.len() != exp.dataset.classes.len() {
            fail(
                "task.class_weights",
                format!(
                    "found {} weights, expected one per class ({}), \"balanced\" or \"none\"",
                    weights.len(),
                    exp.dataset.classes.len()
                ),
            );
        }
        if let Some(bad) = weights.iter().find(|w| !(**w > 0.0 && w.is_finite())) {
            fail(
                "task.class_weights",
                format!(
                    "found the weight {bad}, expected positive finite weights (the weighted cross-entropy needs every weight > 0; to leave a class out, remove it from dataset.classes)"
                ),
            );
        }
    }
    check_task_kind(exp, fail);
    check_soft_target_loss(exp, fail);
    if exp.dataset.multi_label == MultiLabelPolicy::SoftVotes
        && exp.task.class_weights != ClassWeights::default()
    {
        fail(
            "task.class_weights",
            "class weights do not apply to soft targets (dataset.multi_label = \"soft_votes\"); expected \"none\"".into(),
        );
    }
    if exp.dataset.multi_label == MultiLabelPolicy::SoftVotes
        && exp.train.sampler == Sampler::ClassBalanced
    {
        fail(
            "train.sampler",
            "found \"class_balanced\" with dataset.multi_label = \"soft_votes\"; soft targets have no single class to balance, expected \"shuffle\"".into(),
        );
    }
}

/// `mse_logits` regresses class logits onto a vote distribution: without both there is
/// nothing for it to train, and silently training cross-entropy instead would mislabel a run.
fn check_soft_target_loss(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    if exp.task.soft_target_loss != SoftTargetLoss::MseLogits {
        return;
    }
    let policy = exp.dataset.multi_label;
    if policy != MultiLabelPolicy::SoftVotes {
        let found = serde_json::to_string(&policy).unwrap_or_default();
        fail(
            "task.soft_target_loss",
            format!(
                "found \"mse_logits\" with dataset.multi_label = {found}, which gives no vote distribution to regress the logits onto; expected \"cross_entropy\", or dataset.multi_label = \"soft_votes\""
            ),
        );
    } else if exp.task.kind == TaskKind::Regression {
        fail(
            "task.soft_target_loss",
            "found \"mse_logits\" with task.kind = \"regression\", which has no class logits; expected \"cross_entropy\"".into(),
        );
    }
}

/// Rules of `task.kind` and the keys only some kinds read.
fn check_task_kind(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let task = &exp.task;
    let all = exp.dataset.multi_label == MultiLabelPolicy::All;
    match task.kind {
        TaskKind::Classification if all => fail(
            "dataset.multi_label",
            "found \"all\" (multi-hot targets), which needs a multi-label task; task.kind = \"classification\" trains one label per utterance: use \"drop\", \"first\" or \"soft_votes\", or task.kind = \"multilabel\"".into(),
        ),
        TaskKind::Multilabel if !all => fail(
            "dataset.multi_label",
            format!(
                "found {:?}, but task.kind = \"multilabel\" trains on multi-hot targets; expected \"all\" (every listed label of a tie kept)",
                exp.dataset.multi_label
            ),
        ),
        _ => {}
    }
    let multi_hot = task.kind == TaskKind::Multilabel || (task.kind == TaskKind::Multitask && all);
    let positive_ratio = task.class_weights == ClassWeights::Named(ClassWeightRule::PositiveRatio);
    if multi_hot && positive_ratio && task.multilabel_loss != MultilabelLoss::Bce {
        fail(
            "task.class_weights",
            format!(
                "found \"positive_ratio\", which weights the positive cells of the binary cross-entropy, but task.multilabel_loss = {:?}; expected task.multilabel_loss = \"bce\" or class_weights = \"none\"",
                task.multilabel_loss
            ),
        );
    } else if multi_hot && !positive_ratio && task.class_weights != ClassWeights::default() {
        fail(
            "task.class_weights",
            "per-class weights of the cross-entropy do not apply to multi-hot targets; expected \"none\" or \"positive_ratio\" (the binary cross-entropy's positive weights)".into(),
        );
    } else if !multi_hot && positive_ratio && task.kind != TaskKind::Regression {
        fail(
            "task.class_weights",
            "found \"positive_ratio\", which weights the positive cells of multi-hot targets (task.kind = \"multilabel\"); the single-label cross-entropy takes \"none\", \"balanced\" or one weight per class".into(),
        );
    }
    if task.tuned_thresholds
        && (task.kind != TaskKind::Multilabel || task.multilabel_loss != MultilabelLoss::Bce)
    {
        fail(
            "task.tuned_thresholds",
            "tunes one sigmoid threshold per class (seed 001's evaluation); expected task.kind = \"multilabel\" with multilabel_loss = \"bce\"".into(),
        );
    }
    if task.kind == TaskKind::Regression && task.class_weights != ClassWeights::default() {
        fail(
            "task.class_weights",
            "task.kind = \"regression\" has no classes to weight; expected \"none\"".into(),
        );
    }
    if !(task.threshold > 0.0 && task.threshold < 1.0) {
        fail(
            "task.threshold",
            format!(
                "found {}, expected a score threshold in (0, 1)",
                task.threshold
            ),
        );
    }
    let regresses = matches!(task.kind, TaskKind::Regression | TaskKind::Multitask);
    if regresses {
        let unique: HashSet<_> = task.targets.iter().collect();
        if task.targets.is_empty() || unique.len() != task.targets.len() {
            fail(
                "task.targets",
                format!(
                    "found {:?}, expected one or more distinct targets of \"valence\", \"arousal\"",
                    task.targets
                ),
            );
        }
    }
    let w = &task.weights;
    let weights_ok = [w.classification, w.regression]
        .iter()
        .all(|v| v.is_finite() && *v >= 0.0)
        && w.classification + w.regression > 0.0;
    if !weights_ok {
        fail(
            "task.weights",
            format!(
                "found classification = {}, regression = {}; expected finite weights >= 0, not both 0",
                w.classification, w.regression
            ),
        );
    }
}

fn check_split(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let split = &exp.split;
    let uses_folds = matches!(
        split.protocol,
        SplitProtocol::KfoldContiguous | SplitProtocol::KfoldStratified | SplitProtocol::Random
    );
    if uses_folds && split.folds < 2 {
        fail(
            "split.folds",
            format!("found {}, expected 2 or more", split.folds),
        );
    }
    if split.protocol == SplitProtocol::StratifiedHoldout
        && !(split.test_ratio > 0.0 && split.test_ratio < 1.0)
    {
        fail(
            "split.test_ratio",
            format!("found {}, expected a share in (0, 1)", split.test_ratio),
        );
    }
    match (&split.files, split.protocol) {
        (None, SplitProtocol::Files) => fail(
            "split.files",
            "missing; protocol = \"files\" expects split.files = { train = \"...\", test = \"...\" } (valid optional)".into(),
        ),
        // The lists themselves must exist when a run starts (`SplitConfig::missing_files`), like
        // the corpus: validate and inspect read the file without the data.
        (Some(_), SplitProtocol::Files) => {}
        (Some(_), _) => fail(
            "split.files",
            format!("is only read by protocol = \"files\", found protocol = {:?}", split.protocol),
        ),
        (None, _) => {}
    }
    if !(exp.split.valid_ratio > 0.0 && exp.split.valid_ratio < 0.5) {
        fail(
            "split.valid_ratio",
            format!(
                "found {}, expected a share in (0, 0.5)",
                exp.split.valid_ratio
            ),
        );
    }
}

fn check_encoders(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let method = exp.fusion.method();
    if exp.encodes(Modality::Text) {
        let text = &exp.encoders.text;
        if text.kind.is_pretrained() {
            super::validate_encoders::check_pretrained_text(text, fail);
        } else {
            check_small_text_encoder(exp, fail);
            super::validate_encoders::check_small_encoder_keys(
                "encoders.text",
                text.path.as_deref(),
                text.train,
                fail,
            );
        }
        super::validate_encoders::check_pooling(
            "encoders.text",
            text.pooling,
            text.kind,
            method,
            fail,
        );
        super::validate_encoders::check_batch_dependent_pooling(
            "encoders.text",
            text.pooling,
            text.train,
            fail,
        );
        if text.mask_swap && !text.kind.is_pretrained() {
            fail(
                "encoders.text.mask_swap",
                "found true, but kind = \"transformer\" has no token types; it needs kind = \"bert\"".into(),
            );
        }
    }
    if exp.encodes(Modality::Audio) {
        let audio = &exp.encoders.audio;
        if audio.kind == super::experiment::AudioEncoderKind::Wav2vec2 {
            super::validate_encoders::check_wav2vec2(audio, fail);
        } else {
            check_small_audio_encoder(exp, fail);
            super::validate_encoders::check_small_encoder_keys(
                "encoders.audio",
                audio.path.as_deref(),
                audio.train,
                fail,
            );
        }
        super::validate_encoders::check_audio_pooling(audio, method, fail);
        super::validate_encoders::check_batch_dependent_pooling(
            "encoders.audio",
            audio.pooling,
            audio.train,
            fail,
        );
    }
}

/// The sizes of `kind = "transformer"`.
fn check_small_text_encoder(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let text = &exp.encoders.text;
    for (key, value) in [
        ("encoders.text.hidden", text.hidden),
        ("encoders.text.layers", text.layers),
        ("encoders.text.heads", text.heads),
        ("encoders.text.ffn", text.ffn),
    ] {
        if value == 0 {
            fail(key, "found 0, expected a positive number".into());
        }
    }
    if text.heads > 0 && !text.hidden.is_multiple_of(text.heads) {
        fail(
            "encoders.text.heads",
            format!(
                "found {}, expected a divisor of hidden = {}",
                text.heads, text.hidden
            ),
        );
    }
    if text.max_len < 3 {
        fail(
            "encoders.text.max_len",
            format!(
                "found {}, expected at least 3 ([CLS], a token, [SEP])",
                text.max_len
            ),
        );
    }
    if text.tokenizer.vocab < 100 {
        fail(
            "encoders.text.tokenizer.vocab",
            format!("found {}, expected at least 100", text.tokenizer.vocab),
        );
    }
    if let Some(p) = text.dropout {
        check_probability("encoders.text.dropout", p, fail);
    }
}

/// The sizes and STFT of `kind = "logmel_conv"`.
fn check_small_audio_encoder(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let audio = &exp.encoders.audio;
    if audio.n_mels < 8 {
        fail(
            "encoders.audio.n_mels",
            format!("found {}, expected at least 8", audio.n_mels),
        );
    }
    if !(audio.hop_ms > 0.0 && audio.win_ms >= audio.hop_ms) {
        fail(
            "encoders.audio.hop_ms",
            format!(
                "found hop {} ms and window {} ms, expected 0 < hop <= window",
                audio.hop_ms, audio.win_ms
            ),
        );
    }
    let hop = (audio.sample_rate as f32 * audio.hop_ms / 1000.0) as usize;
    let min_samples = hop.max(1) << (audio.conv_layers + 1);
    if audio.max_samples < min_samples {
        fail(
            "encoders.audio.max_samples",
            format!(
                "found {}, expected at least {min_samples} so that the convolutions keep one frame",
                audio.max_samples
            ),
        );
    }
    if audio.channels == 0 || audio.conv_layers == 0 {
        fail(
            "encoders.audio.channels",
            "expected at least one convolution layer with channels > 0".into(),
        );
    }
    if audio.transformer_layers > 0
        && (audio.heads == 0 || !audio.channels.is_multiple_of(audio.heads))
    {
        fail(
            "encoders.audio.heads",
            format!(
                "found {}, expected a divisor of channels = {}",
                audio.heads, audio.channels
            ),
        );
    }
    if let Some(p) = audio.dropout {
        check_probability("encoders.audio.dropout", p, fail);
    }
}

fn check_train(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let train = &exp.train;
    if train.epochs == 0 {
        fail("train.epochs", "found 0, expected at least 1".into());
    }
    if train.batch_size == 0 {
        fail("train.batch_size", "found 0, expected at least 1".into());
    }
    if train.eval_batch_size == Some(0) {
        fail(
            "train.eval_batch_size",
            "found 0, expected at least 1".into(),
        );
    }
    let opt = &train.optimizer;
    if !(opt.lr > 0.0 && opt.lr.is_finite()) {
        fail(
            "train.optimizer.lr",
            format!("found {}, expected a positive learning rate", opt.lr),
        );
    }
    if !(opt.weight_decay >= 0.0 && opt.weight_decay.is_finite()) {
        fail(
            "train.optimizer.weight_decay",
            format!("found {}, expected a finite value >= 0", opt.weight_decay),
        );
    }
    if !(opt.eps > 0.0 && opt.eps.is_finite()) {
        fail(
            "train.optimizer.eps",
            format!(
                "found {}, expected a small positive value such as 1e-8",
                opt.eps
            ),
        );
    }
    for (key, beta) in [
        ("train.optimizer.beta1", opt.beta1),
        ("train.optimizer.beta2", opt.beta2),
    ] {
        if !(0.0..1.0).contains(&beta) {
            fail(key, format!("found {beta}, expected a value in [0, 1)"));
        }
    }
    check_select_by(exp, fail);
    check_module_lr(exp, fail);
    check_step(exp, fail);
}

/// `select_by` must name a metric this task reports.
fn check_select_by(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let select_by = &exp.selection_metric();
    let multi_hot = exp.dataset.multi_label == MultiLabelPolicy::All;
    let mut valid = selectable_metrics(exp.task.kind, multi_hot, &exp.task.targets);
    if exp.task.tuned_thresholds {
        valid.extend(super::names::TUNED_METRICS.map(String::from));
    }
    let selectable = select_by == "last_epoch"
        || select_by
            .strip_prefix("valid.")
            .is_some_and(|m| valid.iter().any(|v| v == m));
    if !selectable {
        fail(
            "train.select_by",
            format!(
                "found {select_by:?}, which task.kind = {:?} does not report; expected \"last_epoch\" or valid.<metric> with metric one of: {}",
                exp.task.kind,
                valid.join(", ")
            ),
        );
    }
}

/// `optimizer.module_lr` names modules this model has, with usable rates.
fn check_module_lr(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let method = exp.fusion.method();
    let present: Vec<&str> = MODULE_NAMES
        .into_iter()
        .filter(|&name| match name {
            "encoders.text" => exp.encodes(Modality::Text),
            "encoders.audio" => exp.encodes(Modality::Audio),
            "fusion.factors" => method == FusionMethod::Lmf,
            _ => true,
        })
        .collect();
    for (name, &lr) in &exp.train.optimizer.module_lr {
        let key = format!("train.optimizer.module_lr.{name}");
        if !present.contains(&name.as_str()) {
            fail(
                &key,
                format!(
                    "no module {name:?} in this model (fusion.method = {method:?}); expected one of: {}",
                    present.join(", ")
                ),
            );
        }
        if !(lr >= 0.0 && lr.is_finite()) {
            fail(&key, format!("found {lr}, expected a learning rate >= 0"));
        }
    }
}

/// Accumulation, clipping and precision.
fn check_step(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let train = &exp.train;
    if train.accumulate_grad_batches == 0 {
        fail(
            "train.accumulate_grad_batches",
            "found 0, expected at least 1 (1 = a step after every batch)".into(),
        );
    }
    for (key, value) in [
        ("train.clip_grad_norm", train.clip_grad_norm),
        ("train.clip_grad_value", train.clip_grad_value),
    ] {
        if let Some(v) = value.filter(|v| !(*v > 0.0 && v.is_finite())) {
            fail(
                key,
                format!("found {v}, expected a positive limit (or leave it unset)"),
            );
        }
    }
    let half = match train.precision {
        Precision::F32 => None,
        Precision::Bf16 => Some("bf16"),
        Precision::F16 => Some("f16"),
    };
    if let Some(half) = half {
        fail(
            "train.precision",
            format!(
                "found {half:?} (device {:?}), but burn 0.22 offers no mixed precision on any backend (flex, cuda, tch): no autocast and no loss scaling. It can only make half precision a device's default float type, which trains the WHOLE model in {half} (weights and optimizer moments included); emo-run does not offer that as \"mixed\" precision. Expected \"f32\"",
                exp.device
            ),
        );
    }
}

/// What the task asks of the fusion's output (see `fusion::registry::TaskShape`).
fn task_shape(exp: &Experiment) -> TaskShape {
    let task = &exp.task;
    let regresses = matches!(task.kind, TaskKind::Regression | TaskKind::Multitask);
    TaskShape {
        regression_targets: if regresses { task.targets.len() } else { 0 },
        classes: task.kind != TaskKind::Regression,
    }
}

fn check_probability(key: &str, p: f64, fail: &mut impl FnMut(&str, String)) {
    if !(0.0..1.0).contains(&p) {
        fail(key, format!("found {p}, expected a probability in [0, 1)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages `validate` gives for `key`.
    fn problems_of(exp: &Experiment, key: &str) -> Vec<String> {
        validate(exp)
            .into_iter()
            .filter(|p| p.key == key)
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn also_joins_only_corpora_of_the_same_streams_once() {
        use super::super::experiment::AlsoCorpus;
        let mut exp = Experiment::default();
        let also = |kind, root: &str| AlsoCorpus {
            kind,
            root: root.into(),
        };
        exp.dataset.also = vec![
            also(DatasetKind::Kemdy19, "data/KEMDy19"),
            also(DatasetKind::IemocapCmuPickle, "x.pkl"),
            also(DatasetKind::Kemdy19, "data/KEMDy19"),
        ];
        let kinds = problems_of(&exp, "dataset.also.kind");
        assert_eq!(kinds.len(), 1, "{kinds:?}");
        assert!(kinds[0].contains("transcripts and clips"), "{kinds:?}");
        let roots = problems_of(&exp, "dataset.also.root");
        assert!(
            roots.iter().all(|m| m.contains("joined twice")),
            "{roots:?}"
        );
        assert_eq!(roots.len(), 2);
        exp.dataset.also.truncate(1);
        assert!(problems_of(&exp, "dataset.also.kind").is_empty());
        assert!(problems_of(&exp, "dataset.also.root").is_empty());
    }

    #[test]
    fn mse_logits_needs_soft_vote_targets_and_class_logits() {
        let mut exp = Experiment::default();
        exp.task.soft_target_loss = SoftTargetLoss::MseLogits;
        let drop = problems_of(&exp, "task.soft_target_loss");
        assert_eq!(drop.len(), 1, "{drop:?}");
        assert!(
            drop[0].contains("dataset.multi_label = \"drop\"") && drop[0].contains("soft_votes"),
            "{}",
            drop[0]
        );

        exp.dataset.multi_label = MultiLabelPolicy::SoftVotes;
        assert_eq!(
            problems_of(&exp, "task.soft_target_loss"),
            Vec::<String>::new()
        );
        exp.task.kind = TaskKind::Multitask;
        assert_eq!(
            problems_of(&exp, "task.soft_target_loss"),
            Vec::<String>::new()
        );

        exp.task.kind = TaskKind::Regression;
        let regression = problems_of(&exp, "task.soft_target_loss");
        assert!(
            regression.len() == 1 && regression[0].contains("no class logits"),
            "{regression:?}"
        );
    }

    #[test]
    fn cross_entropy_needs_no_soft_votes() {
        let exp = Experiment::default();
        assert_eq!(exp.task.soft_target_loss, SoftTargetLoss::CrossEntropy);
        assert!(problems_of(&exp, "task.soft_target_loss").is_empty());
    }
}
