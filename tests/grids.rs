//! `[sweep]` files: one file, many cells, each its own validated experiment and run folder.

mod common;

use common::{bin, copy_dir, run, run_dirs, stderr, tiny_experiment};

const GRID: &str =
    "[sweep.grid]\n\"fusion.method\" = [\"early_fusion\", \"late_fusion\"]\nseed = [1, 2]\n";

/// Run `file` with one epoch per cell, `jobs` cells at a time, into `runs`.
fn run_grid(file: &std::path::Path, runs: &std::path::Path, jobs: &str) -> std::process::Output {
    run(bin()
        .args([
            "--quiet",
            "--set",
            "train.epochs=1",
            "--jobs",
            jobs,
            "--runs-dir",
        ])
        .arg(runs)
        .arg(file))
}

fn plan_json(file: &std::path::Path, runs: &std::path::Path) -> Vec<serde_json::Value> {
    let out = run(bin()
        .args(["plan", "--json", "--runs-dir"])
        .arg(runs)
        .arg(file));
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn plan_lists_every_cell_of_a_grid_with_its_values_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), GRID);
    let cells = plan_json(&file, &dir.path().join("runs"));
    let names: Vec<&str> = cells.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "tiny--fusion.method=early_fusion,seed=1",
            "tiny--fusion.method=early_fusion,seed=2",
            "tiny--fusion.method=late_fusion,seed=1",
            "tiny--fusion.method=late_fusion,seed=2",
        ]
    );
    assert_eq!(
        cells[2]["set"],
        serde_json::json!(["fusion.method=\"late_fusion\"", "seed=1"])
    );
    let hashes: std::collections::BTreeSet<&str> = cells
        .iter()
        .map(|c| c["identity"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 4, "every cell is a different config");
    assert!(cells.iter().all(|c| c["finished"].is_null()));
}

#[test]
fn every_cell_runs_once_and_a_rerun_skips_the_finished_ones() {
    let dir = tempfile::tempdir().unwrap();
    let sweep =
        "[sweep.zip]\n\"fusion.method\" = [\"early_fusion\", \"late_fusion\"]\nseed = [3, 4]\n";
    let file = tiny_experiment(dir.path(), sweep);
    let runs = dir.path().join("runs");
    let go = || run_grid(&file, &runs, "1");
    let out = go();
    assert!(out.status.success(), "{}", stderr(&out));
    for name in [
        "tiny--fusion.method=early_fusion,seed=3",
        "tiny--fusion.method=late_fusion,seed=4",
    ] {
        let dirs = run_dirs(&runs, name);
        assert_eq!(dirs.len(), 1, "{name}: {dirs:?}");
        let resolved = std::fs::read_to_string(dirs[0].join("resolved.toml")).unwrap();
        assert!(
            !resolved.contains("[sweep"),
            "a cell is one experiment: {resolved}"
        );
    }
    // plan without the --set of the run sees other configs: ask with the same one.
    let out = run(bin()
        .args(["plan", "--json", "--set", "train.epochs=1", "--runs-dir"])
        .arg(&runs)
        .arg(&file));
    let cells: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(cells.iter().all(|c| c["finished"].is_string()), "{cells:?}");
    let again = go();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert_eq!(stdout.matches("already finished").count(), 2, "{stdout}");
}

#[test]
fn a_cell_that_does_not_validate_stops_the_grid_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    // rsa does not read tiny.toml's `fusion.hidden`.
    let file = tiny_experiment(
        dir.path(),
        "[sweep.grid]\n\"fusion.method\" = [\"early_fusion\", \"rsa\"]\n",
    );
    let runs = dir.path().join("runs");
    let out = run(bin().args(["--quiet", "--runs-dir"]).arg(&runs).arg(&file));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("fusion.hidden") && err.contains("in sweep cell fusion.method=rsa"),
        "{err}"
    );
    assert!(!runs.exists(), "nothing ran");
}

#[test]
fn a_broken_sweep_table_names_its_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(
        dir.path(),
        "[sweep.zip]\nseed = [1, 2]\n\"train.epochs\" = [1]\n",
    );
    let out = run(bin().args(["plan"]).arg(&file));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("key `sweep.zip`") && err.contains("one non-zero length"),
        "{err}"
    );
}

const ZIP: &str =
    "[sweep.zip]\n\"fusion.method\" = [\"early_fusion\", \"late_fusion\"]\nseed = [3, 4]\n";
const CELLS: [&str; 2] = [
    "tiny--fusion.method=early_fusion,seed=3",
    "tiny--fusion.method=late_fusion,seed=4",
];

