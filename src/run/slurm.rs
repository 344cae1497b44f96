//! Slurm job arrays: `emo-run plan FILE... --slurm` writes a manifest of the cells and an sbatch
//! script whose array task I runs `emo-run cell MANIFEST --index I`.
//!
//! The manifest pins everything a task needs, as absolute paths, so a task started by Slurm on
//! another node, from another folder, runs exactly the cell that was planned: the experiment
//! file and the cell's index in it, the `--set` overrides, and the runs and cache folders. It
//! also keeps each cell's name and identity, so `emo-run status` finds the run folders
//! without loading a single config.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::config::LoadedExperiment;

/// What `format` says in every manifest; a JSON file without it is not a manifest.
pub const FORMAT: &str = "emo-run-slurm-manifest";
/// Bumped when a field changes meaning; a manifest of another version is refused.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SCRIPT_FILE: &str = "array.sbatch";

/// `emo-run plan --slurm` and the `#SBATCH` options it writes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SlurmOptions {
    /// Write a Slurm job array (manifest.json and array.sbatch) for the cells instead of
    /// listing them.
    #[arg(long, conflicts_with = "json")]
    pub slurm: bool,
    /// Folder for the manifest, the script and the tasks' logs (default:
    /// `<runs-dir>/slurm/<first file's name>`).
    #[arg(long, requires = "slurm", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// `#SBATCH --partition`.
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// `#SBATCH --time` (a task's wall-clock limit, e.g. `2:00:00`).
    #[arg(long, requires = "slurm")]
    pub time: Option<String>,
    /// `#SBATCH --gpus-per-task`.
    #[arg(long, requires = "slurm", value_name = "N")]
    pub gpus_per_task: Option<u32>,
    /// `#SBATCH --cpus-per-task` (each task's threads follow it).
    #[arg(long, requires = "slurm", value_name = "N")]
    pub cpus_per_task: Option<u32>,
    /// At most K tasks of the array at once (`--array=0-(n-1)%K`).
    #[arg(long, requires = "slurm", value_name = "K")]
    pub max_parallel: Option<u32>,
}

/// The cells of a job array and where their runs go.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// The emo-run that wrote it (a task run by another version says so in its log).
    pub emo_run_version: String,
    /// The folder `plan` ran in: a task works there, so that relative paths in the files and
    /// overrides (`dataset.root = "data/x"`) mean what they meant when it was planned.
    pub workdir: PathBuf,
    pub runs_dir: PathBuf,
    pub cache_dir: PathBuf,
    /// The command line's `--set` overrides (with `--device` and `--strict`), above every file.
    pub set: Vec<String>,
    pub cells: Vec<ManifestCell>,
}

/// One array task.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestCell {
    /// The array task id.
    pub index: usize,
    /// The experiment file, absolute.
    pub file: PathBuf,
    /// The cell's index among the file's cells (`emo-run cell FILE --index`).
    pub index_in_file: usize,
    pub name: String,
    pub identity: String,
}

impl Manifest {
    /// The manifest of `cells` (as `load_cells` gives them, files in order), each with its
    /// identity.
    pub fn new(
        cells: &[(LoadedExperiment, String)],
        set: &[String],
        runs_dir: &Path,
        cache_dir: &Path,
    ) -> anyhow::Result<Self> {
        let mut index_in_file: std::collections::HashMap<&Path, usize> = Default::default();
        let cells = cells
            .iter()
            .enumerate()
            .map(|(index, (exp, hash))| {
                let in_file = index_in_file.entry(&exp.path).or_insert(0);
                let cell = ManifestCell {
                    index,
                    file: absolute(&exp.path)?,
                    index_in_file: *in_file,
                    name: exp.experiment.name.clone(),
                    identity: hash.clone(),
                };
                *in_file += 1;
                Ok(cell)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            emo_run_version: env!("CARGO_PKG_VERSION").into(),
            workdir: std::env::current_dir().context("finding the current folder")?,
            runs_dir: absolute(runs_dir)?,
            cache_dir: absolute(cache_dir)?,
            set: set.to_vec(),
            cells,
        })
    }

