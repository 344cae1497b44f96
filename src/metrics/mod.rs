//! Evaluation metrics with scikit-learn's conventions.

pub mod classification;

pub use classification::{ClassStats, ClassificationReport, classification_report};

/// Names accepted after `valid.` in `train.select_by` (`loss` is minimised, the rest maximised).
pub const SELECTABLE_METRICS: [&str; 9] = [
    "loss",
    "accuracy",
    "ua",
    "weighted_f1",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "macro_precision",
    "macro_recall",
];
