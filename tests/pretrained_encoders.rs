//! Pretrained encoders through the CLI, on the committed tiny random Hugging Face folders:
//! training with `full` and `top:N`, the trainable counts `inspect` reports for each training
//! mode, and the errors a wrong folder or setting gets before anything runs.

mod common;

use std::path::Path;

use common::{bin, hf_fixture, run, run_dirs, stderr, tiny_experiment_with_method};

/// `--set` assignments for a BERT text encoder and a stable-layer-norm wav2vec2.
fn pretrained_sets(text_train: &str, audio_train: &str) -> Vec<String> {
    vec![
        "encoders.text.kind=bert".into(),
        format!("encoders.text.path={:?}", hf_fixture("bert")),
        format!("encoders.text.train={text_train:?}"),
        "encoders.audio.kind=wav2vec2".into(),
        format!(
            "encoders.audio.path={:?}",
            hf_fixture("wav2vec2-layer-stable")
        ),
        format!("encoders.audio.train={audio_train:?}"),
    ]
}

fn with_sets(cmd: &mut std::process::Command, sets: &[String]) {
    for set in sets {
        cmd.args(["--set", set]);
    }
}

fn module_counts(json: &serde_json::Value, module: &str) -> (u64, u64) {
    let m = json["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == module)
        .unwrap_or_else(|| panic!("no module {module} in {json}"));
    (
        m["total"].as_u64().unwrap(),
        m["trainable"].as_u64().unwrap(),
    )
}

fn inspect(exp: &Path, sets: &[String]) -> serde_json::Value {
    let mut cmd = bin();
    cmd.arg("inspect").arg(exp).arg("--json");
    with_sets(&mut cmd, sets);
    let out = run(&mut cmd);
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fine_tunes_both_pretrained_encoders_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment_with_method(dir.path(), "concat", "");
    let runs = dir.path().join("runs");
    let mut cmd = bin();
    cmd.arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet");
    with_sets(&mut cmd, &pretrained_sets("full", "top:1"));
    cmd.args(["--set", "encoders.audio.freeze_feature_encoder=true"]);
    let out = run(&mut cmd);
    assert!(out.status.success());
    let run_dir = &run_dirs(&runs, "tiny")[0];
    assert!(run_dir.join("DONE").is_file());
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("model.json")).unwrap())
            .unwrap();
    let text = model["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "encoders.text")
        .unwrap();
    assert_eq!(text["total"], text["trainable"], "train = full: {text}");
}

#[test]
fn inspect_counts_what_each_training_mode_trains() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment_with_method(dir.path(), "concat", "");

    let full = inspect(&exp, &pretrained_sets("full", "full"));
    let (text_total, text_trainable) = module_counts(&full, "encoders.text");
    assert_eq!(text_total, text_trainable);

    // The fixture's BERT: hidden 24, intermediate 40, 2 layers, with a pooler. One layer is
    // q/k/v/output (4 × (24·24 + 24)), two LayerNorms (2 × 48) and the feed-forward
    // (24·40 + 40 + 40·24 + 24); the pooler is 24·24 + 24.
    let layer = 4 * (24 * 24 + 24) + 2 * 48 + (24 * 40 + 40) + (40 * 24 + 24);
    let pooler = 24 * 24 + 24;
    let top1 = inspect(&exp, &pretrained_sets("top:1", "top:1"));
    assert_eq!(
        module_counts(&top1, "encoders.text"),
        (text_total, layer + pooler)
    );
    let (audio_total, audio_top1) = module_counts(&top1, "encoders.audio");
    assert!(audio_top1 > 0 && audio_top1 < audio_total);

    let frozen = inspect(&exp, &pretrained_sets("frozen", "frozen"));
    assert_eq!(module_counts(&frozen, "encoders.text"), (text_total, 0));
    assert_eq!(module_counts(&frozen, "encoders.audio"), (audio_total, 0));
}

/// `validate` with extra `--set`s; returns stderr, asserting failure.
fn invalid(exp: &Path, sets: &[String]) -> String {
    let mut cmd = bin();
    cmd.arg("validate").arg(exp);
    with_sets(&mut cmd, sets);
    let out = run(&mut cmd);
    assert!(!out.status.success());
    stderr(&out)
}

#[test]
fn wrong_folders_and_settings_are_refused_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment_with_method(dir.path(), "concat", "");
    let base = pretrained_sets("full", "full");
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter()
            .cloned()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };

    let err = invalid(&exp, &with(&["encoders.text.kind=roberta"]));
    assert!(
        err.contains("encoders.text.kind") && err.contains("\"bert\""),
        "{err}"
    );

    let err = invalid(&exp, &with(&["encoders.text.layer=5"]));
    assert!(
        err.contains("encoders.text.layer") && err.contains("2 layers"),
        "{err}"
    );

    let err = invalid(&exp, &with(&["encoders.audio.train=\"top:3\""]));
    assert!(
        err.contains("encoders.audio.train") && err.contains("only 2 layers"),
        "{err}"
    );

    let err = invalid(&exp, &with(&["encoders.text.path=\"/no/such/model\""]));
    assert!(
        err.contains("/no/such/model") && err.contains("does not exist"),
        "{err}"
    );

    let err = invalid(&exp, &with(&["encoders.text.pooling=\"none\""]));
    assert!(
        err.contains("encoders.text.pooling") && err.contains("mlp_mixer"),
        "{err}"
    );

    let err = invalid(
        &exp,
        &["encoders.text.train=\"frozen\"".to_string()], // the small transformer cannot be
    );
    assert!(err.contains("only pretrained kinds can be frozen"), "{err}");
}

#[test]
fn a_folder_without_weights_stops_the_run_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment_with_method(dir.path(), "concat", "");
    // Only config.json and tokenizer.json: enough to validate and inspect, not to train.
    let model = dir.path().join("bert-config-only");
    std::fs::create_dir(&model).unwrap();
    for file in ["config.json", "tokenizer.json"] {
        std::fs::copy(Path::new(&hf_fixture("bert")).join(file), model.join(file)).unwrap();
    }
    let mut sets = pretrained_sets("full", "full");
    sets[1] = format!("encoders.text.path={:?}", model.display().to_string());
    let json = inspect(&exp, &sets);
    assert!(module_counts(&json, "encoders.text").0 > 0);

    let runs = dir.path().join("runs");
    let mut cmd = bin();
    cmd.arg(&exp).arg("--runs-dir").arg(&runs);
    with_sets(&mut cmd, &sets);
    let out = run(&mut cmd);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("bert-config-only") && err.contains("model.safetensors"),
        "{err}"
    );
    assert!(
        run_dirs(&runs, "tiny").is_empty(),
        "no run directory is made"
    );
}
