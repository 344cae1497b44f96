//! From raw head outputs to scores, predictions and the task's metrics.

use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};

use super::{TaskSpec, TaskTargets};
use crate::config::MultilabelLoss;
use crate::metrics::{TaskReport, classification_report, multilabel_report, regression_report};

/// One pass's outputs on the host, one row per utterance.
#[derive(Debug, Clone, Default)]
pub struct HostOutputs {
    /// Class scores: softmax probabilities (single-label, and the soft-margin quirk), or one
    /// sigmoid per class (`bce`). Empty rows for pure regression.
    pub scores: Vec<Vec<f32>>,
    /// Regression predictions in `TaskSpec::targets` order; empty rows without regression.
    pub values: Vec<Vec<f32>>,
}

impl TaskSpec {
    /// The output's class logits and regression columns.
    pub fn split(&self, output: Tensor<2>) -> (Option<Tensor<2>>, Option<Tensor<2>>) {
        let [rows, width] = output.dims();
        let classes = self.class_width();
        let logits = (classes > 0).then(|| output.clone().slice([0..rows, 0..classes]));
        let values = (width > classes).then(|| output.slice([0..rows, classes..width]));
        (logits, values)
    }

    /// Scores of the class logits, as the prediction rule reads them.
    fn class_scores(&self, logits: Tensor<2>) -> Tensor<2> {
        if self.multi_hot && self.multilabel_loss == MultilabelLoss::Bce {
            sigmoid(logits)
        } else {
            softmax(logits, 1)
        }
    }

    /// Append one batch's outputs to `out`.
    pub fn collect(&self, output: Tensor<2>, out: &mut HostOutputs) {
        let rows = output.dims()[0];
        let (logits, values) = self.split(output);
        match logits {
            Some(logits) => out.scores.extend(host_rows(self.class_scores(logits))),
            None => out.scores.extend(std::iter::repeat_n(Vec::new(), rows)),
        }
        match values {
            Some(values) => out.values.extend(host_rows(values)),
            None => out.values.extend(std::iter::repeat_n(Vec::new(), rows)),
        }
    }

    /// The single predicted class (argmax, first on ties).
    pub fn predict_label(&self, scores: &[f32]) -> usize {
        crate::metrics::argmax(scores)
    }

    /// The predicted label set: every class whose score exceeds the threshold. With the seed's
    /// softmax scores at most one class can pass 0.5.
    pub fn predict_set(&self, scores: &[f32]) -> Vec<bool> {
        scores.iter().map(|&s| s > self.threshold).collect()
    }

    /// The prediction as `predictions.parquet` writes it: the class name, or for a multi-label
    /// task the predicted set ([`class_set`]); `None` for pure regression.
    pub fn prediction_name(&self, scores: &[f32], classes: &[String]) -> Option<String> {
        if self.class_width() == 0 {
            return None;
        }
        Some(if self.multi_hot {
            let set = self.predict_set(scores);
            class_set(classes, (0..set.len()).filter(|&c| set[c]))
        } else {
            classes[self.predict_label(scores)].clone()
        })
    }

    /// The metrics of `outputs` for the utterances `indices` (same order).
    pub fn report(
        &self,
        indices: &[usize],
        outputs: &HostOutputs,
        labels: &[usize],
        targets: &TaskTargets,
    ) -> TaskReport {
        let mut report = TaskReport::default();
        if self.single_label() {
            let y: Vec<usize> = indices.iter().map(|&i| labels[i]).collect();
            let p: Vec<usize> = outputs
                .scores
                .iter()
                .map(|s| self.predict_label(s))
                .collect();
            report.classification = Some(classification_report(&y, &p, self.n_classes));
        }
        if let Some(rows) = &targets.multi_hot {
            let y: Vec<Vec<bool>> = indices
                .iter()
                .map(|&i| rows[i].iter().map(|&v| v > 0.5).collect())
                .collect();
            let p: Vec<Vec<bool>> = outputs.scores.iter().map(|s| self.predict_set(s)).collect();
            report.multilabel = Some(multilabel_report(&y, &p, self.n_classes));
        }
        if let Some(rows) = &targets.regression {
            let column = |k: usize, source: &mut dyn Iterator<Item = &Vec<f32>>| -> Vec<f32> {
                source.map(|row| row[k]).collect()
            };
            let truth: Vec<Vec<f32>> = (0..self.targets.len())
                .map(|k| column(k, &mut indices.iter().map(|&i| &rows[i])))
                .collect();
            let predicted: Vec<Vec<f32>> = (0..self.targets.len())
                .map(|k| column(k, &mut outputs.values.iter()))
                .collect();
            report.regression = Some(regression_report(&self.target_names(), &truth, &predicted));
        }
        report
    }
}

/// A label set as class names in class order joined by `;` (`""` for none), as
/// `predictions.parquet` writes multi-label targets and predictions.
pub fn class_set(classes: &[String], set: impl IntoIterator<Item = usize>) -> String {
    let mut set: Vec<usize> = set.into_iter().collect();
    set.sort_unstable();
    set.iter()
        .map(|&c| classes[c].as_str())
        .collect::<Vec<_>>()
        .join(";")
}

fn host_rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, width] = t.dims();
    let values: Vec<f32> = t.into_data().try_to_vec::<f32>().expect("f32 outputs");
    if width == 0 {
        return Vec::new();
    }
    values.chunks_exact(width).map(<[f32]>::to_vec).collect()
}
