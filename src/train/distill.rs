//! Knowledge distillation: a stage trained against an earlier stage's class logits as well as
//! the task's targets (`distill = { from, loss, weight, temperature }`, docs/STAGES.md).
//!
//! The teacher's logits come from its `train_logits.parquet` of the same fold (its selected
//! weights in evaluation mode, written once when it finished), so the teacher never runs while
//! the student trains, and the teacher of a fold never saw that fold's test utterances.

use std::collections::HashMap;
use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};

use crate::config::stages::{DistillConfig, DistillLoss};
use crate::data::Corpus;
use crate::report::logits::read_logits;

/// The teacher's logits for one fold's training split, and how to compare them.
pub struct Distillation {
    config: DistillConfig,
    /// Logits by corpus example index; `None` outside the training split.
    logits: Vec<Option<Vec<f32>>>,
}

impl Distillation {
    /// Read the teacher's logits at `path` and check that every training utterance of the
    /// fold has a row of the student's class width.
    pub fn load(
        config: &DistillConfig,
        path: &Path,
        corpus: &Corpus,
        train: &[usize],
        classes: usize,
    ) -> anyhow::Result<Self> {
        let rows: HashMap<String, Vec<f32>> = read_logits(path)?.into_iter().collect();
        let mut logits = vec![None; corpus.examples.len()];
        for &i in train {
            let id = &corpus.examples[i].id;
            let row = rows.get(id).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no teacher logits for training utterance {id}; the stage `{}` scored other utterances",
                    path.display(),
                    config.from
                )
            })?;
            anyhow::ensure!(
                row.len() == classes,
                "{}: utterance {id} has {} teacher logits, the student has {classes} classes",
                path.display(),
                row.len()
            );
            logits[i] = Some(row.clone());
        }
        Ok(Self {
            config: config.clone(),
            logits,
        })
    }

    /// `weight ×` the distillation term of a batch of student class logits `[batch, classes]`.
    pub fn term(&self, student: Tensor<2>, indices: &[usize]) -> Tensor<1> {
        let device = student.device();
        let [rows, classes] = student.dims();
        let values: Vec<f32> = indices
            .iter()
            .flat_map(|&i| {
                self.logits[i]
                    .as_deref()
                    .expect("checked at load: every training utterance has teacher logits")
                    .iter()
                    .copied()
            })
            .collect();
        let teacher = Tensor::<2>::from_data(TensorData::new(values, [rows, classes]), &device);
        let term = match self.config.loss {
            DistillLoss::MseLogits => mse_logits(student, teacher),
            DistillLoss::Kl => kl(student, teacher, self.config.temperature as f32),
        };
        term.mul_scalar(self.config.weight as f32)
    }
}

/// Mean squared error over every logit (PyTorch's `MSELoss()`, seed 003's KD term).
fn mse_logits(student: Tensor<2>, teacher: Tensor<2>) -> Tensor<1> {
    (student - teacher).powi_scalar(2).mean()
}

/// `T² · KL(softmax(t/T) ‖ softmax(s/T))`, summed over classes and averaged over the batch
/// (PyTorch's `kl_div(..., reduction="batchmean") * T²`).
fn kl(student: Tensor<2>, teacher: Tensor<2>, temperature: f32) -> Tensor<1> {
    let rows = student.dims()[0].max(1) as f32;
    let log_p_student = log_softmax(student.div_scalar(temperature), 1);
    let teacher = teacher.div_scalar(temperature);
    let p_teacher = softmax(teacher.clone(), 1);
    let log_p_teacher = log_softmax(teacher, 1);
    (p_teacher * (log_p_teacher - log_p_student))
        .sum()
        .mul_scalar(temperature * temperature / rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensors() -> (Tensor<2>, Tensor<2>) {
        let device = Device::default();
        let s = Tensor::<2>::from_data([[1.0f32, 2.0, 0.5], [0.0, -1.0, 3.0]], &device);
        let t = Tensor::<2>::from_data([[0.5f32, 2.5, 0.0], [1.0, -1.0, 2.0]], &device);
        (s, t)
    }

    #[test]
    fn mse_is_the_mean_over_every_logit() {
        let (s, t) = tensors();
        let got: f32 = mse_logits(s, t).into_scalar::<f32>();
        let expected = (0.25 + 0.25 + 0.25 + 1.0 + 0.0 + 1.0) / 6.0;
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }

    #[test]
    fn kl_matches_a_hand_computation_and_vanishes_on_equal_logits() {
        let (s, t) = tensors();
        let temperature = 2.0f32;
        let softmax_row = |row: &[f32]| {
            let e: Vec<f32> = row.iter().map(|x| (x / temperature).exp()).collect();
            let z: f32 = e.iter().sum();
            e.into_iter().map(|v| v / z).collect::<Vec<_>>()
        };
        let rows_s = [[1.0f32, 2.0, 0.5], [0.0, -1.0, 3.0]];
        let rows_t = [[0.5f32, 2.5, 0.0], [1.0, -1.0, 2.0]];
        let mut expected = 0.0;
        for (rs, rt) in rows_s.iter().zip(&rows_t) {
            let (ps, pt) = (softmax_row(rs), softmax_row(rt));
            expected += pt
                .iter()
                .zip(&ps)
                .map(|(a, b)| a * (a.ln() - b.ln()))
                .sum::<f32>();
        }
        expected *= temperature * temperature / 2.0;
        let got: f32 = kl(s.clone(), t, temperature).into_scalar::<f32>();
        assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
        let zero: f32 = kl(s.clone(), s, temperature).into_scalar::<f32>();
        assert!(zero.abs() < 1e-6);
    }
}
