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
/// The error of the last attempt, written when a run fails while it runs (not when it is
/// killed), removed when the run is resumed or finishes: it tells a failed run from an
/// interrupted one (`emo-run status`).
pub const FAILED: &str = "FAILED";
const LOCK: &str = ".lock";
/// How long to wait for a lock that is held: `emo-run status` holds a run's lock for a moment
/// to test it, and a run starting in that moment must not take it for another run.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

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
        if state == RunState::Resume {
            remove_failed_mark(&path)?;
        }
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
        remove_failed_mark(&self.path)?;
        crate::atomic::write_atomic(&self.file(DONE), chrono::Utc::now().to_rfc3339().as_bytes())
    }

    /// Record why the run failed (the error with its causes) in `FAILED`.
    pub fn mark_failed(&self, error: &anyhow::Error) -> anyhow::Result<()> {
        crate::atomic::write_atomic(&self.file(FAILED), format!("{error:#}\n").as_bytes())
    }
}

fn remove_failed_mark(run: &Path) -> anyhow::Result<()> {
    let path = run.join(FAILED);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Every run folder of this config under `runs_dir/name`, newest first (nothing is created).
pub fn runs_of(runs_dir: &Path, name: &str, hash: &str) -> anyhow::Result<Vec<PathBuf>> {
    let parent = runs_dir.join(name);
    if !parent.is_dir() {
        return Ok(Vec::new());
    }
    find_runs(&parent, hash)
}

/// Whether a process holds the run's lock now, i.e. is running it. A process that died (even
/// by `kill -9`) holds nothing: the lock goes with it.
pub fn is_locked(run: &Path) -> anyhow::Result<bool> {
    FileLock::is_held(&run.join(LOCK))
}

/// The newest finished run of this config under `runs_dir/name`, if any (nothing is created).
pub fn finished_run(runs_dir: &Path, name: &str, hash: &str) -> anyhow::Result<Option<PathBuf>> {
    Ok(runs_of(runs_dir, name, hash)?
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
    let started = std::time::Instant::now();
    loop {
        match FileLock::try_acquire(&lock_path)? {
            TryLock::Held(lock) => return Ok(lock),
            TryLock::Busy if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            TryLock::Busy => bail!(
                "{} is in use by another emo-run process (lock {}); wait for it or run with other settings",
                path.display(),
                lock_path.display()
            ),
        }
    }
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

    #[test]
    fn a_held_lock_is_seen_and_a_failure_mark_lasts_until_the_resume() {
        let root = tempfile::tempdir().unwrap();
        let run = RunDir::open(root.path(), "exp", "abc", false).unwrap();
        let path = run.path.clone();
        assert!(is_locked(&path).unwrap());
        run.mark_failed(&anyhow::anyhow!("boom")).unwrap();
        drop(run);
        assert!(!is_locked(&path).unwrap());
        assert_eq!(
            std::fs::read_to_string(path.join(FAILED)).unwrap(),
            "boom\n"
        );
        assert_eq!(
            runs_of(root.path(), "exp", "abc").unwrap(),
            std::slice::from_ref(&path)
        );
        let resumed = RunDir::open(root.path(), "exp", "abc", false).unwrap();
        assert_eq!(resumed.state, RunState::Resume);
        assert!(!path.join(FAILED).exists());
        assert!(runs_of(root.path(), "nothing", "abc").unwrap().is_empty());
    }
}
