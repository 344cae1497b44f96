//! One experiment from resolved config to finished run directory.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::dir::{RunDir, RunState};
pub use super::identity::resolved_toml;
use super::identity::run_identity;
use super::inputs::{Preparation, prepare_corpus};
use super::stages::{StagePlan, stage_plans};
use crate::atomic::{write_atomic, write_json_atomic};
use crate::config::{Experiment, LoadedExperiment};
use crate::data::plan::DataPlan;
use crate::report::FoldResult;
use crate::report::data::data_report;
use crate::report::logits::TRAIN_LOGITS;
use crate::report::summary::{Summary, write_summaries};
use crate::report::{MetricRow, PredictionRow, write_folds, write_metrics, write_predictions};
use crate::task::TaskSpec;
use crate::train::distill::Distillation;
use crate::train::fold::FoldJob;
use anyhow::Context;

/// The one stage of a single-stage experiment (multi-stage distillation adds named stages).
pub const MAIN_STAGE: &str = "main";

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub runs_dir: PathBuf,
    /// Root of the feature cache of frozen encoders (shared by every run that names it).
    pub cache_dir: PathBuf,
    pub force: bool,
    pub quiet: bool,
}

/// What happened to one experiment.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub path: PathBuf,
    pub skipped: bool,
    /// An interrupted run was continued rather than started.
    pub resumed: bool,
    /// Each stage's test summary, in the order the stages ran (empty when skipped).
    pub summaries: Vec<Summary>,
    /// Annotation rows that did not become examples (0 when skipped).
    pub dropped: usize,
}

/// What a run reads but `validate` and `inspect` do not need: the corpus at `dataset.root`
/// and the encoders' weights and tokenizers. Checked before the run directory is made, so a
/// machine without them gets an error naming the key and the path, and nothing is written.
/// Every missing input is reported at once, with how to obtain it, so one read of the
/// message is enough to set the machine up.
pub fn check_inputs_exist(exp: &Experiment) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    if exp.dataset.synthetic.is_none() {
        problems.extend(crate::data::corpus::missing_corpus(&exp.dataset));
    }
    for extra in &exp.dataset.also {
        let ds = exp.dataset.with_corpus(extra);
        problems
            .extend(crate::data::corpus::missing_corpus(&ds).map(|p| format!("dataset.also: {p}")));
    }
    problems.extend(exp.split.missing_files());
    problems.extend(crate::encoders::folder::run_file_problems(exp));
    crate::encoders::folder::ensure_none_missing(problems)?;
    check_models_fit(exp)
}

/// Every model the experiment builds (one per stage) fits the widths of its streams, which are
/// known once the encoders' configs are read: a key or stream that does not fit (cross_modal's
/// heads, mme2e's faces and pieces) is refused before any run folder exists.
fn check_models_fit(exp: &Experiment) -> anyhow::Result<()> {
    let stages = exp.stage_experiments().map_err(anyhow::Error::msg)?;
    for stage in &stages {
        // The vocabulary bound sizes the small transformer's embeddings only, never a width.
        let vocab = stage.encoders.text.tokenizer.vocab.max(1);
        crate::train::fold_setup::fold_model_spec(stage, vocab)?;
    }
    Ok(())
}

/// Run one experiment on its data plan (corpus and folds, settled and checked by the caller
/// before anything was written).
pub fn run_experiment(
    loaded: &LoadedExperiment,
    plan: &DataPlan,
    opts: &RunOptions,
) -> anyhow::Result<RunOutcome> {
    let exp = &loaded.experiment;
    let resolved = resolved_toml(exp)?;
    let identity = run_identity(exp, plan)?;
    let run = RunDir::open(&opts.runs_dir, &exp.name, &identity.hash, opts.force)?;
    if run.state == RunState::Finished {
        tracing::info!(run = %run.path.display(), "already finished; skipping (use --force to run again)");
        return Ok(RunOutcome {
            path: run.path.clone(),
            skipped: true,
            resumed: false,
            summaries: Vec::new(),
            dropped: 0,
        });
    }
    if run.state == RunState::Resume {
        tracing::info!(run = %run.path.display(), "resuming an unfinished run");
    }
    // A failure is recorded in the run folder, where `emo-run status` looks; a killed process
    // records nothing, and its run reads as interrupted.
    run_in(&run, loaded, [&resolved, &identity.toml], plan, opts).inspect_err(|error| {
        if let Err(e) = run.mark_failed(error) {
            tracing::warn!(
                "could not record the failure in {}: {e:#}",
                run.path.display()
            );
        }
    })
}

