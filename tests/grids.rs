//! `[sweep]` files: one file, many cells, each its own validated experiment and run folder.

mod common;

use common::{bin, run, run_dirs, stderr, tiny_experiment};

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

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
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
        .args(["--set", "train.epochs=1", "--devices", "flex,cpu", "--runs-dir"])
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
    assert!(stderr(&refused).contains("--devices: \"warp:9\""), "{}", stderr(&refused));
    assert!(!dir.path().join("none").exists());
}
