//! `emo-run eval`'s table: aligned on the terminal, or CSV with the same columns and numbers.

use std::path::Path;

use anyhow::Context;

use crate::metrics::TaskReport;
use crate::report::summary::mean_std;

/// One row: a fold, or the mean over a stage's folds.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalRow {
    pub run: String,
    pub stage: String,
    /// The fold's name, or `mean` for the stage's row.
    pub fold: String,
    pub folds: usize,
    /// Test utterances scored (summed over the folds in a mean row).
    pub utterances: usize,
    pub loss: f64,
    /// Accuracy, weighted precision, recall and F1, the population std of the per-class
    /// recalls, each ×100; `None` for a task without a single-label class part.
    pub classification: Option<[f64; 5]>,
    /// Of the first fold's model in a mean row (they differ only by a trained vocabulary).
    pub trainable: usize,
    /// Seconds for the whole test split (summed over the folds in a mean row).
    pub inference_s: f64,
}

const HEADERS: [&str; 13] = [
    "run",
    "stage",
    "fold",
    "folds",
    "test_utterances",
    "loss",
    "accuracy",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
    "recall_std",
    "trainable_params",
    "inference_s",
];

impl EvalRow {
    #[allow(clippy::too_many_arguments)]
    pub fn fold(
        run: &str,
        stage: &str,
        fold: &str,
        loss: f64,
        report: &TaskReport,
        utterances: usize,
        trainable: usize,
        inference_s: f64,
    ) -> Self {
        let classification = report.classification.as_ref().map(|c| {
            [
                c.accuracy,
                c.weighted_precision,
                c.weighted_recall,
                c.weighted_f1,
                c.recall_std(),
            ]
            .map(|v| v * 100.0)
        });
        Self {
            run: run.to_string(),
            stage: stage.to_string(),
            fold: fold.to_string(),
            folds: 1,
            utterances,
            loss,
            classification,
            trainable,
            inference_s,
        }
    }

    /// The stage's row: each metric's mean over the folds (as `summary.json`), the utterances
    /// and seconds summed, the first fold's parameter count.
    pub fn mean(run: &str, stage: &str, folds: &[EvalRow]) -> Self {
        let mean =
            |f: &dyn Fn(&EvalRow) -> f64| mean_std(&folds.iter().map(f).collect::<Vec<_>>()).0;
        let classification = folds
            .iter()
            .all(|r| r.classification.is_some())
            .then(|| std::array::from_fn(|k| mean(&|r| r.classification.expect("checked")[k])));
        Self {
            run: run.to_string(),
            stage: stage.to_string(),
            fold: "mean".into(),
            folds: folds.len(),
            utterances: folds.iter().map(|r| r.utterances).sum(),
            loss: mean(&|r| r.loss),
            classification: classification.filter(|_| !folds.is_empty()),
            trainable: folds.first().map_or(0, |r| r.trainable),
            inference_s: folds.iter().map(|r| r.inference_s).sum(),
        }
    }

    /// The row's cells: rounded for the terminal, at full precision for the CSV.
    fn cells(&self, rounded: bool) -> Vec<String> {
        let number = |v: f64, decimals: usize| match rounded {
            true => format!("{v:.decimals$}"),
            false => v.to_string(),
        };
        let mut cells = vec![
            self.run.clone(),
            self.stage.clone(),
            self.fold.clone(),
            self.folds.to_string(),
            self.utterances.to_string(),
            number(self.loss, 4),
        ];
        match self.classification {
            Some(values) => cells.extend(values.map(|v| number(v, 2))),
            None => cells.extend(std::iter::repeat_n(String::new(), 5)),
        }
        cells.push(self.trainable.to_string());
        cells.push(number(self.inference_s, 3));
        cells
    }
}

/// The aligned table and a note on what its columns hold.
pub fn render(rows: &[EvalRow]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.cells(true)).collect();
    let widths: Vec<usize> = (0..HEADERS.len())
        .map(|k| {
            cells
                .iter()
                .map(|row| row[k].len())
                .chain([HEADERS[k].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: Vec<&str>| -> String {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(k, (cell, &w))| match k {
                0..=2 => format!("{cell:<w$}"),
                _ => format!("{cell:>w$}"),
            })
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(HEADERS.to_vec());
    for row in &cells {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out += "accuracy, weighted precision/recall/F1 and recall_std (population std of the per-class recalls) are x100; \
            a stage's row is the mean over its folds' test splits. inference_s: batching and the model's forward pass \
            (loss and scores read back included) over the whole test split, summed over folds; not reading the corpus, \
            audio, log-mel, tokenisation, frozen encoders or weights.\n";
    out
}

/// The rows as CSV, one header row, the table's columns with the numbers unrounded.
pub fn write_csv(path: &Path, rows: &[EvalRow]) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADERS)?;
    for row in rows {
        writer.write_record(row.cells(false))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing the CSV: {e}"))?;
    crate::atomic::write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::classification_report;

    fn report(y: &[usize], p: &[usize]) -> TaskReport {
        TaskReport {
            classification: Some(classification_report(y, p, 2)),
            ..Default::default()
        }
    }

    #[test]
    fn the_mean_row_averages_metrics_and_sums_time_and_utterances() {
        let a = EvalRow::fold("r", "main", "1", 1.0, &report(&[0, 1], &[0, 1]), 2, 10, 0.5);
        let b = EvalRow::fold("r", "main", "2", 3.0, &report(&[0, 1], &[0, 0]), 2, 12, 1.5);
        let mean = EvalRow::mean("r", "main", &[a, b]);
        assert_eq!(
            (mean.fold.as_str(), mean.folds, mean.utterances),
            ("mean", 2, 4)
        );
        assert_eq!(
            (mean.loss, mean.inference_s, mean.trainable),
            (2.0, 2.0, 10)
        );
        let [accuracy, .., recall_std] = mean.classification.unwrap();
        assert!((accuracy - 75.0).abs() < 1e-9, "{accuracy}");
        assert!((recall_std - 25.0).abs() < 1e-9, "{recall_std}");
        let table = render(&[mean]);
        assert!(table.starts_with("run  stage  fold"), "{table}");
        assert!(table.contains("75.00"), "{table}");
    }

    #[test]
    fn a_task_without_classes_leaves_the_class_columns_empty() {
        let row = EvalRow::fold("r", "main", "1", 0.5, &TaskReport::default(), 3, 1, 0.1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eval.csv");
        write_csv(&path, &[row]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("run,stage,fold,folds,test_utterances,loss,accuracy"),
            "{text}"
        );
        assert!(text.contains("r,main,1,1,3,0.5,,,,,,1,0.1"), "{text}");
    }
}