/// Everything of a run after its folder is open: its `resolved.toml` and `identity.toml`, inputs,
/// folds, summaries, `DONE`.
fn run_in(
    run: &RunDir,
    loaded: &LoadedExperiment,
    [resolved, identity]: [&str; 2],
    plan: &DataPlan,
    opts: &RunOptions,
) -> anyhow::Result<RunOutcome> {
    let exp = &loaded.experiment;
    let choice = crate::device::parse_device(&exp.device).map_err(anyhow::Error::msg)?;
    let device = choice.device()?;
    write_atomic(&run.file("config.toml"), loaded.source_text.as_bytes())?;
    write_atomic(&run.file("resolved.toml"), resolved.as_bytes())?;
    write_atomic(&run.file("identity.toml"), identity.as_bytes())?;
    write_json_atomic(&run.file("env.json"), &crate::env::describe(exp))?;
    write_folds(&run.file("folds.parquet"), &plan.members())?;
    write_json_atomic(&run.file("data.json"), &data_report(plan))?;

    let started = Instant::now();
    let stages = stage_plans(exp, plan)?;
    let context = StageContext {
        run,
        plan,
        opts,
        device: &device,
        backend: choice.backend_name(),
    };
    let mut results: Vec<FoldResult> = Vec::new();
    let mut summaries = Vec::new();
    for stage in &stages {
        let stage_results = run_stage(&context, stage, &mut results)?;
        let mut summary = Summary::from_folds(&stage.name, &stage_results, &plan.corpus.classes);
        summary.method = stage.exp.fusion.method().name().to_string();
        summaries.push(summary);
    }
    write_tables(run, &results)?;
    // The first stage's model; also when every stage was read back or taken over.
    if let Some(first) = results.first() {
        write_json_atomic(&run.file("model.json"), &model_report(first))?;
    }
    write_summaries(&run.path, exp, &summaries, &plan.corpus)?;
    run.mark_done()?;
    tracing::info!(run = %run.path.display(), "done in {:.1}s", started.elapsed().as_secs_f64());
    Ok(RunOutcome {
        path: run.path.clone(),
        skipped: false,
        resumed: run.state == RunState::Resume,
        summaries,
        dropped: plan.corpus.dropped.len(),
    })
}

/// What every stage of a run shares.
struct StageContext<'a> {
    run: &'a RunDir,
    plan: &'a DataPlan,
    opts: &'a RunOptions,
    device: &'a burn::prelude::Device,
    backend: &'static str,
}

/// Train (or resume, or take over, or reload) one stage over every fold; its fold results are
/// appended to `all` (the rows of the run's tables, rewritten after every fold).
fn run_stage(
    ctx: &StageContext<'_>,
    stage: &StagePlan,
    all: &mut Vec<FoldResult>,
) -> anyhow::Result<Vec<FoldResult>> {
    let run = &ctx.run.path;
    if stage.named {
        // `--force` trains every stage again: nothing is taken over from other runs.
        if !ctx.opts.force
            && !stage.is_done_in(run)
            && let Some(other) = stage.finished_elsewhere(run)?
        {
            tracing::info!(
                stage = %stage.name,
                identity = %stage.identity.hash,
                "stage already finished in {} with the same identity; taking it over instead of training it again",
                other.display()
            );
            stage.adopt(&other, run)?;
        }
        stage.write_files(run)?;
        if stage.is_done_in(run) && !missing_exports(ctx, stage) {
            tracing::info!(stage = %stage.name, "stage already finished; reusing its folds");
            let results = finished_results(ctx, stage)?;
            all.extend(results.iter().cloned());
            return Ok(results);
        }
        tracing::info!(stage = %stage.name, identity = %stage.identity.hash, "stage starts");
    }
    let results = train_stage(ctx, stage, all)?;
    if let (Some(dir), Some(first)) = (stage.folder(run), results.first()) {
        write_json_atomic(&dir.join("model.json"), &model_report(first))?;
    }
    stage.mark_done(run)?;
    Ok(results)
}

