//! Names that config keys refer to and that the layers above define behaviour for: the metrics
//! each task reports (what `train.select_by` may name) and the model's modules (what
//! `train.optimizer.module_lr` may name). They live here so that validation needs nothing from
//! the layers above it.

use super::experiment::{RegressionTarget, TaskKind};

/// A unit enum's name as the experiment file writes it (`early_fusion`, `per_emotion`).
pub fn serde_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Module names `train.optimizer.module_lr` accepts (as `emo-run inspect` prints them).
/// `fusion.factors` is lmf's three modality factors (seed 002's first optimizer group);
/// `fusion.text_head` is mme2e's text logits layer (seed 001 trains it with ALBERT at lr / 10).
pub const MODULE_NAMES: [&str; 5] = [
    "encoders.text",
    "encoders.audio",
    "fusion",
    "fusion.factors",
    "fusion.text_head",
];

/// Names of the single-label metrics accepted after `valid.` in `train.select_by`.
pub const CLASSIFICATION_METRICS: [&str; 8] = [
    "accuracy",
    "ua",
    "weighted_f1",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "macro_precision",
    "macro_recall",
];

/// Names `named_values` gives for any class list (per-class rows aside).
pub const MULTILABEL_METRICS: [&str; 6] = [
    "micro_f1",
    "macro_f1",
    "micro_precision",
    "micro_recall",
    "hamming_accuracy",
    "subset_accuracy",
];

/// Seed 001's per-emotion means at thresholds tuned on the split itself, which
/// `task.tuned_thresholds` adds to every epoch's validation rows (`valid.tuned/f1` is the
/// seed's own selection metric).
pub const TUNED_METRICS: [&str; 6] = [
    "tuned/accuracy",
    "tuned/recall",
    "tuned/precision",
    "tuned/f1",
    "tuned/weighted_accuracy",
    "tuned/auc",
];

/// Names of the per-target and averaged metrics.
pub const REGRESSION_METRICS: [&str; 4] = ["pearson", "ccc", "mae", "mse"];

/// Every metric a task reports that `train.select_by = "valid.<metric>"` may name: `loss` and
/// the task's metrics (regression ones also per target, `ccc/valence`); `multi_hot` says
/// whether the classification part is multi-label (`dataset.multi_label = "all"`).
pub fn selectable_metrics(
    kind: TaskKind,
    multi_hot: bool,
    targets: &[RegressionTarget],
) -> Vec<String> {
    let mut out = vec!["loss".to_string()];
    let classifies = matches!(kind, TaskKind::Classification | TaskKind::Multitask);
    let multilabel = kind == TaskKind::Multilabel || (kind == TaskKind::Multitask && multi_hot);
    if multilabel {
        out.extend(MULTILABEL_METRICS.map(String::from));
    } else if classifies {
        out.extend(CLASSIFICATION_METRICS.map(String::from));
    }
    if matches!(kind, TaskKind::Regression | TaskKind::Multitask) {
        out.extend(REGRESSION_METRICS.map(String::from));
        for t in targets {
            out.extend(REGRESSION_METRICS.map(|m| format!("{m}/{}", t.name())));
        }
    }
    out
}
