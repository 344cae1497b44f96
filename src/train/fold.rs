//! Training of one fold: tokenizer and feature statistics from the training split, epochs with
//! validation, best-epoch selection, one test pass with the selected weights. Every epoch leaves
//! a checkpoint, so a killed fold resumes at the epoch where it stopped.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use super::checkpoint::{self, TrainState};
use super::distill::Distillation;
use super::evaluate::{EvalOutput, class_logits, evaluate};
use super::fold_setup::{
    FEATURE_STATS_FILE, StreamInputs, TOKENIZER_FILE, encode_texts, fold_model_spec,
    fold_objective, folder_tokenizer, saved_tokenizer, soft_targets,
};
use super::objective::Objective;
use super::optim::{StepSettings, Stepper, build_optimizer, learning_rates};
use crate::batch::FoldInputs;
use crate::config::{Experiment, LossReduction, Modality, Sampler};
use crate::data::features::{AudioData, FeatureStats};
use crate::data::sampler::{class_balanced, shuffled};
use crate::data::tokenize::{self, Encoded};
use crate::data::{Corpus, Fold};
use crate::encoders::cache::CachedFeature;
use crate::metrics::TaskReport;
use crate::model::{EmotionModel, ModelSpec};
pub use crate::report::FoldResult;
use crate::report::logits::{TRAIN_LOGITS, write_logits};
use crate::report::{MetricRow, PredictionRow, RegressionValue};
use crate::task::predict::{HostOutputs, class_set};
use crate::task::{TaskSpec, TaskTargets};

/// Everything one fold needs; the corpus and features are shared by all folds.
pub struct FoldJob<'a> {
    pub exp: &'a Experiment,
    pub corpus: &'a Corpus,
    /// Every example's audio (log-mel frames or waveforms), when the method uses a trained
    /// audio encoder.
    pub audio: Option<&'a AudioData>,
    /// Streams that reach the fusion without a trained encoder, one array per example, by
    /// modality: a frozen encoder's cached output, or the corpus' pre-extracted feature.
    pub features: BTreeMap<Modality, &'a [CachedFeature]>,
    pub fold: &'a Fold,
    pub n_folds: usize,
    pub stage: &'a str,
    /// `checkpoints/<stage>/fold-<k>` in the run directory.
    pub dir: PathBuf,
    pub device: Device,
    pub quiet: bool,
    /// An earlier stage's logits to train against as well (a distilled stage).
    pub distill: Option<Distillation>,
    /// A later stage distills from this one: write the selected weights' class logits on the
    /// training split to `train_logits.parquet`.
    pub export_train_logits: bool,
}

const RESULT: &str = "result.json";

