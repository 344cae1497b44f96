//! Advisory file locks between emo-run processes: concurrent cells of a grid (`--jobs`, a Slurm
//! array) share one synthetic corpus, one feature cache and one runs folder.
//!
//! The operating system releases a lock when its holder exits, `kill -9` included, so a lock
//! never outlives a crashed process and nothing has to be cleaned up by hand. The lock file
//! itself stays; it holds nothing.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// The outcome of a non-blocking attempt.
pub enum TryLock {
    Held(FileLock),
    /// Another process holds it.
    Busy,
}

fn open_lock_file(path: &Path) -> anyhow::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("creating the lock file {}", path.display()))
}

impl FileLock {
    /// Take the lock at `path`, waiting for another holder to let go. `what` names the work it
    /// guards, for the log line a wait writes.
    pub fn acquire(path: &Path, what: &str) -> anyhow::Result<Self> {
        match Self::try_acquire(path)? {
            TryLock::Held(lock) => return Ok(lock),
            TryLock::Busy => {}
        }
        tracing::info!(lock = %path.display(), "waiting for another emo-run process {what}");
        let file = open_lock_file(path)?;
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
        Ok(Self { _file: file })
    }

    /// Take the lock at `path` if nobody holds it.
    pub fn try_acquire(path: &Path) -> anyhow::Result<TryLock> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(TryLock::Held(Self { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(TryLock::Busy),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// Whether some process holds the lock at `path` now (a missing file: nobody).
    pub fn is_held(path: &Path) -> anyhow::Result<bool> {
        if !path.exists() {
            return Ok(false);
        }
        Ok(matches!(Self::try_acquire(path)?, TryLock::Busy))
    }
}

/// The lock guarding `path` (a file or a folder that may not exist yet): a hidden sibling
/// `.<name>.lock`, so that it never shows up inside what it guards.
pub fn sibling_lock_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "data".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy_for_others_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/.x.lock");
        assert!(!FileLock::is_held(&path).unwrap());
        let held = FileLock::acquire(&path, "testing").unwrap();
        assert!(FileLock::is_held(&path).unwrap());
        assert!(matches!(
            FileLock::try_acquire(&path).unwrap(),
            TryLock::Busy
        ));
        drop(held);
        assert!(!FileLock::is_held(&path).unwrap());
    }

    #[test]
    fn the_lock_of_a_path_is_its_hidden_sibling() {
        assert_eq!(
            sibling_lock_path(Path::new("data/synthetic-kemdy20")),
            Path::new("data/.synthetic-kemdy20.lock")
        );
    }
}
