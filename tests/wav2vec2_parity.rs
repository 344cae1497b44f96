//! emo-run's wav2vec2 against Hugging Face transformers, on the tiny random folders written by
//! `scripts/dev/make_wav2vec2_parity_fixtures.py` (every output of `Wav2Vec2Model` in eval
//! mode, with and without an attention mask).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{ModuleStore, SafetensorsStore, bridge};
use emo_run::encoders::wav2vec2::{
    Wav2Vec2Config, Wav2Vec2Input, Wav2Vec2Output, Wav2Vec2Preprocessor, load_pretrained,
};

const TOLERANCE: f32 = 1e-4;

fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hf")
        .join(name)
}

/// `expected.safetensors` as host data by name.
fn expected(dir: &Path) -> BTreeMap<String, TensorData> {
    let mut store = SafetensorsStore::from_file(dir.join("expected.safetensors"));
    store
        .get_all_tensors()
        .expect("expected.safetensors reads")
        .iter()
        .map(|(name, t)| (name.clone(), bridge::to_data(t).expect("tensor data")))
        .collect()
}

fn floats(data: &TensorData) -> Vec<f32> {
    data.try_to_vec_as::<f32>().unwrap()
}

fn ints(data: &TensorData) -> Vec<usize> {
    data.try_to_vec_as::<i64>()
        .unwrap()
        .into_iter()
        .map(|v| v as usize)
        .collect()
}

fn max_abs_diff(actual: Tensor<3>, expected: &TensorData, what: &str) -> f32 {
    assert_eq!(
        actual.dims().to_vec(),
        expected.shape().to_vec(),
        "{what}: shape"
    );
    let actual = floats(&actual.into_data());
    actual
        .iter()
        .zip(floats(expected))
        .map(|(a, e)| (a - e).abs())
        .fold(0.0, f32::max)
}

/// Largest difference over `extract_features` and every hidden state of one case.
fn compare(output: Wav2Vec2Output, expected: &BTreeMap<String, TensorData>, case: &str) -> f32 {
    let mut worst = max_abs_diff(
        output.extract_features,
        &expected[&format!("{case}.extract_features")],
        &format!("{case}.extract_features"),
    );
    let layers = expected
        .keys()
        .filter(|k| k.starts_with(&format!("{case}.hidden_states.")))
        .count();
    assert_eq!(output.hidden_states.len(), layers, "{case}: hidden states");
    for (i, h) in output.hidden_states.into_iter().enumerate() {
        let key = format!("{case}.hidden_states.{i}");
        let diff = max_abs_diff(h, &expected[&key], &key);
        assert!(diff < TOLERANCE, "{key}: max abs diff {diff}");
        worst = worst.max(diff);
    }
    assert!(worst < TOLERANCE, "{case}: max abs diff {worst}");
    worst
}

fn check_variant(name: &str) {
    let dir = folder(name);
    let device = Device::default();
    let config = Wav2Vec2Config::read(&dir).unwrap();
    assert!(Wav2Vec2Preprocessor::read(&dir).unwrap().is_some());
    let model = load_pretrained(&dir, &config, &device).unwrap();
    let expected = expected(&dir);

    let lengths = ints(&expected["lengths"]);
    let frame_lengths = ints(&expected["frame_lengths"]);
    let computed: Vec<usize> = lengths.iter().map(|&l| config.frames_for(l)).collect();
    assert_eq!(computed, frame_lengths, "{name}: frames_for");

    let waveform = Tensor::<2>::from_data(expected["waveform"].clone(), &device);
    for (case, lengths) in [("no_mask", None), ("mask", Some(lengths.clone()))] {
        let output = model.forward(Wav2Vec2Input {
            waveform: waveform.clone(),
            lengths: lengths.clone(),
        });
        let frames = output.extract_features.dims()[1];
        let want = match &lengths {
            Some(_) => frame_lengths.clone(),
            None => vec![frames; lengths_len(&expected)],
        };
        assert_eq!(output.frame_lengths, want, "{name}/{case}: frame lengths");
        let worst = compare(output, &expected, case);
        println!("{name}/{case}: max abs diff {worst:e}");
    }
}

fn lengths_len(expected: &BTreeMap<String, TensorData>) -> usize {
    expected["lengths"].shape()[0]
}

#[test]
fn group_norm_post_ln_from_pytorch_bin_matches_transformers() {
    check_variant("wav2vec2-group-postln");
}

#[test]
fn layer_norm_stable_from_safetensors_matches_transformers() {
    check_variant("wav2vec2-layer-stable");
}
