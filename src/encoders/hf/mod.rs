//! Pretrained Hugging Face text encoders in burn: BERT, RoBERTa, XLM-RoBERTa, ELECTRA and
//! ALBERT, read from a model folder (`config.json`, `model.safetensors` or
//! `pytorch_model.bin`, `tokenizer.json`) and numerically equal to `transformers`' base models
//! (`tests/hf_text_parity.rs`).
//!
//! ```ignore
//! let config = HfTextConfig::read(dir)?;
//! let model = load_pretrained(dir, &config, &device)?;
//! let tokenizer = load_tokenizer(dir, 128)?;
//! let out = model.forward(TextInput { ids, attention_mask, token_type_ids: None });
//! let last = out.hidden_states.last();
//! ```

mod albert;
mod bert;
mod config;
mod electra;
mod embeddings;
mod layer;
mod roberta;
mod tokenizer;
mod weights;

use std::path::Path;

use burn::prelude::*;

pub use albert::AlbertModel;
pub use bert::BertModel;
pub use config::{HfTextConfig, HfTextFamily};
pub use electra::ElectraModel;
pub use layer::Activation;
pub use roberta::{RobertaModel, position_ids_from_input_ids};
pub use weights::module_path;

/// A padded batch of token ids.
#[derive(Debug, Clone)]
pub struct TextInput {
    /// `[batch, len]`.
    pub ids: Tensor<2, Int>,
    /// `[batch, len]`, 1 on real tokens and 0 on padding.
    pub attention_mask: Tensor<2, Int>,
    /// `[batch, len]`; all zeros when `None`, as in Hugging Face.
    pub token_type_ids: Option<Tensor<2, Int>>,
}

/// What the encoder returns, with Hugging Face's semantics.
#[derive(Debug, Clone)]
pub struct TextOutput {
    /// The embeddings output (for ELECTRA and ALBERT: after the projection to `hidden_size`),
    /// then each layer's output: `num_hidden_layers + 1` tensors of `[batch, len, hidden]`.
    pub hidden_states: Vec<Tensor<3>>,
    /// `tanh(Linear(h_last[:, 0]))`, `[batch, hidden]`, for the families whose base model has
    /// a pooler (BERT, RoBERTa/XLM-R, ALBERT) when the weights include one.
    pub pooler: Option<Tensor<2>>,
}

impl TextOutput {
    /// The last layer's output, `[batch, len, hidden]`.
    pub fn last_hidden_state(&self) -> Tensor<3> {
        bert::last(&self.hidden_states)
    }
}

/// One pretrained text encoder of any supported family.
#[derive(Module, Debug)]
pub enum HfTextModel {
    Bert(BertModel),
    /// RoBERTa and XLM-RoBERTa, which share `RobertaModel`'s architecture.
    Roberta(RobertaModel),
    Electra(ElectraModel),
    Albert(AlbertModel),
}

impl HfTextModel {
    /// The modules for `config`, randomly initialised; `with_pooler` is ignored for ELECTRA.
    pub(crate) fn build(config: &HfTextConfig, with_pooler: bool, device: &Device) -> Self {
        config
            .validate()
            .expect("HfTextConfig::read validates; a hand-built config must be valid too");
        match config.family() {
            HfTextFamily::Bert => Self::Bert(BertModel::new(config, with_pooler, device)),
            HfTextFamily::Roberta | HfTextFamily::XlmRoberta => {
                Self::Roberta(RobertaModel::new(config, with_pooler, device))
            }
            HfTextFamily::Electra => Self::Electra(ElectraModel::new(config, device)),
            HfTextFamily::Albert => Self::Albert(AlbertModel::new(config, with_pooler, device)),
        }
    }

    pub fn forward(&self, input: TextInput) -> TextOutput {
        match self {
            Self::Bert(m) => m.forward(input),
            Self::Roberta(m) => m.forward(input),
            Self::Electra(m) => m.forward(input),
            Self::Albert(m) => m.forward(input),
        }
    }
}

