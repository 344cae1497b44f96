//! `emo-run status MANIFEST`: where each cell of a job array stands, read from its run folders
//! alone (the manifest's names and hashes find them; no config is loaded, no corpus read).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dir::{DONE, FAILED, is_locked, runs_of};
use super::slurm::Manifest;

/// A cell's state, from its run folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellState {
    /// A run folder with `DONE`.
    Done,
    /// A process holds an unfinished run folder's lock.
    Running,
    /// An unfinished folder, not held, whose last attempt failed with an error (`FAILED`).
    Failed,
    /// An unfinished folder, not held, without `FAILED`: its process was killed or cancelled.
    Interrupted,
    /// No run folder yet.
    Pending,
}

impl CellState {
    pub const ALL: [CellState; 5] = [
        CellState::Done,
        CellState::Running,
        CellState::Failed,
        CellState::Interrupted,
        CellState::Pending,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CellState::Done => "done",
            CellState::Running => "running",
            CellState::Failed => "failed",
            CellState::Interrupted => "interrupted",
            CellState::Pending => "pending",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CellStatus {
    pub index: usize,
    pub name: String,
    pub state: CellState,
    /// The run folder the state was read from.
    pub run: Option<PathBuf>,
    /// The first line of `FAILED`, for a failed cell.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub manifest: PathBuf,
    pub cells: Vec<CellStatus>,
    pub counts: std::collections::BTreeMap<&'static str, usize>,
}

/// Every cell of the manifest at `path`, with counts per state.
pub fn status(manifest: &Manifest, path: &Path) -> anyhow::Result<Status> {
    let cells = manifest
        .cells
        .iter()
        .map(|cell| {
            let (state, run, error) =
                cell_state(&manifest.runs_dir, &cell.name, &cell.config_hash)?;
            Ok(CellStatus {
                index: cell.index,
                name: cell.name.clone(),
                state,
                run,
                error,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let counts = CellState::ALL
        .iter()
        .map(|s| (s.label(), cells.iter().filter(|c| c.state == *s).count()))
        .collect();
    Ok(Status {
        manifest: path.to_path_buf(),
        cells,
        counts,
    })
}

/// A running attempt wins over a finished one (a forced rerun), a finished one over leftovers;
/// otherwise the newest unfinished folder tells how the last attempt ended.
fn cell_state(
    runs_dir: &Path,
    name: &str,
    hash: &str,
) -> anyhow::Result<(CellState, Option<PathBuf>, Option<String>)> {
    let runs = runs_of(runs_dir, name, hash)?;
    let (finished, unfinished): (Vec<&PathBuf>, Vec<&PathBuf>) =
        runs.iter().partition(|r| r.join(DONE).exists());
    for run in &unfinished {
        if is_locked(run)? {
            return Ok((CellState::Running, Some(run.to_path_buf()), None));
        }
    }
    if let Some(run) = finished.first() {
        return Ok((CellState::Done, Some(run.to_path_buf()), None));
    }
    let Some(run) = unfinished.first() else {
        return Ok((CellState::Pending, None, None));
    };
    match std::fs::read_to_string(run.join(FAILED)) {
        Ok(text) => {
            let first = text.lines().next().unwrap_or_default().to_string();
            Ok((CellState::Failed, Some(run.to_path_buf()), Some(first)))
        }
        Err(_) => Ok((CellState::Interrupted, Some(run.to_path_buf()), None)),
    }
}

/// `emo-run status`'s output for the manifest at `path`: a table, or JSON.
pub fn report(path: &Path, json: bool) -> anyhow::Result<String> {
    let status = status(&Manifest::read(path)?, path)?;
    if json {
        Ok(serde_json::to_string_pretty(&status)? + "\n")
    } else {
        Ok(render(&status))
    }
}

/// One line per cell, then the counts.
pub fn render(status: &Status) -> String {
    let mut out = String::new();
    for cell in &status.cells {
        let detail = match (&cell.error, &cell.run) {
            (Some(error), _) => error.clone(),
            (None, Some(run)) => run.display().to_string(),
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "{:>4}  {:<11}  {}  {}\n",
            cell.index,
            cell.state.label(),
            cell.name,
            detail
        ));
    }
    let counts: Vec<String> = CellState::ALL
        .iter()
        .map(|s| format!("{} {}", status.counts[s.label()], s.label()))
        .collect();
    out.push_str(&format!(
        "{} cells: {}\n",
        status.cells.len(),
        counts.join(", ")
    ));
    out
}
