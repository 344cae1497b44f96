//! Reading one finished run folder (README.md, "The run directory"): what the report needs of
//! its summary, model size, classes, folds, per-epoch metrics and test predictions. Every
//! error names the file it came from.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use polars::prelude::*;
use serde::Deserialize;

use crate::report::MetricRow;
use crate::report::summary::{MetricSummary, Summary};

/// A finished run, as the report sees it.
#[derive(Debug, Clone)]
pub struct Run {
    pub path: PathBuf,
    /// The experiment (or sweep cell) name from `summary.json`.
    pub name: String,
    /// `fusion.method`.
    pub method: String,
    /// `task.kind` of `resolved.toml` (`classification` when the file leaves it out).
    pub task: String,
    /// Whether targets and predictions are label sets (`;`-joined class names): multilabel, or
    /// multitask with `dataset.multi_label = "all"`.
    pub multi_hot: bool,
    /// Class names in class order (`data.json`; empty for pure regression).
    pub classes: Vec<String>,
    /// The test metrics of the run's stage: mean, std and per fold.
    pub summary: Summary,
    /// Trainable parameters of fold 1's model (`model.json`).
    pub trainable: Option<u64>,
    /// Training seconds summed over folds (each fold's last `wall_s` in `metrics.parquet`).
    pub wall_s: Option<f64>,
    /// blake3 of the sorted rows of `folds.parquet`: equal exactly when two runs share folds.
    pub folds_hash: String,
    /// The stage's rows of `metrics.parquet`.
    pub epochs: Vec<MetricRow>,
    /// The stage's test rows of `predictions.parquet`, all folds pooled.
    pub test: Vec<TestPrediction>,
    /// Regression targets, in the order of [`TestPrediction::regression`].
    pub regression_targets: Vec<String>,
}

/// One test utterance's target and prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPrediction {
    pub fold: u32,
    /// The class name, or `;`-joined class names (multi-label); `None` for pure regression.
    pub target: Option<String>,
    pub prediction: Option<String>,
    /// (truth, predicted) per regression target.
    pub regression: Vec<(f32, f32)>,
}

impl Run {
    /// The test metric `name` of the summary, if the run's task has it.
    pub fn metric(&self, name: &str) -> Option<&MetricSummary> {
        self.summary.metric(name)
    }
}

/// Read the finished run at `path` (the caller checked its `DONE`): one [`Run`] per stage, named
/// `<name>/<stage>` when the run has several (docs/STAGES.md).
pub fn load_runs(path: &Path) -> anyhow::Result<Vec<Run>> {
    let summary_file: SummaryFile = read_json(&path.join("summary.json"))?;
    if summary_file.stages.is_empty() {
        bail!(
            "{}: no stage in `stages`",
            path.join("summary.json").display()
        );
    }
    let named = summary_file.stages.len() > 1;
    let data: DataFile = read_json(&path.join("data.json"))?;
    let folds_hash = folds_hash(&path.join("folds.parquet"))?;
    summary_file
        .stages
        .iter()
        .map(|summary| {
            // A multi-stage run keeps each stage's experiment and model in stages/<stage>/.
            let own = path.join("stages").join(&summary.stage);
            let folder = if named { own.as_path() } else { path };
            let stage = summary.stage.clone();
            let model: ModelFile = read_json(&folder.join("model.json"))?;
            let epochs = read_metrics(&path.join("metrics.parquet"), &stage)?;
            let (test, regression_targets) =
                read_test_predictions(&path.join("predictions.parquet"), &stage)?;
            let task = TaskSettings::read(&folder.join("resolved.toml"))?;
            Ok(Run {
                path: path.to_path_buf(),
                name: match named {
                    true => format!("{}/{stage}", summary_file.name),
                    false => summary_file.name.clone(),
                },
                method: match summary.method.is_empty() {
                    true => summary_file.fusion.clone(),
                    false => summary.method.clone(),
                },
                multi_hot: task.multi_hot(),
                task: task.kind,
                classes: data.classes.clone(),
                trainable: model.trainable,
                wall_s: training_seconds(&epochs),
                folds_hash: folds_hash.clone(),
                summary: summary.clone(),
                epochs,
                test,
                regression_targets,
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct SummaryFile {
    name: String,
    fusion: String,
    stages: Vec<Summary>,
}

#[derive(Deserialize)]
struct DataFile {
    #[serde(default)]
    classes: Vec<String>,
}

#[derive(Deserialize)]
struct ModelFile {
    trainable: Option<u64>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a valid run file", path.display()))
}

/// The task settings of `resolved.toml` that decide how predictions are scored.
struct TaskSettings {
    kind: String,
    multi_label: String,
}

impl TaskSettings {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}: not valid TOML", path.display()))?;
        let key = |section: &str, key: &str, default: &str| {
            table
                .get(section)
                .and_then(|t| t.get(key))
                .and_then(|k| k.as_str())
                .unwrap_or(default)
                .to_string()
        };
        Ok(Self {
            kind: key("task", "kind", "classification"),
            multi_label: key("dataset", "multi_label", "drop"),
        })
    }

    /// As `TaskSpec::from_experiment` decides it.
    fn multi_hot(&self) -> bool {
        self.kind == "multilabel" || (self.kind == "multitask" && self.multi_label == "all")
    }
}

fn read_parquet(path: &Path) -> anyhow::Result<DataFrame> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    ParquetReader::new(file)
        .finish()
        .with_context(|| format!("{}: not a readable parquet file", path.display()))
}

/// A column of `df` as strings, u32s, ... with an error naming the file and column.
fn column<'a>(df: &'a DataFrame, path: &Path, name: &str) -> anyhow::Result<&'a Column> {
    df.column(name)
        .with_context(|| format!("{}: no column `{name}`", path.display()))
}

