//! Seed 001's evaluation (`eval_iemocap`, docs/methods/seed-001-mme2e.md): every emotion a
//! binary decision on its sigmoid probability, with its own threshold.
//!
//! The threshold of an emotion is the one of 0.05, 0.10, …, 0.95 that maximises that emotion's
//! binary F1 on the data it is tuned on (the first such on a tie, inferred: the seed keeps the
//! first maximum), and an emotion is predicted where its probability is strictly above it.
//! Accuracy, recall, precision and F1 of the positive class follow scikit-learn's defaults (zero
//! division gives 0); AUC is `roc_auc_score` per emotion. The seed tunes on validation and
//! applies those thresholds to test.

use serde::{Deserialize, Serialize};

/// The seed's sweep: 0.05 to 0.95 in steps of 0.05 (19 values), each `0.05 + i·0.05` as numpy's
/// `arange` computes it, so that the reported thresholds are the seed's to the last bit.
pub fn threshold_grid() -> Vec<f64> {
    (0..19).map(|i| 0.05 + i as f64 * 0.05).collect()
}

/// Every metric of one evaluation, per emotion (indexed by class id), and the thresholds used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerEmotionReport {
    pub thresholds: Vec<f64>,
    pub accuracy: Vec<f64>,
    /// (TPR + TNR) / 2: the seed's `weighted_acc` before its 2022 fix, the paper's MOSEI WAcc.
    /// `None` where the emotion has no positive or no negative example.
    pub weighted_accuracy: Vec<Option<f64>>,
    pub recall: Vec<f64>,
    pub precision: Vec<f64>,
    pub f1: Vec<f64>,
    /// `None` where the emotion has only one class in the data (scikit-learn raises there).
    pub auc: Vec<Option<f64>>,
}

impl PerEmotionReport {
    /// The unweighted mean over emotions of a per-emotion metric, as the seed's "average"
    /// column; an undefined value is left out of the mean.
    pub fn mean(values: &[f64]) -> f64 {
        if values.is_empty() {
            0.0
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        }
    }

    /// The mean of the defined values, or `None` when none is.
    pub fn mean_defined(values: &[Option<f64>]) -> Option<f64> {
        let defined: Vec<f64> = values.iter().flatten().copied().collect();
        (!defined.is_empty()).then(|| Self::mean(&defined))
    }
}

/// Cell counts of one emotion.
#[derive(Default, Clone, Copy)]
struct Counts {
    tp: u64,
    fp: u64,
    tn: u64,
    fn_: u64,
}

