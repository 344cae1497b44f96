//! `emo-run predict`: the selected weights of one fold of a finished run score new utterances,
//! given on the command line (`--wav`, `--text`) or listed in a manifest (`--manifest`). The
//! inputs take the path training's took: the audio through `data::audio` and the log-mel front
//! end with the fold's statistics (or the samples for wav2vec2), the text through the fold's
//! tokenizer, a frozen encoder run through the feature cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::InferOptions;
use crate::batch::FoldInputs;
use crate::config::{Experiment, Modality};
use crate::report::{PredictionRow, RegressionValue, write_predictions};
use crate::run::inputs::{Preparation, prepare};
use crate::run::saved::{FoldModel, SavedRun, SavedStage, pre_extracted_streams};
use crate::task::predict::HostOutputs;
use crate::train::fold_setup::{StreamInputs, encode_texts};

/// The `split` of the rows `--manifest` writes: new utterances belong to no split of the run.
pub const PREDICT_SPLIT: &str = "predict";

#[derive(clap::Args, Debug, Clone)]
pub struct PredictArgs {
    /// A finished run folder (`runs/<name>/<run-id>`).
    pub run: PathBuf,
    /// The stage whose model scores (needed when the run has several; see `stages/`).
    #[arg(long)]
    pub stage: Option<String>,
    /// The fold whose selected weights score: its 1-based number or its name.
    #[arg(long, default_value = "1")]
    pub fold: String,
    /// The utterance's WAV file (for a model that reads audio).
    #[arg(long, conflicts_with = "manifest")]
    pub wav: Option<PathBuf>,
    /// The utterance's transcript, used as given (for a model that reads text).
    #[arg(long, conflicts_with = "manifest")]
    pub text: Option<String>,
    /// Print one JSON object instead of the table.
    #[arg(long, conflicts_with = "manifest")]
    pub json: bool,
    /// Score a batch of new utterances: a .csv (header row) or .jsonl manifest with an `id`
    /// (or `utterance_id`), a `text` and an `audio` column (the WAV path, relative to the
    /// manifest's folder or absolute); only the columns the model reads are required.
    #[arg(long, requires = "out")]
    pub manifest: Option<PathBuf>,
    /// Where --manifest's predictions go (parquet, the columns of predictions.parquet).
    #[arg(long, requires = "manifest")]
    pub out: Option<PathBuf>,
}

/// Which inputs the model reads.
#[derive(Debug, Clone, Copy)]
struct Reads {
    text: bool,
    audio: bool,
}

impl Reads {
    fn of(exp: &Experiment) -> Self {
        Self {
            text: exp.encodes(Modality::Text),
            audio: exp.encodes(Modality::Audio),
        }
    }
}

/// The utterances to score, in order; an input the model does not read is left empty.
#[derive(Debug, Default)]
struct NewUtterances {
    ids: Vec<String>,
    texts: Vec<String>,
    wavs: Vec<PathBuf>,
}

/// `emo-run predict`.
pub fn predict(args: &PredictArgs, opts: &InferOptions) -> anyhow::Result<()> {
    let run = SavedRun::open(&args.run)?;
    let stage = run.stage(args.stage.as_deref())?;
    let fold = stage.fold(&args.fold)?;
    let exp = stage.fold_experiment(fold)?;
    refuse_pre_extracted(&exp, &stage)?;
    let reads = Reads::of(&exp);
    let new = match &args.manifest {
        Some(manifest) => from_manifest(manifest, reads)?,
        None => from_arguments(args, reads, &stage)?,
    };
    let (choice, device) = opts.device(&exp, &stage.resolved)?;
    let started = Instant::now();
    let model = stage.load_fold(fold, &device)?;
    let load_s = started.elapsed().as_secs_f64();
    let how = Preparation {
        device: &device,
        backend: choice.backend_name(),
        cache_dir: &opts.cache_dir,
        quiet: opts.quiet,
    };
    let (outputs, timing) = score(&stage, &model, &new, &how, opts.quiet || args.out.is_none())?;
    log_timing(new.ids.len(), load_s, &timing);
    let header = Header {
        run: &run.path,
        stage: &stage.name,
        fold: &fold.name,
    };
    match &args.out {
        Some(out) => {
            let rows = prediction_rows(&model, &new, &outputs, &stage.name, fold.index);
            write_predictions(out, &rows)?;
            println!("wrote {} predictions to {}", rows.len(), out.display());
        }
        None if args.json => println!("{}", single_json(&header, &model, &outputs)),
        None => print!("{}", single_table(&header, &model, &outputs)),
    }
    Ok(())
}

/// Where the time went, for the user and for bench/predict_latency.py (`--json-logs`).
fn log_timing(utterances: usize, load_s: f64, timing: &Timing) {
    tracing::info!(
        utterances,
        load_s,
        prepare_s = timing.prepare_s,
        forward_s = timing.forward_s,
        "scored {utterances} utterance(s): weights loaded in {load_s:.3}s, inputs prepared in {:.3}s, model forward {:.3}s",
        timing.prepare_s,
        timing.forward_s
    );
}

