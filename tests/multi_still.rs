//! Seed 003's experiment files (`experiments/multi_still`) through `emo-run inspect --json`,
//! with the model folders of `models/` (config.json only): both encoders are frozen, so the
//! whole model's trainable parameters are the `cross_modal` fusion's, and each must be the
//! count the seed publishes (B.10).
//!
//! A head's size depends on the encoders' widths only, so the per-file checks build one
//! transformer layer per encoder (about 1 s each); the frozen encoders' full sizes are checked
//! once, on the teacher.

mod common;

use common::{inspect_json, module_params};

/// `inspect --json` of one file of experiments/multi_still.
fn inspect(file: &str, shallow: bool) -> serde_json::Value {
    inspect_json(&format!("experiments/multi_still/{file}"), shallow)
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
        assert_eq!(
            module_params(&ins, "fusion"),
            (count, count),
            "{file}: fusion"
        );
        assert_eq!(
            module_params(&ins, "encoders.text").1,
            0,
            "{file}: text is frozen"
        );
        assert_eq!(
            module_params(&ins, "encoders.audio").1,
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
    assert_eq!(module_params(&ins, "encoders.text"), (112_330_752, 0));
    assert_eq!(module_params(&ins, "encoders.audio"), (315_438_720, 0));
    assert_eq!(ins["trainable"], 44_107_271);
}