impl Counts {
    fn of(probs: &[f32], truth: &[bool], threshold: f64) -> Self {
        let mut c = Counts::default();
        for (&p, &t) in probs.iter().zip(truth) {
            match (t, f64::from(p) > threshold) {
                (true, true) => c.tp += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
                (true, false) => c.fn_ += 1,
            }
        }
        c
    }
    fn f1(self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Seed 001's report as named metrics: thresholds tuned on `(tune_probs, tune_truth)` (the
/// validation split) and applied to `(probs, truth)` (the test split); the means over classes
/// and, per class, its F1 and threshold. Names start with `tuned/`.
pub fn tuned_metrics(
    tune_probs: &[Vec<f32>],
    tune_truth: &[Vec<bool>],
    probs: &[Vec<f32>],
    truth: &[Vec<bool>],
    classes: &[String],
) -> Vec<(String, f64)> {
    let thresholds = tune_thresholds(tune_probs, tune_truth, classes.len());
    let report = per_emotion_report(probs, truth, &thresholds);
    let mut out = vec![
        (
            "tuned/accuracy".to_string(),
            PerEmotionReport::mean(&report.accuracy),
        ),
        (
            "tuned/recall".into(),
            PerEmotionReport::mean(&report.recall),
        ),
        (
            "tuned/precision".into(),
            PerEmotionReport::mean(&report.precision),
        ),
        ("tuned/f1".into(), PerEmotionReport::mean(&report.f1)),
    ];
    let defined = [
        ("tuned/weighted_accuracy", &report.weighted_accuracy),
        ("tuned/auc", &report.auc),
    ];
    for (name, values) in defined {
        if let Some(mean) = PerEmotionReport::mean_defined(values) {
            out.push((name.into(), mean));
        }
    }
    for (c, class) in classes.iter().enumerate() {
        out.push((format!("tuned/f1/{class}"), report.f1[c]));
        out.push((format!("tuned/threshold/{class}"), thresholds[c]));
    }
    out
}

/// One emotion's column: `probs[utterance][emotion]`.
fn column<T: Copy>(rows: &[Vec<T>], emotion: usize) -> Vec<T> {
    rows.iter().map(|row| row[emotion]).collect()
}

/// Per emotion, the grid threshold with the best binary F1 on these probabilities.
pub fn tune_thresholds(probs: &[Vec<f32>], truth: &[Vec<bool>], n_emotions: usize) -> Vec<f64> {
    let grid = threshold_grid();
    (0..n_emotions)
        .map(|e| {
            let (p, t) = (column(probs, e), column(truth, e));
            let mut best = (f64::NEG_INFINITY, grid[0]);
            for &threshold in &grid {
                let f1 = Counts::of(&p, &t, threshold).f1();
                if f1 > best.0 {
                    best = (f1, threshold);
                }
            }
            best.1
        })
        .collect()
}

/// The seed's metrics of sigmoid probabilities against multi-hot truth at given thresholds.
///
/// # Panics
/// When a row does not have one value per threshold (a caller bug).
pub fn per_emotion_report(
    probs: &[Vec<f32>],
    truth: &[Vec<bool>],
    thresholds: &[f64],
) -> PerEmotionReport {
    let n = thresholds.len();
    assert!(
        probs.iter().all(|r| r.len() == n)
            && truth.iter().all(|r| r.len() == n)
            && probs.len() == truth.len(),
        "every row needs one value per emotion"
    );
    let mut report = PerEmotionReport {
        thresholds: thresholds.to_vec(),
        accuracy: Vec::with_capacity(n),
        weighted_accuracy: Vec::with_capacity(n),
        recall: Vec::with_capacity(n),
        precision: Vec::with_capacity(n),
        f1: Vec::with_capacity(n),
        auc: Vec::with_capacity(n),
    };
    for (e, &threshold) in thresholds.iter().enumerate() {
        let (p, t) = (column(probs, e), column(truth, e));
        let c = Counts::of(&p, &t, threshold);
        let (positives, negatives) = (c.tp + c.fn_, c.tn + c.fp);
        report
            .accuracy
            .push(ratio(c.tp + c.tn, positives + negatives));
        report.weighted_accuracy.push(
            (positives > 0 && negatives > 0)
                .then(|| (ratio(c.tp, positives) + ratio(c.tn, negatives)) / 2.0),
        );
        report.recall.push(ratio(c.tp, positives));
        report.precision.push(ratio(c.tp, c.tp + c.fp));
        report.f1.push(c.f1());
        report.auc.push(roc_auc(&p, &t));
    }
    report
}

/// The area under the ROC curve: the probability that a positive outranks a negative, ties
/// counted as one half (what scikit-learn's trapezoidal curve gives). `None` with one class.
pub fn roc_auc(scores: &[f32], truth: &[bool]) -> Option<f64> {
    let positives = truth.iter().filter(|&&t| t).count();
    let negatives = truth.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Average ranks (1-based) over tied scores; the positives' rank sum gives Mann-Whitney's U.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| truth[i]).count();
        rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tuned_tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Tuned on one split, applied to another: the threshold comes from the first, the
    /// metrics from the second.
    #[test]
    fn thresholds_come_from_the_tuning_split_and_metrics_from_the_other() {
        let classes = vec!["a".to_string(), "b".to_string()];
        // Tuning: a's negative sits at 0.62, b's at 0.12 (away from the grid's values, which
        // the f32 probabilities would otherwise straddle).
        let tune_probs = vec![vec![0.9, 0.3], vec![0.62, 0.12], vec![0.8, 0.25]];
        let tune_truth = vec![vec![true, true], vec![false, false], vec![true, true]];
        let probs = vec![vec![0.7, 0.9], vec![0.72, 0.17]];
        let truth = vec![vec![true, true], vec![true, false]];
        let rows: BTreeMap<String, f64> =
            tuned_metrics(&tune_probs, &tune_truth, &probs, &truth, &classes)
                .into_iter()
                .collect();
        // The first grid value above each negative: 0.65 and 0.15 (strict >).
        assert!((rows["tuned/threshold/a"] - 0.65).abs() < 1e-9, "{rows:?}");
        assert!((rows["tuned/threshold/b"] - 0.15).abs() < 1e-9, "{rows:?}");
        // On the test rows a predicts both (0.7, 0.72 > 0.65), both right: F1 1, accuracy 1.
        // b predicts both too (0.9, 0.17 > 0.15), one wrong: precision 1/2, F1 2/3, accuracy 1/2.
        assert_eq!(rows["tuned/f1/a"], 1.0);
        assert!((rows["tuned/f1/b"] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(rows["tuned/accuracy"], 0.75);
        // a has one class in the test rows: its AUC is undefined and left out of the mean.
        assert_eq!(rows["tuned/auc"], 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Fixture {
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Case {
        name: String,
        valid_probs: Vec<Vec<f32>>,
        valid_truth: Vec<Vec<bool>>,
        test_probs: Vec<Vec<f32>>,
        test_truth: Vec<Vec<bool>>,
        thresholds: Vec<f64>,
        test: Expected,
    }

    #[derive(Deserialize)]
    struct Expected {
        accuracy: Vec<f64>,
        weighted_accuracy: Vec<Option<f64>>,
        recall: Vec<f64>,
        precision: Vec<f64>,
        f1: Vec<f64>,
        auc: Vec<Option<f64>>,
    }

    fn close(what: &str, got: &[Option<f64>], want: &[Option<f64>]) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (g, w) in got.iter().zip(want) {
            match (g, w) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{what}: {g} against {w}"),
                (None, None) => {}
                _ => panic!("{what}: {got:?} against {want:?}"),
            }
        }
    }

    fn some(values: &[f64]) -> Vec<Option<f64>> {
        values.iter().copied().map(Some).collect()
    }

    /// Every case of `tests/fixtures/metrics/per_emotion_cases.json`, written with scikit-learn
    /// by `scripts/dev/make_per_emotion_fixture.py`: thresholds tuned on validation, the
    /// metrics on test with them.
    #[test]
    fn matches_the_seeds_evaluation() {
        let fixture: Fixture = serde_json::from_str(include_str!(
            "../../tests/fixtures/metrics/per_emotion_cases.json"
        ))
        .expect("per_emotion_cases.json parses");
        assert!(fixture.cases.len() >= 4);
        for case in &fixture.cases {
            let n = case.thresholds.len();
            let thresholds = tune_thresholds(&case.valid_probs, &case.valid_truth, n);
            assert_eq!(thresholds, case.thresholds, "{}: thresholds", case.name);
            let r = per_emotion_report(&case.test_probs, &case.test_truth, &thresholds);
            let e = &case.test;
            let name = &case.name;
            close(
                &format!("{name} accuracy"),
                &some(&r.accuracy),
                &some(&e.accuracy),
            );
            close(
                &format!("{name} recall"),
                &some(&r.recall),
                &some(&e.recall),
            );
            close(
                &format!("{name} precision"),
                &some(&r.precision),
                &some(&e.precision),
            );
            close(&format!("{name} f1"), &some(&r.f1), &some(&e.f1));
            close(
                &format!("{name} weighted accuracy"),
                &r.weighted_accuracy,
                &e.weighted_accuracy,
            );
            close(&format!("{name} auc"), &r.auc, &e.auc);
        }
    }

    #[test]
    fn the_grid_is_the_seeds_nineteen_values() {
        let grid = threshold_grid();
        assert_eq!(grid.len(), 19);
        assert!((grid[0] - 0.05).abs() < 1e-12 && (grid[18] - 0.95).abs() < 1e-12);
    }

    #[test]
    fn prediction_is_strictly_above_the_threshold() {
        let c = Counts::of(&[0.5, 0.5], &[true, false], 0.5);
        assert_eq!((c.tp, c.fp, c.tn, c.fn_), (0, 0, 1, 1));
    }

    #[test]
    fn tuning_keeps_the_first_best_threshold() {
        // Positives at 0.62 and 0.9, negatives at 0.1 and 0.28: every threshold from 0.30 to
        // 0.60 separates them (F1 1); the first of the grid that does is 0.30.
        let probs = vec![vec![0.62], vec![0.9], vec![0.1], vec![0.28]];
        let truth = vec![vec![true], vec![true], vec![false], vec![false]];
        assert_eq!(
            tune_thresholds(&probs, &truth, 1),
            vec![threshold_grid()[5]]
        );
    }

    #[test]
    fn auc_counts_ties_as_one_half() {
        assert_eq!(
            roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
        assert_eq!(roc_auc(&[0.5, 0.5], &[true, false]), Some(0.5));
        assert_eq!(roc_auc(&[0.5, 0.7], &[true, true]), None);
    }
}
