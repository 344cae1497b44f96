//! Inference from finished run folders (docs/PREDICT.md): `emo-run predict` scores new
//! utterances with one fold's selected weights, `emo-run eval` scores every fold's test split
//! again and times it. Both open the run with `run::saved` and prepare inputs with
//! `run::inputs`, the code a run trains with.

pub mod eval;
pub mod predict;
mod table;

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::Device;

use crate::config::Experiment;
use crate::device::{DeviceChoice, parse_device};

/// What both commands take from the command line besides the run.
#[derive(Debug, Clone)]
pub struct InferOptions {
    /// `--device`; the run's own `device` when absent.
    pub device: Option<String>,
    /// Root of the frozen encoders' feature cache.
    pub cache_dir: PathBuf,
    pub quiet: bool,
}

impl InferOptions {
    /// The device to score on: `--device`, else the experiment's `device` key.
    fn device(&self, exp: &Experiment, resolved: &Path) -> anyhow::Result<(DeviceChoice, Device)> {
        let (name, origin) = match &self.device {
            Some(name) => (name.as_str(), "--device".to_string()),
            None => (
                exp.device.as_str(),
                format!(
                    "key `device` of {} (pass --device flex to score on the CPU)",
                    resolved.display()
                ),
            ),
        };
        let choice = parse_device(name).map_err(anyhow::Error::msg);
        let choice = choice.with_context(|| origin.clone())?;
        let device = choice.device().with_context(|| origin)?;
        Ok((choice, device))
    }
}
