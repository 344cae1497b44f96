//! Each non-classification task trains end to end on the synthetic corpus with tiny encoders
//! and scores clearly above what a broken head would (a constant output has CCC 0; predicting
//! no class has micro-F1 0, always "neutral" about 0.3).

mod common;

use std::path::{Path, PathBuf};

use common::{bin, run, run_dirs};
use polars::prelude::*;

/// Train the tiny experiment on a larger corpus for more epochs, with each `(from, to)` edit
/// applied and `extra` appended; the run directory.
fn train(dir: &Path, edits: &[(&str, &str)], extra: &str) -> PathBuf {
    let config = common::tiny_experiment(dir, extra);
    let mut text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "sessions = 3\nutterances_per_session = 12",
            "sessions = 6\nutterances_per_session = 40",
        )
        .replace("epochs = 2", "epochs = 15")
        .replace("[fusion]\nhidden = 16", "[fusion]\nhidden = 32");
    for (from, to) in edits {
        assert!(text.contains(from), "fixture lacks {from:?}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(&config, text).unwrap();
    let runs = dir.join("runs");
    let out = run(bin()
        .arg(&config)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet"));
    assert!(out.status.success());
    run_dirs(&runs, "tiny").pop().unwrap()
}

/// Mean over folds of a test metric from summary.json.
fn test_metric(run: &Path, metric: &str) -> f64 {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    summary["stages"][0]["test"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("summary lacks {metric}"))["mean"]
        .as_f64()
        .unwrap()
}

fn predictions(run: &Path) -> DataFrame {
    let file = std::fs::File::open(run.join("predictions.parquet")).unwrap();
    ParquetReader::new(file).finish().unwrap()
}

#[test]
fn regression_learns_valence_and_arousal() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(
        dir.path(),
        &[(
            "batch_size = 8",
            "batch_size = 8\nselect_by = \"valid.ccc\"\noptimizer = { kind = \"adam\", lr = 3e-3 }",
        )],
        "[task]\nkind = \"regression\"\n",
    );
    let ccc = test_metric(&run, "ccc");
    eprintln!("regression: test CCC {ccc:.3}");
    assert!(ccc > 0.4, "mean test CCC {ccc:.3}");
    let df = predictions(&run);
    for column in [
        "target_valence",
        "prediction_valence",
        "target_arousal",
        "prediction_arousal",
    ] {
        assert_eq!(
            df.column(column).unwrap().dtype(),
            &DataType::Float32,
            "{column}"
        );
    }
    assert_eq!(df.column("target").unwrap().null_count(), df.height());
}

/// A multi-label run (multi-hot targets, model chosen by valid micro-F1) with `task_extra`
/// appended to its `[task]` table.
fn train_multilabel(dir: &Path, task_extra: &str) -> PathBuf {
    train(
        dir,
        &[
            ("[dataset]\n", "[dataset]\nmulti_label = \"all\"\n"),
            (
                "batch_size = 8",
                "batch_size = 8\nselect_by = \"valid.micro_f1\"\noptimizer = { lr = 3e-3 }",
            ),
        ],
        &format!("[task]\nkind = \"multilabel\"\n{task_extra}"),
    )
}

#[test]
fn multilabel_predicts_label_sets() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_multilabel(dir.path(), "");
    let micro = test_metric(&run, "micro_f1");
    let hamming = test_metric(&run, "hamming_accuracy");
    eprintln!("multilabel: test micro-F1 {micro:.3}, Hamming accuracy {hamming:.3}");
    assert!(micro > 0.5, "micro-F1 {micro:.3}");
    assert!(hamming > 0.86, "Hamming accuracy {hamming:.3}");
}

/// `task.class_weights = "positive_ratio"`: the binary cross-entropy's positive cells weighted
/// by (n - positives) / positives per class of the fold's training split (seed 001): about 5 at
/// six classes, so the model leans towards predicting a label, and recall stays high.
#[test]
fn multilabel_trains_with_positive_ratio_weights() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_multilabel(dir.path(), "class_weights = \"positive_ratio\"\n");
    let micro = test_metric(&run, "micro_f1");
    let recall = test_metric(&run, "micro_recall");
    eprintln!("multilabel, positive_ratio: test micro-F1 {micro:.3}, micro recall {recall:.3}");
    assert!(micro > 0.4, "micro-F1 {micro:.3}");
    assert!(recall > 0.6, "micro recall {recall:.3}");
}

#[test]
fn multitask_reports_both_heads_with_accumulation_and_clipping() {
    let dir = tempfile::tempdir().unwrap();
    let run = train(
        dir.path(),
        &[(
            "batch_size = 8",
            "batch_size = 4\naccumulate_grad_batches = 2\nclip_grad_norm = 5.0\nselect_by = \"valid.loss\"\neval_drop_last = true",
        )],
        "[task]\nkind = \"multitask\"\n",
    );
    let f1 = test_metric(&run, "weighted_f1");
    let ccc = test_metric(&run, "ccc");
    eprintln!("multitask: test weighted F1 {f1:.3}, CCC {ccc:.3}");
    assert!(f1 > 0.35, "weighted F1 {f1:.3}");
    // eval_drop_last: every scored split holds whole batches of 4 only.
    let df = predictions(&run);
    let folds: Vec<u32> = df
        .column("fold")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let splits = df.column("split").unwrap().str().unwrap().clone();
    let mut counts = std::collections::BTreeMap::new();
    for (fold, split) in folds.iter().zip(splits.into_no_null_iter()) {
        *counts.entry((*fold, split.to_string())).or_insert(0usize) += 1;
    }
    assert!(counts.values().all(|n| n % 4 == 0), "{counts:?}");
    assert!(ccc > 0.4, "CCC {ccc:.3}");
}
