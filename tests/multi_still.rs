//! Seed 003's experiment files (`experiments/multi_still`) through `emo-run inspect --json`,
//! with the model folders of `models/` (config.json only): both encoders are frozen, so the
//! whole model's trainable parameters are the `cross_modal` fusion's, and each must be the
//! count the seed publishes (B.10).
//!
//! A head's size depends on the encoders' widths only, so the per-file checks build one
//! transformer layer per encoder (about 1 s each); the frozen encoders' full sizes are checked
//! once, on the teacher.

mod common;

use std::path::PathBuf;

use common::{bin, run};

fn inspect(file: &str, shallow: bool) -> serde_json::Value {
    let mut cmd = bin();
    cmd.current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    cmd.args([
        "inspect",
        &format!("experiments/multi_still/{file}"),
        "--json",
    ]);
    if shallow {
        cmd.args([
            "--set",
            "encoders.text.overrides.num_hidden_layers=1",
            "--set",
            "encoders.audio.overrides.num_hidden_layers=1",
        ]);
    }
    let out = run(&mut cmd);
    assert!(out.status.success(), "inspect {file} failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `(total, trainable)` of one module of an inspection.
fn module(ins: &serde_json::Value, name: &str) -> (u64, u64) {
    let m = ins["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == name)
        .unwrap_or_else(|| panic!("no module {name} in {ins}"));
    (
        m["total"].as_u64().unwrap(),
        m["trainable"].as_u64().unwrap(),
    )
}

#[test]
fn every_model_trains_exactly_the_published_parameter_count() {
    let published = [
        ("teacher.toml", 44_107_271),
        ("student_multimodal.toml", 15_755_783),
        ("student_text.toml", 8_273_159),
        ("student_audio.toml", 8_273_159),
        ("text_3layer.toml", 22_448_903),
        ("audio_3layer.toml", 22_448_903),
    ];
    for (file, count) in published {
        let ins = inspect(file, true);
        assert_eq!(ins["fusion"], "cross_modal", "{file}");
        assert_eq!(ins["trainable"], count, "{file}: trainable");
        assert_eq!(module(&ins, "fusion"), (count, count), "{file}: fusion");
        assert_eq!(module(&ins, "encoders.text").1, 0, "{file}: text is frozen");
        assert_eq!(
            module(&ins, "encoders.audio").1,
            0,
            "{file}: audio is frozen"
        );
    }
}

#[test]
fn the_teacher_freezes_koelectra_v3_and_xlsr_large() {
    let ins = inspect("teacher.toml", false);
    // KoELECTRA-base-v3: 12 layers, 768 wide, 35,000 tokens; XLSR-large: wav2vec2-large's
    // architecture (the same count as wav2vec2-large-lv60).
    assert_eq!(module(&ins, "encoders.text"), (112_330_752, 0));
    assert_eq!(module(&ins, "encoders.audio"), (315_438_720, 0));
    assert_eq!(ins["trainable"], 44_107_271);
}
