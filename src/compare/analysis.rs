//! The report's content, before any rendering: one row per run with its headline metrics, size
//! and time, its bootstrap interval, and its paired comparison with the baseline.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::inputs::Skipped;
use super::load::Run;
use super::score::Scorer;
use super::stats::{Interval, bootstrap_interval, paired_t_interval};

/// Everything the table, the Markdown, the CSV and the figures show.
#[derive(Debug, Clone)]
pub struct Report {
    /// The metric of the statistics and the bar chart (`--metric`).
    pub metric: String,
    /// Test metrics that any run's summary lists, in order of first appearance.
    pub headline: Vec<String>,
    /// The baseline's row name.
    pub baseline: String,
    pub rows: Vec<Row>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// The run's name, made unique among the report's runs (see [`unique_names`]).
    pub name: String,
    pub path: PathBuf,
    pub method: String,
    /// Mean and std over folds of each of [`Report::headline`] (`None`: not this run's task).
    pub metrics: Vec<Option<(f64, f64)>>,
    pub folds: usize,
    pub trainable: Option<u64>,
    pub wall_s: Option<f64>,
    /// `metric` over all test utterances pooled, with its bootstrap interval.
    pub pooled: Option<Interval>,
    pub comparison: Comparison,
}

/// How a run stands against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    Baseline,
    /// Mean of the per-fold differences run - baseline and its t-interval.
    Paired(Interval),
    /// Different fold membership: differences per fold would mix utterances.
    FoldsDiffer,
    /// The run or the baseline does not report the metric.
    NoMetric,
}

/// Choices of the command line.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// `--baseline`: a run name or a run (or experiment) folder; default the first run.
    pub baseline: Option<String>,
    /// `--metric`; default the baseline's first headline metric.
    pub metric: Option<String>,
}