impl HfTextConfig {
    /// Randomly initialised encoder (no weights needed), with the family's pooler if it has one.
    ///
    /// Panics on a config that [`HfTextConfig::validate`] refuses; [`HfTextConfig::read`] has
    /// already checked that.
    pub fn init(&self, device: &Device) -> HfTextModel {
        HfTextModel::build(self, self.family().has_pooler(), device)
    }
}

/// Loads the weights of the folder `dir`: `model.safetensors`, else `pytorch_model.bin`. Keys
/// are remapped from Hugging Face's names (weights.rs); a checkpoint saved from a task class
/// (`bert.`, `roberta.`, `electra.`, `albert.` prefix) is accepted and its head ignored. Any
/// encoder weight the checkpoint lacks is an error naming the folder and the keys. A checkpoint
/// without pooler weights gives a model whose output has no pooler.
pub fn load_pretrained(
    dir: &Path,
    config: &HfTextConfig,
    device: &Device,
) -> anyhow::Result<HfTextModel> {
    weights::load(dir, config, device)
}

/// `dir/tokenizer.json`, padding on the right to exactly `max_len` tokens with the tokenizer's
/// pad token, and truncating at `max_len` (special tokens included).
pub fn load_tokenizer(dir: &Path, max_len: usize) -> anyhow::Result<tokenizers::Tokenizer> {
    tokenizer::load(dir, max_len)
}

#[cfg(test)]
mod tests {
    use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};

    use super::*;

    fn tiny(family: HfTextFamily) -> HfTextConfig {
        HfTextConfig {
            vocab_size: 20,
            hidden_size: 8,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 12,
            max_position_embeddings: 16,
            embedding_size: Some(6),
            hidden_dropout_prob: 0.0,
            attention_probs_dropout_prob: 0.0,
            ..HfTextConfig::defaults(family)
        }
    }

    fn input(device: &Device) -> TextInput {
        TextInput {
            ids: Tensor::from_data([[0, 5, 7, 2, 1], [0, 9, 2, 1, 1]], device),
            attention_mask: Tensor::from_data([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], device),
            token_type_ids: None,
        }
    }

    #[test]
    fn every_family_gives_layers_plus_one_hidden_states() {
        let device = Device::default();
        for family in HfTextFamily::ALL {
            let out = tiny(family).init(&device).forward(input(&device));
            assert_eq!(out.hidden_states.len(), 3, "{family:?}");
            for h in &out.hidden_states {
                assert_eq!(h.dims(), [2, 5, 8], "{family:?}");
            }
            assert_eq!(
                out.pooler.map(|p| p.dims()),
                family.has_pooler().then_some([2, 8])
            );
        }
    }

    /// Saves a random model in Hugging Face's layout (PyTorch orientation, `weight`/`bias`
    /// norms) and loads it back; then removes one tensor and expects an error naming it.
    #[test]
    fn round_trip_through_safetensors_and_missing_keys_are_named() {
        let device = Device::default();
        let config = tiny(HfTextFamily::Albert);
        let model = config.init(&device);
        let dir = tempfile::tempdir().unwrap();
        let save = |keep: fn(&str, &str) -> bool| {
            let mut store = SafetensorsStore::from_file(dir.path().join("model.safetensors"))
                .with_to_adapter(BurnToPyTorchAdapter)
                .skip_enum_variants(true)
                .with_predicate(keep)
                .overwrite(true);
            model.save_into(&mut store).unwrap();
        };
        save(|_, _| true);
        let loaded = load_pretrained(dir.path(), &config, &device).unwrap();
        let want = model.forward(input(&device)).last_hidden_state();
        let got = loaded.forward(input(&device)).last_hidden_state();
        want.into_data().assert_eq(&got.into_data(), true);

        save(|path, _| !path.ends_with(".ffn.weight"));
        let err = load_pretrained(dir.path(), &config, &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(
            err.contains("encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"),
            "{err}"
        );
    }
}
