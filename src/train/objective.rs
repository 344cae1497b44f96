//! The training objective of the task: cross-entropy against the single label (optionally
//! class-weighted) or the evaluators' vote distribution (`multi_label = "soft_votes"`, trained
//! with `task.soft_target_loss`), the multi-label loss, the regression loss, or seed 004's
//! weighted sum of both (`multitask`).

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::batch::Batch;
use crate::config::{ClassWeightRule, ClassWeights, MultilabelLoss, SoftTargetLoss};
use crate::task::{TaskSpec, TaskTargets, loss};

pub struct Objective {
    task: TaskSpec,
    hard: CrossEntropyLoss,
    targets: TaskTargets,
    soft_loss: SoftTargetLoss,
    /// `pos_weight` of the binary cross-entropy on multi-hot targets, one per class.
    positive_weights: Option<Tensor<1>>,
}

impl Objective {
    /// `weights`: per-class weights of the single-label cross-entropy; they do not apply to
    /// soft or multi-hot targets (the config validation forbids combining them).
    pub fn new(
        task: TaskSpec,
        targets: TaskTargets,
        weights: Option<Vec<f32>>,
        device: &Device,
    ) -> Self {
        Self {
            soft_loss: task.soft_target_loss,
            task,
            hard: CrossEntropyLossConfig::new()
                .with_weights(weights)
                .init(device),
            targets,
            positive_weights: None,
        }
    }

    /// Weights of the positive cells of multi-hot targets (`task.class_weights =
    /// "positive_ratio"`).
    pub fn with_positive_weights(mut self, weights: Option<Vec<f32>>, device: &Device) -> Self {
        self.positive_weights = weights.map(|w| Tensor::from_floats(w.as_slice(), device));
        self
    }

    /// The objective that scores validation and test passes: soft targets always take the
    /// cross-entropy, whatever `task.soft_target_loss` trains with, because seed 003 tests
    /// with it and `valid.loss` must mean the same across runs that train differently.
    pub fn for_evaluation(mut self) -> Self {
        self.soft_loss = SoftTargetLoss::CrossEntropy;
        self
    }

    pub fn task(&self) -> &TaskSpec {
        &self.task
    }

    pub fn targets(&self) -> &TaskTargets {
        &self.targets
    }

    /// Mean loss of the batch, shape `[1]`.
    pub fn loss(&self, output: Tensor<2>, batch: &Batch) -> Tensor<1> {
        let device = output.device();
        let (logits, values) = self.task.split(output);
        let class_loss = logits.map(|logits| self.class_loss(logits, batch, &device));
        let regression_loss = values.map(|values| {
            let targets = self
                .targets
                .regression_batch(&batch.indices, &device)
                .expect("regression targets for a regression head");
            loss::mse_per_target_sum(values, targets)
        });
        match (class_loss, regression_loss) {
            (Some(c), Some(r)) => loss::weighted_sum(
                c,
                r,
                self.task.classification_weight,
                self.task.regression_weight,
            ),
            (Some(c), None) => c,
            (None, Some(r)) => r,
            (None, None) => unreachable!("a task has a class or a regression output"),
        }
    }

    fn class_loss(&self, logits: Tensor<2>, batch: &Batch, device: &Device) -> Tensor<1> {
        if let Some(multi_hot) = self.targets.multi_hot_batch(&batch.indices, device) {
            return match self.task.multilabel_loss {
                MultilabelLoss::Bce => {
                    loss::bce_with_logits(logits, multi_hot, self.positive_weights.clone())
                }
                MultilabelLoss::SoftMarginOnSoftmax => {
                    loss::soft_margin_on_softmax(logits, multi_hot)
                }
            };
        }
        match (&batch.soft, self.task.soft_votes) {
            (Some(targets), true) => self.soft_loss(logits, targets.clone()),
            _ => self.hard.forward(logits, batch.labels.clone()),
        }
    }

    fn soft_loss(&self, logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
        match self.soft_loss {
            SoftTargetLoss::CrossEntropy => soft_cross_entropy(logits, targets),
            SoftTargetLoss::MseLogits => loss::mse_logits(logits, targets),
        }
    }
}

/// `BCEWithLogitsLoss(pos_weight)`'s weights for a fold: per class `(n - positives) /
/// positives` over the training utterances (`task.class_weights = "positive_ratio"`; the data
/// plan has refused a class without a training positive). `positives` counts them per class,
/// and is called only when the rule asks for these weights.
pub fn positive_weights(
    rule: &ClassWeights,
    n_train: usize,
    positives: impl FnOnce() -> Vec<usize>,
) -> Option<Vec<f32>> {
    (*rule == ClassWeights::Named(ClassWeightRule::PositiveRatio)).then(|| {
        positives()
            .into_iter()
            .map(|p| (n_train - p) as f32 / p.max(1) as f32)
            .collect()
    })
}

/// `-sum_c p_c log softmax(z)_c`, averaged over the batch (PyTorch's `cross_entropy` with
/// probability targets and no weights).
fn soft_cross_entropy(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let per_example: Tensor<2> = (log_softmax(logits, 1) * targets).sum_dim(1);
    per_example.neg().mean()
}

