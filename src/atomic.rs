//! Atomic writes: write to a temporary file in the same folder, sync it, rename it, then sync
//! the folder, so a crash never leaves a half-written file under the real name and a file that
//! a later commit (a checkpoint's `state.json`) points at is on disk before that commit.

use std::path::Path;

use anyhow::Context;

pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_with(path, |tmp| {
        std::fs::write(tmp, bytes).with_context(|| format!("writing {}", tmp.display()))
    })
}

pub fn write_json_atomic(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    write_atomic(path, &text)
}

/// Write through a temporary path: `write` receives the temporary path and must fill it.
pub fn write_with<F>(path: &Path, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&Path) -> anyhow::Result<()>,
{
    let dir = folder_of(path);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    write(&tmp)?;
    // Writers (burn's recorders among them) close the file without syncing it.
    sync_file(&tmp)?;
    rename_durably(&tmp, path)
}

/// The folder `path` lies in: `.` for a bare file name, whose parent is the empty path (which
/// cannot be opened to sync it).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", path.display()))?;
    #[cfg(test)]
    tests::record_sync(path);
    Ok(())
}

/// Rename, then sync the folder so that the new name itself survives a power loss.
fn rename_durably(tmp: &Path, path: &Path) -> anyhow::Result<()> {
    std::fs::rename(tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    let dir = folder_of(path);
    // Opening a folder to fsync it works on Unix; elsewhere the rename is all we can do.
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing folder {}", dir.display()))?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    /// Files synced through `write_with` in this test process, in order.
    static SYNCED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    pub(super) fn record_sync(path: &Path) {
        SYNCED.lock().unwrap().push(path.to_path_buf());
    }

    /// The synced temporary files of `dir`, by their final names.
    pub(crate) fn synced_in(dir: &Path) -> Vec<String> {
        SYNCED
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str())
            .map(|n| {
                n.trim_start_matches('.')
                    .split(".tmp-")
                    .next()
                    .unwrap_or(n)
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn write_with_syncs_what_the_writer_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weights.bin");
        super::write_with(&path, |tmp| Ok(std::fs::write(tmp, b"w")?)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"w");
        assert_eq!(synced_in(dir.path()), ["weights.bin"]);
    }

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        super::write_atomic(&path, b"one").unwrap();
        super::write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_bare_file_name_lies_in_the_working_folder() {
        assert_eq!(super::folder_of(Path::new("eval.csv")), Path::new("."));
        assert_eq!(
            super::folder_of(Path::new("out/eval.csv")),
            Path::new("out")
        );
    }
}
