//! `emo-run embed` against the transformers reference: every hidden state of the tiny BERT
//! fixture, the real all-MiniLM-L6-v2 (mean-pooled and unpooled, when its folder is present),
//! and equality with the frozen-feature path that training uses.

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use serde::Deserialize;

use common::{bin, run};
use emo_run::config::{EncoderInit, EncoderTraining, Pooling, TextEncoderConfig, TextEncoderKind};
use emo_run::embed::{EmbedInput, EmbedRequest, embed};
use emo_run::encoders::TextEncoderSpec;
use emo_run::encoders::frozen::{Extraction, text_features};

#[derive(Deserialize)]
struct Array {
    shape: Vec<usize>,
    data: Vec<f32>,
}

#[derive(Deserialize)]
struct Reference {
    max_len: usize,
    sentences: Vec<String>,
    attention_mask: Vec<Vec<i64>>,
    #[serde(default)]
    hidden_states: Vec<Array>,
    #[serde(default)]
    last_hidden_state: Option<Array>,
    #[serde(default)]
    mean_pooled: Option<Array>,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hf")
        .join(name)
}

fn reference(path: &Path) -> Reference {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Shape and values of a float32 `.npy` as `f32_npy` writes it (format 1.0, little endian).
fn read_npy(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'<f4'"), "{header}");
    let dims = header
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape = dims
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.parse().unwrap())
        .collect();
    let values = bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (shape, values)
}

/// Run `emo-run embed` and read its output.
fn embed_cli(dir: &Path, text: &str, extra: &[&str]) -> (Vec<usize>, Vec<f32>) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("h.npy");
    let output = run(bin()
        .arg("embed")
        .arg(dir)
        .args(["--text", text, "--out"])
        .arg(&out)
        .args(extra));
    assert!(output.status.success());
    read_npy(&out)
}

/// Row `row` of a `[batch, tokens, hidden]` reference, cut to `keep` tokens.
fn reference_row(array: &Array, row: usize, keep: usize) -> Vec<f32> {
    let (tokens, hidden) = (array.shape[1], array.shape[2]);
    array.data[row * tokens * hidden..][..keep * hidden].to_vec()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn embed_gives_every_hidden_state_of_the_tiny_bert() {
    let dir = fixture("bert");
    let want = reference(&dir.join("expected.json"));
    let max_len = want.max_len.to_string();
    for (row, sentence) in want.sentences.iter().enumerate() {
        let real = want.attention_mask[row].iter().filter(|&&m| m == 1).count();
        for (layer, state) in want.hidden_states.iter().enumerate() {
            let layer_arg = layer.to_string();
            let (shape, got) = embed_cli(
                &dir,
                sentence,
                &["--max-len", &max_len, "--layer", &layer_arg],
            );
            assert_eq!(shape, vec![real, state.shape[2]]);
            let diff = max_abs_diff(&got, &reference_row(state, row, real));
            assert!(diff < 1e-4, "row {row} layer {layer}: {diff}");
        }
    }
}

/// The model folder of the real all-MiniLM-L6-v2, or why this machine has none.
fn minilm_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EMO_MINILM_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/models/all-MiniLM-L6-v2"),
        PathBuf::from,
    );
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    let why = format!("no all-MiniLM-L6-v2 folder at {}", dir.display());
    assert!(
        std::env::var("EMO_REQUIRE_MINILM").as_deref() != Ok("1"),
        "EMO_REQUIRE_MINILM=1 but {why}"
    );
    eprintln!("skipped: {why}");
    None
}

#[test]
fn embed_matches_the_real_minilm_reference() {
    let Some(dir) = minilm_dir() else { return };
    let want = reference(&fixture("minilm_reference.json"));
    let pooled = want.mean_pooled.as_ref().unwrap();
    let last = want.last_hidden_state.as_ref().unwrap();
    let max_len = want.max_len.to_string();
    for (row, sentence) in want.sentences.iter().enumerate() {
        let hidden = pooled.shape[1];
        let (shape, got) = embed_cli(
            &dir,
            sentence,
            &["--max-len", &max_len, "--pooling", "mean"],
        );
        assert_eq!(shape, vec![hidden]);
        let diff = max_abs_diff(&got, &pooled.data[row * hidden..][..hidden]);
        assert!(diff < 1e-4, "mean-pooled row {row}: {diff}");
        eprintln!("all-MiniLM-L6-v2 row {row}: mean-pooled max abs diff {diff:e}");

        let real = want.attention_mask[row].iter().filter(|&&m| m == 1).count();
        let (shape, got) = embed_cli(&dir, sentence, &["--max-len", &max_len]);
        assert_eq!(shape, vec![real, hidden]);
        let diff = max_abs_diff(&got, &reference_row(last, row, real));
        assert!(diff < 1e-4, "last hidden state row {row}: {diff}");
    }
}

#[test]
fn embed_and_the_frozen_training_path_give_the_same_vector() {
    let dir = fixture("roberta");
    let text = "she was sad about the zebra news";
    let device = Device::default();
    let request = EmbedRequest {
        model_dir: dir.clone(),
        input: EmbedInput::Text(text.into()),
        layer: -1,
        pooling: Some(Pooling::Mean),
        max_len: 12,
    };
    let embedded = embed(&request, &device).unwrap();

    let config = TextEncoderConfig {
        kind: TextEncoderKind::Roberta,
        path: Some(dir.clone()),
        init: EncoderInit::Pretrained,
        train: EncoderTraining::Frozen,
        max_len: 12,
        pooling: Pooling::Mean,
        ..Default::default()
    };
    let spec = TextEncoderSpec::from_folder(&config).unwrap();
    let tokenizer = spec.folder_tokenizer().unwrap().unwrap();
    let encoded = emo_run::data::tokenize::encode(&tokenizer, text).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let extraction = Extraction {
        cache_root: cache.path(),
        device: device.clone(),
        batch_size: 1,
        seed: 1,
        backend: "flex",
        quiet: true,
    };
    let cached = text_features(&spec, &[encoded], false, &extraction).unwrap();
    assert_eq!(cached[0].shape, embedded.shape);
    let diff = max_abs_diff(&cached[0].values, &embedded.values);
    assert!(diff < 1e-6, "embed and the training path differ by {diff}");
}
