//! The run directory: where it lives, how a rerun finds it, and the lock that keeps two
//! processes out of one run.
//!
//! `runs/<name>/<run-id>` with run-id = UTC start time + the run's identity hash (the first 12
//! hex digits of the blake3 hash of `identity.toml`, see [`super::identity`]). A rerun of the
//! same experiment on the same data finds the folder by its hash: an unfinished one (no `DONE`)
//! is resumed, a finished one is skipped unless forced.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::lock::{FileLock, TryLock};

pub const DONE: &str = "DONE";
const LOCK: &str = ".lock";

/// What to do with the folder found for a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// No run of this config yet: a new folder was created.
    New,
    /// An unfinished run: continue where it stopped.
    Resume,
    /// A finished run, and no `--force`.
    Finished,
}

/// An open run directory, locked for this process while the value lives.
#[derive(Debug)]
pub struct RunDir {
    pub path: PathBuf,
    pub state: RunState,
    _lock: FileLock,
}

impl RunDir {
    /// Find this config's run under `runs_dir/name`, or create one. With `force`, a finished run
    /// is left alone and a new folder is made.
    pub fn open(runs_dir: &Path, name: &str, hash: &str, force: bool) -> anyhow::Result<Self> {
        let parent = runs_dir.join(name);
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let existing = find_runs(&parent, hash)?;
        let unfinished = existing.iter().find(|p| !p.join(DONE).exists());
        let finished = existing.iter().find(|p| p.join(DONE).exists());
        let (path, state) = match (unfinished, finished) {
            (Some(path), _) => (path.clone(), RunState::Resume),
            (None, Some(path)) if !force => (path.clone(), RunState::Finished),
            _ => (create_run_dir(&parent, hash)?, RunState::New),
        };
        let lock = lock_run(&path)?;
        Ok(Self {
            path,
            state,
            _lock: lock,
        })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn fold_dir(&self, stage: &str, fold: usize) -> PathBuf {
        self.path
            .join("checkpoints")
            .join(stage)
            .join(format!("fold-{fold}"))
    }

    pub fn mark_done(&self) -> anyhow::Result<()> {
        crate::atomic::write_atomic(&self.file(DONE), chrono::Utc::now().to_rfc3339().as_bytes())
    }
}

/// The newest finished run of this config under `runs_dir/name`, if any (nothing is created).
pub fn finished_run(runs_dir: &Path, name: &str, hash: &str) -> anyhow::Result<Option<PathBuf>> {
    let parent = runs_dir.join(name);
    if !parent.is_dir() {
        return Ok(None);
    }
    Ok(find_runs(&parent, hash)?
        .into_iter()
        .find(|p| p.join(DONE).exists()))
}

/// Run folders under `parent` whose id ends with `-<hash>`, newest first.
fn find_runs(parent: &Path, hash: &str) -> anyhow::Result<Vec<PathBuf>> {
    let suffix = format!("-{hash}");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(parent)
        .with_context(|| format!("listing {}", parent.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(&suffix))
        })
        .collect();
    runs.sort();
    runs.reverse();
    Ok(runs)
}

/// A new folder, never an existing one: two runs started in the same millisecond get distinct
/// names.
fn create_run_dir(parent: &Path, hash: &str) -> anyhow::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    for attempt in 0..1000 {
        let name = match attempt {
            0 => format!("{stamp}-{hash}"),
            n => format!("{stamp}.{n}-{hash}"),
        };
        let path = parent.join(name);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    bail!(
        "could not create a new run folder under {}",
        parent.display()
    )
}

fn lock_run(path: &Path) -> anyhow::Result<FileLock> {
    let lock_path = path.join(LOCK);
    match FileLock::try_acquire(&lock_path)? {
        TryLock::Held(lock) => Ok(lock),
        TryLock::Busy => bail!(
            "{} is in use by another emo-run process (lock {}); wait for it or run with other settings",
            path.display(),
            lock_path.display()
        ),
    }
}

/// Whether a process is running in the run folder `path` now.
pub fn is_running(path: &Path) -> anyhow::Result<bool> {
    FileLock::is_held(&path.join(LOCK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_resumes_and_skips_by_hash() {
        let root = tempfile::tempdir().unwrap();
        let first = RunDir::open(root.path(), "exp", "abc", false).unwrap();
        assert_eq!(first.state, RunState::New);
        let path = first.path.clone();
        drop(first);
        let again = RunDir::open(root.path(), "exp", "abc", false).unwrap();
        assert_eq!(
            (again.state.clone(), again.path.clone()),
            (RunState::Resume, path.clone())
        );
        again.mark_done().unwrap();
        drop(again);
        let done = RunDir::open(root.path(), "exp", "abc", false).unwrap();
        assert_eq!(done.state, RunState::Finished);
        drop(done);
        let forced = RunDir::open(root.path(), "exp", "abc", true).unwrap();
        assert_eq!(forced.state, RunState::New);
        assert_ne!(forced.path, path);
        let other = RunDir::open(root.path(), "exp", "def", false).unwrap();
        assert_eq!(other.state, RunState::New);
    }

    #[test]
    fn a_second_process_cannot_share_a_run() {
        let root = tempfile::tempdir().unwrap();
        let held = RunDir::open(root.path(), "exp", "abc", false).unwrap();
        let err = RunDir::open(root.path(), "exp", "abc", false).unwrap_err();
        assert!(
            err.to_string()
                .contains("in use by another emo-run process"),
            "{err}"
        );
        drop(held);
    }
}