    /// Read and check a manifest; every error names the file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the manifest {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            bail!(
                "{} is not an emo-run Slurm manifest (no \"format\": \"{FORMAT}\"); write one with `emo-run plan FILE --slurm`",
                path.display()
            );
        }
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(FORMAT_VERSION)) {
            bail!(
                "{}: manifest format version {}, this emo-run reads version {FORMAT_VERSION}; plan again with `emo-run plan FILE --slurm`",
                path.display(),
                version.map_or("missing".to_string(), |v| v.to_string())
            );
        }
        let manifest: Self = serde_json::from_value(value)
            .with_context(|| format!("{} is a damaged manifest", path.display()))?;
        if manifest.emo_run_version != env!("CARGO_PKG_VERSION") {
            tracing::warn!(
                "{} was written by emo-run {}; this is {}",
                path.display(),
                manifest.emo_run_version,
                env!("CARGO_PKG_VERSION")
            );
        }
        Ok(manifest)
    }

    /// Array task `index`, or an error naming the manifest and its number of cells.
    pub fn cell(&self, index: usize, path: &Path) -> anyhow::Result<&ManifestCell> {
        self.cells.get(index).with_context(|| {
            format!(
                "{} has {} cell(s) (indices 0 to {}); --index {index} is past the last",
                path.display(),
                self.cells.len(),
                self.cells.len().saturating_sub(1)
            )
        })
    }
}

/// Array task `index` of the manifest at `path`: its cell, loaded and checked by
/// [`planned_cell`], is handed to `run` (with the manifest, for its folders). An error that
/// stops the task before `run` gives the cell a run folder is recorded at [`failure_mark`].
pub fn run_task(
    path: &Path,
    index: usize,
    hash_of: impl Fn(&LoadedExperiment) -> anyhow::Result<String>,
    run: impl FnOnce(&Manifest, LoadedExperiment) -> anyhow::Result<std::process::ExitCode>,
) -> anyhow::Result<std::process::ExitCode> {
    // Absolute: the task moves to the planning folder before it may record a failure here.
    let path = &absolute(path)?;
    let manifest = Manifest::read(path)?;
    manifest.cell(index, path)?;
    clear_failure(path, index)?;
    planned_cell(&manifest, path, index, hash_of)
        .and_then(|loaded| run(&manifest, loaded))
        .inspect_err(|e| record_failure(path, index, e))
}

/// Cell `index` of `manifest` (read from `path`), loaded with the manifest's overrides in the
/// planning folder, after checking that it is still the experiment that was planned (same
/// name, same identity by `hash_of`): an experiment file edited since would otherwise run,
/// and be looked for by `emo-run status`, under another hash.
pub fn planned_cell(
    manifest: &Manifest,
    path: &Path,
    index: usize,
    hash_of: impl Fn(&LoadedExperiment) -> anyhow::Result<String>,
) -> anyhow::Result<LoadedExperiment> {
    let cell = manifest.cell(index, path)?;
    std::env::set_current_dir(&manifest.workdir).with_context(|| {
        format!(
            "{}: entering the planning folder {}",
            path.display(),
            manifest.workdir.display()
        )
    })?;
    let overrides = crate::config::Overrides {
        set: manifest.set.clone(),
    };
    let mut cells = crate::config::load_cells(&cell.file, &overrides)?;
    let changed = || {
        format!(
            "{} changed since the manifest {} was written; plan again with `emo-run plan --slurm`",
            cell.file.display(),
            path.display()
        )
    };
    if cell.index_in_file >= cells.len() {
        bail!(
            "cell {index} is cell {} of {}, which now has {} cell(s): {}",
            cell.index_in_file,
            cell.file.display(),
            cells.len(),
            changed()
        );
    }
    let loaded = cells.swap_remove(cell.index_in_file);
    let hash = hash_of(&loaded)?;
    if loaded.experiment.name != cell.name || hash != cell.identity {
        bail!(
            "cell {index} was planned as {} (identity {}) and is now {} ({hash}): {}",
            cell.name,
            cell.identity,
            loaded.experiment.name,
            changed()
        );
    }
    Ok(loaded)
}