/// A finished stage's fold results, from each fold's `result.json`.
fn finished_results(ctx: &StageContext<'_>, stage: &StagePlan) -> anyhow::Result<Vec<FoldResult>> {
    ctx.plan
        .folds
        .iter()
        .map(|fold| {
            let path = ctx
                .run
                .fold_dir(&stage.name, fold.index)
                .join("result.json");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
        })
        .collect()
}

/// A later stage distills from this one and some fold lacks its training-split logits.
fn missing_exports(ctx: &StageContext<'_>, stage: &StagePlan) -> bool {
    stage.exports
        && ctx.plan.folds.iter().any(|fold| {
            !ctx.run
                .fold_dir(&stage.name, fold.index)
                .join(TRAIN_LOGITS)
                .exists()
        })
}

/// The stage's inputs (audio, frozen features), then its folds.
fn train_stage(
    ctx: &StageContext<'_>,
    stage: &StagePlan,
    all: &mut Vec<FoldResult>,
) -> anyhow::Result<Vec<FoldResult>> {
    let exp = &stage.exp;
    let (corpus, folds) = (&ctx.plan.corpus, &ctx.plan.folds);
    let started = Instant::now();
    let how = Preparation {
        device: ctx.device,
        backend: ctx.backend,
        cache_dir: &ctx.opts.cache_dir,
        quiet: ctx.opts.quiet,
    };
    let prepared = prepare_corpus(exp, corpus, &how)?;
    tracing::info!(
        stage = %stage.name,
        utterances = corpus.examples.len(),
        dropped = corpus.dropped.len(),
        folds = folds.len(),
        "inputs ready in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let features = prepared.features(&corpus.features);
    let classes = TaskSpec::from_experiment(exp).class_width();
    let mut results: Vec<FoldResult> = Vec::new();
    for fold in folds {
        let fold_exp = exp.for_fold(&fold.name).map_err(anyhow::Error::msg)?;
        let distill = match &stage.distill {
            None => None,
            Some(config) => {
                let teacher = ctx
                    .run
                    .fold_dir(&config.from, fold.index)
                    .join(TRAIN_LOGITS);
                Some(Distillation::load(
                    config,
                    &teacher,
                    corpus,
                    &fold.train,
                    classes,
                )?)
            }
        };
        let job = FoldJob {
            exp: &fold_exp,
            corpus,
            audio: prepared.audio.as_ref(),
            features: features.clone(),
            fold,
            n_folds: folds.len(),
            stage: &stage.name,
            dir: ctx.run.fold_dir(&stage.name, fold.index),
            device: ctx.device.clone(),
            quiet: ctx.opts.quiet,
            distill,
            export_train_logits: stage.exports,
        };
        let result = job.run()?;
        results.push(result.clone());
        all.push(result);
        write_tables(ctx.run, all)?;
        if all.len() == 1 {
            write_json_atomic(&ctx.run.file("model.json"), &model_report(&all[0]))?;
        }
    }
    Ok(results)
}

fn write_tables(run: &RunDir, results: &[FoldResult]) -> anyhow::Result<()> {
    let metrics: Vec<MetricRow> = results
        .iter()
        .flat_map(|r| r.metrics.iter().cloned())
        .collect();
    let predictions: Vec<PredictionRow> = results
        .iter()
        .flat_map(|r| r.predictions.iter().cloned())
        .collect();
    write_metrics(&run.file("metrics.parquet"), &metrics)?;
    write_predictions(&run.file("predictions.parquet"), &predictions)
}

#[derive(Serialize)]
struct ModelReport<'a> {
    modules: &'a [crate::params::ModuleParams],
    total: usize,
    trainable: usize,
    note: &'static str,
}

fn model_report(result: &FoldResult) -> ModelReport<'_> {
    ModelReport {
        modules: &result.parameters,
        total: result.parameters.iter().map(|m| m.total).sum(),
        trainable: result.parameters.iter().map(|m| m.trainable).sum(),
        note: "counts of fold 1's model; the text embedding size follows each fold's trained vocabulary",
    }
}
