//! Result tables: metrics and predictions as parquet, summaries as JSON and Markdown.

pub mod data;
pub mod fold_result;
pub mod logits;
pub mod npy;
pub mod parquet;
pub mod summary;

pub use fold_result::FoldResult;
pub use parquet::{
    MetricRow, PredictionRow, RegressionValue, read_folds, write_folds, write_metrics,
    write_predictions,
};
