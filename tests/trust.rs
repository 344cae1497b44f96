//! Comparisons you can trust: every method sees the same corpus and folds, degenerate configs
//! and corpora are refused before any run directory exists (with the key named, never a
//! panic), and the resolved config reruns as it is.

mod common;

use std::path::{Path, PathBuf};

use common::{bin, run, run_dirs, stderr};

/// The tiny test experiment on a pre-generated synthetic corpus at `dir/corpus` (no
/// `[dataset.synthetic]`, so the corpus can be damaged before the run), plus `extra`.
fn tiny_on_fixed_corpus(dir: &Path, extra: &str) -> PathBuf {
    let root = dir.join("corpus");
    if !root.exists() {
        let cfg = emo_run::data::synth::SynthConfig {
            sessions: 3,
            utterances_per_session: 12,
            min_seconds: 0.6,
            max_seconds: 1.0,
            seed: 3,
            ..Default::default()
        };
        emo_run::data::synth::write_kemdy20(&root, &cfg).unwrap();
    }
    let template = include_str!("fixtures/configs/tiny.toml");
    let synthetic_table = template
        .find("[dataset.synthetic]")
        .expect("tiny.toml has a synthetic table");
    let table_end = template[synthetic_table..]
        .find("\n\n")
        .map_or(template.len(), |n| synthetic_table + n);
    let text = format!("{}{}", &template[..synthetic_table], &template[table_end..])
        .replace("PLACEHOLDER_ROOT", &root.display().to_string());
    let path = dir.join("tiny.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

fn first_wav(root: &Path) -> PathBuf {
    let session = root.join("wav/Session01");
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(&session)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    wavs.sort();
    wavs.remove(0)
}

fn data_json(run_dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join("data.json")).unwrap()).unwrap()
}

fn run_method(exp: &Path, runs: &Path, method: &str) -> PathBuf {
    let out = run(bin()
        .arg(exp)
        .arg("--runs-dir")
        .arg(runs)
        .arg("--quiet")
        .args(["--set", &format!("fusion.method={method}")])
        .args(["--set", "train.epochs=1"]));
    assert!(out.status.success(), "{method}: {}", stderr(&out));
    run_dirs(runs, "tiny").pop().unwrap()
}

/// One unreadable clip: text_only (which never reads audio for its model) and early_fusion
/// still drop the same row and share their folds, byte for byte.
#[test]
fn every_method_sees_the_same_corpus_and_folds() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_on_fixed_corpus(dir.path(), "");
    let broken = first_wav(&dir.path().join("corpus"));
    std::fs::write(&broken, b"RIFF\x10\x00\x00\x00WAVEbroken").unwrap();

    let text_run = run_method(&exp, &dir.path().join("text"), "text_only");
    let fusion_run = run_method(&exp, &dir.path().join("fusion"), "early_fusion");
    let (text, fusion) = (data_json(&text_run), data_json(&fusion_run));
    assert_eq!(text["utterances"], fusion["utterances"]);
    assert_eq!(text["dropped"], fusion["dropped"]);
    let reasons = text["dropped_by_reason"].to_string();
    assert!(reasons.contains("unreadable audio"), "{reasons}");
    let fingerprint = text["folds_fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 64);
    assert_eq!(fingerprint, fusion["folds_fingerprint"].as_str().unwrap());
    assert_eq!(
        std::fs::read(text_run.join("folds.parquet")).unwrap(),
        std::fs::read(fusion_run.join("folds.parquet")).unwrap(),
        "folds.parquet is the same file for both methods"
    );
}

/// Runs a config that must be refused: failure, no panic, every expected fragment in the
/// message, and no run directory left behind.
fn refused(extra: &str, sets: &[&str], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_on_fixed_corpus(dir.path(), extra);
    let runs = dir.path().join("runs");
    let mut cmd = bin();
    cmd.arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet");
    for set in sets {
        cmd.args(["--set", set]);
    }
    let out = run(&mut cmd);
    let err = stderr(&out);
    assert!(!out.status.success(), "must be refused");
    assert!(!err.contains("panicked"), "no panic: {err}");
    for fragment in expected {
        assert!(err.contains(fragment), "missing {fragment:?} in: {err}");
    }
    assert!(
        run_dirs(&runs, "tiny").is_empty(),
        "nothing is left behind but the message"
    );
}

#[test]
fn more_folds_than_utterances_are_refused() {
    refused(
        "",
        &["split.folds=100000"],
        &["split.folds", "100000", "expected at most"],
    );
}

#[test]
fn a_class_the_corpus_never_contains_is_refused() {
    refused(
        "",
        &["dataset.classes=[\"happy\", \"joy\"]"],
        &["dataset.classes", "\"joy\"", "none of the"],
    );
}

