//! The whole path on a tiny synthetic corpus: run, run directory contents, skip, resume.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{bin, read_parquet, run, run_dirs, stderr, strings, tiny_experiment};
use polars::prelude::*;

const RUN_FILES: [&str; 11] = [
    "config.toml",
    "resolved.toml",
    "env.json",
    "data.json",
    "model.json",
    "metrics.parquet",
    "predictions.parquet",
    "summary.json",
    "summary.md",
    "DONE",
    "checkpoints/main/fold-0/best.safetensors",
];

/// Rows whose `split` (and `metric`, when given) match.
fn count_rows(df: &DataFrame, split: &str, metric: Option<&str>) -> usize {
    let splits = strings(df, "split");
    let metrics = metric.map(|_| strings(df, "metric"));
    (0..df.height())
        .filter(|&i| {
            splits[i] == split
                && metrics
                    .as_ref()
                    .is_none_or(|m| Some(m[i].as_str()) == metric)
        })
        .count()
}

#[test]
fn tiny_run_writes_a_complete_directory_and_a_rerun_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment(dir.path(), "");
    let runs = dir.path().join("runs");
    let out = run(bin().arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet"));
    assert!(out.status.success());
    let dirs = run_dirs(&runs, "tiny");
    assert_eq!(dirs.len(), 1);
    let run_dir = &dirs[0];
    for file in RUN_FILES {
        assert!(
            run_dir.join(file).exists(),
            "{file} missing from {}",
            run_dir.display()
        );
    }
    for fold in 0..2 {
        let fold_dir = run_dir.join(format!("checkpoints/main/fold-{fold}"));
        for file in [
            "best.safetensors",
            "last.safetensors",
            "optimizer.bpk",
            "state.json",
            "tokenizer.json",
            "result.json",
        ] {
            assert!(
                fold_dir.join(file).exists(),
                "{file} missing in fold {fold}"
            );
        }
    }

    let metrics = read_parquet(&run_dir.join("metrics.parquet"));
    let names: Vec<String> = metrics
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "stage", "fold", "epoch", "split", "metric", "value", "wall_s"
        ]
    );
    assert_eq!(
        count_rows(&metrics, "test", Some("weighted_f1")),
        2,
        "one test weighted F1 per fold"
    );
    assert_eq!(
        count_rows(&metrics, "valid", Some("loss")),
        4,
        "2 folds x 2 epochs of validation"
    );

    let predictions = read_parquet(&run_dir.join("predictions.parquet"));
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("data.json")).unwrap()).unwrap();
    let utterances = data["utterances"].as_u64().unwrap() as usize;
    assert_eq!(
        count_rows(&predictions, "test", None),
        utterances,
        "every utterance is tested exactly once over the folds"
    );
    let scores = predictions
        .column("scores")
        .unwrap()
        .list()
        .unwrap()
        .get_as_series(0)
        .unwrap();
    assert_eq!(scores.len(), 7);

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    let f1 = &summary["stages"][0]["test"][0];
    assert_eq!(f1["metric"], "weighted_f1");
    assert_eq!(f1["per_fold"].as_array().unwrap().len(), 2);

    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("model.json")).unwrap())
            .unwrap();
    let modules: Vec<&str> = model["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    assert_eq!(modules, ["encoders.text", "encoders.audio", "fusion"]);

    // The same config again: finished, so skipped, and nothing new is written.
    let out = run(bin().arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet"));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already finished"));
    assert_eq!(run_dirs(&runs, "tiny").len(), 1);
    // Another config makes another run.
    let out = run(bin()
        .arg(&exp)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet")
        .args(["--set", "train.epochs=1"]));
    assert!(out.status.success());
    assert_eq!(run_dirs(&runs, "tiny").len(), 2);
}

/// Kill the process (SIGKILL) once the first epoch of fold 2 is committed, rerun, and check
/// that the run resumes in place (log line), finishes with every utterance tested, ends with
/// exactly the metrics and predictions of a run that was never interrupted, and that `wall_s`
/// keeps counting across the resume instead of restarting from zero.
#[test]
fn killed_run_resumes_in_place_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment(dir.path(), "");
    let slow = ["--set", "train.epochs=20"];

    let runs = dir.path().join("runs");
    let mut child = bin()
        .arg(&exp)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet")
        .args(slow)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let state = loop {
        if let Some(run_dir) = run_dirs(&runs, "tiny").first() {
            let state = run_dir.join("checkpoints/main/fold-1/state.json");
            if state.exists() {
                break state;
            }
        }
        assert!(Instant::now() < deadline, "no epoch committed in time");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !state.with_file_name("result.json").exists(),
        "killed in the middle of fold 2"
    );
    let run_dir = run_dirs(&runs, "tiny")[0].clone();
    assert!(!run_dir.join("DONE").exists(), "killed mid-run");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let committed_wall = committed["wall_s"].as_f64().unwrap();
    assert!(
        committed_wall > 0.0,
        "state.json records the training time of its committed epochs"
    );

    let out = run(bin().arg(&exp).arg("--runs-dir").arg(&runs).args(slow));
    assert!(out.status.success());
    let log = stderr(&out);
    assert!(log.contains("resuming an unfinished run"), "{log}");
    assert!(run_dir.join("DONE").exists());
    assert_eq!(run_dirs(&runs, "tiny").len(), 1, "resumed in place");

    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("data.json")).unwrap()).unwrap();
    let predictions = read_parquet(&run_dir.join("predictions.parquet"));
    assert_eq!(
        count_rows(&predictions, "test", None) as u64,
        data["utterances"].as_u64().unwrap()
    );

    let straight_runs = dir.path().join("straight");
    let out = run(bin()
        .arg(&exp)
        .arg("--runs-dir")
        .arg(&straight_runs)
        .arg("--quiet")
        .args(slow));
    assert!(out.status.success());
    let straight_dir = run_dirs(&straight_runs, "tiny")[0].clone();
    assert!(
        predictions.equals_missing(&read_parquet(&straight_dir.join("predictions.parquet"))),
        "a resumed run predicts exactly what an uninterrupted one does"
    );
    assert_wall_time_never_restarts(
        &read_parquet(&run_dir.join("metrics.parquet")),
        committed_wall,
    );
    let metrics_without_time = |dir: &Path| {
        read_parquet(&dir.join("metrics.parquet"))
            .drop("wall_s")
            .unwrap()
    };
    assert!(
        metrics_without_time(&run_dir).equals_missing(&metrics_without_time(&straight_dir)),
        "every epoch's metrics are the same after a resume"
    );
}

