//! Checks that types alone cannot express: ranges, cross-field rules, files that must exist.
//! All problems are collected, not just the first, so one edit fixes them all.

use std::collections::HashSet;

use super::error::Located;
use super::experiment::{
    ClassWeights, DatasetKind, Experiment, MultiLabelPolicy, Sampler, SplitProtocol,
};
use crate::device::parse_device;
use crate::metrics::SELECTABLE_METRICS;

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
    if exp.fusion.hidden == 0 {
        fail("fusion.hidden", "found 0, expected a positive width".into());
    }
    check_probability("fusion.dropout", exp.fusion.dropout, &mut fail);
    for (key, value) in [
        ("fusion.proj_dim", exp.fusion.proj_dim),
        ("fusion.mixer_dim", exp.fusion.mixer_dim),
        ("fusion.mixer_audio_tokens", exp.fusion.mixer_audio_tokens),
    ] {
        if value == 0 {
            fail(key, "found 0, expected a positive size".into());
        }
    }
    problems
}

fn check_dataset(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let ds = &exp.dataset;
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
    if ds.synthetic.is_none()
        && let Some(problem) = crate::data::corpus::layout_problem(ds)
    {
        fail(
            "dataset.root",
            format!(
                "{problem}; fix the path, or set [dataset.synthetic] to generate a KEMDy20-layout corpus"
            ),
        );
    }
    if ds.synthetic.is_some() && ds.kind != DatasetKind::Kemdy20 {
        fail(
            "dataset.synthetic",
            format!(
                "generates the KEMDy20 layout, but dataset.kind is {:?}; expected kind = \"kemdy20\"",
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
    if let ClassWeights::List(weights) = &exp.task.class_weights
        && weights.len() != exp.dataset.classes.len()
    {
        fail(
            "task.class_weights",
            format!(
                "found {} weights, expected one per class ({}), \"balanced\" or \"none\"",
                weights.len(),
                exp.dataset.classes.len()
            ),
        );
    }
    if exp.dataset.multi_label == MultiLabelPolicy::All {
        fail(
            "dataset.multi_label",
            "found \"all\" (multi-hot targets), which needs a multi-label task; task.kind = \"classification\" trains one label per utterance: use \"drop\", \"first\" or \"soft_votes\"".into(),
        );
    }
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
        (Some(files), SplitProtocol::Files) => {
            let lists = [("train", Some(&files.train)), ("valid", files.valid.as_ref()), ("test", Some(&files.test))];
            for (name, path) in lists {
                if let Some(path) = path.filter(|p| !p.is_file()) {
                    fail(
                        &format!("split.files.{name}"),
                        format!("{} does not exist; expected a file with one utterance id per line", path.display()),
                    );
                }
            }
        }
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
    let method = exp.fusion.method;
    if method.uses_text() {
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
    }
    if method.uses_audio() {
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
    if opt.weight_decay < 0.0 {
        fail(
            "train.optimizer.weight_decay",
            format!("found {}, expected >= 0", opt.weight_decay),
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
    let selectable = train.select_by == "last_epoch"
        || train
            .select_by
            .strip_prefix("valid.")
            .is_some_and(|m| SELECTABLE_METRICS.contains(&m));
    if !selectable {
        fail(
            "train.select_by",
            format!(
                "found {:?}, expected \"last_epoch\" or valid.<metric> with metric one of: {}",
                train.select_by,
                SELECTABLE_METRICS.join(", ")
            ),
        );
    }
}

fn check_probability(key: &str, p: f64, fail: &mut impl FnMut(&str, String)) {
    if !(0.0..1.0).contains(&p) {
        fail(key, format!("found {p}, expected a probability in [0, 1)"));
    }
}
