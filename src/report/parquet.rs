//! `metrics.parquet` (long format) and `predictions.parquet`, written with polars.

use std::path::Path;

use anyhow::Context;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// One value of one metric: `stage, fold, epoch, split, metric, value, wall_s`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    pub stage: String,
    pub fold: u32,
    pub epoch: u32,
    pub split: String,
    pub metric: String,
    pub value: f64,
    /// Seconds since the fold started when the value was computed.
    pub wall_s: f64,
}

/// One utterance's prediction by the selected model.
///
/// `predictions.parquet` columns (docs/ARCHITECTURE.md): `stage, fold, split, utterance_id`,
/// then `target` and `prediction` (utf8; the class name, or for multi-label tasks the label set
/// as class names joined with `;` in class order, `""` for an empty set; null for pure
/// regression), `scores` (list<f32> in class order: softmax probabilities, or per-class sigmoids
/// for `multilabel_loss = "bce"`; empty for pure regression), and per regression target `t`
/// two f32 columns `target_<t>` and `prediction_<t>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRow {
    pub stage: String,
    pub fold: u32,
    pub split: String,
    pub utterance_id: String,
    pub target: Option<String>,
    pub prediction: Option<String>,
    /// Class scores in class order.
    pub scores: Vec<f32>,
    /// Regression targets and predictions, in `task.targets` order.
    #[serde(default)]
    pub regression: Vec<RegressionValue>,
}

/// One regression target of one utterance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionValue {
    pub target: String,
    pub truth: f32,
    pub predicted: f32,
}

