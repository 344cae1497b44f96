//! Every registered fusion method trains for two epochs through the CLI, on a corpus that
//! provides its streams: the tiny synthetic KEMDy20 corpus (text and audio through their
//! encoders), the same with video frames and spectrogram pieces for the methods that take faces
//! as a sequence (seed 001's), the same with hand-crafted feature files for the methods that take
//! every stream as a sequence (seed 001's baselines), or a tiny synthetic CMU feature pickle (pre-extracted audio,
//! visual and text, all four emotions). The list comes from the registry, so a method added there is tested here
//! without editing this file.

mod common;

use common::{
    bin, run, run_dirs, small_sets, tiny_experiment_with_method, tiny_faces_experiment,
    tiny_hcf_experiment, tiny_pickle_experiment,
};
use emo_run::config::{DatasetKind, Form, FusionMethod, Modality};

/// Whether the tiny KEMDy20 corpus provides every stream `method` takes.
fn fits_kemdy20(method: FusionMethod) -> bool {
    let streams = DatasetKind::Kemdy20.streams();
    method
        .needs()
        .iter()
        .all(|(m, form)| streams.get(m).is_some_and(|a| a.gives(*form)))
}

/// Whether `method` takes text, audio and visual as sequences (seed 001's LF baselines, which
/// read hand-crafted feature files).
fn takes_feature_sequences(method: FusionMethod) -> bool {
    [Modality::Text, Modality::Audio, Modality::Visual]
        .iter()
        .all(|&m| method.form_of(m) == Some(Form::Sequence))
}

/// Whether `method` takes faces frame by frame (seed 001's CNN methods).
fn takes_faces(method: FusionMethod) -> bool {
    method.form_of(Modality::Visual) == Some(Form::Sequence)
        && method.form_of(Modality::Audio) == Some(Form::Sequence)
}

#[test]
fn every_registered_method_trains_two_epochs() {
    for &method in FusionMethod::ALL {
        let name = method.name();
        let dir = tempfile::tempdir().unwrap();
        let (exp, folds, summary_name) = if fits_kemdy20(method) {
            (
                tiny_experiment_with_method(dir.path(), &name, ""),
                2,
                "tiny",
            )
        } else if takes_feature_sequences(method) {
            (tiny_hcf_experiment(dir.path(), &name, ""), 2, "tiny_hcf")
        } else if takes_faces(method) {
            (
                tiny_faces_experiment(dir.path(), &name, ""),
                2,
                "tiny_faces",
            )
        } else {
            (tiny_pickle_experiment(dir.path(), &name), 4, "tiny_pickle")
        };
        let runs = dir.path().join("runs");
        let mut cmd = bin();
        cmd.arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet");
        for set in small_sets(&name) {
            cmd.args(["--set", &set]);
        }
        let out = run(&mut cmd);
        assert!(out.status.success(), "{name} failed");
        let run_dir = &run_dirs(&runs, summary_name)[0];
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
                .unwrap();
        let stage = &summary["stages"][0];
        assert_eq!(stage["folds"], folds, "{name}");
        let f1 = stage["test"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == "weighted_f1")
            .unwrap_or_else(|| panic!("{name}: no weighted_f1"));
        assert!(f1["mean"].as_f64().unwrap().is_finite(), "{name}: {f1}");
    }
}

#[test]
fn the_per_emotion_protocol_names_its_folds_after_the_emotions() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_pickle_experiment(dir.path(), "lmf");
    let runs = dir.path().join("runs");
    let mut cmd = bin();
    cmd.arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet");
    cmd.args([
        "--set",
        "fold.sad.fusion.rank=2",
        "--set",
        "fold.angry.seed=9",
    ]);
    for set in small_sets("lmf") {
        cmd.args(["--set", &set]);
    }
    let out = run(&mut cmd);
    assert!(out.status.success());
    let run_dir = &run_dirs(&runs, "tiny_pickle")[0];
    let summary = std::fs::read_to_string(run_dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("per fold (happy, sad, angry, neutral)"),
        "{summary}"
    );
    assert!(summary.contains("4 folds (per_emotion)"), "{summary}");
}

#[test]
fn a_fold_override_for_a_fold_the_run_lacks_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_pickle_experiment(dir.path(), "tfn");
    let runs = dir.path().join("runs");
    let out = run(bin()
        .arg(&exp)
        .arg("--runs-dir")
        .arg(&runs)
        .args(["--set", "fold.hapy.fusion.post_fusion_dim=4"]));
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("fold.hapy") && err.contains("happy, sad, angry, neutral"),
        "{err}"
    );
    assert!(!runs.exists() || run_dirs(&runs, "tiny_pickle").is_empty());
}

#[test]
fn a_key_of_another_method_is_refused_naming_the_methods_that_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_pickle_experiment(dir.path(), "lmf");
    let out = run(bin()
        .arg("validate")
        .arg(&exp)
        .args(["--set", "fusion.post_fusion_dim=4"]));
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("fusion.post_fusion_dim")
            && err.contains("is not read by method = lmf")
            && err.contains("it belongs to tfn"),
        "{err}"
    );
    let out = run(bin()
        .arg("validate")
        .arg(&exp)
        .args(["--set", "fold.happy.fusion.mixer_dim=4"]));
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("fold.happy.fusion.mixer_dim") && err.contains("mlp_mixer"),
        "{err}"
    );
}

#[test]
fn a_fold_cannot_change_the_method() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_pickle_experiment(dir.path(), "lmf");
    let out = run(bin()
        .arg("validate")
        .arg(&exp)
        .args(["--set", "fold.sad.fusion.method=\"tfn\""]));
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("fold.sad.fusion.method") && err.contains("cannot change the method"),
        "{err}"
    );
}
