//! Host-side targets of every example, and their device tensors for one batch. The batch
//! builder (`batch`) carries the single label and the vote distribution; the multi-hot
//! rows and regression values are built here from the batch's corpus indices, so the data
//! layer does not need to know about tasks.

use anyhow::ensure;
use burn::prelude::*;

use super::TaskSpec;
use crate::config::RegressionTarget;
use crate::data::Corpus;

/// Targets of every corpus example, indexed like `corpus.examples`.
#[derive(Debug, Clone, Default)]
pub struct TaskTargets {
    /// Multi-hot rows over the classes, when the task is multi-label.
    pub multi_hot: Option<Vec<Vec<f32>>>,
    /// One row of regression values per example, in `TaskSpec::targets` order.
    pub regression: Option<Vec<Vec<f32>>>,
}

impl TaskTargets {
    /// # Errors
    /// When a regression target is missing on some utterance (a corpus without valence or
    /// arousal annotations): every utterance must have every target.
    pub fn from_corpus(task: &TaskSpec, corpus: &Corpus) -> anyhow::Result<Self> {
        let multi_hot = task.multi_hot.then(|| {
            corpus
                .examples
                .iter()
                .map(|e| {
                    let mut row = vec![0.0; task.n_classes];
                    e.labels.iter().for_each(|&c| row[c] = 1.0);
                    row
                })
                .collect()
        });
        let regression = if task.targets.is_empty() {
            None
        } else {
            Some(regression_rows(&task.targets, corpus)?)
        };
        Ok(Self {
            multi_hot,
            regression,
        })
    }

    /// Multi-hot targets `[batch, classes]` of `indices`.
    pub fn multi_hot_batch(&self, indices: &[usize], device: &Device) -> Option<Tensor<2>> {
        self.multi_hot
            .as_ref()
            .map(|rows| rows_tensor(rows, indices, device))
    }

    /// Regression targets `[batch, targets]` of `indices`.
    pub fn regression_batch(&self, indices: &[usize], device: &Device) -> Option<Tensor<2>> {
        self.regression
            .as_ref()
            .map(|rows| rows_tensor(rows, indices, device))
    }
}

fn regression_rows(targets: &[RegressionTarget], corpus: &Corpus) -> anyhow::Result<Vec<Vec<f32>>> {
    let value = |e: &crate::data::Example, t: RegressionTarget| match t {
        RegressionTarget::Valence => e.valence,
        RegressionTarget::Arousal => e.arousal,
    };
    for &t in targets {
        let missing: Vec<&str> = corpus
            .examples
            .iter()
            .filter(|e| value(e, t).is_none())
            .map(|e| e.id.as_str())
            .collect();
        ensure!(
            missing.is_empty(),
            "task.targets includes {:?}, but {} utterances have no {} annotation (e.g. {:?}); regression needs it on every utterance",
            t.name(),
            missing.len(),
            t.name(),
            &missing[..missing.len().min(3)]
        );
    }
    Ok(corpus
        .examples
        .iter()
        .map(|e| {
            targets
                .iter()
                .map(|&t| value(e, t).unwrap_or(0.0))
                .collect()
        })
        .collect())
}

fn rows_tensor(rows: &[Vec<f32>], indices: &[usize], device: &Device) -> Tensor<2> {
    let width = rows.first().map_or(0, Vec::len);
    let values: Vec<f32> = indices
        .iter()
        .flat_map(|&i| rows[i].iter().copied())
        .collect();
    Tensor::from_data(TensorData::new(values, [indices.len(), width]), device)
}
