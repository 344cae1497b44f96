//! What one finished fold contributes to the run's tables and summary.

use serde::{Deserialize, Serialize};

use super::{MetricRow, PredictionRow};
use crate::metrics::TaskReport;
use crate::params::ModuleParams;

/// What a finished fold contributes to the run's tables; stored as `result.json` so that a
/// resumed run does not retrain it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FoldResult {
    pub fold: usize,
    /// The fold's name (`happy` under `per_emotion`, else its 1-based number).
    #[serde(default)]
    pub name: String,
    pub best_epoch: usize,
    pub metrics: Vec<MetricRow>,
    pub predictions: Vec<PredictionRow>,
    pub test: TaskReport,
    pub parameters: Vec<ModuleParams>,
}