/// The loss weights for a fold: the configured list, or scikit-learn's "balanced"
/// `n / (n_classes * count_c)` over the fold's training labels. A class absent from the
/// training split gets weight 0 (scikit-learn refuses such input instead).
pub fn class_weights(
    rule: &ClassWeights,
    train_labels: &[usize],
    n_classes: usize,
) -> Option<Vec<f32>> {
    match rule {
        // positive_ratio weights the binary cross-entropy instead (`positive_weights`).
        ClassWeights::Named(ClassWeightRule::None | ClassWeightRule::PositiveRatio) => None,
        ClassWeights::List(weights) => Some(weights.clone()),
        ClassWeights::Named(ClassWeightRule::Balanced) => {
            let mut counts = vec![0usize; n_classes];
            train_labels.iter().for_each(|&y| counts[y] += 1);
            let n = train_labels.len() as f32;
            Some(
                counts
                    .into_iter()
                    .map(|c| {
                        if c == 0 {
                            0.0
                        } else {
                            n / (n_classes as f32 * c as f32)
                        }
                    })
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_weights_follow_scikit_learn() {
        // sklearn.utils.class_weight.compute_class_weight("balanced", classes=[0,1,2],
        // y=[0,0,0,1]) on classes 0,1 gives [0.667, 2.0]; class 2 is absent here.
        let w = class_weights(
            &ClassWeights::Named(ClassWeightRule::Balanced),
            &[0, 0, 0, 1],
            3,
        )
        .unwrap();
        assert_eq!(w, vec![4.0 / 9.0, 4.0 / 3.0, 0.0]);
        assert_eq!(class_weights(&ClassWeights::default(), &[0, 1], 2), None);
    }

    #[test]
    fn positive_ratio_is_negatives_over_positives_per_class() {
        let rule = ClassWeights::Named(ClassWeightRule::PositiveRatio);
        // 10 training utterances; class 0 on 2 of them, class 1 on 5, class 2 on all.
        assert_eq!(
            positive_weights(&rule, 10, || vec![2, 5, 10]),
            Some(vec![4.0, 1.0, 0.0])
        );
        assert_eq!(
            positive_weights(&ClassWeights::default(), 10, || unreachable!("not counted")),
            None
        );
        assert_eq!(
            class_weights(&rule, &[0, 1], 2),
            None,
            "not a cross-entropy weight"
        )
    }

    #[test]
    fn soft_cross_entropy_matches_hand_computation_and_equals_hard_on_one_hot() {
        let device = Device::default();
        let logits = Tensor::<2>::from_data([[1.0f32, 2.0, 0.5], [0.0, 0.0, 3.0]], &device);
        let targets = Tensor::<2>::from_data([[0.25f32, 0.75, 0.0], [0.0, 0.0, 1.0]], &device);
        let got: f32 = soft_cross_entropy(logits.clone(), targets).into_scalar::<f32>();
        let lse0 = (1f32.exp() + 2f32.exp() + 0.5f32.exp()).ln();
        let lse1 = (1.0 + 1.0 + 3f32.exp()).ln();
        let expected = (0.25 * (lse0 - 1.0) + 0.75 * (lse0 - 2.0) + (lse1 - 3.0)) / 2.0;
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");

        let one_hot = Tensor::<2>::from_data([[0.0f32, 1.0, 0.0], [0.0, 0.0, 1.0]], &device);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 2], [2]), &device);
        let hard: f32 = CrossEntropyLossConfig::new()
            .init(&device)
            .forward(logits.clone(), labels)
            .into_scalar::<f32>();
        let soft: f32 = soft_cross_entropy(logits, one_hot).into_scalar::<f32>();
        assert!((hard - soft).abs() < 1e-6);
    }

    /// An objective over three classes with vote-distribution targets, trained with `loss`.
    fn soft_vote_objective(loss: SoftTargetLoss, device: &Device) -> Objective {
        let mut exp = crate::config::Experiment::default();
        exp.dataset.classes = ["a", "b", "c"].map(String::from).to_vec();
        exp.dataset.multi_label = crate::config::MultiLabelPolicy::SoftVotes;
        exp.task.soft_target_loss = loss;
        let task = TaskSpec::from_experiment(&exp);
        Objective::new(task, TaskTargets::default(), None, device)
    }

    /// Two rows whose votes are `[0.5, 0.25, 0.25]` and `[0, 0, 1]` (first labels 0 and 2).
    fn soft_batch(device: &Device) -> Batch {
        let soft = Tensor::<2>::from_data([[0.5f32, 0.25, 0.25], [0.0, 0.0, 1.0]], device);
        Batch {
            indices: vec![0, 1],
            streams: Default::default(),
            labels: Tensor::from_data(TensorData::new(vec![0i64, 2], [2]), device),
            soft: Some(soft),
        }
    }

    /// `mse_logits` trains on the mean squared error of the raw logits (by hand: 3.375 over 6
    /// cells, as `loss::mse_logits`' test), while the evaluation objective built from the same
    /// task scores with the soft cross-entropy; the default trains with that cross-entropy.
    #[test]
    fn mse_logits_trains_and_evaluation_keeps_the_soft_cross_entropy() {
        let device = Device::default();
        let logits = || Tensor::<2>::from_data([[2.0f32, 0.5, 0.0], [0.0, -1.0, 1.0]], &device);
        let batch = soft_batch(&device);
        let value =
            |objective: Objective| -> f32 { objective.loss(logits(), &batch).into_scalar::<f32>() };
        let cross_entropy: f32 =
            soft_cross_entropy(logits(), batch.soft.clone().unwrap()).into_scalar::<f32>();

        let mse = soft_vote_objective(SoftTargetLoss::MseLogits, &device);
        assert!((value(mse) - 0.5625).abs() < 1e-6);
        let evaluation = soft_vote_objective(SoftTargetLoss::MseLogits, &device).for_evaluation();
        assert_eq!(value(evaluation), cross_entropy);
        let default = soft_vote_objective(SoftTargetLoss::CrossEntropy, &device);
        assert_eq!(value(default), cross_entropy);
    }
}
