//! Multi-label metrics over multi-hot targets, scikit-learn conventions (zero division -> 0).
//!
//! Seed 004 reports `f1_score(y, p, average="micro")` and `total_acc = mean(p == y)`, the
//! per-slot (Hamming) accuracy over every (utterance, class) cell; `subset_accuracy` is
//! `accuracy_score` on multi-hot rows (every slot right).

pub use crate::config::names::MULTILABEL_METRICS;
use serde::{Deserialize, Serialize};

/// Every metric of one multi-label evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultilabelReport {
    /// `f1_score(average="micro")`: `2tp / (2tp + fp + fn)` over all cells.
    pub micro_f1: f64,
    pub micro_precision: f64,
    pub micro_recall: f64,
    /// `f1_score(average="macro")` over every configured class.
    pub macro_f1: f64,
    /// Share of (utterance, class) cells predicted right: `1 - hamming_loss`.
    pub hamming_accuracy: f64,
    /// Share of utterances whose whole label set is right.
    pub subset_accuracy: f64,
    /// F1 per class, indexed by class id.
    pub per_class_f1: Vec<f64>,
    /// Targets per class.
    pub support: Vec<u64>,
}

/// Cell counts of one class (or of all classes together, for the micro average).
#[derive(Default, Clone, Copy)]
struct Counts {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Counts {
    fn add(&mut self, target: bool, predicted: bool) {
        match (target, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => {}
        }
    }
    fn f1(self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

/// Metrics of multi-hot `y_pred` against multi-hot `y_true` (one row per utterance, one slot
/// per class). Empty input gives zeros, as the classification report does.
///
/// # Panics
/// When the row counts differ or a row does not have `n_classes` slots (a caller bug).
pub fn multilabel_report(
    y_true: &[Vec<bool>],
    y_pred: &[Vec<bool>],
    n_classes: usize,
) -> MultilabelReport {
    assert_eq!(
        y_true.len(),
        y_pred.len(),
        "multilabel_report: row counts differ"
    );
    let mut per_class = vec![Counts::default(); n_classes];
    let (mut cells_right, mut rows_right) = (0u64, 0u64);
    for (t, p) in y_true.iter().zip(y_pred) {
        assert!(
            t.len() == n_classes && p.len() == n_classes,
            "multilabel_report: rows must have {n_classes} slots"
        );
        let mut row_right = true;
        for (c, counts) in per_class.iter_mut().enumerate() {
            counts.add(t[c], p[c]);
            if t[c] == p[c] {
                cells_right += 1;
            } else {
                row_right = false;
            }
        }
        rows_right += u64::from(row_right);
    }
    let micro = per_class.iter().fold(Counts::default(), |a, c| Counts {
        tp: a.tp + c.tp,
        fp: a.fp + c.fp,
        fn_: a.fn_ + c.fn_,
    });
    let per_class_f1: Vec<f64> = per_class.iter().map(|c| c.f1()).collect();
    MultilabelReport {
        micro_f1: micro.f1(),
        micro_precision: ratio(micro.tp, micro.tp + micro.fp),
        micro_recall: ratio(micro.tp, micro.tp + micro.fn_),
        macro_f1: if n_classes == 0 {
            0.0
        } else {
            per_class_f1.iter().sum::<f64>() / n_classes as f64
        },
        hamming_accuracy: ratio(cells_right, (y_true.len() * n_classes) as u64),
        subset_accuracy: ratio(rows_right, y_true.len() as u64),
        support: per_class.iter().map(|c| c.tp + c.fn_).collect(),
        per_class_f1,
    }
}

impl MultilabelReport {
    /// The averaged metrics, then `f1/<class>` and `support/<class>` per class.
    pub fn named_values(&self, class_names: &[String]) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = [
            ("micro_f1", self.micro_f1),
            ("macro_f1", self.macro_f1),
            ("micro_precision", self.micro_precision),
            ("micro_recall", self.micro_recall),
            ("hamming_accuracy", self.hamming_accuracy),
            ("subset_accuracy", self.subset_accuracy),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
        for ((name, f1), support) in class_names
            .iter()
            .zip(&self.per_class_f1)
            .zip(&self.support)
        {
            out.push((format!("f1/{name}"), *f1));
            out.push((format!("support/{name}"), *support as f64));
        }
        out
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(r: &[&[u8]]) -> Vec<Vec<bool>> {
        r.iter()
            .map(|row| row.iter().map(|&v| v == 1).collect())
            .collect()
    }

    /// By hand: targets [[1,0,0],[1,1,0],[0,0,1]], predictions [[1,0,0],[1,0,0],[0,1,0]].
    /// Cells: tp 2 (r0c0, r1c0), fp 1 (r2c1), fn 2 (r1c1, r2c2), 4 wrong of 9.
    #[test]
    fn matches_hand_arithmetic() {
        let t = rows(&[&[1, 0, 0], &[1, 1, 0], &[0, 0, 1]]);
        let p = rows(&[&[1, 0, 0], &[1, 0, 0], &[0, 1, 0]]);
        let r = multilabel_report(&t, &p, 3);
        assert!((r.micro_f1 - 4.0 / 7.0).abs() < 1e-12, "{}", r.micro_f1);
        assert!((r.micro_precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.micro_recall - 0.5).abs() < 1e-12);
        assert!((r.hamming_accuracy - 6.0 / 9.0).abs() < 1e-12);
        assert!((r.subset_accuracy - 1.0 / 3.0).abs() < 1e-12);
        // class 0: tp 2 -> f1 1; class 1: tp 0 fp 1 fn 1 -> 0; class 2: fn 1 -> 0.
        assert_eq!(r.per_class_f1, vec![1.0, 0.0, 0.0]);
        assert!((r.macro_f1 - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.support, vec![2, 1, 1]);
    }

    #[test]
    fn empty_input_scores_zero() {
        let r = multilabel_report(&[], &[], 4);
        assert_eq!(
            (r.micro_f1, r.hamming_accuracy, r.subset_accuracy),
            (0.0, 0.0, 0.0)
        );
    }
}