impl FoldJob<'_> {
    /// Train (or resume, or reload) this fold.
    pub fn run(&self) -> anyhow::Result<FoldResult> {
        let result_path = self.dir.join(RESULT);
        if result_path.exists() {
            let text = std::fs::read_to_string(&result_path)?;
            tracing::info!(
                fold = %self.fold.name,
                "fold already finished; reusing {}",
                result_path.display()
            );
            let result = serde_json::from_str(&text)
                .with_context(|| format!("reading {}", result_path.display()))?;
            if self.export_train_logits && !self.dir.join(TRAIN_LOGITS).exists() {
                // Finished before a later stage asked for its logits.
                self.with_inputs(|spec, inputs| {
                    let model = checkpoint::load_selected(&self.dir, spec, &self.device)?.valid();
                    self.export_logits(&model, inputs)
                })?;
            }
            return Ok(result);
        }
        std::fs::create_dir_all(&self.dir)?;
        let result = self.with_inputs(|spec, inputs| self.train_and_test(spec, inputs))?;
        crate::atomic::write_json_atomic(&result_path, &result)?;
        checkpoint::clean_epochs(&self.dir)?;
        Ok(result)
    }

    /// Build the fold's inputs (tokens, statistics, targets, streams) and model spec, and hand
    /// them to `work`.
    fn with_inputs<T>(
        &self,
        work: impl FnOnce(&ModelSpec, &FoldInputs<'_>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let encoded = match self.features.contains_key(&Modality::Text) {
            true => None,
            false => self.text_inputs()?,
        };
        let stats = self.feature_stats()?;
        let soft = soft_targets(self.exp, self.corpus)?;
        let streams = StreamInputs {
            features: self.features.clone(),
            tokens: encoded.as_ref().map(|(tokens, _)| tokens.as_slice()),
            audio: self.audio,
            stats: stats.as_ref(),
        };
        let sources = streams
            .sources(self.exp)
            .with_context(|| format!("fold {}", self.fold.name))?;
        let inputs = FoldInputs {
            labels: &self.labels(),
            soft: soft.as_deref(),
            sources,
        };
        let spec = fold_model_spec(self.exp, encoded.as_ref().map_or(0, |(_, vocab)| *vocab))?;
        work(&spec, &inputs)
    }

    /// The selected model's class logits on the training split, for a later stage.
    fn export_logits(&self, model: &EmotionModel, inputs: &FoldInputs<'_>) -> anyhow::Result<()> {
        let targets = TaskTargets::from_corpus(&TaskSpec::from_experiment(self.exp), self.corpus)?;
        let objective = fold_objective(self.exp, self.corpus, self.fold, &targets, &self.device);
        let batch = self
            .exp
            .train
            .eval_batch_size
            .unwrap_or(self.exp.train.batch_size);
        let logits = class_logits(
            model,
            inputs,
            &objective,
            &self.fold.train,
            batch,
            &self.device,
        )?;
        let rows: Vec<(String, Vec<f32>)> = self
            .fold
            .train
            .iter()
            .map(|&i| self.corpus.examples[i].id.clone())
            .zip(logits)
            .collect();
        write_logits(&self.dir.join(TRAIN_LOGITS), &rows)
    }

    fn labels(&self) -> Vec<usize> {
        self.corpus.labels()
    }

    /// Token ids for every example from a tokenizer trained on this fold's training split.
    fn text_inputs(&self) -> anyhow::Result<Option<(Vec<Encoded>, usize)>> {
        if !self.exp.encodes(crate::config::Modality::Text) {
            return Ok(None);
        }
        let tokenizer = match (folder_tokenizer(self.exp)?, saved_tokenizer(&self.dir)?) {
            (Some(own), _) => own,
            (None, Some(saved)) => saved,
            (None, None) => {
                let cfg = &self.exp.encoders.text;
                let texts = self
                    .fold
                    .train
                    .iter()
                    .map(|&i| self.corpus.examples[i].text.as_str());
                let tok = tokenize::train_wordpiece(texts, &cfg.tokenizer, cfg.max_len)?;
                tokenize::save(&tok, &self.dir.join(TOKENIZER_FILE))?;
                tok
            }
        };
        let texts = self.corpus.examples.iter().map(|e| e.text.as_str());
        encode_texts(&tokenizer, texts).map(Some)
    }

    /// Per-mel normalisation fitted on the training split only (log-mel input only).
    fn feature_stats(&self) -> anyhow::Result<Option<FeatureStats>> {
        let Some(AudioData::LogMel(features)) = self.audio else {
            return Ok(None);
        };
        let stats = FeatureStats::fit(
            self.fold.train.iter().map(|&i| &features[i]),
            self.exp.encoders.audio.n_mels,
        );
        crate::atomic::write_json_atomic(&self.dir.join(FEATURE_STATS_FILE), &stats)?;
        Ok(Some(stats))
    }

    /// This epoch's training order: a seeded shuffle, or the class-balanced sampler.
    fn training_order(&self, epoch: usize) -> Vec<usize> {
        let seed = self.seed(1000 + epoch as u64);
        match self.exp.train.sampler {
            Sampler::Shuffle => shuffled(&self.fold.train, seed),
            Sampler::ClassBalanced => class_balanced(&self.fold.train, &self.corpus.labels(), seed),
        }
    }

    fn train_and_test(
        &self,
        spec: &ModelSpec,
        inputs: &FoldInputs<'_>,
    ) -> anyhow::Result<FoldResult> {
        let train_device = self.device.clone().autodiff();
        let eval_device = self.device.clone();
        let exp = self.exp;
        train_device.seed(self.seed(0));
        let optimizer = build_optimizer(&exp.train.optimizer);
        // A resumed fold loads its checkpoint into a skeleton; only a fresh one reads the
        // pretrained weights.
        let (model, optimizer, state) =
            match checkpoint::load_last(&self.dir, spec, &train_device, optimizer.clone())? {
                Some(saved) => {
                    tracing::info!(
                        fold = %self.fold.name,
                        epochs_done = saved.2.epochs_done,
                        "resuming fold from its last checkpoint"
                    );
                    saved
                }
                None => (spec.init(&train_device)?, optimizer, TrainState::default()),
            };
        let (mut model, mut state) = (model, state);
        let parameters = spec.parameter_counts(&model, &eval_device)?;
        let targets = TaskTargets::from_corpus(&TaskSpec::from_experiment(exp), self.corpus)?;
        let loss_train = fold_objective(exp, self.corpus, self.fold, &targets, &train_device);
        let loss_eval =
            fold_objective(exp, self.corpus, self.fold, &targets, &eval_device).for_evaluation();
        let eval_batch = exp.train.eval_batch_size.unwrap_or(exp.train.batch_size);
        let drop_last = exp.train.eval_drop_last;
        // The parameter ids are final here (restored on resume), so the per-module groups hold.
        let lr = learning_rates(&exp.train.optimizer, &model)?;
        let mut stepper = Stepper::new(optimizer, lr, StepSettings::from_train(&exp.train));
        // Seconds of the committed epochs before this process, so that wall_s keeps counting
        // across a resume instead of restarting from zero.
        let wall_before = state.wall_s;
        let started = Instant::now();

        for epoch in state.epochs_done..exp.train.epochs {
            if self.patience_ran_out(&state) {
                break;
            }
            train_device.seed(self.seed(epoch as u64 + 1));
            let (trained, train_out) = self.train_epoch(
                model,
                &mut stepper,
                inputs,
                &loss_train,
                epoch,
                &train_device,
            )?;
            model = trained;
            let train_compute = model.fusion.take_compute();
            let valid = evaluate(
                &model.valid(),
                inputs,
                &loss_eval,
                &self.fold.valid,
                eval_batch,
                drop_last,
                &eval_device,
            );
            let valid_compute = model.fusion.take_compute();
            self.refuse_nonfinite("validation", valid.mean_loss, epoch)?;
            let wall = wall_before + started.elapsed().as_secs_f64();
            state.wall_s = wall;
            state
                .metrics
                .extend(self.rows(epoch + 1, "train", &train_out.0, train_out.1, wall));
            state
                .metrics
                .extend(self.compute_row(epoch + 1, "train", train_compute, wall));
            state.metrics.extend(self.rows(
                epoch + 1,
                "valid",
                &valid.report,
                valid.mean_loss,
                wall,
            ));
            state
                .metrics
                .extend(self.compute_row(epoch + 1, "valid", valid_compute, wall));
            // Seed 001 tunes each epoch's thresholds on validation and scores it with them.
            let valid_tuned = if exp.task.tuned_thresholds {
                self.tuned_rows(epoch + 1, "valid", &valid, &valid, wall)
            } else {
                Vec::new()
            };
            let selection = self.selection_score(&valid, &valid_tuned);
            state.metrics.extend(valid_tuned);
            // Strictly better only, as seed 000: an equal score keeps the earlier epoch.
            let improved = match selection {
                None => true,
                Some(score) => {
                    let better = state.best_score.is_none_or(|best| score > best);
                    if better {
                        state.best_score = Some(score);
                    }
                    better
                }
            };
            if improved {
                state.best_epoch = epoch + 1;
            }
            tracing::info!(
                fold = %self.fold.name,
                epoch = epoch + 1,
                train_loss = format!("{:.4}", train_out.1),
                valid_loss = format!("{:.4}", valid.mean_loss),
                best = improved,
                "epoch done"
            );
            state.epochs_done = epoch + 1;
            checkpoint::save_epoch(&self.dir, &model, &stepper.optimizer, &state)?;
        }

        let best = checkpoint::load_best(&self.dir, &state, spec, &eval_device)?;
        let test = evaluate(
            &best,
            inputs,
            &loss_eval,
            &self.fold.test,
            eval_batch,
            drop_last,
            &eval_device,
        );
        let test_compute = best.fusion.take_compute();
        // rsa: average the attention maps of the valid split only, as seed 000's validation loop.
        best.fusion.reset_attention_mean();
        let valid = evaluate(
            &best,
            inputs,
            &loss_eval,
            &self.fold.valid,
            eval_batch,
            drop_last,
            &eval_device,
        );
        self.save_attention_mean(&best)?;
        if self.export_train_logits {
            self.export_logits(&best, inputs)?;
        }
        checkpoint::publish(&self.dir, &state)?;
        let mut metrics = state.metrics;
        metrics.extend(self.rows(
            state.best_epoch,
            "test",
            &test.report,
            test.mean_loss,
            state.wall_s,
        ));
        metrics.extend(self.compute_row(state.best_epoch, "test", test_compute, state.wall_s));
        if exp.task.tuned_thresholds {
            metrics.extend(self.tuned_rows(state.best_epoch, "test", &valid, &test, state.wall_s));
        }
        let mut predictions = self.prediction_rows("valid", &valid);
        predictions.extend(self.prediction_rows("test", &test));
        let headline: Vec<String> = test
            .report
            .headline()
            .iter()
            .take(2)
            .filter_map(|m| {
                let v = test.report.value(m, &self.corpus.classes)?;
                Some(format!("{m} {v:.4}"))
            })
            .collect();
        tracing::info!(
            fold = %self.fold.name,
            best_epoch = state.best_epoch,
            test = headline.join(", "),
            "fold done"
        );
        Ok(FoldResult {
            fold: self.fold.index,
            name: self.fold.name.clone(),
            best_epoch: state.best_epoch,
            metrics,
            predictions,
            test: test.report,
            parameters,
        })
    }

    /// rsa: the selected weights' mean attention map over the valid split, as
    /// `rsa_attention_mean.npy` next to the fold's checkpoints (seed 000's `attn_weights.npy`,
    /// docs/methods/seed-000-rsa-cfn.md#heads). Nothing for other methods or with `fusion.rsa_attention_mean = false`.
    fn save_attention_mean(&self, model: &EmotionModel) -> anyhow::Result<()> {
        let Some(mean) = model.fusion.attention_mean() else {
            return Ok(());
        };
        let shape = mean.dims();
        let values = mean
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("attention map to f32: {e:?}"))?;
        crate::atomic::write_atomic(
            &self.dir.join("rsa_attention_mean.npy"),
            &crate::report::npy::f32_npy(&values, &shape),
        )
    }

    /// One pass over the shuffled training split; returns the updated model, the training
    /// metrics (with dropout on, as the seeds report them) and the mean loss.
    fn train_epoch(
        &self,
        mut model: EmotionModel,
        stepper: &mut Stepper<EmotionModel>,
        inputs: &FoldInputs<'_>,
        objective: &Objective,
        epoch: usize,
        device: &Device,
    ) -> anyhow::Result<(EmotionModel, (TaskReport, f64))> {
        let order = self.training_order(epoch);
        let batches: Vec<&[usize]> = order.chunks(self.exp.train.batch_size).collect();
        let bar = self.progress_bar(batches.len(), epoch);
        let mut loss_sum = 0.0;
        let mut outputs = HostOutputs::default();
        for chunk in batches {
            let batch = inputs.batch(chunk, device);
            let output = model.forward(&batch);
            let mut loss = objective.loss(output.clone(), &batch);
            if let Some(distill) = &self.distill
                && let (Some(logits), _) = objective.task().split(output.clone())
            {
                loss = loss + distill.term(logits, chunk);
            }
            let loss_value: f32 = loss.clone().into_scalar::<f32>();
            self.refuse_divergence(loss_value, epoch)?;
            let loss = match self.exp.train.loss_reduction {
                LossReduction::Mean => loss,
                LossReduction::Sum => loss.mul_scalar(chunk.len() as f32),
            };
            model = stepper.backward(model, loss);
            objective.task().collect(output, &mut outputs);
            loss_sum += loss_value as f64 * chunk.len() as f64;
            bar.set_message(format!("loss {loss_value:.4}"));
            bar.inc(1);
        }
        model = stepper.finish(model);
        bar.finish_and_clear();
        let mean_loss = loss_sum / order.len().max(1) as f64;
        let report = objective
            .task()
            .report(&order, &outputs, inputs.labels, objective.targets());
        Ok((model, (report, mean_loss)))
    }

    /// `train.patience` epochs have passed without a better selection score. Checked before
    /// every epoch, so a resumed fold stops where the uninterrupted one would have.
    fn patience_ran_out(&self, state: &TrainState) -> bool {
        let Some(patience) = self.exp.train.patience else {
            return false;
        };
        let waited = state.epochs_done.saturating_sub(state.best_epoch);
        let stop = state.epochs_done > 0 && waited >= patience;
        if stop {
            tracing::info!(
                fold = %self.fold.name,
                best_epoch = state.best_epoch,
                epochs_done = state.epochs_done,
                "early stop: no better {} for {patience} epochs",
                self.exp.selection_metric()
            );
        }
        stop
    }

    /// A NaN or infinite loss poisons every weight it touches: stop with the reason rather
    /// than finish with metrics of a model that predicts one class.
    fn refuse_divergence(&self, loss: f32, epoch: usize) -> anyhow::Result<()> {
        self.refuse_nonfinite("training", loss as f64, epoch)
    }

    fn refuse_nonfinite(&self, split: &str, loss: f64, epoch: usize) -> anyhow::Result<()> {
        anyhow::ensure!(
            loss.is_finite(),
            "fold {}, epoch {}: the {split} loss is {loss}; training diverged (train.optimizer.lr = {:?}). Lower train.optimizer.lr or set train.clip_grad_norm",
            self.fold.name,
            epoch + 1,
            self.exp.train.optimizer.lr
        );
        Ok(())
    }

    fn progress_bar(&self, batches: usize, epoch: usize) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(batches as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} batches {elapsed} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!(
            "fold {}/{} epoch {}/{}",
            self.fold.index + 1,
            self.n_folds,
            epoch + 1,
            self.exp.train.epochs
        ));
        bar
    }

    /// Higher is better (losses and errors are negated); `None` for `last_epoch`, where every
    /// epoch replaces the previous one. `tuned` holds the epoch's `tuned/*` validation rows.
    fn selection_score(&self, valid: &EvalOutput, tuned: &[MetricRow]) -> Option<f64> {
        let select_by = self.exp.selection_metric();
        let metric = select_by.strip_prefix("valid.")?;
        let value = if metric == "loss" {
            Some(valid.mean_loss)
        } else if metric.starts_with("tuned/") {
            tuned.iter().find(|r| r.metric == metric).map(|r| r.value)
        } else {
            valid.report.value(metric, &self.corpus.classes)
        };
        // Validation only accepts metrics the task reports; a missing one never wins.
        let value = value.unwrap_or(f64::NAN);
        let score = if crate::metrics::lower_is_better(metric) {
            -value
        } else {
            value
        };
        Some(if score.is_nan() {
            f64::NEG_INFINITY
        } else {
            score
        })
    }

    fn seed(&self, salt: u64) -> u64 {
        self.exp
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add((self.fold.index as u64 + 1) * 10_007)
            .wrapping_add(salt)
    }

    fn rows(
        &self,
        epoch: usize,
        split: &str,
        report: &TaskReport,
        loss: f64,
        wall_s: f64,
    ) -> Vec<MetricRow> {
        std::iter::once(("loss".to_string(), loss))
            .chain(report.named_values(&self.corpus.classes))
            .map(|(metric, value)| self.metric_row(epoch, split, metric, value, wall_s))
            .collect()
    }

    /// One row of metrics.parquet for this stage and fold.
    fn metric_row(
        &self,
        epoch: usize,
        split: &str,
        metric: String,
        value: f64,
        wall_s: f64,
    ) -> MetricRow {
        MetricRow {
            stage: self.stage.to_string(),
            fold: self.fold.index as u32,
            epoch: epoch as u32,
            split: split.to_string(),
            metric,
            value,
            wall_s,
        }
    }

    /// Seed 001's evaluation (`task.tuned_thresholds`): per-class thresholds tuned on the
    /// `tune` split's sigmoids (validation), applied to the `scored` split's, as rows of `split`:
    /// each epoch's validation scored with its own thresholds, and the selected epoch's test.
    fn tuned_rows(
        &self,
        epoch: usize,
        split: &str,
        tune: &EvalOutput,
        scored: &EvalOutput,
        wall_s: f64,
    ) -> Vec<MetricRow> {
        let classes = &self.corpus.classes;
        let truth = |out: &EvalOutput| -> Vec<Vec<bool>> {
            out.indices
                .iter()
                .map(|&i| {
                    let labels = &self.corpus.examples[i].labels;
                    (0..classes.len()).map(|c| labels.contains(&c)).collect()
                })
                .collect()
        };
        crate::metrics::per_emotion::tuned_metrics(
            &tune.outputs.scores,
            &truth(tune),
            &scored.outputs.scores,
            &truth(scored),
            classes,
        )
        .into_iter()
        .map(|(metric, value)| self.metric_row(epoch, split, metric, value, wall_s))
        .collect()
    }

    /// `mac_ratio`: the multiply-accumulates a pass computed over what the dense model would
    /// have (mme2e_sparse; `Fusion::take_compute`), nothing for the other methods.
    fn compute_row(
        &self,
        epoch: usize,
        split: &str,
        compute: Option<(u64, u64)>,
        wall_s: f64,
    ) -> Option<MetricRow> {
        let (computed, dense) = compute.filter(|&(_, dense)| dense > 0)?;
        Some(self.metric_row(
            epoch,
            split,
            "mac_ratio".into(),
            computed as f64 / dense as f64,
            wall_s,
        ))
    }

    fn prediction_rows(&self, split: &str, out: &EvalOutput) -> Vec<PredictionRow> {
        let task = TaskSpec::from_experiment(self.exp);
        let classes = &self.corpus.classes;
        out.indices
            .iter()
            .zip(&out.outputs.scores)
            .zip(&out.outputs.values)
            .map(|((&i, scores), values)| {
                let example = &self.corpus.examples[i];
                let target = match (task.class_width(), task.multi_hot) {
                    (0, _) => None,
                    (_, true) => Some(class_set(classes, example.labels.iter().copied())),
                    (_, false) => Some(classes[example.label].clone()),
                };
                let prediction = task.prediction_name(scores, classes);
                let regression = task
                    .targets
                    .iter()
                    .zip(values)
                    .map(|(t, &predicted)| RegressionValue {
                        target: t.name().to_string(),
                        truth: match t {
                            crate::config::RegressionTarget::Valence => example.valence,
                            crate::config::RegressionTarget::Arousal => example.arousal,
                        }
                        .unwrap_or(f32::NAN),
                        predicted,
                    })
                    .collect();
                PredictionRow {
                    stage: self.stage.to_string(),
                    fold: self.fold.index as u32,
                    split: split.to_string(),
                    utterance_id: example.id.clone(),
                    target,
                    prediction,
                    scores: scores.clone(),
                    regression,
                }
            })
            .collect()
    }
}
