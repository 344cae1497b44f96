//! `emo-run predict` and `emo-run eval` on finished tiny runs: new utterances get the scores the
//! run's own test pass gave them, a manifest gets one row per line, `eval` reproduces the run's
//! test accuracy, and what cannot be scored is refused with the reason.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    bin, copy_dir, hf_fixture, run, run_dirs, scored_rows, stderr, tiny_experiment, utterance_files,
};

/// Train the tiny experiment (plus `sets`) under `dir/runs`; its run folder.
fn train(dir: &Path, extra: &str, sets: &[String]) -> PathBuf {
    let exp = tiny_experiment(dir, extra);
    let runs = dir.join("runs");
    let mut cmd = bin();
    cmd.arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet");
    for set in sets {
        cmd.args(["--set", set]);
    }
    let out = run(&mut cmd);
    assert!(out.status.success(), "training failed: {}", stderr(&out));
    run_dirs(&runs, "tiny").remove(0)
}

fn predict(run_dir: &Path, args: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.arg("predict").arg(run_dir).args(args).arg("--quiet");
    run(&mut cmd)
}

fn predict_json(run_dir: &Path, wav: &Path, text: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json", "--wav", wav.to_str().unwrap(), "--text", text];
    args.extend_from_slice(extra);
    let out = predict(run_dir, &args);
    assert!(out.status.success(), "predict failed: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn assert_close(ours: &[f32], run: &[f32], what: &str) {
    assert_eq!(ours.len(), run.len(), "{what}: {ours:?} vs {run:?}");
    for (a, b) in ours.iter().zip(run) {
        assert!(
            (a - b).abs() <= 1e-5,
            "{what}: {ours:?} vs the run's {run:?}"
        );
    }
}

fn json_scores(value: &serde_json::Value) -> Vec<f32> {
    (value["scores"].as_array().unwrap().iter())
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

/// `eval`'s CSV as (header, value) maps, one per row.
fn eval_csv(
    run_dir: &Path,
    args: &[&str],
    out: &Path,
) -> Vec<std::collections::HashMap<String, String>> {
    let mut cmd = bin();
    cmd.arg("eval")
        .arg(run_dir)
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--quiet");
    let output = run(&mut cmd);
    assert!(output.status.success(), "eval failed: {}", stderr(&output));
    let mut reader = csv::Reader::from_path(out).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn summary_metric(run_dir: &Path, metric: &str) -> (f64, Vec<f64>) {
    let text = std::fs::read_to_string(run_dir.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    let m = (summary["stages"][0]["test"].as_array().unwrap().iter())
        .find(|m| m["metric"] == metric)
        .unwrap();
    let per_fold = (m["per_fold"].as_array().unwrap().iter())
        .map(|v| v.as_f64().unwrap())
        .collect();
    (m["mean"].as_f64().unwrap(), per_fold)
}

fn refused(out: &Output, expected: &[&str]) {
    assert!(!out.status.success(), "expected a refusal");
    let err = stderr(out);
    for part in expected {
        assert!(err.contains(part), "{part:?} not in: {err}");
    }
}

#[test]
fn predict_and_eval_reproduce_the_runs_own_test_pass() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = train(dir.path(), "", &[]);
    let corpus = dir.path().join("corpus");
    let predictions = run_dir.join("predictions.parquet");
    let test = scored_rows(&predictions, "test", 0);
    assert!(test.len() >= 3, "{test:?}");

    // One utterance of fold 1's test split: the scores its test pass gave it.
    let (wav, text) = utterance_files(&corpus, &test[0].id);
    let json = predict_json(&run_dir, &wav, &text, &[]);
    assert_eq!(
        (json["stage"].as_str(), json["fold"].as_str()),
        (Some("main"), Some("1"))
    );
    assert_eq!(json["classes"].as_array().unwrap().len(), 7);
    assert_close(&json_scores(&json), &test[0].scores, &test[0].id);
    // Fold 2's weights score fold 2's test utterances.
    let test2 = scored_rows(&predictions, "test", 1);
    let (wav2, text2) = utterance_files(&corpus, &test2[0].id);
    let json2 = predict_json(&run_dir, &wav2, &text2, &["--fold", "2"]);
    assert_close(&json_scores(&json2), &test2[0].scores, &test2[0].id);
    let table = predict(&run_dir, &["--wav", wav.to_str().unwrap(), "--text", &text]);
    assert!(table.status.success());
    let printed = String::from_utf8_lossy(&table.stdout);
    assert!(
        printed.contains("neutral") && printed.contains("prediction: "),
        "{printed}"
    );

    // A manifest of new utterances (paths relative to it): one row per line, in order, with
    // the same scores.
    let manifest = corpus.join("new.csv");
    let mut lines = vec!["utterance_id,text,audio".to_string()];
    for row in &test[..3] {
        let (wav, text) = utterance_files(&corpus, &row.id);
        let relative = wav.strip_prefix(&corpus).unwrap().display().to_string();
        lines.push(format!(
            "{},\"{}\",{relative}",
            row.id,
            text.replace('"', "\"\"")
        ));
    }
    std::fs::write(&manifest, lines.join("\n") + "\n").unwrap();
    let out_path = dir.path().join("preds.parquet");
    let out = predict(
        &run_dir,
        &[
            "--manifest",
            manifest.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let written = scored_rows(&out_path, "predict", 0);
    assert_eq!(written.len(), 3);
    for (ours, theirs) in written.iter().zip(&test) {
        assert_eq!(ours.id, theirs.id);
        assert_close(&ours.scores, &theirs.scores, &ours.id);
    }

    // eval: one row for the stage, whose accuracy is the run's own mean test accuracy; the
    // per-fold rows are the folds' accuracies, and the parameters model.json's.
    let rows = eval_csv(&run_dir, &["--per-fold"], &dir.path().join("eval.csv"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    let (mean, per_fold) = summary_metric(&run_dir, "accuracy");
    let value = |row: &std::collections::HashMap<String, String>, key: &str| -> f64 {
        row[key].parse().unwrap()
    };
    assert_eq!(
        (rows[0]["stage"].as_str(), rows[0]["fold"].as_str()),
        ("main", "mean")
    );
    assert!(
        (value(&rows[0], "accuracy") - 100.0 * mean).abs() < 1e-9,
        "{rows:?}"
    );
    for (row, accuracy) in rows[1..].iter().zip(&per_fold) {
        assert!(
            (value(row, "accuracy") - 100.0 * accuracy).abs() < 1e-9,
            "{row:?}"
        );
    }
    let (f1, _) = summary_metric(&run_dir, "weighted_f1");
    assert!((value(&rows[0], "weighted_f1") - 100.0 * f1).abs() < 1e-9);
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("model.json")).unwrap())
            .unwrap();
    assert_eq!(rows[0]["trainable_params"], model["trainable"].to_string());
    assert!(value(&rows[0], "inference_s") > 0.0);

    // Refusals, each with its reason and a nonzero exit.
    let wav_arg = wav.to_str().unwrap();
    refused(
        &predict(&run_dir, &["--wav", wav_arg]),
        &["reads text", "--text"],
    );
    refused(
        &predict(
            &run_dir,
            &["--stage", "teacher", "--wav", wav_arg, "--text", "x"],
        ),
        &["no stage \"teacher\"", "main"],
    );
    refused(
        &predict(&run_dir, &["--fold", "5", "--wav", wav_arg, "--text", "x"]),
        &["no fold \"5\"", "1, 2"],
    );
    let unfinished = dir.path().join("unfinished");
    copy_dir(&run_dir, &unfinished);
    std::fs::remove_file(unfinished.join("DONE")).unwrap();
    refused(
        &predict(&unfinished, &["--wav", wav_arg, "--text", "x"]),
        &["unfinished", "DONE"],
    );
    let mut cmd = bin();
    refused(
        &run(cmd.arg("eval").arg(&run_dir).arg(&unfinished)),
        &["unfinished"],
    );

    // The multi-stage layout: stages/<stage>/{resolved.toml,DONE}, checkpoints/<stage>/.
    let multi = dir.path().join("multi");
    copy_dir(&run_dir, &multi);
    for stage in ["teacher", "student"] {
        let stage_dir = multi.join("stages").join(stage);
        std::fs::create_dir_all(&stage_dir).unwrap();
        std::fs::copy(
            run_dir.join("resolved.toml"),
            stage_dir.join("resolved.toml"),
        )
        .unwrap();
        copy_dir(
            &run_dir.join("checkpoints/main"),
            &multi.join("checkpoints").join(stage),
        );
    }
    std::fs::write(multi.join("stages/teacher/DONE"), "").unwrap();
    let args = ["--json", "--wav", wav_arg, "--text", &text];
    refused(
        &predict(&multi, &args),
        &["2 stages (student, teacher)", "--stage"],
    );
    refused(
        &predict(&multi, &[&args[..], &["--stage", "student"]].concat()),
        &["stage student has not finished", "stages/student/DONE"],
    );
    let teacher = predict_json(&multi, &wav, &text, &["--stage", "teacher"]);
    assert_eq!(teacher["stage"], "teacher");
    assert_close(&json_scores(&teacher), &test[0].scores, "the teacher stage");
    let rows = eval_csv(
        &multi,
        &["--stage", "teacher"],
        &dir.path().join("multi.csv"),
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["stage"], "teacher");
    assert!(
        (value(&rows[0], "accuracy") - 100.0 * mean).abs() < 1e-9,
        "{rows:?}"
    );
}

/// Frozen pretrained encoders (BERT text, wav2vec2 audio): predict runs them itself (a fresh
/// feature cache) and gets the run's scores; a moved model folder is named.
#[test]
fn frozen_encoders_are_run_for_new_utterances_and_a_moved_folder_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    for name in ["bert", "wav2vec2-layer-stable"] {
        copy_dir(Path::new(&hf_fixture(name)), &models.join(name));
    }
    let sets = vec![
        "encoders.text.kind=bert".to_string(),
        format!(
            "encoders.text.path={:?}",
            models.join("bert").display().to_string()
        ),
        "encoders.text.train=\"frozen\"".into(),
        "encoders.audio.kind=wav2vec2".into(),
        format!(
            "encoders.audio.path={:?}",
            models.join("wav2vec2-layer-stable").display().to_string()
        ),
        "encoders.audio.train=\"frozen\"".into(),
    ];
    let run_dir = train(dir.path(), "", &sets);
    let test = scored_rows(&run_dir.join("predictions.parquet"), "test", 0);
    let (wav, text) = utterance_files(&dir.path().join("corpus"), &test[0].id);
    let cache = dir.path().join("fresh-cache");
    let json = predict_json(
        &run_dir,
        &wav,
        &text,
        &["--cache-dir", cache.to_str().unwrap()],
    );
    assert_close(&json_scores(&json), &test[0].scores, &test[0].id);
    assert!(
        cache.is_dir(),
        "the frozen encoders ran through the feature cache"
    );

    std::fs::rename(models.join("bert"), models.join("bert-moved")).unwrap();
    let out = predict(&run_dir, &["--wav", wav.to_str().unwrap(), "--text", &text]);
    refused(
        &out,
        &[
            "encoders.text.path",
            &models.join("bert").display().to_string(),
            "does not exist",
        ],
    );
}

/// A model on a corpus's pre-extracted features cannot score a WAV file and a transcript;
/// `eval` scores its test splits all the same.
#[test]
fn a_model_on_pre_extracted_features_is_refused_by_predict_and_scored_by_eval() {
    let dir = tempfile::tempdir().unwrap();
    let exp = common::tiny_pickle_experiment(dir.path(), "early_fusion");
    let runs = dir.path().join("runs");
    let out = run(bin().arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet"));
    assert!(out.status.success(), "{}", stderr(&out));
    let run_dir = run_dirs(&runs, "tiny_pickle").remove(0);
    refused(
        &predict(&run_dir, &["--text", "hi", "--wav", "x.wav"]),
        &["pre-extracted", "iemocap_cmu_pickle"],
    );
    let rows = eval_csv(&run_dir, &[], &dir.path().join("eval.csv"));
    let (mean, _) = summary_metric(&run_dir, "accuracy");
    assert_eq!(rows.len(), 1);
    let accuracy: f64 = rows[0]["accuracy"].parse().unwrap();
    assert!((accuracy - 100.0 * mean).abs() < 1e-9, "{rows:?} vs {mean}");
}