pub fn analyse(runs: &[Run], skipped: Vec<Skipped>, choices: &Choices) -> anyhow::Result<Report> {
    let names = unique_names(runs);
    let baseline = baseline_index(runs, &names, choices.baseline.as_deref())?;
    let headline = headline_metrics(runs);
    let metric = selection_metric(runs, &runs[baseline], &headline, choices.metric.as_deref())?;
    let rows = runs
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (run, name))| {
            Ok(Row {
                name: name.clone(),
                path: run.path.clone(),
                method: run.method.clone(),
                metrics: headline
                    .iter()
                    .map(|m| run.metric(m).map(|s| (s.mean, s.std)))
                    .collect(),
                folds: run.summary.folds,
                trainable: run.trainable,
                wall_s: run.wall_s,
                pooled: pooled_interval(run, &metric)?,
                comparison: if i == baseline {
                    Comparison::Baseline
                } else {
                    compare(run, &runs[baseline], &metric)
                },
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Report {
        metric,
        headline,
        baseline: names[baseline].clone(),
        rows,
        skipped,
    })
}

/// Run names, with the run folder's id added to a name that two runs share (two runs of one
/// experiment), so that rows, `--baseline` and figure files tell them apart.
pub fn unique_names(runs: &[Run]) -> Vec<String> {
    runs.iter()
        .map(|run| {
            let shared = runs.iter().filter(|r| r.name == run.name).count() > 1;
            if shared {
                let id = run.path.file_name().unwrap_or_default().to_string_lossy();
                format!("{} @{id}", run.name)
            } else {
                run.name.clone()
            }
        })
        .collect()
}

fn baseline_index(runs: &[Run], names: &[String], wanted: Option<&str>) -> anyhow::Result<usize> {
    let Some(wanted) = wanted else {
        return Ok(0);
    };
    let by_name: Vec<usize> = (0..runs.len())
        .filter(|&i| names[i] == wanted || runs[i].name == wanted)
        .collect();
    match by_name.as_slice() {
        [one] => return Ok(*one),
        [] => {}
        _ => bail!(
            "--baseline {wanted}: {} runs have that name; name one of: {}",
            by_name.len(),
            by_name
                .iter()
                .map(|&i| names[i].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    if let Some(i) = runs
        .iter()
        .position(|r| same_folder(Path::new(wanted), &r.path))
    {
        return Ok(i);
    }
    bail!(
        "--baseline {wanted} is none of the runs of this report (a name or a folder of: {})",
        names.join(", ")
    )
}

/// Whether `given` is the run folder `run` or the experiment folder holding it.
fn same_folder(given: &Path, run: &Path) -> bool {
    let Ok(given) = given.canonicalize() else {
        return false;
    };
    let run = run.canonicalize().unwrap_or_else(|_| run.to_path_buf());
    given == run || run.parent() == Some(given.as_path())
}

fn headline_metrics(runs: &[Run]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in runs.iter().flat_map(|r| &r.summary.test) {
        if !out.contains(&m.metric) {
            out.push(m.metric.clone());
        }
    }
    out
}

fn selection_metric(
    runs: &[Run],
    baseline: &Run,
    headline: &[String],
    wanted: Option<&str>,
) -> anyhow::Result<String> {
    match wanted {
        Some(m) if runs.iter().any(|r| r.metric(m).is_some()) => Ok(m.to_string()),
        Some(m) => bail!(
            "--metric {m}: no run reports it; their test metrics are {}",
            headline.join(", ")
        ),
        None => match baseline.summary.test.first() {
            Some(first) => Ok(first.metric.clone()),
            None => bail!(
                "{}: the summary lists no test metric",
                baseline.path.join("summary.json").display()
            ),
        },
    }
}

/// The metric over the run's pooled test utterances with its bootstrap interval; `None` when
/// the run has no such metric.
fn pooled_interval(run: &Run, metric: &str) -> anyhow::Result<Option<Interval>> {
    if run.metric(metric).is_none() {
        return Ok(None);
    }
    let scorer = Scorer::new(run)?;
    if scorer.is_empty() {
        return Ok(None);
    }
    Ok(Some(bootstrap_interval(scorer.len(), |idx| {
        scorer.score(idx, metric)
    })))
}

/// Per-fold differences run - baseline, when both were scored on the same folds.
pub fn compare(run: &Run, baseline: &Run, metric: &str) -> Comparison {
    if run.folds_hash != baseline.folds_hash {
        return Comparison::FoldsDiffer;
    }
    let (Some(ours), Some(theirs)) = (run.metric(metric), baseline.metric(metric)) else {
        return Comparison::NoMetric;
    };
    let differences: Vec<f64> = ours
        .per_fold
        .iter()
        .zip(&theirs.per_fold)
        .map(|(a, b)| a - b)
        .collect();
    Comparison::Paired(paired_t_interval(&differences))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{MetricSummary, Summary};

    fn run(name: &str, folds_hash: &str, per_fold: &[f64]) -> Run {
        let (mean, std) = crate::report::summary::mean_std(per_fold);
        Run {
            path: PathBuf::from("runs")
                .join(name)
                .join("20240101T000000.000Z-abc"),
            name: name.into(),
            method: "early_fusion".into(),
            task: "classification".into(),
            multi_hot: false,
            classes: vec!["a".into(), "b".into()],
            summary: Summary {
                stage: "main".into(),
                folds: per_fold.len(),
                fold_names: (1..=per_fold.len()).map(|k| k.to_string()).collect(),
                best_epochs: vec![1; per_fold.len()],
                test: vec![MetricSummary {
                    metric: "accuracy".into(),
                    mean,
                    std,
                    per_fold: per_fold.to_vec(),
                }],
                method: "early_fusion".into(),
                trainable: 0,
            },
            trainable: Some(10),
            wall_s: Some(1.0),
            folds_hash: folds_hash.into(),
            epochs: vec![],
            test: vec![],
            regression_targets: vec![],
        }
    }

    #[test]
    fn only_runs_on_the_baselines_folds_are_compared() {
        let base = run("base", "h1", &[0.5, 0.6, 0.7]);
        let same = run("same", "h1", &[0.6, 0.6, 0.9]);
        let other = run("other", "h2", &[0.9, 0.9, 0.9]);
        let Comparison::Paired(diff) = compare(&same, &base, "accuracy") else {
            panic!("shared folds are compared");
        };
        assert!((diff.estimate - 0.1).abs() < 1e-12 && diff.n == 3);
        assert_eq!(compare(&other, &base, "accuracy"), Comparison::FoldsDiffer);
        assert_eq!(compare(&same, &base, "ua"), Comparison::NoMetric);
    }

    #[test]
    fn baseline_and_metric_choices() {
        let runs = [run("a", "h", &[0.5, 0.6]), run("b", "h", &[0.5, 0.7])];
        let report = analyse(&runs, vec![], &Choices::default()).unwrap();
        assert_eq!(
            (report.baseline.as_str(), report.metric.as_str()),
            ("a", "accuracy")
        );
        assert_eq!(report.rows[0].comparison, Comparison::Baseline);
        let by_name = Choices {
            baseline: Some("b".into()),
            ..Default::default()
        };
        let report = analyse(&runs, vec![], &by_name).unwrap();
        assert_eq!(report.rows[1].comparison, Comparison::Baseline);
        let unknown = Choices {
            baseline: Some("zzz".into()),
            metric: None,
        };
        let err = analyse(&runs, vec![], &unknown).unwrap_err().to_string();
        assert!(err.contains("--baseline zzz is none of the runs"), "{err}");
        let metric = Choices {
            baseline: None,
            metric: Some("ccc".into()),
        };
        let err = analyse(&runs, vec![], &metric).unwrap_err().to_string();
        assert!(err.contains("--metric ccc: no run reports it"), "{err}");
    }

    #[test]
    fn two_runs_of_one_experiment_get_their_ids() {
        let mut second = run("a", "h", &[0.5]);
        second.path = PathBuf::from("runs/a/20240202T000000.000Z-abc");
        let names = unique_names(&[run("a", "h", &[0.5]), second, run("b", "h", &[0.5])]);
        assert_eq!(
            names,
            [
                "a @20240101T000000.000Z-abc",
                "a @20240202T000000.000Z-abc",
                "b"
            ]
        );
    }
}
