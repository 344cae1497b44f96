//! `emo-run eval`: the selected weights of every fold of finished runs scored again on the
//! fold's test split, with the loss, accuracy, weighted precision, recall and F1, the spread of
//! the per-class recalls, the trainable parameters and the time the test split takes (seed
//! 003's `test.py --all`). The corpus is read and the folds made again as the run made them,
//! and refused unless they are the run's own (`folds.parquet`).
//!
//! Each metric is the mean over folds of the fold's value on its own test split, as
//! `summary.json` averages them, so a run's accuracy here is its `summary.json` accuracy.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::prelude::*;

use super::InferOptions;
use super::table::{EvalRow, render, write_csv};
use crate::batch::FoldInputs;
use crate::data::Fold;
use crate::data::plan::{DataPlan, plan_folds, usable_corpus};
use crate::metrics::TaskReport;
use crate::model::EmotionModel;
use crate::run::inputs::{Preparation, PreparedInputs, prepare_corpus};
use crate::run::saved::{SavedFold, SavedRun, SavedStage};
use crate::task::{TaskSpec, TaskTargets};
use crate::train::evaluate::evaluate;
use crate::train::fold_setup::{StreamInputs, encode_texts, fold_objective, soft_targets};

#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// Finished run folders (`runs/<name>/<run-id>`).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Score only this stage (repeatable); default: every stage of each run.
    #[arg(long = "stage", value_name = "STAGE")]
    pub stages: Vec<String>,
    /// Also write the table as CSV (the same columns, the numbers unrounded).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// One row per fold too, under each stage's mean.
    #[arg(long)]
    pub per_fold: bool,
}

/// One fold's test split, scored.
struct FoldScore {
    name: String,
    loss: f64,
    report: TaskReport,
    utterances: usize,
    trainable: usize,
    seconds: f64,
}

/// `emo-run eval`.
pub fn eval(args: &EvalArgs, opts: &InferOptions) -> anyhow::Result<()> {
    // Every run and stage is opened (and refused if unfinished or unknown) before any scoring.
    let mut stages = Vec::new();
    for path in &args.runs {
        let run = SavedRun::open(path)?;
        let names = match args.stages.is_empty() {
            true => run.stages.clone(),
            false => args.stages.clone(),
        };
        for name in &names {
            stages.push((path.clone(), run.stage(Some(name))?));
        }
    }
    let mut rows = Vec::new();
    for (path, stage) in &stages {
        let run = path.display().to_string();
        let scores = score_stage(stage, opts)
            .with_context(|| format!("scoring stage {} of {run}", stage.name))?;
        rows.push(EvalRow::mean(
            &run,
            &stage.name,
            &scores_rows(&run, stage, &scores),
        ));
        if args.per_fold {
            rows.extend(scores_rows(&run, stage, &scores));
        }
    }
    print!("{}", render(&rows));
    if let Some(out) = &args.out {
        write_csv(out, &rows)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

fn scores_rows(run: &str, stage: &SavedStage, scores: &[FoldScore]) -> Vec<EvalRow> {
    scores
        .iter()
        .map(|s| {
            EvalRow::fold(
                run,
                &stage.name,
                &s.name,
                s.loss,
                &s.report,
                s.utterances,
                s.trainable,
                s.seconds,
            )
        })
        .collect()
}

/// Every fold of the stage on its test split.
fn score_stage(stage: &SavedStage, opts: &InferOptions) -> anyhow::Result<Vec<FoldScore>> {
    let exp = &stage.experiment;
    let plan = stage_data(stage, opts.quiet)?;
    let corpus = &plan.corpus;
    let (choice, device) = opts.device(exp, &stage.resolved)?;
    let how = Preparation {
        device: &device,
        backend: choice.backend_name(),
        cache_dir: &opts.cache_dir,
        quiet: opts.quiet,
    };
    let prepared = prepare_corpus(exp, corpus, &how)?;
    let texts: Vec<&str> = corpus.examples.iter().map(|e| e.text.as_str()).collect();
    let corpus_inputs = CorpusInputs {
        plan: &plan,
        prepared: &prepared,
        targets: TaskTargets::from_corpus(&TaskSpec::from_experiment(exp), corpus)?,
        soft: soft_targets(exp, corpus)?,
        labels: corpus.labels(),
        texts: &texts,
    };
    stage
        .folds
        .iter()
        .map(|saved| score_fold(stage, saved, &corpus_inputs, &device))
        .collect()
}

/// The stage's corpus and folds, made again as the run made them, and refused unless they are
/// the run's (`folds.parquet`): another corpus at the same path would be scored otherwise.
fn stage_data(stage: &SavedStage, quiet: bool) -> anyhow::Result<DataPlan> {
    let exp = &stage.experiment;
    if exp.dataset.synthetic.is_none()
        && let Some(problem) = crate::data::corpus::missing_corpus(&exp.dataset)
    {
        anyhow::bail!("{}: dataset.root: {problem}", stage.resolved.display());
    }
    let corpus = usable_corpus(&exp.dataset, quiet)?;
    let plan = plan_folds(exp, corpus)?;
    let saved_path = stage.run.join("folds.parquet");
    let saved = crate::report::read_folds(&saved_path)?;
    let now = plan.members();
    if let Some(i) = (0..saved.len().max(now.len())).find(|&i| saved.get(i) != now.get(i)) {
        anyhow::bail!(
            "{}: the corpus at {} no longer gives the folds this run trained and tested on (first difference at row {i}: the run has {:?}, the corpus now gives {:?}); eval would score other utterances",
            saved_path.display(),
            exp.dataset.root.display(),
            saved.get(i),
            now.get(i)
        );
    }
    Ok(plan)
}

/// What every fold of a stage reads from its corpus.
struct CorpusInputs<'a> {
    plan: &'a DataPlan,
    prepared: &'a PreparedInputs,
    targets: TaskTargets,
    soft: Option<Vec<Vec<f32>>>,
    labels: Vec<usize>,
    texts: &'a [&'a str],
}

