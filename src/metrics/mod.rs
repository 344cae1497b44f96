//! Evaluation metrics with scikit-learn's conventions, per task.

pub mod classification;
pub mod multilabel;
pub mod per_emotion;
pub mod regression;

pub use classification::{ClassStats, ClassificationReport, classification_report};
pub use multilabel::{MultilabelReport, multilabel_report};
pub use regression::{RegressionReport, TargetStats, regression_report};

use serde::{Deserialize, Serialize};

pub use crate::config::names::{CLASSIFICATION_METRICS, selectable_metrics};

/// The metrics of one evaluation: the parts the task has.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<ClassificationReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multilabel: Option<MultilabelReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionReport>,
}

impl TaskReport {
    /// Every (metric, value) of the report in table order: classification or multi-label part
    /// first, regression part after.
    pub fn named_values(&self, class_names: &[String]) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        if let Some(c) = &self.classification {
            out.extend(c.named_values(class_names));
        }
        if let Some(m) = &self.multilabel {
            out.extend(m.named_values(class_names));
        }
        if let Some(r) = &self.regression {
            out.extend(r.named_values());
        }
        out
    }

    /// The value of one metric, if the report has it.
    pub fn value(&self, metric: &str, class_names: &[String]) -> Option<f64> {
        self.named_values(class_names)
            .into_iter()
            .find(|(name, _)| name == metric)
            .map(|(_, v)| v)
    }

    /// The metrics summaries headline, in order.
    pub fn headline(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if self.classification.is_some() {
            out.extend(["weighted_f1", "accuracy", "ua", "macro_f1"].map(String::from));
        }
        if self.multilabel.is_some() {
            out.extend(multilabel::MULTILABEL_METRICS.map(String::from));
        }
        if let Some(r) = &self.regression {
            out.extend(["ccc", "pearson", "mae", "mse"].map(String::from));
            for s in &r.per_target {
                out.push(format!("ccc/{}", s.target));
                out.push(format!("pearson/{}", s.target));
            }
        }
        out
    }
}

/// Index of the largest value; the first one on ties, as numpy's argmax.
pub fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

/// Whether a smaller value of `metric` is better (losses and errors).
pub fn lower_is_better(metric: &str) -> bool {
    let base = metric.split('/').next().unwrap_or(metric);
    matches!(base, "loss" | "mae" | "mse")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RegressionTarget, TaskKind};

    #[test]
    fn selectable_metrics_follow_the_task() {
        let both = [RegressionTarget::Valence, RegressionTarget::Arousal];
        let reg = selectable_metrics(TaskKind::Regression, false, &both);
        assert!(reg.contains(&"ccc".into()) && reg.contains(&"mae/arousal".into()));
        assert!(!reg.contains(&"weighted_f1".into()));
        let ml = selectable_metrics(TaskKind::Multilabel, true, &both);
        assert!(ml.contains(&"micro_f1".into()) && !ml.contains(&"ccc".into()));
        let mt = selectable_metrics(TaskKind::Multitask, false, &both);
        assert!(mt.contains(&"weighted_f1".into()) && mt.contains(&"ccc/valence".into()));
        assert!(lower_is_better("mse/valence") && lower_is_better("loss"));
        assert!(!lower_is_better("ccc"));
    }
}
