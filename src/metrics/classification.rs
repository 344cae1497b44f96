//! Single-label classification metrics with scikit-learn's exact conventions.
//!
//! Emotion-recognition papers report scikit-learn's numbers, so ours must be the same numbers,
//! not a "more correct" variant. Concretely:
//!
//! - A ratio whose denominator is zero (precision of a class never predicted, recall of a class
//!   never present, F1 of a class in neither) is 0, as sklearn's `zero_division=0`. A NaN would
//!   poison every average it enters; 0 instead penalises the model for the class it ignores.
//! - Macro and weighted averages run over every configured class (`labels=range(n_classes)`),
//!   so a class absent from both targets and predictions still pulls the macro average down
//!   (it scores 0) and weighs 0 in the weighted average.
//! - F1 comes from the counts, `2tp / (2tp + fp + fn)`, as sklearn >= 1.3 computes it.
//! - UA (`unweighted_accuracy`) is `balanced_accuracy_score`: the mean recall over the classes
//!   present in `y_true` only. Classes that are merely predicted, or absent everywhere, are
//!   ignored there (sklearn warns), unlike in `macro_recall`.
//!
//! `tests/fixtures/metrics/sklearn_cases.json`, written by
//! `scripts/dev/make_metrics_fixture.py`, pins all of this against scikit-learn itself.

use serde::{Deserialize, Serialize};

/// Per-class precision/recall/F1/support, sklearn conventions (zero division -> 0.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassStats {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of targets of this class.
    pub support: u64,
}

/// Every metric of one evaluation, as scikit-learn would compute it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    pub n_classes: usize,
    /// WA: fraction of correct predictions (`accuracy_score`).
    pub accuracy: f64,
    /// UA: mean recall over the classes present in the targets (`balanced_accuracy_score`).
    pub unweighted_accuracy: f64,
    /// `f1_score(average="weighted", labels=range(n_classes), zero_division=0)`.
    pub weighted_f1: f64,
    /// `f1_score(average="macro", labels=range(n_classes), zero_division=0)`.
    pub macro_f1: f64,
    pub weighted_precision: f64,
    pub weighted_recall: f64,
    pub macro_precision: f64,
    pub macro_recall: f64,
    /// Indexed by class id; length `n_classes`.
    pub per_class: Vec<ClassStats>,
    /// `confusion[target][prediction]`, `n_classes x n_classes` (`confusion_matrix` with
    /// `labels=range(n_classes)`).
    pub confusion: Vec<Vec<u64>>,
}

/// Metrics of `y_pred` against `y_true`, with class ids in `0..n_classes`.
///
/// Empty input gives 0.0 for every metric and an all-zero confusion matrix (sklearn raises
/// instead); callers use that as the report of an evaluation that has not run yet.
///
/// # Panics
/// When `y_true` and `y_pred` differ in length, or a label is `>= n_classes`: both are bugs in
/// the caller, and a silently truncated or out-of-range evaluation would report wrong numbers.
pub fn classification_report(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
) -> ClassificationReport {
    assert_eq!(
        y_true.len(),
        y_pred.len(),
        "classification_report: y_true has {} labels but y_pred has {}",
        y_true.len(),
        y_pred.len()
    );
    let confusion = confusion_matrix(y_true, y_pred, n_classes);
    let per_class: Vec<ClassStats> = (0..n_classes).map(|c| class_stats(&confusion, c)).collect();
    ClassificationReport {
        n_classes,
        accuracy: accuracy(&confusion, y_true.len()),
        unweighted_accuracy: balanced_accuracy(&per_class),
        weighted_f1: weighted_mean(&per_class, |s| s.f1),
        macro_f1: mean(per_class.iter().map(|s| s.f1)),
        weighted_precision: weighted_mean(&per_class, |s| s.precision),
        weighted_recall: weighted_mean(&per_class, |s| s.recall),
        macro_precision: mean(per_class.iter().map(|s| s.precision)),
        macro_recall: mean(per_class.iter().map(|s| s.recall)),
        per_class,
        confusion,
    }
}

impl ClassificationReport {
    /// Flat (metric name, value) pairs for a long-format metrics table: `accuracy`, `ua`,
    /// `weighted_f1`, `macro_f1`, `weighted_precision`, `weighted_recall`, `macro_precision`,
    /// `macro_recall`, then for each class in id order `precision/<name>`, `recall/<name>`,
    /// `f1/<name>`, `support/<name>`.
    ///
    /// # Panics
    /// When `class_names` does not hold exactly one name per class: the per-class rows would
    /// otherwise be silently dropped or mislabelled.
    pub fn named_values(&self, class_names: &[String]) -> Vec<(String, f64)> {
        assert_eq!(
            class_names.len(),
            self.per_class.len(),
            "named_values: {} class names for a report of {} classes",
            class_names.len(),
            self.per_class.len()
        );
        let mut out: Vec<(String, f64)> = self
            .summary_values()
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect();
        for (stats, name) in self.per_class.iter().zip(class_names) {
            out.push((format!("precision/{name}"), stats.precision));
            out.push((format!("recall/{name}"), stats.recall));
            out.push((format!("f1/{name}"), stats.f1));
            out.push((format!("support/{name}"), stats.support as f64));
        }
        out
    }

