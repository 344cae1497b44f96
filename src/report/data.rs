//! `data.json`: the usable corpus per fold and split, the dropped rows, the folds' fingerprint.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::plan::DataPlan;

/// Per fold and split, utterances per class; and every dropped row with its reason.
#[derive(Serialize)]
pub struct DataReport {
    /// blake3 of `folds.parquet`'s rows: two runs share their folds exactly when it is equal.
    pub folds_fingerprint: String,
    pub utterances: usize,
    /// Examples that only ever train (`dataset.label_transform`).
    pub train_only: usize,
    pub rows_read: usize,
    pub classes: Vec<String>,
    pub class_counts: BTreeMap<String, usize>,
    pub folds: Vec<FoldCounts>,
    pub dropped_by_reason: BTreeMap<String, usize>,
    pub dropped: Vec<crate::data::DroppedRow>,
}

#[derive(Serialize)]
pub struct FoldCounts {
    pub fold: usize,
    /// The fold's name (the emotion under `per_emotion`, else its 1-based number).
    pub name: String,
    pub train: BTreeMap<String, usize>,
    pub valid: BTreeMap<String, usize>,
    pub test: BTreeMap<String, usize>,
}

pub fn data_report(plan: &DataPlan) -> DataReport {
    let (corpus, folds) = (&plan.corpus, &plan.folds);
    DataReport {
        folds_fingerprint: plan.fingerprint(),
        utterances: corpus.examples.len(),
        train_only: corpus.examples.iter().filter(|e| e.train_only).count(),
        rows_read: corpus.rows_read,
        classes: corpus.classes.clone(),
        class_counts: corpus.class_counts(0..corpus.examples.len()),
        folds: folds
            .iter()
            .map(|f| FoldCounts {
                fold: f.index,
                name: f.name.clone(),
                train: corpus.class_counts(f.train.iter().copied()),
                valid: corpus.class_counts(f.valid.iter().copied()),
                test: corpus.class_counts(f.test.iter().copied()),
            })
            .collect(),
        dropped_by_reason: corpus.dropped_by_reason(),
        dropped: corpus.dropped.clone(),
    }
}