fn strings(df: &DataFrame, path: &Path, name: &str) -> anyhow::Result<Vec<Option<String>>> {
    let column = column(df, path, name)?
        .str()
        .with_context(|| format!("{}: column `{name}` is not text", path.display()))?;
    Ok(column.into_iter().map(|v| v.map(str::to_string)).collect())
}

fn u32s(df: &DataFrame, path: &Path, name: &str) -> anyhow::Result<Vec<u32>> {
    let column = column(df, path, name)?
        .u32()
        .with_context(|| format!("{}: column `{name}` is not u32", path.display()))?;
    column
        .into_iter()
        .map(|v| v.with_context(|| format!("{}: a null in column `{name}`", path.display())))
        .collect()
}

fn floats(df: &DataFrame, path: &Path, name: &str) -> anyhow::Result<Vec<f64>> {
    let column = column(df, path, name)?
        .cast(&DataType::Float64)
        .with_context(|| format!("{}: column `{name}` is not numeric", path.display()))?;
    Ok(column
        .f64()
        .with_context(|| format!("{}: column `{name}` is not numeric", path.display()))?
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// Whether row `i` of a table with a `stage` column belongs to `stage`.
fn in_stage(stages: &[Option<String>], i: usize, stage: &str) -> bool {
    stages[i].as_deref() == Some(stage)
}

fn read_metrics(path: &Path, stage: &str) -> anyhow::Result<Vec<MetricRow>> {
    let df = read_parquet(path)?;
    let stages = strings(&df, path, "stage")?;
    let (folds, epochs) = (u32s(&df, path, "fold")?, u32s(&df, path, "epoch")?);
    let (splits, metrics) = (strings(&df, path, "split")?, strings(&df, path, "metric")?);
    let values = floats(&df, path, "value")?;
    // Runs from before `wall_s` was recorded read as NaN: no wall time in the table.
    let wall = match df.column("wall_s") {
        Ok(_) => floats(&df, path, "wall_s")?,
        Err(_) => vec![f64::NAN; df.height()],
    };
    Ok((0..df.height())
        .filter(|&i| in_stage(&stages, i, stage))
        .map(|i| MetricRow {
            stage: stage.to_string(),
            fold: folds[i],
            epoch: epochs[i],
            split: splits[i].clone().unwrap_or_default(),
            metric: metrics[i].clone().unwrap_or_default(),
            value: values[i],
            wall_s: wall[i],
        })
        .collect())
}

/// Seconds of training summed over the folds: each fold's largest `wall_s` (its test rows carry
/// the fold's training time). `None` when the run did not record it.
fn training_seconds(epochs: &[MetricRow]) -> Option<f64> {
    let mut per_fold: std::collections::BTreeMap<u32, f64> = Default::default();
    for row in epochs.iter().filter(|r| r.wall_s.is_finite()) {
        let longest = per_fold.entry(row.fold).or_insert(0.0);
        *longest = longest.max(row.wall_s);
    }
    (!per_fold.is_empty()).then(|| per_fold.values().sum())
}

fn read_test_predictions(
    path: &Path,
    stage: &str,
) -> anyhow::Result<(Vec<TestPrediction>, Vec<String>)> {
    let df = read_parquet(path)?;
    let stages = strings(&df, path, "stage")?;
    let folds = u32s(&df, path, "fold")?;
    let splits = strings(&df, path, "split")?;
    let targets = strings(&df, path, "target")?;
    let predictions = strings(&df, path, "prediction")?;
    let regression_targets: Vec<String> = df
        .get_column_names()
        .iter()
        .filter_map(|name| name.strip_prefix("target_").map(str::to_string))
        .collect();
    let regression: Vec<(Vec<f64>, Vec<f64>)> = regression_targets
        .iter()
        .map(|t| {
            Ok((
                floats(&df, path, &format!("target_{t}"))?,
                floats(&df, path, &format!("prediction_{t}"))?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let rows = (0..df.height())
        .filter(|&i| in_stage(&stages, i, stage) && splits[i].as_deref() == Some("test"))
        .map(|i| TestPrediction {
            fold: folds[i],
            target: targets[i].clone(),
            prediction: predictions[i].clone(),
            regression: regression
                .iter()
                .map(|(truth, predicted)| (truth[i] as f32, predicted[i] as f32))
                .collect(),
        })
        .collect();
    Ok((rows, regression_targets))
}

/// blake3 over `fold, split, utterance_id, train_only` of every row, sorted: the same hash
/// exactly when two runs put the same utterances in the same splits of the same folds, in
/// whatever order the rows were written.
fn folds_hash(path: &Path) -> anyhow::Result<String> {
    let df = read_parquet(path)?;
    let folds = u32s(&df, path, "fold")?;
    let splits = strings(&df, path, "split")?;
    let ids = strings(&df, path, "utterance_id")?;
    let train_only = column(&df, path, "train_only")?
        .bool()
        .with_context(|| format!("{}: column `train_only` is not boolean", path.display()))?;
    let mut rows: Vec<String> = (0..df.height())
        .map(|i| {
            format!(
                "{}\t{}\t{}\t{}\n",
                folds[i],
                splits[i].as_deref().unwrap_or(""),
                ids[i].as_deref().unwrap_or(""),
                train_only.get(i).unwrap_or(false)
            )
        })
        .collect();
    rows.sort();
    let mut hasher = blake3::Hasher::new();
    for row in &rows {
        hasher.update(row.as_bytes());
    }
    Ok(hasher.finalize().to_hex().to_string())
}
