//! Evaluation of a model on a list of examples: loss, argmax predictions, probabilities.

use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::objective::Objective;
use crate::data::batch::FoldInputs;
use crate::metrics::{ClassificationReport, classification_report};
use crate::model::EmotionModel;

/// Predictions of one pass over a split, in the order of the given indices.
#[derive(Debug, Clone)]
pub struct EvalOutput {
    pub indices: Vec<usize>,
    pub targets: Vec<usize>,
    pub predictions: Vec<usize>,
    pub probabilities: Vec<Vec<f32>>,
    pub mean_loss: f64,
    pub report: ClassificationReport,
}

/// Run `model` (already in validation mode) over `indices` in fixed order.
pub fn evaluate(
    model: &EmotionModel,
    inputs: &FoldInputs<'_>,
    objective: &Objective,
    indices: &[usize],
    batch_size: usize,
    n_classes: usize,
    device: &Device,
) -> EvalOutput {
    let mut out = EvalOutput {
        indices: indices.to_vec(),
        targets: indices.iter().map(|&i| inputs.labels[i]).collect(),
        predictions: Vec::with_capacity(indices.len()),
        probabilities: Vec::with_capacity(indices.len()),
        mean_loss: 0.0,
        report: classification_report(&[], &[], n_classes),
    };
    let mut loss_sum = 0.0;
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = inputs.batch(chunk, device);
        let logits = model.forward(&batch);
        let loss: f32 = objective.loss(logits.clone(), &batch).into_scalar::<f32>();
        loss_sum += loss as f64 * chunk.len() as f64;
        let probs: Vec<f32> = softmax(logits, 1)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 probabilities");
        for row in probs.chunks_exact(n_classes) {
            out.predictions.push(argmax(row));
            out.probabilities.push(row.to_vec());
        }
    }
    out.mean_loss = if indices.is_empty() {
        0.0
    } else {
        loss_sum / indices.len() as f64
    };
    out.report = classification_report(&out.targets, &out.predictions, n_classes);
    out
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

#[cfg(test)]
mod tests {
    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(super::argmax(&[0.1, 0.5, 0.5, 0.2]), 1);
        assert_eq!(super::argmax(&[1.0]), 0);
    }
}