/// A numeric column as f64, whatever its integer or float type.
fn floats(df: &DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

/// Within each fold, `wall_s` of the train rows grows with the epoch, and the last epoch of
/// fold 2 (index 1, the killed one) counts at least the time committed before the kill.
fn assert_wall_time_never_restarts(metrics: &DataFrame, committed_wall: f64) {
    let splits = strings(metrics, "split");
    let folds = floats(metrics, "fold");
    let epochs = floats(metrics, "epoch");
    let wall = floats(metrics, "wall_s");
    let mut last: std::collections::BTreeMap<(i64, i64), f64> = Default::default();
    for i in (0..metrics.height()).filter(|&i| splits[i] == "train") {
        last.insert((folds[i] as i64, epochs[i] as i64), wall[i]);
    }
    let last_of_fold_2 = last.range((1, 0)..(2, 0)).next_back().map(|(_, w)| *w);
    assert!(
        last_of_fold_2.is_some_and(|w| w >= committed_wall),
        "fold 2 ends at wall_s {last_of_fold_2:?}, below the {committed_wall} s committed before the kill"
    );
    let per_fold: Vec<((i64, i64), f64)> = last.into_iter().collect();
    for pair in per_fold.windows(2) {
        let ((fold_a, epoch_a), wall_a) = pair[0];
        let ((fold_b, epoch_b), wall_b) = pair[1];
        if fold_a == fold_b {
            assert!(
                wall_b >= wall_a,
                "fold {fold_a}: wall_s {wall_b} at epoch {epoch_b} is below {wall_a} at epoch {epoch_a}"
            );
        }
    }
}

/// The same experiment run from scratch in separate processes (hash maps are seeded per
/// process) trains byte-identical fold tokenizers and so predicts exactly the same. With 130
/// pieces the vocabulary cut falls among equally frequent pieces of the synthetic transcripts:
/// with the library's WordPiece trainer, one fold's tokenizer differed in 8 of 20 processes.
#[test]
fn reruns_from_scratch_train_identical_tokenizers_and_predict_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment(dir.path(), "");
    let run_once = |runs: &str| {
        let runs = dir.path().join(runs);
        let out = run(bin()
            .arg(&exp)
            .arg("--runs-dir")
            .arg(&runs)
            .arg("--quiet")
            .args(["--set", "train.epochs=1"])
            .args(["--set", "encoders.text.tokenizer.vocab=130"]));
        assert!(out.status.success());
        run_dirs(&runs, "tiny")[0].clone()
    };
    let first = run_once("first");
    let predictions = |dir: &Path| read_parquet(&dir.join("predictions.parquet"));
    for rerun in ["second", "third", "fourth"] {
        let again = run_once(rerun);
        for fold in 0..2 {
            let tokenizer = format!("checkpoints/main/fold-{fold}/tokenizer.json");
            assert!(
                std::fs::read(first.join(&tokenizer)).unwrap()
                    == std::fs::read(again.join(&tokenizer)).unwrap(),
                "fold {fold}'s tokenizer.json differs in the {rerun} run"
            );
        }
        assert!(
            predictions(&first).equals_missing(&predictions(&again)),
            "the {rerun} run predicts differently"
        );
        assert!(
            std::fs::read(first.join("predictions.parquet")).unwrap()
                == std::fs::read(again.join("predictions.parquet")).unwrap(),
            "predictions.parquet is byte-identical in the {rerun} run"
        );
        let metrics_without_time = |dir: &Path| {
            read_parquet(&dir.join("metrics.parquet"))
                .drop("wall_s")
                .unwrap()
        };
        assert!(
            metrics_without_time(&first).equals_missing(&metrics_without_time(&again)),
            "metrics.parquet equals the first run's but for wall_s in the {rerun} run"
        );
    }
}