    /// Population standard deviation (numpy's `np.std`, ddof = 0) of the per-class recalls over
    /// the classes with targets: how unevenly the model serves the classes (seed 003's
    /// `test.py --all` reports it). A class without targets has no recall and is left out, as
    /// in UA; 0 when no class has targets.
    pub fn recall_std(&self) -> f64 {
        let recalls: Vec<f64> = self
            .per_class
            .iter()
            .filter(|s| s.support > 0)
            .map(|s| s.recall)
            .collect();
        let mean = mean(recalls.iter().copied());
        mean_f64_sq(&recalls, mean).sqrt()
    }

    /// The averaged metrics under their table names, in table order.
    fn summary_values(&self) -> [(&'static str, f64); 8] {
        [
            ("accuracy", self.accuracy),
            ("ua", self.unweighted_accuracy),
            ("weighted_f1", self.weighted_f1),
            ("macro_f1", self.macro_f1),
            ("weighted_precision", self.weighted_precision),
            ("weighted_recall", self.weighted_recall),
            ("macro_precision", self.macro_precision),
            ("macro_recall", self.macro_recall),
        ]
    }
}

/// `confusion[target][prediction]` counts; panics on a label outside `0..n_classes`.
fn confusion_matrix(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Vec<Vec<u64>> {
    let mut matrix = vec![vec![0u64; n_classes]; n_classes];
    for (i, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
        assert!(
            t < n_classes,
            "classification_report: y_true[{i}] = {t} is not a class id below n_classes = {n_classes}"
        );
        assert!(
            p < n_classes,
            "classification_report: y_pred[{i}] = {p} is not a class id below n_classes = {n_classes}"
        );
        matrix[t][p] += 1;
    }
    matrix
}

/// Precision, recall and F1 of class `c` from its row (targets) and column (predictions).
fn class_stats(confusion: &[Vec<u64>], c: usize) -> ClassStats {
    let tp = confusion[c][c];
    let support: u64 = confusion[c].iter().sum();
    let predicted: u64 = confusion.iter().map(|row| row[c]).sum();
    ClassStats {
        precision: ratio(tp, predicted),
        recall: ratio(tp, support),
        // 2tp / (2tp + fp + fn), and 2tp + fp + fn = support + predicted. From counts rather
        // than from precision and recall, as sklearn >= 1.3, so the last bits agree too.
        f1: ratio(2 * tp, support + predicted),
        support,
    }
}

/// Fraction of samples on the diagonal; 0 for no samples.
fn accuracy(confusion: &[Vec<u64>], n_samples: usize) -> f64 {
    let correct: u64 = confusion.iter().enumerate().map(|(c, row)| row[c]).sum();
    ratio(correct, n_samples as u64)
}

/// `balanced_accuracy_score`: mean recall over the classes with support. A class without
/// targets has no defined recall, and sklearn drops it rather than counting it as 0.
fn balanced_accuracy(per_class: &[ClassStats]) -> f64 {
    mean(per_class.iter().filter(|s| s.support > 0).map(|s| s.recall))
}

/// `num / den`, or 0 when `den` is 0: sklearn's `zero_division=0`.
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Arithmetic mean; 0 for no values (empty input), where sklearn would raise.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u64), |(sum, n), v| (sum + v, n + 1));
    ratio_f64(sum, n)
}

/// Mean squared deviation from `mean`; 0 for no values.
fn mean_f64_sq(values: &[f64], mean: f64) -> f64 {
    let sum: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    ratio_f64(sum, values.len() as u64)
}

/// Support-weighted mean of one per-class value (sklearn's `average="weighted"`).
///
/// Total support is 0 only for empty input, where every per-class value is 0; sklearn would
/// fall back to the unweighted mean, which is 0 as well, so 0 it is, never NaN.
fn weighted_mean(per_class: &[ClassStats], value: impl Fn(&ClassStats) -> f64) -> f64 {
    let total: u64 = per_class.iter().map(|s| s.support).sum();
    let sum: f64 = per_class.iter().map(|s| value(s) * s.support as f64).sum();
    ratio_f64(sum, total)
}

