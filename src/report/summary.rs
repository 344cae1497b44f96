//! `summary.json` and `summary.md`: per stage, the task's headline test metrics
//! (`TaskReport::headline`) as mean ± standard deviation over folds (sample standard deviation, n - 1), and each fold's value.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FoldResult;
use crate::atomic::{write_atomic, write_json_atomic};
use crate::config::Experiment;
use crate::config::names::serde_name;
use crate::data::Corpus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    pub metric: String,
    pub mean: f64,
    pub std: f64,
    pub per_fold: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub stage: String,
    pub folds: usize,
    /// Each fold's name, in fold order.
    #[serde(default)]
    pub fold_names: Vec<String>,
    pub best_epochs: Vec<usize>,
    pub test: Vec<MetricSummary>,
    /// The stage's fusion method (set by the runner; a stage may change it).
    #[serde(default)]
    pub method: String,
    /// Trainable parameters of fold 1's model.
    #[serde(default)]
    pub trainable: usize,
}

impl Summary {
    pub fn from_folds(stage: &str, results: &[FoldResult], classes: &[String]) -> Self {
        let headline = results
            .first()
            .map(|r| r.test.headline())
            .unwrap_or_default();
        let test = headline
            .iter()
            .map(|metric| {
                let per_fold: Vec<f64> = results
                    .iter()
                    .map(|r| r.test.value(metric, classes).unwrap_or(f64::NAN))
                    .collect();
                let (mean, std) = mean_std(&per_fold);
                MetricSummary {
                    metric: metric.to_string(),
                    mean,
                    std,
                    per_fold,
                }
            })
            .collect();
        Self {
            stage: stage.to_string(),
            folds: results.len(),
            fold_names: results.iter().map(|r| r.name.clone()).collect(),
            best_epochs: results.iter().map(|r| r.best_epoch).collect(),
            test,
            method: String::new(),
            trainable: results
                .first()
                .map_or(0, |r| r.parameters.iter().map(|m| m.trainable).sum()),
        }
    }

    pub fn metric(&self, name: &str) -> Option<&MetricSummary> {
        self.test.iter().find(|m| m.metric == name)
    }
}

/// Mean and sample standard deviation (0 for a single value).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

pub fn write_summaries(
    dir: &Path,
    exp: &Experiment,
    stages: &[Summary],
    corpus: &Corpus,
) -> anyhow::Result<()> {
    write_json_atomic(
        &dir.join("summary.json"),
        &serde_json::json!({
            "name": exp.name,
            "fusion": exp.fusion.method(),
            "utterances": corpus.examples.len(),
            "dropped": corpus.dropped.len(),
            "stages": stages,
        }),
    )?;
    write_atomic(
        &dir.join("summary.md"),
        markdown(exp, stages, corpus).as_bytes(),
    )
}

fn markdown(exp: &Experiment, stages: &[Summary], corpus: &Corpus) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", exp.name);
    let _ = writeln!(
        md,
        "Fusion `{}`, {} utterances ({} rows dropped), {} folds ({}), seed {}.\n",
        exp.fusion.method().name(),
        corpus.examples.len(),
        corpus.dropped.len(),
        stages.first().map_or(0, |s| s.folds),
        serde_name(&exp.split.protocol),
        exp.seed
    );
    if stages.len() > 1 {
        side_by_side(&mut md, stages);
    }
    for stage in stages {
        let _ = writeln!(
            md,
            "## Stage `{}`: test metrics over {} folds\n",
            stage.stage, stage.folds
        );
        let _ = writeln!(
            md,
            "| metric | mean ± std | per fold ({}) |\n|---|---|---|",
            stage.fold_names.join(", ")
        );
        for m in &stage.test {
            let folds: Vec<String> = m.per_fold.iter().map(|v| format!("{v:.4}")).collect();
            let _ = writeln!(
                md,
                "| {} | {:.4} ± {:.4} | {} |",
                m.metric,
                m.mean,
                m.std,
                folds.join(", ")
            );
        }
        let _ = writeln!(md, "\nSelected epochs per fold: {:?}\n", stage.best_epochs);
    }
    md
}

/// One row per stage: the headline test metrics (mean ± std over folds) and the trainable
/// parameters, so that each student reads beside its teacher.
fn side_by_side(md: &mut String, stages: &[Summary]) {
    let metrics: Vec<&str> = stages[0].test.iter().map(|m| m.metric.as_str()).collect();
    let _ = writeln!(md, "## Stages side by side (test, mean ± std over folds)\n");
    let _ = writeln!(
        md,
        "| stage | method | {} | trainable parameters |",
        metrics.join(" | ")
    );
    let _ = writeln!(md, "|---|---|{}---:|", "---:|".repeat(metrics.len()));
    for stage in stages {
        let values: Vec<String> = metrics
            .iter()
            .map(|name| {
                stage
                    .metric(name)
                    .map_or("–".into(), |m| format!("{:.4} ± {:.4}", m.mean, m.std))
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            stage.stage,
            stage.method,
            values.join(" | "),
            stage.trainable
        );
    }
    let _ = writeln!(md);
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_standard_deviation() {
        let (mean, std) = super::mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(mean, 2.5);
        assert!((std - 1.2909944487358056).abs() < 1e-12);
        assert_eq!(super::mean_std(&[0.7]), (0.7, 0.0));
    }
}
