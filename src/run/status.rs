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
    /// The last attempt stopped on an error: in its run folder (`FAILED`), or before it had one
    /// (the task's failure mark, see `slurm::failure_mark`).
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
            let mark = super::slurm::failure_mark(path, cell.index);
            let (state, run, error) =
                cell_state(&manifest.runs_dir, &cell.name, &cell.identity, &mark)?;
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

/// A running attempt wins over a finished one (a forced rerun), a finished one over leftovers.
/// Otherwise the last attempt's error tells how it ended: the task's `failure_mark` (written
/// when it stopped before reaching a run folder, cleared when a task starts), else the newest
/// unfinished folder's `FAILED`, else that folder was interrupted.
fn cell_state(
    runs_dir: &Path,
    name: &str,
    hash: &str,
    failure_mark: &Path,
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
    let run = unfinished.first().map(|r| r.to_path_buf());
    let error =
        first_line(failure_mark).or_else(|| run.as_ref().and_then(|r| first_line(&r.join(FAILED))));
    Ok(match (error, run) {
        (Some(error), run) => (CellState::Failed, run, Some(error)),
        (None, Some(run)) => (CellState::Interrupted, Some(run), None),
        (None, None) => (CellState::Pending, None, None),
    })
}

/// The first line of an error file, if there is one.
fn first_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.lines().next().unwrap_or_default().to_string())
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
