//! A run's test metric over any subset of its pooled test predictions (a bootstrap resample),
//! computed by the same metric code as training (`crate::metrics`), so that the estimate on all
//! utterances is the number the run would report for one fold holding them all.

use anyhow::Context;

use super::load::Run;
use crate::metrics::{TaskReport, classification_report, multilabel_report, regression_report};

/// The test predictions of a run turned into class ids, label sets and regression pairs once.
pub struct Scorer<'a> {
    run: &'a Run,
    labels: Labels,
}

enum Labels {
    /// No class part (pure regression).
    None,
    /// Class ids of target and prediction per utterance.
    Single(Vec<(usize, usize)>),
    /// Multi-hot target and prediction per utterance.
    Sets(Vec<(Vec<bool>, Vec<bool>)>),
}

impl<'a> Scorer<'a> {
    /// Fails on a class name the run's `data.json` does not list (a corrupt table).
    pub fn new(run: &'a Run) -> anyhow::Result<Self> {
        let labels = if run.task == "regression" {
            Labels::None
        } else if run.multi_hot {
            Labels::Sets(pairs(run, |text| label_set(&run.classes, text))?)
        } else {
            Labels::Single(pairs(run, |text| class_id(&run.classes, text))?)
        };
        Ok(Self { run, labels })
    }

    /// Number of pooled test utterances.
    pub fn len(&self) -> usize {
        self.run.test.len()
    }

    pub fn is_empty(&self) -> bool {
        self.run.test.is_empty()
    }

    /// `metric` (a summary metric name: `weighted_f1`, `micro_f1`, `ccc/valence`, ...) over the
    /// utterances at `indices` (repeats allowed); `None` if the task has no such metric.
    pub fn score(&self, indices: &[usize], metric: &str) -> Option<f64> {
        self.report(indices).value(metric, &self.run.classes)
    }

    /// Confusion counts `[target][prediction]` over every test utterance (single-label
    /// classification only).
    pub fn confusion(&self) -> Option<Vec<Vec<u64>>> {
        let Labels::Single(pairs) = &self.labels else {
            return None;
        };
        let n = self.run.classes.len();
        let mut counts = vec![vec![0u64; n]; n];
        for &(truth, predicted) in pairs {
            counts[truth][predicted] += 1;
        }
        Some(counts)
    }

    fn report(&self, indices: &[usize]) -> TaskReport {
        let n_classes = self.run.classes.len();
        let mut report = TaskReport::default();
        match &self.labels {
            Labels::None => {}
            Labels::Single(pairs) => {
                let (truth, predicted): (Vec<usize>, Vec<usize>) =
                    indices.iter().map(|&i| pairs[i]).unzip();
                report.classification = Some(classification_report(&truth, &predicted, n_classes));
            }
            Labels::Sets(pairs) => {
                let (truth, predicted): (Vec<Vec<bool>>, Vec<Vec<bool>>) =
                    indices.iter().map(|&i| pairs[i].clone()).unzip();
                report.multilabel = Some(multilabel_report(&truth, &predicted, n_classes));
            }
        }
        if !self.run.regression_targets.is_empty() {
            report.regression = Some(self.regression(indices));
        }
        report
    }

    fn regression(&self, indices: &[usize]) -> crate::metrics::RegressionReport {
        let names: Vec<&str> = self
            .run
            .regression_targets
            .iter()
            .map(String::as_str)
            .collect();
        let column = |k: usize, pick: fn((f32, f32)) -> f32| -> Vec<f32> {
            indices
                .iter()
                .map(|&i| pick(self.run.test[i].regression[k]))
                .collect()
        };
        let truth: Vec<Vec<f32>> = (0..names.len()).map(|k| column(k, |p| p.0)).collect();
        let predicted: Vec<Vec<f32>> = (0..names.len()).map(|k| column(k, |p| p.1)).collect();
        regression_report(&names, &truth, &predicted)
    }
}

/// (target, prediction) of every test row through `parse`, the error naming the run's
/// predictions file.
fn pairs<T>(run: &Run, parse: impl Fn(&str) -> Result<T, String>) -> anyhow::Result<Vec<(T, T)>> {
    let file = run.path.join("predictions.parquet");
    run.test
        .iter()
        .map(|row| {
            let field = |value: &Option<String>, column: &str| {
                let text = value.as_deref().unwrap_or_default();
                parse(text).map_err(|e| anyhow::anyhow!("column `{column}`: {e}"))
            };
            Ok((
                field(&row.target, "target")?,
                field(&row.prediction, "prediction")?,
            ))
        })
        .collect::<anyhow::Result<_>>()
        .with_context(|| {
            format!(
                "{}: a test row does not fit the run's classes",
                file.display()
            )
        })
}

fn class_id(classes: &[String], name: &str) -> Result<usize, String> {
    classes
        .iter()
        .position(|c| c == name)
        .ok_or_else(|| format!("{name:?} is not one of the classes {}", classes.join(", ")))
}

/// `"happy;sad"` as a multi-hot row over `classes` (`""` is the empty set).
fn label_set(classes: &[String], text: &str) -> Result<Vec<bool>, String> {
    let mut set = vec![false; classes.len()];
    for name in text.split(';').filter(|n| !n.is_empty()) {
        set[class_id(classes, name)?] = true;
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::load::TestPrediction;
    use crate::report::summary::Summary;

    pub(crate) fn run_with(task: &str, rows: &[(&str, &str)]) -> Run {
        Run {
            path: "run".into(),
            name: "run".into(),
            method: "early_fusion".into(),
            task: task.into(),
            multi_hot: task == "multilabel",
            classes: vec!["a".into(), "b".into()],
            summary: Summary {
                stage: "main".into(),
                folds: 0,
                fold_names: vec![],
                best_epochs: vec![],
                test: vec![],
                method: String::new(),
                trainable: 0,
            },
            trainable: None,
            wall_s: None,
            folds_hash: String::new(),
            epochs: vec![],
            test: rows
                .iter()
                .map(|(t, p)| TestPrediction {
                    fold: 0,
                    target: Some(t.to_string()),
                    prediction: Some(p.to_string()),
                    regression: vec![],
                })
                .collect(),
            regression_targets: vec![],
        }
    }

    #[test]
    fn scores_subsets_with_the_training_metrics() {
        let run = run_with(
            "classification",
            &[("a", "a"), ("b", "a"), ("b", "b"), ("a", "a")],
        );
        let scorer = Scorer::new(&run).unwrap();
        assert_eq!(scorer.score(&[0, 1, 2, 3], "accuracy"), Some(0.75));
        assert_eq!(scorer.score(&[1, 1], "accuracy"), Some(0.0));
        assert_eq!(scorer.score(&[0], "ccc"), None);
        assert_eq!(scorer.confusion(), Some(vec![vec![2, 0], vec![1, 1]]));

        let sets = run_with("multilabel", &[("a;b", "a"), ("", "")]);
        let scorer = Scorer::new(&sets).unwrap();
        assert_eq!(scorer.score(&[0, 1], "subset_accuracy"), Some(0.5));
        assert!(scorer.confusion().is_none());

        let broken = run_with("classification", &[("a", "zebra")]);
        let err = Scorer::new(&broken).err().unwrap();
        assert!(format!("{err:#}").contains("\"zebra\" is not one of the classes a, b"));
    }
}
