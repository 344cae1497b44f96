//! From the command line's paths to run folders: a run folder, a cell or experiment folder
//! (its newest finished run), a runs folder (each experiment folder in it), or a shell-style
//! pattern the shell left unexpanded. What is not a finished run is skipped with its reason.

use std::path::{Path, PathBuf};

use crate::run::dir::DONE;

/// A path of the command line that gives no run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// The finished run folders the paths stand for, in the order given (a pattern's matches and
/// a folder's experiments in name order, each run once), and the paths that gave none.
pub fn find_runs(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Skipped>) {
    let mut runs: Vec<PathBuf> = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        for found in expand(path) {
            match found {
                Ok(run) if !runs.contains(&run) => runs.push(run),
                Ok(_) => {}
                Err(skip) => skipped.push(skip),
            }
        }
    }
    (runs, skipped)
}

/// A path, or the matches of a pattern the shell did not expand (quoted, or matching nothing).
fn expand(path: &Path) -> Vec<Result<PathBuf, Skipped>> {
    let text = path.to_string_lossy();
    if path.exists() || !text.contains(['*', '?', '[']) {
        return resolve(path);
    }
    let matches: Vec<PathBuf> = match glob::glob(&text) {
        Ok(paths) => paths.filter_map(Result::ok).collect(),
        Err(e) => return vec![Err(skip(path, format!("not a valid pattern: {e}")))],
    };
    if matches.is_empty() {
        return vec![Err(skip(path, "the pattern matches nothing".into()))];
    }
    matches.iter().flat_map(|m| resolve(m)).collect()
}

fn skip(path: &Path, reason: String) -> Skipped {
    Skipped {
        path: path.to_path_buf(),
        reason,
    }
}

/// Whether `dir` is a run folder: every run writes `resolved.toml` before anything else.
fn is_run_folder(dir: &Path) -> bool {
    dir.join("resolved.toml").is_file()
}

fn is_finished(run: &Path) -> bool {
    run.join(DONE).is_file()
}

/// Sub-folders of `dir` in name order, hidden ones (the feature cache) left out.
fn sub_folders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    folders.sort();
    folders
}

/// One existing path: a run folder, an experiment folder, or a folder of experiment folders.
fn resolve(path: &Path) -> Vec<Result<PathBuf, Skipped>> {
    if !path.exists() {
        return vec![Err(skip(path, "no such file or folder".into()))];
    }
    if !path.is_dir() {
        return vec![Err(skip(path, "not a folder".into()))];
    }
    if is_run_folder(path) {
        return vec![finished_run(path)];
    }
    let children = sub_folders(path);
    if children.iter().any(|c| is_run_folder(c)) {
        return vec![newest_finished_run(path, &children)];
    }
    let experiments: Vec<&PathBuf> = children
        .iter()
        .filter(|c| sub_folders(c).iter().any(|r| is_run_folder(r)))
        .collect();
    if experiments.is_empty() {
        return vec![Err(skip(
            path,
            "not a run folder (no resolved.toml) and holds none".into(),
        ))];
    }
    experiments
        .into_iter()
        .map(|e| newest_finished_run(e, &sub_folders(e)))
        .collect()
}

fn finished_run(run: &Path) -> Result<PathBuf, Skipped> {
    if is_finished(run) {
        Ok(run.to_path_buf())
    } else {
        Err(skip(run, format!("unfinished run (no {DONE})")))
    }
}

/// The newest finished run of an experiment folder: run ids start with their UTC start time,
/// so the last name in order is the newest.
fn newest_finished_run(experiment: &Path, children: &[PathBuf]) -> Result<PathBuf, Skipped> {
    let runs: Vec<&PathBuf> = children.iter().filter(|c| is_run_folder(c)).collect();
    match runs.iter().rev().find(|r| is_finished(r)) {
        Some(run) => Ok(run.to_path_buf()),
        None => Err(skip(
            experiment,
            format!("no finished run ({} unfinished, no {DONE})", runs.len()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_run(dir: &Path, finished: bool) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("resolved.toml"), "").unwrap();
        if finished {
            std::fs::write(dir.join(DONE), "").unwrap();
        }
        dir.to_path_buf()
    }

    #[test]
    fn folders_patterns_and_unfinished_runs() {
        let root = tempfile::tempdir().unwrap();
        let runs = root.path().join("runs");
        let old = make_run(&runs.join("a/20240101T000000.000Z-aaa"), true);
        let new = make_run(&runs.join("a/20240102T000000.000Z-aaa"), true);
        make_run(&runs.join("a/20240103T000000.000Z-aaa"), false);
        let b = make_run(&runs.join("b/20240101T000000.000Z-bbb"), true);
        let c = make_run(&runs.join("c/20240101T000000.000Z-ccc"), false);
        std::fs::create_dir_all(runs.join(".feature-cache/x")).unwrap();

        // An experiment folder gives its newest finished run; a run folder itself.
        assert_eq!(find_runs(&[runs.join("a")]).0, vec![new.clone()]);
        assert_eq!(find_runs(std::slice::from_ref(&old)).0, vec![old]);
        // A runs folder gives each experiment's; an unfinished one is skipped with its reason.
        let (found, skipped) = find_runs(std::slice::from_ref(&runs));
        assert_eq!(found, vec![new.clone(), b.clone()]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].path, runs.join("c"));
        assert!(skipped[0].reason.contains("no finished run"), "{skipped:?}");
        // An unexpanded pattern is expanded here; a run given twice counts once.
        let pattern = runs.join("[ab]");
        let (found, _) = find_runs(&[pattern, runs.join("b")]);
        assert_eq!(found, vec![new, b]);
        let (found, skipped) = find_runs(&[c.clone(), runs.join("nothing*")]);
        assert!(found.is_empty());
        assert!(skipped[0].reason.contains("unfinished run"));
        assert!(skipped[1].reason.contains("matches nothing"));
    }
}