/// A model whose streams arrive pre-extracted (the CMU pickle's features, face crops, seed
/// 001's hand-crafted sequences) cannot score a WAV file and a transcript.
fn refuse_pre_extracted(exp: &Experiment, stage: &SavedStage) -> anyhow::Result<()> {
    let arrivals = exp.dataset.streams();
    let streams: Vec<String> = pre_extracted_streams(exp)
        .iter()
        .map(|m| match arrivals.get(m) {
            Some(arrival) => format!("{m} ({})", arrival.describe()),
            None => m.to_string(),
        })
        .collect();
    let kind = crate::config::names::serde_name(&exp.dataset.kind);
    let source = if exp.dataset.hcf.is_some() {
        "[dataset.hcf]'s feature files".to_string()
    } else if exp.dataset.faces.is_some() {
        format!("the corpus's video frames ([dataset.faces], dataset.kind = {kind:?})")
    } else {
        format!("the corpus (dataset.kind = {kind:?})")
    };
    anyhow::ensure!(
        streams.is_empty(),
        "{}: stage {}'s model ({}) reads {}, computed from {source} before training; predict computes inputs from a WAV file and a transcript only, so it cannot score new utterances with this model (`emo-run eval` scores its test splits)",
        stage.run.display(),
        stage.name,
        exp.fusion.method().name(),
        streams.join(" and "),
    );
    Ok(())
}

/// The one utterance of `--wav` / `--text`; what the model reads must be given.
fn from_arguments(
    args: &PredictArgs,
    reads: Reads,
    stage: &SavedStage,
) -> anyhow::Result<NewUtterances> {
    let method = stage.experiment.fusion.method().name();
    let model = format!(
        "{}: stage {}'s model ({method})",
        stage.run.display(),
        stage.name
    );
    anyhow::ensure!(
        !reads.text || args.text.is_some(),
        "{model} reads text; give the transcript with --text"
    );
    anyhow::ensure!(
        !reads.audio || args.wav.is_some(),
        "{model} reads audio; give a WAV file with --wav"
    );
    for (given, flag, modality) in [
        (args.text.is_some() && !reads.text, "--text", "text"),
        (args.wav.is_some() && !reads.audio, "--wav", "audio"),
    ] {
        if given {
            tracing::warn!("{flag} is ignored: {model} reads no {modality}");
        }
    }
    let wav = args.wav.clone().filter(|_| reads.audio).unwrap_or_default();
    anyhow::ensure!(
        !reads.audio || wav.is_file(),
        "--wav {}: no such file; expected a WAV file",
        wav.display()
    );
    Ok(NewUtterances {
        ids: vec!["input".into()],
        texts: vec![args.text.clone().unwrap_or_default()],
        wavs: vec![wav],
    })
}

/// The rows of a manifest of new utterances; a row the model cannot score refuses the whole
/// manifest, each such row listed, rather than scoring a silent subset.
fn from_manifest(path: &Path, reads: Reads) -> anyhow::Result<NewUtterances> {
    let options = crate::data::manifest::ManifestOptions::default();
    let raw = crate::data::manifest::load_unlabelled(path, &options, reads.text, reads.audio)?;
    if !raw.dropped.is_empty() {
        let listing: Vec<String> = raw
            .dropped
            .iter()
            .take(20)
            .map(|d| format!("  {}: {}", d.id, d.reason))
            .collect();
        anyhow::bail!(
            "{}: {} row(s) cannot be scored:\n{}",
            path.display(),
            raw.dropped.len(),
            listing.join("\n")
        );
    }
    anyhow::ensure!(
        !raw.utterances.is_empty(),
        "{}: no utterance to score; expected one row per utterance",
        path.display()
    );
    let mut new = NewUtterances::default();
    for u in raw.utterances {
        new.ids.push(u.id);
        new.texts.push(u.text);
        new.wavs.push(u.wav_path);
    }
    Ok(new)
}

/// Seconds spent preparing the inputs (audio, frozen encoders, tokens) and in the batched
/// forward passes (scores read back included).
struct Timing {
    prepare_s: f64,
    forward_s: f64,
}

