//! Evaluation of a model on a list of examples: loss, scores, regression values and the task's
//! metrics.

pub use crate::metrics::argmax;
use burn::prelude::*;

use super::objective::Objective;
use crate::batch::FoldInputs;
use crate::metrics::TaskReport;
use crate::model::EmotionModel;
use crate::task::TaskSpec;
use crate::task::predict::HostOutputs;

/// Outputs of one pass over a split, in the order of `indices`.
#[derive(Debug, Clone)]
pub struct EvalOutput {
    /// The utterances scored: every given index, or with `drop_last` all but the last partial
    /// batch.
    pub indices: Vec<usize>,
    pub outputs: HostOutputs,
    pub mean_loss: f64,
    pub report: TaskReport,
}

/// Run `model` (already in validation mode) over `indices` in fixed order. `drop_last` skips a
/// last batch smaller than `batch_size` (seed 000's evaluation loaders).
pub fn evaluate(
    model: &EmotionModel,
    inputs: &FoldInputs<'_>,
    objective: &Objective,
    indices: &[usize],
    batch_size: usize,
    drop_last: bool,
    device: &Device,
) -> EvalOutput {
    let batch_size = batch_size.max(1);
    let task = objective.task();
    let mut outputs = HostOutputs::default();
    let mut scored = Vec::with_capacity(indices.len());
    let mut loss_sum = 0.0;
    for chunk in indices.chunks(batch_size) {
        if drop_last && chunk.len() < batch_size {
            break;
        }
        let batch = inputs.batch(chunk, device);
        let output = model.forward(&batch);
        let loss: f32 = objective.loss(output.clone(), &batch).into_scalar::<f32>();
        loss_sum += loss as f64 * chunk.len() as f64;
        task.collect(output, &mut outputs);
        scored.extend_from_slice(chunk);
    }
    let mean_loss = if scored.is_empty() {
        0.0
    } else {
        loss_sum / scored.len() as f64
    };
    let report = task.report(&scored, &outputs, inputs.labels, objective.targets());
    EvalOutput {
        indices: scored,
        outputs,
        mean_loss,
        report,
    }
}

/// The raw class logits of `model` (in validation mode) for `indices`, one row per utterance in
/// order: what a later stage distills from.
pub fn class_logits(
    model: &EmotionModel,
    inputs: &FoldInputs<'_>,
    objective: &Objective,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
) -> anyhow::Result<Vec<Vec<f32>>> {
    let mut rows = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(batch_size.max(1)) {
        let output = model.forward(&inputs.batch(chunk, device));
        let (Some(logits), _) = objective.task().split(output) else {
            anyhow::bail!("the task has no class outputs to distill from");
        };
        let [n, width] = logits.dims();
        let values = logits
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("logits to f32: {e:?}"))?;
        rows.extend((0..n).map(|r| values[r * width..(r + 1) * width].to_vec()));
    }
    Ok(rows)
}

/// The outputs of `model` (in validation mode) for `indices`, `batch_size` at a time in
/// order, without targets: scoring new utterances. `on_batch` hears each batch's size.
pub fn predict(
    model: &EmotionModel,
    inputs: &FoldInputs<'_>,
    task: &TaskSpec,
    indices: &[usize],
    batch_size: usize,
    device: &Device,
    mut on_batch: impl FnMut(usize),
) -> HostOutputs {
    let mut outputs = HostOutputs::default();
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = inputs.batch(chunk, device);
        task.collect(model.forward(&batch), &mut outputs);
        on_batch(chunk.len());
    }
    outputs
}

#[cfg(test)]
mod tests {
    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(super::argmax(&[0.1, 0.5, 0.5, 0.2]), 1);
        assert_eq!(super::argmax(&[1.0]), 0);
    }
}
