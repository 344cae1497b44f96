//! Parity of the Hugging Face text encoders with `transformers`: for each tiny random model
//! folder under tests/fixtures/hf (written by scripts/dev/make_text_parity_fixtures.py), the
//! tokenizer must give the same ids and masks as Python, and every hidden state and the pooler
//! must match within 1e-4.

mod hf_support;

use std::path::PathBuf;

use burn::prelude::*;
use serde::Deserialize;

use emo_run::encoders::hf::{HfTextConfig, HfTextFamily, load_pretrained, load_tokenizer};
use hf_support::{Array, max_abs_diff, tokenize};

const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Expected {
    family: String,
    max_len: usize,
    sentences: Vec<String>,
    input_ids: Vec<Vec<i64>>,
    attention_mask: Vec<Vec<i64>>,
    /// `None` for tokenizers that do not return them (RoBERTa, XLM-R): the model used zeros.
    token_type_ids: Option<Vec<Vec<i64>>>,
    hidden_states: Vec<Array>,
    pooler: Option<Array>,
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hf")
        .join(name)
}

/// Runs one fixture through the public API; returns the largest difference seen.
fn check(name: &str, family: HfTextFamily) -> f32 {
    let dir = fixture(name);
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let expected: Expected = serde_json::from_str(&text).unwrap();
    let config = HfTextConfig::read(&dir).unwrap();
    assert_eq!(config.family(), family);
    assert_eq!(expected.family, family.model_type());

    let tokenizer = load_tokenizer(&dir, expected.max_len).unwrap();
    let tokens = tokenize(&tokenizer, &expected.sentences);
    assert_eq!(tokens.ids, expected.input_ids, "{name}: token ids");
    assert_eq!(
        tokens.attention_mask, expected.attention_mask,
        "{name}: attention mask"
    );
    let zeros = vec![vec![0; expected.max_len]; expected.sentences.len()];
    let want_types = expected.token_type_ids.unwrap_or(zeros);
    assert_eq!(tokens.token_type_ids, want_types, "{name}: token type ids");

    let device = Device::default();
    assert!(!device.is_autodiff());
    let model = load_pretrained(&dir, &config, &device).unwrap();
    let out = model.forward(tokens.input(&device));

    assert_eq!(out.hidden_states.len(), config.num_hidden_layers + 1);
    assert_eq!(out.hidden_states.len(), expected.hidden_states.len());
    let mut worst = 0.0f32;
    for (i, (got, want)) in out
        .hidden_states
        .into_iter()
        .zip(&expected.hidden_states)
        .enumerate()
    {
        let diff = max_abs_diff(got, want, &format!("{name} hidden_states[{i}]"));
        assert!(
            diff < TOLERANCE,
            "{name}: hidden_states[{i}] differs by {diff}"
        );
        worst = worst.max(diff);
    }
    match (out.pooler, &expected.pooler) {
        (Some(got), Some(want)) => {
            let diff = max_abs_diff(got, want, &format!("{name} pooler"));
            assert!(diff < TOLERANCE, "{name}: pooler differs by {diff}");
            worst = worst.max(diff);
        }
        (None, None) => {}
        (got, want) => panic!(
            "{name}: pooler present in burn {} and in transformers {}",
            got.is_some(),
            want.is_some()
        ),
    }
    println!("{name}: max abs difference {worst:.3e}");
    worst
}

#[test]
fn bert_from_a_task_checkpoint_matches_transformers() {
    check("bert", HfTextFamily::Bert);
}

#[test]
fn roberta_matches_transformers() {
    check("roberta", HfTextFamily::Roberta);
}

#[test]
fn xlm_roberta_without_pooler_matches_transformers() {
    check("xlm-roberta", HfTextFamily::XlmRoberta);
}

#[test]
fn electra_from_pytorch_model_bin_matches_transformers() {
    assert!(fixture("electra").join("pytorch_model.bin").is_file());
    check("electra", HfTextFamily::Electra);
}

#[test]
fn albert_with_shared_groups_matches_transformers() {
    check("albert", HfTextFamily::Albert);
}

/// The fixtures must be able to catch a wrong position scheme: RoBERTa's outputs differ from
/// what the same weights give with BERT's `0..len` positions.
#[test]
fn roberta_positions_matter() {
    let dir = fixture("roberta");
    let mut config = HfTextConfig::read(&dir).unwrap();
    config.model_type = HfTextFamily::Bert;
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let expected: Expected = serde_json::from_str(&text).unwrap();
    let tokenizer = load_tokenizer(&dir, expected.max_len).unwrap();
    let tokens = tokenize(&tokenizer, &expected.sentences);
    let device = Device::default();
    let model = load_pretrained(&dir, &config, &device).unwrap();
    let out = model.forward(tokens.input(&device));
    let diff = max_abs_diff(
        out.hidden_states[0].clone(),
        &expected.hidden_states[0],
        "roberta as bert",
    );
    assert!(diff > 0.1, "positions made no difference: {diff}");
}
