//! The corpus options end to end on the tiny synthetic corpus: label policies, fold protocols,
//! samplers and class weights train to a finished run, and `--strict` stops a run whose corpus
//! lost a clip before any training.

mod common;

use std::path::Path;

use common::{bin, run, run_dirs, stderr, tiny_experiment};

fn data_json(run_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join("data.json")).unwrap()).unwrap()
}

fn run_tiny(dir: &Path, sets: &[&str]) -> (std::process::Output, std::path::PathBuf) {
    let exp = tiny_experiment(dir, "");
    let runs = dir.join("runs");
    let mut cmd = bin();
    cmd.arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet");
    for set in sets {
        cmd.args(["--set", set]);
    }
    (run(&mut cmd), runs)
}

/// Test utterances over all folds, from data.json's per-fold counts.
fn tested(data: &serde_json::Value) -> u64 {
    data["folds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["test"].as_object().unwrap().values())
        .map(|v| v.as_u64().unwrap())
        .sum()
}

#[test]
fn soft_votes_with_leave_session_out() {
    let dir = tempfile::tempdir().unwrap();
    let (out, runs) = run_tiny(
        dir.path(),
        &[
            "dataset.multi_label=\"soft_votes\"",
            "split.protocol=\"leave_session_out\"",
            "train.epochs=1",
        ],
    );
    assert!(out.status.success());
    let run_dir = &run_dirs(&runs, "tiny")[0];
    assert!(run_dir.join("DONE").exists());
    let data = data_json(run_dir);
    assert_eq!(data["folds"].as_array().unwrap().len(), 3, "3 sessions");
    assert_eq!(tested(&data), data["utterances"].as_u64().unwrap());
}

/// The `loss` values of `split` in a finished run's metrics.parquet.
fn losses(run_dir: &Path, split: &str) -> Vec<f64> {
    use polars::prelude::*;
    let file = std::fs::File::open(run_dir.join("metrics.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    let text = |name: &str| df.column(name).unwrap().str().unwrap().clone();
    let (splits, metrics) = (text("split"), text("metric"));
    let values = df.column("value").unwrap().f64().unwrap().clone();
    (0..df.height())
        .filter(|&i| splits.get(i) == Some(split) && metrics.get(i) == Some("loss"))
        .map(|i| values.get(i).unwrap())
        .collect()
}

/// Seed 003's two switches together: soft votes trained with the MSE of the raw logits, and the
/// seed's accumulation schedule. The logged train loss is that MSE, small; the valid and test
/// losses stay the soft cross-entropy, near ln 7 = 1.95 for a barely trained head.
#[test]
fn soft_votes_train_with_mse_logits_and_the_seed003_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let (out, runs) = run_tiny(
        dir.path(),
        &[
            "dataset.multi_label=\"soft_votes\"",
            "task.soft_target_loss=\"mse_logits\"",
            "train.accumulate_grad_batches=3",
            "train.accumulate_schedule=\"seed003\"",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let run_dir = &run_dirs(&runs, "tiny")[0];
    assert!(run_dir.join("DONE").exists());
    let (train, valid, test) = (
        losses(run_dir, "train"),
        losses(run_dir, "valid"),
        losses(run_dir, "test"),
    );
    assert_eq!(
        (train.len(), valid.len(), test.len()),
        (4, 4, 2),
        "2 folds x 2 epochs"
    );
    assert!(train.iter().all(|&l| l < 0.5), "train (MSE) {train:?}");
    let cross_entropy = valid.iter().chain(&test);
    assert!(
        cross_entropy.clone().all(|&l| l > 1.0),
        "valid {valid:?}, test {test:?}"
    );
}

#[test]
fn label_transform_sampler_and_balanced_weights_in_a_holdout() {
    let dir = tempfile::tempdir().unwrap();
    let (out, runs) = run_tiny(
        dir.path(),
        &[
            "dataset.label_transform=true",
            "split.protocol=\"stratified_holdout\"",
            "train.sampler=\"class_balanced\"",
            "task.class_weights=\"balanced\"",
            "train.epochs=1",
        ],
    );
    assert!(out.status.success());
    let run_dir = &run_dirs(&runs, "tiny")[0];
    let data = data_json(run_dir);
    assert_eq!(data["folds"].as_array().unwrap().len(), 1);
    let eligible = data["utterances"].as_u64().unwrap() - data["train_only"].as_u64().unwrap();
    let expected = (eligible as f64 * 0.2).round() as i64;
    assert!(
        (tested(&data) as i64 - expected).abs() <= 3,
        "about 20% tested: {} of {eligible}",
        tested(&data)
    );
}

#[test]
fn strict_stops_before_training_when_a_clip_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (out, runs) = run_tiny(dir.path(), &["train.epochs=1"]);
    assert!(out.status.success());
    let dropped_before = data_json(&run_dirs(&runs, "tiny")[0])["dropped"]
        .as_array()
        .unwrap()
        .len();
    let wav_dir = dir.path().join("corpus/wav/Session02");
    let victim = std::fs::read_dir(&wav_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wav"))
        .unwrap();
    std::fs::remove_file(&victim).unwrap();

    let exp = dir.path().join("tiny.toml");
    let runs = dir.path().join("strict-runs");
    let out = run(bin()
        .arg(&exp)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet")
        .arg("--strict")
        .args(["--set", "train.epochs=1"]));
    assert!(!out.status.success());
    let log = stderr(&out);
    let stem = victim.file_stem().unwrap().to_str().unwrap();
    assert!(log.contains("strict") && log.contains(stem), "{log}");
    assert!(
        run_dirs(&runs, "tiny").is_empty(),
        "the strict check runs before any run directory is made"
    );

    // Without --strict the clip is dropped, counted and listed with its path.
    let out = run(bin()
        .arg(&exp)
        .arg("--runs-dir")
        .arg(dir.path().join("lenient-runs"))
        .arg("--quiet")
        .args(["--set", "train.epochs=1"]));
    assert!(out.status.success());
    let summary_line = format!("({} rows dropped", dropped_before + 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&summary_line));
    let run_dir = &run_dirs(&dir.path().join("lenient-runs"), "tiny")[0];
    let data = data_json(run_dir);
    let listed = data["dropped"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|d| d["path"].as_str().is_some_and(|p| p.contains(stem))),
        "{listed:?}"
    );
}
