//! What the model predicts: the head's output layout, the targets, the losses, and how raw
//! outputs become predictions and metrics.
//!
//! The fusion head ends in one linear layer of width [`TaskSpec::output_width`]: the class
//! logits first (`n_classes` columns, for `classification`, `multilabel` and `multitask`), then
//! one column per regression target (`regression`, `multitask`). Seed 004's "total" heads are
//! separate `Linear` layers on the same fused vector; one wider `Linear` is the same function
//! (its rows are independent), so every fusion method serves every task unchanged.

pub mod loss;
pub mod predict;
pub mod targets;

use crate::config::{
    Experiment, MultiLabelPolicy, MultilabelLoss, RegressionTarget, SoftTargetLoss, TaskKind,
};

pub use targets::TaskTargets;

/// The resolved task of one experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    pub kind: TaskKind,
    pub n_classes: usize,
    /// The class part is multi-label (multi-hot targets from `dataset.multi_label = "all"`).
    pub multi_hot: bool,
    /// The single-label class part trains against the evaluators' vote distribution.
    pub soft_votes: bool,
    /// The training loss against that distribution (`task.soft_target_loss`).
    pub soft_target_loss: SoftTargetLoss,
    pub multilabel_loss: MultilabelLoss,
    pub threshold: f32,
    pub targets: Vec<RegressionTarget>,
    pub classification_weight: f32,
    pub regression_weight: f32,
}

impl TaskSpec {
    pub fn from_experiment(exp: &Experiment) -> Self {
        let task = &exp.task;
        let multi_hot = match task.kind {
            TaskKind::Multilabel => true,
            TaskKind::Multitask => exp.dataset.multi_label == MultiLabelPolicy::All,
            TaskKind::Classification | TaskKind::Regression => false,
        };
        Self {
            kind: task.kind,
            n_classes: exp.dataset.classes.len(),
            multi_hot,
            soft_votes: exp.dataset.multi_label == MultiLabelPolicy::SoftVotes,
            soft_target_loss: task.soft_target_loss,
            multilabel_loss: task.multilabel_loss,
            threshold: task.threshold as f32,
            targets: if matches!(task.kind, TaskKind::Regression | TaskKind::Multitask) {
                task.targets.clone()
            } else {
                Vec::new()
            },
            classification_weight: task.weights.classification as f32,
            regression_weight: task.weights.regression as f32,
        }
    }

    /// Columns of class scores at the start of the output (0 for pure regression).
    pub fn class_width(&self) -> usize {
        if self.kind == TaskKind::Regression {
            0
        } else {
            self.n_classes
        }
    }

    /// Width of the head's last layer.
    pub fn output_width(&self) -> usize {
        self.class_width() + self.targets.len()
    }

    /// Whether the class part is single-label (argmax) rather than thresholded.
    pub fn single_label(&self) -> bool {
        self.class_width() > 0 && !self.multi_hot
    }

    pub fn target_names(&self) -> Vec<&'static str> {
        self.targets.iter().map(|t| t.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: TaskKind, policy: MultiLabelPolicy) -> TaskSpec {
        let mut exp = Experiment::default();
        exp.task.kind = kind;
        exp.dataset.multi_label = policy;
        TaskSpec::from_experiment(&exp)
    }

    #[test]
    fn output_width_follows_the_task() {
        assert_eq!(
            spec(TaskKind::Classification, MultiLabelPolicy::Drop).output_width(),
            7
        );
        assert_eq!(
            spec(TaskKind::Multilabel, MultiLabelPolicy::All).output_width(),
            7
        );
        assert_eq!(
            spec(TaskKind::Regression, MultiLabelPolicy::Drop).output_width(),
            2
        );
        let total = spec(TaskKind::Multitask, MultiLabelPolicy::All);
        assert_eq!((total.output_width(), total.multi_hot), (9, true));
        assert!(spec(TaskKind::Multitask, MultiLabelPolicy::Drop).single_label());
    }
}