pub fn write_metrics(path: &Path, rows: &[MetricRow]) -> anyhow::Result<()> {
    let mut df = DataFrame::new(vec![
        Column::new(
            "stage".into(),
            rows.iter().map(|r| r.stage.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "fold".into(),
            rows.iter().map(|r| r.fold).collect::<Vec<_>>(),
        ),
        Column::new(
            "epoch".into(),
            rows.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        ),
        Column::new(
            "split".into(),
            rows.iter().map(|r| r.split.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "metric".into(),
            rows.iter().map(|r| r.metric.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            rows.iter().map(|r| r.value).collect::<Vec<_>>(),
        ),
        Column::new(
            "wall_s".into(),
            rows.iter().map(|r| r.wall_s).collect::<Vec<_>>(),
        ),
    ])?;
    write_parquet(path, &mut df)
}

/// `folds.parquet`: `fold, split, utterance_id, train_only`, one row per utterance per fold
/// it takes part in (docs/ARCHITECTURE.md).
pub fn write_folds(path: &Path, rows: &[crate::data::plan::FoldMember]) -> anyhow::Result<()> {
    let mut df = DataFrame::new(vec![
        Column::new(
            "fold".into(),
            rows.iter().map(|r| r.fold).collect::<Vec<_>>(),
        ),
        Column::new(
            "split".into(),
            rows.iter().map(|r| r.split).collect::<Vec<_>>(),
        ),
        Column::new(
            "utterance_id".into(),
            rows.iter()
                .map(|r| r.utterance_id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "train_only".into(),
            rows.iter().map(|r| r.train_only).collect::<Vec<_>>(),
        ),
    ])?;
    write_parquet(path, &mut df)
}

/// The rows of a run's `folds.parquet` ([`write_folds`]), in file order; an error names the
/// file and what it lacks.
pub fn read_folds(path: &Path) -> anyhow::Result<Vec<crate::data::plan::FoldMember>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let df = ParquetReader::new(file)
        .finish()
        .with_context(|| format!("reading parquet {}", path.display()))?;
    let column = |name: &str| {
        df.column(name).with_context(|| {
            format!(
                "{}: no column {name:?}; expected fold, split, utterance_id, train_only",
                path.display()
            )
        })
    };
    let folds = column("fold")?.u32()?;
    let splits = column("split")?.str()?;
    let ids = column("utterance_id")?.str()?;
    let train_only = column("train_only")?.bool()?;
    (0..df.height())
        .map(|i| {
            let split = match splits.get(i) {
                Some("train") => "train",
                Some("valid") => "valid",
                Some("test") => "test",
                other => anyhow::bail!(
                    "{}: row {i} has split {other:?}; expected train, valid or test",
                    path.display()
                ),
            };
            Ok(crate::data::plan::FoldMember {
                fold: folds.get(i).context("a null fold")?,
                split,
                utterance_id: ids.get(i).context("a null utterance_id")?.to_string(),
                train_only: train_only.get(i).context("a null train_only")?,
            })
        })
        .collect()
}

pub fn write_predictions(path: &Path, rows: &[PredictionRow]) -> anyhow::Result<()> {
    let scores: Vec<Series> = rows
        .iter()
        .map(|r| Series::new(PlSmallStr::EMPTY, r.scores.as_slice()))
        .collect();
    let mut scores = Series::new("scores".into(), scores);
    if rows.is_empty() {
        scores = scores.cast(&DataType::List(Box::new(DataType::Float32)))?;
    }
    let mut columns = vec![
        Column::new(
            "stage".into(),
            rows.iter().map(|r| r.stage.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "fold".into(),
            rows.iter().map(|r| r.fold).collect::<Vec<_>>(),
        ),
        Column::new(
            "split".into(),
            rows.iter().map(|r| r.split.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "utterance_id".into(),
            rows.iter()
                .map(|r| r.utterance_id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "target".into(),
            rows.iter().map(|r| r.target.as_deref()).collect::<Vec<_>>(),
        ),
        Column::new(
            "prediction".into(),
            rows.iter()
                .map(|r| r.prediction.as_deref())
                .collect::<Vec<_>>(),
        ),
        scores.into(),
    ];
    columns.extend(regression_columns(rows));
    let mut df = DataFrame::new(columns)?;
    write_parquet(path, &mut df)
}

/// `target_<t>` and `prediction_<t>` for every regression target of the first row (every row
/// of a run has the same targets).
fn regression_columns(rows: &[PredictionRow]) -> Vec<Column> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let mut columns = Vec::new();
    for (k, value) in first.regression.iter().enumerate() {
        let column = |f: fn(&RegressionValue) -> f32| -> Vec<f32> {
            rows.iter().map(|r| f(&r.regression[k])).collect()
        };
        columns.push(Column::new(
            format!("target_{}", value.target).into(),
            column(|v| v.truth),
        ));
        columns.push(Column::new(
            format!("prediction_{}", value.target).into(),
            column(|v| v.predicted),
        ));
    }
    columns
}

pub(crate) fn write_parquet(path: &Path, df: &mut DataFrame) -> anyhow::Result<()> {
    crate::atomic::write_with(path, |tmp| {
        let file =
            std::fs::File::create(tmp).with_context(|| format!("creating {}", tmp.display()))?;
        ParquetWriter::new(file)
            .finish(df)
            .with_context(|| format!("writing parquet {}", tmp.display()))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_polars() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.parquet");
        let rows = vec![PredictionRow {
            stage: "main".into(),
            fold: 0,
            split: "test".into(),
            utterance_id: "Sess01_script01_User002M_001".into(),
            target: Some("happy".into()),
            prediction: Some("neutral".into()),
            scores: vec![0.6, 0.4],
            regression: vec![RegressionValue {
                target: "valence".into(),
                truth: 3.5,
                predicted: 3.25,
            }],
        }];
        write_predictions(&path, &rows).unwrap();
        let df = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert_eq!(df.shape(), (1, 9));
        let predicted = df
            .column("prediction_valence")
            .unwrap()
            .f32()
            .unwrap()
            .get(0);
        assert_eq!(predicted, Some(3.25));
        let scores = df
            .column("scores")
            .unwrap()
            .list()
            .unwrap()
            .get_as_series(0)
            .unwrap();
        assert_eq!(scores.f32().unwrap().get(1), Some(0.4));

        let members = vec![crate::data::plan::FoldMember {
            fold: 1,
            split: "valid",
            utterance_id: "u1".into(),
            train_only: false,
        }];
        let folds = dir.path().join("folds.parquet");
        write_folds(&folds, &members).unwrap();
        assert_eq!(read_folds(&folds).unwrap(), members);

        let metrics = dir.path().join("metrics.parquet");
        write_metrics(
            &metrics,
            &[MetricRow {
                stage: "main".into(),
                fold: 1,
                epoch: 2,
                split: "valid".into(),
                metric: "weighted_f1".into(),
                value: 0.5,
                wall_s: 1.0,
            }],
        )
        .unwrap();
        let df = ParquetReader::new(std::fs::File::open(&metrics).unwrap())
            .finish()
            .unwrap();
        assert_eq!(df.column("value").unwrap().f64().unwrap().get(0), Some(0.5));
    }
}