/// A manifest of 3 sessions in which `fear` occurs in session 3 only: holding session 3 out
/// leaves fold 3 without a training example of it, so "balanced" weights are undefined there,
/// and so are the binary cross-entropy's "positive_ratio" weights of a multi-label task.
fn refused_without_a_training_example_of_fear(settings: &[&str], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    tiny_on_fixed_corpus(dir.path(), "");
    let wav = first_wav(&dir.path().join("corpus"));
    let mut csv = String::from("id,audio,text,label,session\n");
    for session in 1..=3 {
        for k in 0..8 {
            let label = match (session, k % 4) {
                (3, 3) => "fear",
                (_, 0 | 2) => "happy",
                _ => "sad",
            };
            csv += &format!(
                "s{session}u{k},{},words {k},{label},{session}\n",
                wav.display()
            );
        }
    }
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, csv).unwrap();
    let root = format!("dataset.root={}", manifest.display());
    refused(
        "",
        &[
            "dataset.kind=manifest",
            root.as_str(),
            "dataset.classes=[\"happy\", \"sad\", \"fear\"]",
            "split.protocol=leave_session_out",
        ]
        .into_iter()
        .chain(settings.iter().copied())
        .collect::<Vec<_>>(),
        expected,
    );
}

#[test]
fn balanced_weights_without_a_training_example_of_a_class_are_refused() {
    refused_without_a_training_example_of_fear(
        &["task.class_weights=balanced"],
        &[
            "task.class_weights",
            "\"fear\"",
            "no training example in fold 3",
        ],
    );
}

#[test]
fn positive_ratio_weights_without_a_training_positive_are_refused() {
    refused_without_a_training_example_of_fear(
        &[
            "dataset.multi_label=all",
            "task.kind=multilabel",
            "task.class_weights=positive_ratio",
        ],
        &[
            "task.class_weights",
            "\"fear\"",
            "no training utterance of fold 3",
        ],
    );
}

#[test]
fn a_fusion_key_the_method_does_not_read_is_refused() {
    refused(
        "",
        &["fusion.proj_dim=8"],
        &["fusion.proj_dim", "early_fusion", "rsa_cfn"],
    );
}

/// `resolved.toml` runs as it is from the run directory (no relative `extends`, absolute
/// paths) and resolves to the same config: the rerun finds the finished run.
#[test]
fn resolved_toml_runs_as_is_from_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let base = tiny_on_fixed_corpus(dir.path(), "");
    std::fs::rename(&base, dir.path().join("base.toml")).unwrap();
    let child = dir.path().join("child.toml");
    std::fs::write(&child, "extends = [\"base.toml\"]\n[train]\nepochs = 1\n").unwrap();
    let runs = dir.path().join("runs");
    let out = run(bin()
        .arg(&child)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet"));
    assert!(out.status.success());
    let run_dir = run_dirs(&runs, "tiny").pop().unwrap();
    let resolved = std::fs::read_to_string(run_dir.join("resolved.toml")).unwrap();
    assert!(!resolved.contains("base.toml"), "{resolved}");

    let out = run(bin()
        .current_dir(&run_dir)
        .arg("resolved.toml")
        .arg("--runs-dir")
        .arg(&runs));
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("already finished"), "{stdout}");
    assert_eq!(run_dirs(&runs, "tiny").len(), 1);
}

/// Beyond the named cases: zero or negative class weights (burn's cross-entropy would panic)
/// and a device this binary was not built with are refused before any run directory.
#[test]
fn weights_and_devices_that_cannot_work_are_refused_up_front() {
    refused(
        "",
        &["task.class_weights=[1, 1, 1, 0, 1, 1, 1]"],
        &["task.class_weights", "positive"],
    );
    refused(
        "",
        &["task.class_weights=[1, -1, 1, 1, 1, 1, 1]"],
        &["task.class_weights", "-1"],
    );
    // The binary cross-entropy's positive weights need multi-hot targets and that loss.
    refused(
        "",
        &["task.class_weights=positive_ratio"],
        &["task.class_weights", "positive_ratio", "multi-hot"],
    );
    refused(
        "",
        &[
            "dataset.multi_label=all",
            "task.kind=multilabel",
            "task.multilabel_loss=soft_margin_on_softmax",
            "task.class_weights=positive_ratio",
        ],
        &["task.class_weights", "SoftMarginOnSoftmax", "bce"],
    );
    refused(
        "",
        &["device=cuda:0"],
        &["device", "not built into this binary"],
    );
}

/// A diverging run stops with the reason instead of finishing with the metrics of a model
/// whose weights are NaN.
#[test]
fn a_nan_loss_stops_the_run_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_on_fixed_corpus(dir.path(), "");
    let out = run(bin()
        .arg(&exp)
        .arg("--runs-dir")
        .arg(dir.path().join("runs"))
        .arg("--quiet")
        .args(["--set", "train.optimizer.lr=1e30"]));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("training diverged") && err.contains("train.optimizer.lr"),
        "{err}"
    );
}