/// The model's outputs for every new utterance, `eval_batch_size` at a time as training's
/// evaluation batches them.
fn score(
    stage: &SavedStage,
    model: &FoldModel,
    new: &NewUtterances,
    how: &Preparation<'_>,
    quiet: bool,
) -> anyhow::Result<(HostOutputs, Timing)> {
    let started = Instant::now();
    let texts: Vec<&str> = new.texts.iter().map(String::as_str).collect();
    let wavs: Vec<&Path> = new.wavs.iter().map(PathBuf::as_path).collect();
    // The stage's experiment, not the fold's: training prepared the inputs once for all folds.
    let prepared = prepare(&stage.experiment, &texts, &wavs, true, how)?;
    let tokens = (model.tokenizer.as_ref())
        .map(|t| encode_texts(t, texts.iter().copied()))
        .transpose()?;
    let pre_extracted = BTreeMap::new();
    let streams = StreamInputs {
        features: prepared.features(&pre_extracted),
        tokens: tokens.as_ref().map(|(t, _)| t.as_slice()),
        audio: prepared.audio.as_ref(),
        stats: model.stats.as_ref(),
    };
    let labels = vec![0; texts.len()];
    let inputs = FoldInputs {
        labels: &labels,
        soft: None,
        sources: streams.sources(&model.exp)?,
    };
    let train = &model.exp.train;
    let batch_size = train.eval_batch_size.unwrap_or(train.batch_size);
    let indices: Vec<usize> = (0..texts.len()).collect();
    let prepare_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let bar = crate::data::parallel::progress(indices.len(), "scoring utterances", quiet);
    let outputs = crate::train::evaluate::predict(
        &model.model,
        &inputs,
        &model.task,
        &indices,
        batch_size,
        how.device,
        |n| bar.inc(n as u64),
    );
    bar.finish_and_clear();
    let timing = Timing {
        prepare_s,
        forward_s: started.elapsed().as_secs_f64(),
    };
    Ok((outputs, timing))
}

/// Which model scored.
struct Header<'a> {
    run: &'a Path,
    stage: &'a str,
    fold: &'a str,
}

/// `--json`: run, stage, fold, the classes and their scores in class order, the prediction,
/// and one key per regression target.
fn single_json(header: &Header<'_>, model: &FoldModel, outputs: &HostOutputs) -> String {
    let classes = class_names(model);
    let scores = &outputs.scores[0];
    let mut object = serde_json::json!({
        "run": header.run,
        "stage": header.stage,
        "fold": header.fold,
        "classes": classes,
        "scores": scores,
        "prediction": model.task.prediction_name(scores, classes),
    });
    for (target, value) in model.task.targets.iter().zip(&outputs.values[0]) {
        object[target.name()] = serde_json::json!(value);
    }
    object.to_string()
}

/// The table: each class and its score in class order, the prediction, the regression values.
fn single_table(header: &Header<'_>, model: &FoldModel, outputs: &HostOutputs) -> String {
    use std::fmt::Write as _;
    let classes = class_names(model);
    let scores = &outputs.scores[0];
    let mut out = format!(
        "{} (stage {}, fold {})\n",
        header.run.display(),
        header.stage,
        header.fold
    );
    let width = classes.iter().map(String::len).max().unwrap_or(0);
    for (class, score) in classes.iter().zip(scores) {
        let _ = writeln!(out, "  {class:<width$}  {score:.4}");
    }
    if let Some(prediction) = model.task.prediction_name(scores, classes) {
        let _ = writeln!(out, "prediction: {prediction}");
    }
    for (target, value) in model.task.targets.iter().zip(&outputs.values[0]) {
        let _ = writeln!(out, "{}: {value:.4}", target.name());
    }
    out
}

/// The class names of the score columns (none for pure regression).
fn class_names(model: &FoldModel) -> &[String] {
    &model.exp.dataset.classes[..model.task.class_width()]
}

/// `--manifest`'s rows: predictions.parquet's columns, `split` = "predict", no targets.
fn prediction_rows(
    model: &FoldModel,
    new: &NewUtterances,
    outputs: &HostOutputs,
    stage: &str,
    fold: usize,
) -> Vec<PredictionRow> {
    let classes = class_names(model);
    new.ids
        .iter()
        .zip(&outputs.scores)
        .zip(&outputs.values)
        .map(|((id, scores), values)| PredictionRow {
            stage: stage.to_string(),
            fold: fold as u32,
            split: PREDICT_SPLIT.to_string(),
            utterance_id: id.clone(),
            target: None,
            prediction: model.task.prediction_name(scores, classes),
            scores: scores.clone(),
            regression: (model.task.targets.iter())
                .zip(values)
                .map(|(t, &predicted)| RegressionValue {
                    target: t.name().to_string(),
                    truth: f32::NAN,
                    predicted,
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_row_without_audio_refuses_the_manifest_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.csv");
        std::fs::write(&path, "utterance_id,text,audio\na,hello,gone.wav\n").unwrap();
        let reads = Reads {
            text: true,
            audio: true,
        };
        let err = from_manifest(&path, reads).unwrap_err().to_string();
        assert!(
            err.contains("new.csv") && err.contains("missing audio: line 2"),
            "{err}"
        );
        let text_only = Reads {
            text: true,
            audio: false,
        };
        let new = from_manifest(&path, text_only).unwrap();
        assert_eq!(
            (new.ids, new.texts),
            (vec!["a".to_string()], vec!["hello".to_string()])
        );
    }
}