fn predictions(runs: &std::path::Path, name: &str) -> Vec<u8> {
    let dirs = run_dirs(runs, name);
    assert_eq!(dirs.len(), 1, "{name}: {dirs:?}");
    std::fs::read(dirs[0].join("predictions.parquet")).unwrap()
}

#[test]
fn cells_in_parallel_processes_give_the_numbers_of_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), ZIP);
    let grid = |jobs: &str, runs: &std::path::Path| {
        let out = run_grid(&file, runs, jobs);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    grid("1", &one);
    grid("2", &two);
    for name in CELLS {
        assert_eq!(predictions(&one, name), predictions(&two, name), "{name}");
    }
}

#[test]
fn a_failed_cell_is_reported_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), ZIP);
    let runs = dir.path().join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    // A file where the first cell's run folder goes: that cell cannot start.
    std::fs::write(runs.join(CELLS[0]), "in the way").unwrap();
    for jobs in ["1", "2"] {
        let out = run_grid(&file, &runs, jobs);
        assert_eq!(out.status.code(), Some(1), "one cell failed");
        let err = stderr(&out);
        assert!(err.contains("1 of 2 experiments failed"), "{err}");
        assert!(err.contains(CELLS[0]), "{err}");
        assert_eq!(
            run_dirs(&runs, CELLS[1]).len(),
            1,
            "the other cell ran once"
        );
    }
}

/// A cell's identity leaves out where the corpus lies and which device runs it, so a cluster
/// node that mounts the corpus elsewhere finds the finished cell; a corpus whose content
/// changed is a new cell.
#[test]
fn a_moved_corpus_or_another_device_finds_the_finished_run_and_changed_data_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), "");
    let runs = dir.path().join("runs");
    let first = run(bin()
        .args(["--quiet", "--set", "train.epochs=1", "--runs-dir"])
        .arg(&runs)
        .arg(&file));
    assert!(first.status.success(), "{}", stderr(&first));
    let dirs = run_dirs(&runs, "tiny");
    let identity = std::fs::read_to_string(dirs[0].join("identity.toml")).unwrap();
    assert!(
        identity.contains("[fingerprints]") && !identity.contains("corpus"),
        "no path in the identity: {identity}"
    );
    let moved = dir.path().join("elsewhere");
    copy_dir(&dir.path().join("corpus"), &moved);
    let plan_with = |sets: &[String]| {
        let mut cmd = bin();
        cmd.args(["plan", "--json", "--quiet", "--set", "train.epochs=1"]);
        for set in sets {
            cmd.args(["--set", set]);
        }
        let out = run(cmd.arg("--runs-dir").arg(&runs).arg(&file));
        assert!(out.status.success(), "{}", stderr(&out));
        let cells: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        cells[0]["finished"].is_string()
    };
    let root = format!("dataset.root={:?}", moved.display().to_string());
    assert!(plan_with(&[root.clone(), "device=\"cpu\"".into()]));
    // One annotation row fewer: same paths, other data.
    let annotation = moved.join("annotation/Sess01_eval.csv");
    let text = std::fs::read_to_string(&annotation).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&annotation, lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    assert!(!plan_with(&[root]));
}

/// Cells that start together on an empty root generate the synthetic corpus once: the others
/// wait for it and read it.
#[test]
fn concurrent_cells_on_an_empty_root_generate_the_corpus_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), ZIP);
    let runs = dir.path().join("runs");
    let cells: Vec<std::process::Child> = (0..2)
        .map(|index| {
            bin()
                .args(["cell", "--set", "train.epochs=1", "--runs-dir"])
                .arg(&runs)
                .arg(&file)
                .args(["--index", &index.to_string()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut generated = 0;
    for cell in cells {
        let out = cell.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        generated += stderr(&out)
            .matches("generating the synthetic KEMDy20 corpus")
            .count();
    }
    assert_eq!(generated, 1, "one process generates, the other waits");
    for name in CELLS {
        assert_eq!(run_dirs(&runs, name).len(), 1, "{name}");
    }
}

/// `--devices` gives each process slot its own device; a device this build cannot use is
/// refused before anything runs.
#[test]
fn devices_place_the_cells_slot_by_slot() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), ZIP);
    let runs = dir.path().join("runs");
    let out = run(bin()
        .args([
            "--set",
            "train.epochs=1",
            "--devices",
            "flex,cpu",
            "--runs-dir",
        ])
        .arg(&runs)
        .arg(&file));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut devices: Vec<String> = CELLS
        .iter()
        .map(|name| {
            let dirs = run_dirs(&runs, name);
            let resolved = std::fs::read_to_string(dirs[0].join("resolved.toml")).unwrap();
            let table: toml::Table = resolved.parse().unwrap();
            table["device"].as_str().unwrap().to_string()
        })
        .collect();
    devices.sort();
    assert_eq!(devices, ["cpu", "flex"], "one cell per slot's device");

    let refused = run(bin()
        .args(["--devices", "flex,warp:9", "--runs-dir"])
        .arg(dir.path().join("none"))
        .arg(&file));
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--devices: \"warp:9\""),
        "{}",
        stderr(&refused)
    );
    assert!(!dir.path().join("none").exists());
}