/// One fold's selected model on its test split, timed.
fn score_fold(
    stage: &SavedStage,
    saved: &SavedFold,
    data: &CorpusInputs<'_>,
    device: &Device,
) -> anyhow::Result<FoldScore> {
    let corpus = &data.plan.corpus;
    let fold = (data.plan.folds.iter())
        .find(|f| f.index == saved.index)
        .with_context(|| {
            format!(
                "{}: the corpus gives no fold {}",
                saved.dir.display(),
                saved.name
            )
        })?;
    let model = stage.load_fold(saved, device)?;
    let tokens = (model.tokenizer.as_ref())
        .map(|t| encode_texts(t, data.texts.iter().copied()))
        .transpose()?;
    let streams = StreamInputs {
        features: data.prepared.features(&corpus.features),
        tokens: tokens.as_ref().map(|(t, _)| t.as_slice()),
        audio: data.prepared.audio.as_ref(),
        stats: model.stats.as_ref(),
    };
    let inputs = FoldInputs {
        labels: &data.labels,
        soft: data.soft.as_deref(),
        sources: streams.sources(&model.exp)?,
    };
    let objective =
        fold_objective(&model.exp, corpus, fold, &data.targets, device).for_evaluation();
    let train = &model.exp.train;
    let batch = train.eval_batch_size.unwrap_or(train.batch_size);
    warm_up(&model.model, &inputs, fold, batch, device);
    let started = Instant::now();
    let out = evaluate(
        &model.model,
        &inputs,
        &objective,
        &fold.test,
        batch,
        train.eval_drop_last,
        device,
    );
    let seconds = started.elapsed().as_secs_f64();
    Ok(FoldScore {
        name: saved.name.clone(),
        loss: out.mean_loss,
        report: out.report,
        utterances: out.indices.len(),
        trainable: model.parameters.iter().map(|m| m.trainable).sum(),
        seconds,
    })
}

/// One untimed batch first, read back: a GPU backend compiles its kernels on first use, which
/// is not the model's inference time.
fn warm_up(
    model: &EmotionModel,
    inputs: &FoldInputs<'_>,
    fold: &Fold,
    batch: usize,
    device: &Device,
) {
    let first = &fold.test[..fold.test.len().min(batch.max(1))];
    if first.is_empty() {
        return;
    }
    let output = model.forward(&inputs.batch(first, device));
    let _ = output.into_data();
}