/// `sum / n`, or 0 when `n` is 0.
fn ratio_f64(sum: f64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { sum / n as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: f64 = 1e-12;

    fn assert_close(ours: f64, expected: f64, what: &str) {
        assert!(
            (ours - expected).abs() < TOLERANCE,
            "{what}: ours {ours}, expected {expected}"
        );
    }

    /// The example of sklearn's `f1_score` docstring (macro/weighted F1 0.2666...).
    #[test]
    fn sklearn_docstring_three_class_example() {
        let r = classification_report(&[0, 1, 2, 0, 1, 2], &[0, 2, 1, 0, 0, 1], 3);
        assert_eq!(
            r.confusion,
            vec![vec![2, 0, 0], vec![1, 0, 1], vec![0, 2, 0]]
        );
        assert_close(r.accuracy, 1.0 / 3.0, "accuracy");
        assert_close(r.macro_f1, 0.8 / 3.0, "macro_f1");
        assert_close(r.weighted_f1, 0.8 / 3.0, "weighted_f1");
        assert_close(r.macro_precision, 2.0 / 9.0, "macro_precision");
        assert_close(r.macro_recall, 1.0 / 3.0, "macro_recall");
        assert_close(r.unweighted_accuracy, 1.0 / 3.0, "ua");
        let class0 = &r.per_class[0];
        assert_close(class0.precision, 2.0 / 3.0, "precision[0]");
        assert_close(class0.recall, 1.0, "recall[0]");
        assert_close(class0.f1, 0.8, "f1[0]");
        assert_eq!(class0.support, 2);
    }

    #[test]
    fn ua_ignores_class_absent_from_targets_but_macro_recall_does_not() {
        // confusion [[2,1,0],[0,1,1],[0,0,0]]: class 2 is predicted once but never a target.
        let r = classification_report(&[0, 0, 0, 1, 1], &[0, 0, 1, 1, 2], 3);
        assert_eq!(
            r.confusion,
            vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 0]]
        );
        assert_close(r.accuracy, 0.6, "accuracy");
        assert_close(r.unweighted_accuracy, (2.0 / 3.0 + 0.5) / 2.0, "ua");
        assert_close(r.macro_recall, (2.0 / 3.0 + 0.5) / 3.0, "macro_recall");
        assert_close(r.per_class[1].f1, 0.5, "f1[1]");
        assert_close(r.macro_f1, (0.8 + 0.5) / 3.0, "macro_f1");
        assert_close(r.weighted_f1, (0.8 * 3.0 + 0.5 * 2.0) / 5.0, "weighted_f1");
    }

    #[test]
    fn recall_std_is_numpy_std_over_the_classes_with_targets() {
        // Recalls 2/3 and 1/2 (class 2 has no targets): np.std([2/3, 1/2]) = 1/12.
        let r = classification_report(&[0, 0, 0, 1, 1], &[0, 0, 1, 1, 2], 3);
        assert_close(r.recall_std(), 1.0 / 12.0, "recall_std");
        let perfect = classification_report(&[0, 1], &[0, 1], 2);
        assert_close(perfect.recall_std(), 0.0, "equal recalls");
        assert_close(
            classification_report(&[], &[], 2).recall_std(),
            0.0,
            "empty",
        );
    }

    #[test]
    fn class_absent_everywhere_scores_zero_and_dilutes_macro_only() {
        let r = classification_report(&[0, 1, 0, 1], &[0, 1, 0, 1], 3);
        assert_eq!(
            r.per_class[2],
            ClassStats {
                precision: 0.0,
                recall: 0.0,
                f1: 0.0,
                support: 0
            }
        );
        assert_close(r.macro_f1, 2.0 / 3.0, "macro_f1");
        assert_close(r.weighted_f1, 1.0, "weighted_f1");
        assert_close(r.unweighted_accuracy, 1.0, "ua");
    }

    #[test]
    fn empty_input_gives_zeros_not_nan() {
        let r = classification_report(&[], &[], 4);
        let values = r.named_values(&names(4));
        assert!(values.iter().all(|(_, v)| *v == 0.0), "{values:?}");
        assert_eq!(r.confusion, vec![vec![0u64; 4]; 4]);
        assert_eq!(r.per_class.len(), 4);
    }

    #[test]
    #[should_panic(expected = "y_true has 2 labels but y_pred has 1")]
    fn mismatched_lengths_panic() {
        classification_report(&[0, 1], &[0], 2);
    }

    #[test]
    #[should_panic(expected = "y_pred[1] = 5 is not a class id below n_classes = 3")]
    fn out_of_range_label_panics() {
        classification_report(&[0, 1], &[0, 5], 3);
    }

    #[test]
    #[should_panic(expected = "1 class names for a report of 2 classes")]
    fn named_values_rejects_wrong_number_of_names() {
        classification_report(&[0, 1], &[0, 1], 2).named_values(&names(1));
    }

    #[test]
    fn named_values_order_and_names() {
        let r = classification_report(&[0, 1, 1], &[0, 1, 0], 2);
        let class_names = vec!["neutral".to_string(), "happy".to_string()];
        let keys: Vec<String> = r
            .named_values(&class_names)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let expected = [
            "accuracy",
            "ua",
            "weighted_f1",
            "macro_f1",
            "weighted_precision",
            "weighted_recall",
            "macro_precision",
            "macro_recall",
            "precision/neutral",
            "recall/neutral",
            "f1/neutral",
            "support/neutral",
            "precision/happy",
            "recall/happy",
            "f1/happy",
            "support/happy",
        ];
        assert_eq!(keys, expected);
        let values = r.named_values(&class_names);
        assert_eq!(values[1], ("ua".to_string(), 0.75));
        assert_eq!(values[15], ("support/happy".to_string(), 2.0));
    }

    #[test]
    fn serde_round_trip() {
        let r = classification_report(&[0, 1, 2, 2], &[0, 2, 2, 1], 3);
        let json = serde_json::to_string(&r).expect("serialize");
        let back: ClassificationReport = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, r);
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|c| format!("c{c}")).collect()
    }

    #[derive(Deserialize)]
    struct Fixture {
        sklearn_version: String,
        cases: Vec<FixtureCase>,
    }

    #[derive(Deserialize)]
    struct FixtureCase {
        name: String,
        n_classes: usize,
        y_true: Vec<usize>,
        y_pred: Vec<usize>,
        sklearn: SklearnNumbers,
    }

    #[derive(Deserialize)]
    struct SklearnNumbers {
        accuracy: f64,
        balanced_accuracy: f64,
        f1_weighted: f64,
        f1_macro: f64,
        precision_weighted: f64,
        precision_macro: f64,
        recall_weighted: f64,
        recall_macro: f64,
        per_class: SklearnPerClass,
        confusion: Vec<Vec<u64>>,
    }

    #[derive(Deserialize)]
    struct SklearnPerClass {
        precision: Vec<f64>,
        recall: Vec<f64>,
        f1: Vec<f64>,
        support: Vec<u64>,
    }

    /// Every case of `tests/fixtures/metrics/sklearn_cases.json`, written with scikit-learn by
    /// `scripts/dev/make_metrics_fixture.py`, to 1e-12.
    #[test]
    fn matches_scikit_learn() {
        let fixture: Fixture = serde_json::from_str(include_str!(
            "../../tests/fixtures/metrics/sklearn_cases.json"
        ))
        .expect("sklearn_cases.json parses");
        assert!(fixture.sklearn_version.starts_with('1'));
        assert!(fixture.cases.len() >= 12, "too few fixture cases");
        for case in &fixture.cases {
            check_case(case);
        }
    }

    fn check_case(case: &FixtureCase) {
        let r = classification_report(&case.y_true, &case.y_pred, case.n_classes);
        let sk = &case.sklearn;
        let name = &case.name;
        let averaged = [
            (r.accuracy, sk.accuracy, "accuracy"),
            (
                r.unweighted_accuracy,
                sk.balanced_accuracy,
                "balanced_accuracy",
            ),
            (r.weighted_f1, sk.f1_weighted, "f1_weighted"),
            (r.macro_f1, sk.f1_macro, "f1_macro"),
            (
                r.weighted_precision,
                sk.precision_weighted,
                "precision_weighted",
            ),
            (r.macro_precision, sk.precision_macro, "precision_macro"),
            (r.weighted_recall, sk.recall_weighted, "recall_weighted"),
            (r.macro_recall, sk.recall_macro, "recall_macro"),
        ];
        for (ours, theirs, key) in averaged {
            assert_close(ours, theirs, &format!("{name}: {key}"));
        }
        assert_eq!(
            r.per_class.len(),
            case.n_classes,
            "{name}: per_class length"
        );
        let expected = &sk.per_class;
        for (c, stats) in r.per_class.iter().enumerate() {
            assert_close(
                stats.precision,
                expected.precision[c],
                &format!("{name}: precision[{c}]"),
            );
            assert_close(
                stats.recall,
                expected.recall[c],
                &format!("{name}: recall[{c}]"),
            );
            assert_close(stats.f1, expected.f1[c], &format!("{name}: f1[{c}]"));
            assert_eq!(stats.support, expected.support[c], "{name}: support[{c}]");
        }
        assert_eq!(r.confusion, sk.confusion, "{name}: confusion");
    }
}