/// Where a task records an error that stopped its cell before the cell had a run folder (its
/// corpus gone, its file edited since planning): `<manifest folder>/failed/<index>`. A run
/// folder's `FAILED` covers the errors after that.
pub fn failure_mark(manifest: &Path, index: usize) -> PathBuf {
    manifest.with_file_name("failed").join(index.to_string())
}

/// At the start of a task: the previous attempt's error no longer describes the cell.
fn clear_failure(manifest: &Path, index: usize) -> anyhow::Result<()> {
    let mark = failure_mark(manifest, index);
    match std::fs::remove_file(&mark) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", mark.display()))
        }
        _ => Ok(()),
    }
}

/// Record the error that stopped task `index` (best effort: the error itself is what the task
/// reports).
fn record_failure(manifest: &Path, index: usize, error: &anyhow::Error) {
    let mark = failure_mark(manifest, index);
    if let Err(e) = crate::atomic::write_atomic(&mark, format!("{error:#}\n").as_bytes()) {
        tracing::warn!("could not record the failure in {}: {e:#}", mark.display());
    }
}

/// Whether `cell`'s file argument is a manifest rather than an experiment file: manifests are
/// JSON, experiment files TOML.
pub fn is_manifest(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

/// The default folder of `plan --slurm`: `<runs-dir>/slurm/<first file's stem>`.
pub fn default_out_dir(runs_dir: &Path, files: &[PathBuf]) -> PathBuf {
    let stem = files
        .first()
        .and_then(|f| f.file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("grid");
    runs_dir.join("slurm").join(stem)
}

/// Write `manifest.json`, `array.sbatch` and the `logs/` folder into `out`; returns the
/// script's path.
pub fn write_array(
    manifest: &Manifest,
    options: &SlurmOptions,
    out: &Path,
    exe: &Path,
) -> anyhow::Result<PathBuf> {
    let out = absolute(out)?;
    // The script first: it refuses a folder sbatch cannot take before anything is written.
    let script = sbatch_script(manifest.cells.len(), options, &out, exe)?;
    let logs = out.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    crate::atomic::write_json_atomic(&out.join(MANIFEST_FILE), manifest)?;
    let script_path = out.join(SCRIPT_FILE);
    crate::atomic::write_atomic(&script_path, script.as_bytes())?;
    Ok(script_path)
}

/// What `plan --slurm` prints: what was written and the commands that follow.
pub fn how_to_submit(manifest: &Manifest, script: &Path, exe: &Path) -> String {
    let manifest_path = script.with_file_name(MANIFEST_FILE);
    format!(
        "wrote {} ({} cells) and {}\nsubmit:  sbatch {}\nstatus:  {} status {}\nsubmitting again runs only the cells that have not finished\n",
        manifest_path.display(),
        manifest.cells.len(),
        script.display(),
        shell_quote(script),
        shell_quote(exe),
        shell_quote(&manifest_path)
    )
}

/// The sbatch script of an array of `n` cells (`n` >= 1) whose manifest, script and `logs/`
/// are in `out` (absolute).
pub fn sbatch_script(
    n: usize,
    options: &SlurmOptions,
    out: &Path,
    exe: &Path,
) -> anyhow::Result<String> {
    let (logs, manifest) = (out.join("logs"), out.join(MANIFEST_FILE));
    // sbatch splits `#SBATCH` lines at whitespace and gives `%` its own meaning.
    let logs_text = logs.display().to_string();
    if logs_text.contains(char::is_whitespace) || logs_text.contains('%') {
        bail!(
            "{}: the log folder of a Slurm array may not contain spaces or `%`; choose another --out",
            logs.display()
        );
    }
    let mut array = format!("0-{}", n.saturating_sub(1));
    if let Some(k) = options.max_parallel {
        anyhow::ensure!(k >= 1, "--max-parallel 0: expected at least 1");
        array.push_str(&format!("%{k}"));
    }
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!("# Written by `emo-run plan --slurm`: {n} experiment(s), one array task each."),
        format!("# Submit: sbatch {}", shell_quote(&out.join(SCRIPT_FILE))),
        format!(
            "# Status: {} status {}",
            shell_quote(exe),
            shell_quote(&manifest)
        ),
        "# Submitting again runs only the unfinished cells: finished ones exit at once,".into(),
        "# interrupted ones resume at their last committed epoch.".into(),
        "#SBATCH --job-name=emo-run".into(),
        format!("#SBATCH --array={array}"),
        format!("#SBATCH --output={logs_text}/%A_%a.out"),
    ];
    if let Some(p) = &options.partition {
        lines.push(format!("#SBATCH --partition={p}"));
    }
    if let Some(t) = &options.time {
        lines.push(format!("#SBATCH --time={t}"));
    }
    if let Some(g) = options.gpus_per_task {
        lines.push(format!("#SBATCH --gpus-per-task={g}"));
    }
    if let Some(c) = options.cpus_per_task {
        lines.push(format!("#SBATCH --cpus-per-task={c}"));
    }
    lines.extend([
        String::new(),
        "# burn's CPU backend uses as many threads as the task was given cores.".into(),
        "if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export RAYON_NUM_THREADS=$SLURM_CPUS_PER_TASK; fi"
            .into(),
        format!(
            "exec {} cell {} --index \"$SLURM_ARRAY_TASK_ID\"",
            shell_quote(exe),
            shell_quote(&manifest)
        ),
    ]);
    Ok(lines.join("\n") + "\n")
}

/// `text` as one word for bash: single-quoted unless it is plainly safe.
fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `path` made absolute against the current folder (not resolved: it may not exist yet).
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("making {} absolute", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_runs_each_task_s_cell_with_the_options_given() {
        let options = SlurmOptions {
            slurm: true,
            partition: Some("gpu".into()),
            time: Some("1:00:00".into()),
            gpus_per_task: Some(1),
            cpus_per_task: Some(4),
            max_parallel: Some(3),
            out: None,
        };
        let script =
            sbatch_script(8, &options, Path::new("/o"), Path::new("/bin/emo run")).unwrap();
        for line in [
            "#SBATCH --array=0-7%3",
            "#SBATCH --output=/o/logs/%A_%a.out",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=1:00:00",
            "#SBATCH --gpus-per-task=1",
            "#SBATCH --cpus-per-task=4",
            "exec '/bin/emo run' cell /o/manifest.json --index \"$SLURM_ARRAY_TASK_ID\"",
        ] {
            assert!(script.lines().any(|l| l == line), "{line}:\n{script}");
        }
        let plain = sbatch_script(
            1,
            &SlurmOptions::default(),
            Path::new("/o"),
            Path::new("/e"),
        );
        let plain = plain.unwrap();
        assert!(plain.contains("#SBATCH --array=0-0\n"), "{plain}");
        assert!(!plain.contains("--partition"), "{plain}");
        let spaced = sbatch_script(
            1,
            &SlurmOptions::default(),
            Path::new("/my o"),
            Path::new("/e"),
        );
        assert!(spaced.unwrap_err().to_string().contains("/my o/logs"));
    }

    #[test]
    fn a_manifest_of_another_format_or_version_is_refused_naming_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let read_error = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Manifest::read(&path).unwrap_err().to_string()
        };
        let missing = Manifest::read(&dir.path().join("none.json")).unwrap_err();
        assert!(format!("{missing:#}").contains("none.json"), "{missing:#}");
        assert!(read_error("{").contains("not valid JSON"));
        assert!(read_error("[1]").contains("not an emo-run Slurm manifest"));
        let other = read_error(&format!(
            "{{\"format\": \"{FORMAT}\", \"format_version\": 99}}"
        ));
        assert!(
            other.contains("version 99") && other.contains("m.json"),
            "{other}"
        );
        let damaged = read_error(&format!(
            "{{\"format\": \"{FORMAT}\", \"format_version\": 1}}"
        ));
        assert!(damaged.contains("damaged manifest"), "{damaged}");
    }
}
