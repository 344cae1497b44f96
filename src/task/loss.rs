//! Losses of the task heads, each the mean PyTorch computes for the same inputs.

use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, softmax};

/// `BCEWithLogitsLoss(pos_weight=w)` (mean over every cell): `-[w_c y log s(z) + (1 - y) log
/// s(-z)]`, written with `log_sigmoid` so large logits do not overflow. `positive_weights` holds
/// one weight per class (the last axis); `None` weighs every positive cell 1 (no `pos_weight`).
pub fn bce_with_logits(
    logits: Tensor<2>,
    targets: Tensor<2>,
    positive_weights: Option<Tensor<1>>,
) -> Tensor<1> {
    let [_, classes] = logits.dims();
    let mut positive = log_sigmoid(logits.clone()) * targets.clone();
    if let Some(weights) = positive_weights {
        positive = positive * weights.reshape([1, classes]);
    }
    let negative = log_sigmoid(logits.neg()) * targets.neg().add_scalar(1.0);
    (positive + negative).neg().mean()
}

/// Seed 004's quirk: `MultiLabelSoftMarginLoss()(softmax(z), y)`. That loss is the per-class
/// binary cross-entropy of `sigmoid(x)` averaged over classes, then over the batch; with
/// `x = softmax(z)` it equals [`bce_with_logits`] on the probabilities (a mean over classes
/// then rows is the mean over all cells).
pub fn soft_margin_on_softmax(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    bce_with_logits(softmax(logits, 1), targets, None)
}

/// Seed 004's regression loss: one `MSELoss` (mean over the batch) per target, summed over
/// targets (`MSE_v + MSE_a`).
pub fn mse_per_target_sum(predicted: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let [rows, _] = predicted.dims();
    (predicted - targets)
        .powf_scalar(2.0)
        .sum()
        .div_scalar(rows.max(1) as f32)
}

/// Seed 003's `MSELoss()` between raw logits and a target distribution: the mean over every
/// cell of `(z - p)^2`, with no softmax (`nn.MSELoss` on the logits as they leave the head).
pub fn mse_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    (logits - targets).powf_scalar(2.0).mean()
}

/// Seed 004's "total": `w_c * classification + w_r * regression`.
pub fn weighted_sum(
    classification: Tensor<1>,
    regression: Tensor<1>,
    w_classification: f32,
    w_regression: f32,
) -> Tensor<1> {
    classification.mul_scalar(w_classification) + regression.mul_scalar(w_regression)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t2(rows: [[f32; 3]; 2]) -> Tensor<2> {
        Tensor::from_data(rows, &Device::default())
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + (-x).exp())
    }

    /// By hand: mean over the six cells of `-[y ln s(z) + (1-y) ln (1 - s(z))]`.
    #[test]
    fn bce_matches_hand_arithmetic() {
        let z: [[f32; 3]; 2] = [[2.0, -1.0, 0.0], [0.5, 3.0, -2.0]];
        let y = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]];
        let mut expected = 0.0;
        for r in 0..2 {
            for c in 0..3 {
                let s = sigmoid(z[r][c]);
                expected -= y[r][c] * s.ln() + (1.0 - y[r][c]) * (1.0 - s).ln();
            }
        }
        expected /= 6.0;
        let got = scalar(bce_with_logits(t2(z), t2(y), None));
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }

    /// By hand: PyTorch's `pos_weight` multiplies the positive term only.
    #[test]
    fn weighted_bce_weighs_the_positive_cells_per_class() {
        let z: [[f32; 3]; 2] = [[2.0, -1.0, 0.0], [0.5, 3.0, -2.0]];
        let y = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]];
        let w = [3.0, 0.5, 2.0];
        let mut expected = 0.0;
        for r in 0..2 {
            for c in 0..3 {
                let s = sigmoid(z[r][c]);
                expected -= w[c] * y[r][c] * s.ln() + (1.0 - y[r][c]) * (1.0 - s).ln();
            }
        }
        expected /= 6.0;
        let weights = Tensor::from_floats(w, &Device::default());
        let got = scalar(bce_with_logits(t2(z), t2(y), Some(weights)));
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }

    /// By hand: softmax of each row, then MultiLabelSoftMarginLoss's
    /// `-(1/C) sum_c [y ln s(p) + (1-y) ln s(-p)]`, averaged over rows.
    #[test]
    fn soft_margin_on_softmax_matches_hand_arithmetic() {
        let z: [[f32; 3]; 2] = [[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]];
        let y = [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]];
        let mut expected = 0.0;
        for r in 0..2 {
            let sum: f32 = z[r].iter().map(|v| v.exp()).sum();
            let mut row = 0.0;
            for c in 0..3 {
                let p = z[r][c].exp() / sum;
                row -= y[r][c] * sigmoid(p).ln() + (1.0 - y[r][c]) * sigmoid(-p).ln();
            }
            expected += row / 3.0;
        }
        expected /= 2.0;
        let got = scalar(soft_margin_on_softmax(t2(z), t2(y)));
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
        // The quirk's loss stays high even for a confident right answer: sigmoid(1) < 1.
        let confident = scalar(soft_margin_on_softmax(
            t2([[20.0, 0.0, 0.0], [0.0, 20.0, 0.0]]),
            t2([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
        ));
        assert!(confident > 0.5, "{confident}");
    }

    /// By hand: valence errors (1, -2) -> MSE 2.5; arousal errors (0.5, 0.5) -> 0.25; sum 2.75.
    #[test]
    fn mse_sums_one_mean_per_target() {
        let device = Device::default();
        let p = Tensor::<2>::from_data([[3.0f32, 2.5], [1.0, 4.5]], &device);
        let y = Tensor::<2>::from_data([[2.0f32, 2.0], [3.0, 4.0]], &device);
        let got = scalar(mse_per_target_sum(p, y));
        assert!((got - 2.75).abs() < 1e-6, "{got}");
    }

    /// By hand: errors (1.5, 0.25, -0.25) and (0, -1, 0) -> squares 2.25, 0.0625, 0.0625, 0, 1,
    /// 0; sum 3.375 over the 6 cells = 0.5625 (divided by rows alone it would be 1.6875).
    #[test]
    fn mse_logits_is_the_mean_over_every_cell_of_the_raw_logits() {
        let z = [[2.0, 0.5, 0.0], [0.0, -1.0, 1.0]];
        let p = [[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]];
        let got = scalar(mse_logits(t2(z), t2(p)));
        assert!((got - 0.5625).abs() < 1e-6, "{got}");
        // No softmax: logits already equal to the distribution cost nothing.
        let exact = scalar(mse_logits(t2(p), t2(p)));
        assert_eq!(exact, 0.0);
    }

    #[test]
    fn multitask_loss_is_the_weighted_sum() {
        let device = Device::default();
        let c = Tensor::<1>::from_data([0.8f32], &device);
        let r = Tensor::<1>::from_data([2.0f32], &device);
        let got = scalar(weighted_sum(c, r, 0.5, 2.0));
        assert!((got - 4.4).abs() < 1e-6, "{got}");
    }
}