/// `emo-run plan FILE --slurm --set train.epochs=1` plus `args`; returns the manifest.
fn plan_slurm(file: &std::path::Path, runs: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = run(bin()
        .args(["plan", "--slurm", "--set", "train.epochs=1", "--runs-dir"])
        .arg(runs)
        .args(args)
        .arg(file));
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = runs.join("slurm/tiny/manifest.json");
    let manifest = args
        .iter()
        .position(|a| *a == "--out")
        .map_or(manifest, |at| {
            std::path::Path::new(args[at + 1]).join("manifest.json")
        });
    serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap()
}

/// `emo-run status MANIFEST --json`: each cell's state, in order.
fn status_of(manifest: &std::path::Path) -> (Vec<String>, serde_json::Value) {
    let out = run(bin().args(["status", "--json"]).arg(manifest));
    assert!(out.status.success(), "{}", stderr(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let states = status["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap().to_string())
        .collect();
    (states, status)
}

/// `emo-run cell MANIFEST --index I`, from a folder other than the planning one: a Slurm task
/// starts wherever Slurm puts it.
fn run_manifest_cell(manifest: &std::path::Path, index: usize) -> std::process::Output {
    let elsewhere = tempfile::tempdir().unwrap();
    run(bin()
        .current_dir(elsewhere.path())
        .arg("cell")
        .arg(manifest)
        .args(["--index", &index.to_string(), "--quiet"]))
}

#[test]
fn plan_slurm_writes_a_manifest_and_an_array_script_with_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), GRID);
    let runs = dir.path().join("runs");
    let options = [
        "--partition",
        "gpu",
        "--time",
        "0:30:00",
        "--gpus-per-task",
        "1",
        "--cpus-per-task",
        "2",
        "--max-parallel",
        "3",
    ];
    let manifest = plan_slurm(&file, &runs, &options);
    assert_eq!(manifest["format"], "emo-run-slurm-manifest");
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(manifest["emo_run_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["set"], serde_json::json!(["train.epochs=1"]));
    assert_eq!(manifest["runs_dir"], runs.display().to_string());
    assert_eq!(
        manifest["cache_dir"],
        runs.join(".feature-cache").display().to_string()
    );
    let cells = manifest["cells"].as_array().unwrap();
    let planned = plan_json(&file, &runs);
    assert_eq!(cells.len(), 4);
    for (i, (cell, row)) in cells.iter().zip(&planned).enumerate() {
        assert_eq!(cell["index"], i);
        assert_eq!(cell["index_in_file"], i);
        assert_eq!(cell["file"], file.display().to_string());
        assert_eq!(cell["name"], row["name"]);
    }
    let script = std::fs::read_to_string(runs.join("slurm/tiny/array.sbatch")).unwrap();
    let logs = runs.join("slurm/tiny/logs");
    assert!(logs.is_dir());
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_emo-run")).unwrap();
    for line in [
        "#SBATCH --array=0-3%3".to_string(),
        format!("#SBATCH --output={}/%A_%a.out", logs.display()),
        "#SBATCH --partition=gpu".into(),
        "#SBATCH --time=0:30:00".into(),
        "#SBATCH --gpus-per-task=1".into(),
        "#SBATCH --cpus-per-task=2".into(),
        format!(
            "exec {} cell {} --index \"$SLURM_ARRAY_TASK_ID\"",
            exe.display(),
            runs.join("slurm/tiny/manifest.json").display()
        ),
    ] {
        assert!(script.lines().any(|l| l == line), "{line}\n{script}");
    }
    // Options without --slurm are refused.
    let out = run(bin().args(["plan", "--partition", "gpu"]).arg(&file));
    assert!(!out.status.success());
}

#[test]
fn a_manifest_cell_runs_once_and_status_goes_from_pending_to_done() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), ZIP);
    let out_dir = dir.path().join("array");
    let out_arg = out_dir.display().to_string();
    plan_slurm(&file, &dir.path().join("runs"), &["--out", &out_arg]);
    let manifest = out_dir.join("manifest.json");
    assert_eq!(status_of(&manifest).0, ["pending", "pending"]);

    let out = run_manifest_cell(&manifest, 1);
    assert!(out.status.success(), "{}", stderr(&out));
    let (states, status) = status_of(&manifest);
    assert_eq!(states, ["pending", "done"]);
    assert_eq!(status["counts"]["done"], 1);
    assert_eq!(status["counts"]["pending"], 1);
    let runs = dir.path().join("runs");
    assert_eq!(run_dirs(&runs, CELLS[1]).len(), 1);

    // Submitting again: the finished cell exits at once, successfully.
    let again = run_manifest_cell(&manifest, 1);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("already finished"));
    assert_eq!(run_dirs(&runs, CELLS[1]).len(), 1);

    let past = run_manifest_cell(&manifest, 2);
    assert!(!past.status.success());
    assert!(stderr(&past).contains("has 2 cell(s)"), "{}", stderr(&past));
    let set = run(bin()
        .args(["cell", "--set", "seed=9"])
        .arg(&manifest)
        .args(["--index", "0"]));
    assert!(
        stderr(&set).contains("fixes the cell's overrides"),
        "{}",
        stderr(&set)
    );
    let missing = run(bin().args(["status"]).arg(dir.path().join("none.json")));
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("none.json"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn status_tells_a_failed_cell_from_a_running_and_an_interrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny_experiment(dir.path(), ZIP);
    let runs = dir.path().join("runs");
    let manifest_value = plan_slurm(&file, &runs, &[]);
    let manifest = runs.join("slurm/tiny/manifest.json");
    // A run folder of cell 0 where config.toml cannot be written: the cell fails inside its run
    // folder, as one whose corpus breaks mid-run would.
    let hash = manifest_value["cells"][0]["identity"].as_str().unwrap();
    let folder = runs
        .join(CELLS[0])
        .join(format!("20000101T000000.000Z-{hash}"));
    std::fs::create_dir_all(folder.join("config.toml")).unwrap();

    let out = run_manifest_cell(&manifest, 0);
    assert!(!out.status.success());
    let (states, status) = status_of(&manifest);
    assert_eq!(states, ["failed", "pending"]);
    let error = status["cells"][0]["error"].as_str().unwrap();
    assert!(error.contains("config.toml"), "{error}");
    let text = run(bin().arg("status").arg(&manifest));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("1 failed") && text.contains("1 pending"),
        "{text}"
    );

    // A process holding the run's lock is running it.
    let lock = std::fs::File::open(folder.join(".lock")).unwrap();
    lock.try_lock().unwrap();
    assert_eq!(status_of(&manifest).0, ["running", "pending"]);
    drop(lock);
    // Unfinished, not held, no error recorded: killed.
    std::fs::remove_file(folder.join("FAILED")).unwrap();
    assert_eq!(status_of(&manifest).0, ["interrupted", "pending"]);

    // Resumed in the same folder once the obstacle is gone.
    std::fs::remove_dir(folder.join("config.toml")).unwrap();
    std::fs::write(folder.join("FAILED"), "an earlier failure\n").unwrap();
    let out = run_manifest_cell(&manifest, 0);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(status_of(&manifest).0, ["done", "pending"]);
    assert_eq!(run_dirs(&runs, CELLS[0]), std::slice::from_ref(&folder));
    assert!(!folder.join("FAILED").exists());

    // A corpus gone after planning (a file where its folder was) stops cell 1 before it has a
    // run folder: the task's error is recorded beside the manifest.
    let corpus = dir.path().join("corpus");
    std::fs::rename(&corpus, dir.path().join("corpus.kept")).unwrap();
    std::fs::write(&corpus, "not a corpus").unwrap();
    let out = run_manifest_cell(&manifest, 1);
    assert!(!out.status.success());
    let (states, status) = status_of(&manifest);
    assert_eq!(states, ["done", "failed"]);
    assert!(status["cells"][1]["run"].is_null(), "{status}");
    let error = status["cells"][1]["error"].as_str().unwrap();
    assert!(error.contains("corpus"), "{error}");
    std::fs::remove_file(&corpus).unwrap();
    std::fs::rename(dir.path().join("corpus.kept"), &corpus).unwrap();
    let out = run_manifest_cell(&manifest, 1);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(status_of(&manifest).0, ["done", "done"]);
}
