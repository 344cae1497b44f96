//! The experiment's text encoder: the small transformer (`kind = "transformer"`) or a Hugging
//! Face model folder (`bert`, `roberta`, `xlm_roberta`, `electra`, `albert`). Both give hidden
//! states at the chosen layer and pool them the same way, so training, feature extraction and
//! `emo-run embed` compute one thing.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::*;
use tokenizers::Tokenizer;

use super::folder;
use super::hf::{HfTextConfig, HfTextModel, TextInput};
use super::pooling::pool;
use super::small_text::{SmallTextEncoder, SmallTextSpec};
use super::training;
use crate::config::{EncoderInit, Pooling, TextEncoderConfig};

/// Dropout probabilities of the Hugging Face text configs that `encoders.text.dropout` replaces.
const DROPOUT_KEYS: [&str; 2] = ["hidden_dropout_prob", "attention_probs_dropout_prob"];

/// Everything needed to build the text encoder of one fold.
#[derive(Debug, Clone)]
pub struct TextEncoderSpec {
    pub config: TextEncoderConfig,
    pub backbone: TextBackboneSpec,
}

#[derive(Debug, Clone)]
pub enum TextBackboneSpec {
    /// The small transformer; its vocabulary is the fold's trained tokenizer's.
    Small(SmallTextSpec),
    /// A Hugging Face architecture from `dir`, its config.json merged with the experiment's
    /// overrides.
    Pretrained { dir: PathBuf, hf: HfTextConfig },
}

impl TextEncoderSpec {
    /// The small transformer over a vocabulary of `vocab_size` tokens.
    pub fn small(config: &TextEncoderConfig, vocab_size: usize) -> Self {
        Self {
            config: config.clone(),
            backbone: TextBackboneSpec::Small(SmallTextSpec {
                config: config.clone(),
                vocab_size,
            }),
        }
    }

    /// A pretrained kind: reads the folder's config.json (weights are read by `init`).
    pub fn from_folder(config: &TextEncoderConfig) -> anyhow::Result<Self> {
        let dir = config
            .path
            .clone()
            .context("encoders.text.path is required for a pretrained text encoder")?;
        let hf = read_hf_config(&dir, config)?;
        Ok(Self {
            config: config.clone(),
            backbone: TextBackboneSpec::Pretrained { dir, hf },
        })
    }

    /// The spec the experiment asks for; `vocab_size` is used by the small transformer only.
    pub fn for_experiment(config: &TextEncoderConfig, vocab_size: usize) -> anyhow::Result<Self> {
        if config.kind.is_pretrained() {
            Self::from_folder(config)
        } else {
            Ok(Self::small(config, vocab_size))
        }
    }

    /// Width of the pooled vector (and of each token of the sequence).
    pub fn output_dim(&self) -> usize {
        match &self.backbone {
            TextBackboneSpec::Small(s) => s.output_dim(),
            TextBackboneSpec::Pretrained { hf, .. } => hf.hidden_size,
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.config.train.is_frozen()
    }

    /// The encoder with its pretrained weights (per `init`) and trainable parameters as
    /// `train` says.
    pub fn init(&self, device: &Device) -> anyhow::Result<TextEncoder> {
        let backbone = match &self.backbone {
            TextBackboneSpec::Small(s) => TextBackbone::Small(s.init(device)),
            TextBackboneSpec::Pretrained { dir, hf } => {
                TextBackbone::Pretrained(if self.config.init == EncoderInit::Pretrained {
                    super::hf::load_pretrained(dir, hf, device)?
                } else {
                    hf.init(device)
                })
            }
        };
        self.finish(backbone)
    }

    /// The same modules with fresh weights: the skeleton a checkpoint is loaded into, and what
    /// `inspect` counts (no weight file is read).
    pub fn init_skeleton(&self, device: &Device) -> anyhow::Result<TextEncoder> {
        let backbone = match &self.backbone {
            TextBackboneSpec::Small(s) => TextBackbone::Small(s.init(device)),
            TextBackboneSpec::Pretrained { hf, .. } => TextBackbone::Pretrained(hf.init(device)),
        };
        self.finish(backbone)
    }

    fn finish(&self, backbone: TextBackbone) -> anyhow::Result<TextEncoder> {
        let layers = match &self.backbone {
            TextBackboneSpec::Small(s) => s.config.layers,
            TextBackboneSpec::Pretrained { hf, .. } => hf.num_hidden_layers,
        };
        let layer = match &self.backbone {
            // The small transformer exposes only its last layer.
            TextBackboneSpec::Small(_) => layers,
            TextBackboneSpec::Pretrained { .. } => {
                folder::resolve_layer(self.config.layer, layers).context("encoders.text.layer")?
            }
        };
        let backbone =
            training::apply_training(backbone, self.config.train, layers, "encoders.text.train")?;
        Ok(TextEncoder {
            backbone,
            pooling: self.config.pooling,
            layer,
            mask_swap: self.config.mask_swap,
        })
    }

    /// The tokenizer: the folder's `tokenizer.json` for the pretrained kinds.
    pub fn folder_tokenizer(&self) -> Option<anyhow::Result<Tokenizer>> {
        match &self.backbone {
            TextBackboneSpec::Small(_) => None,
            TextBackboneSpec::Pretrained { dir, .. } => {
                Some(super::hf::load_tokenizer(dir, self.config.max_len))
            }
        }
    }

    /// The folder, for the pretrained kinds.
    pub fn folder(&self) -> Option<&Path> {
        match &self.backbone {
            TextBackboneSpec::Small(_) => None,
            TextBackboneSpec::Pretrained { dir, .. } => Some(dir),
        }
    }
}

/// The folder's config.json with `encoders.text.dropout` and `overrides` merged in.
fn read_hf_config(dir: &Path, config: &TextEncoderConfig) -> anyhow::Result<HfTextConfig> {
    let json = folder::merged_config_json(dir, config.dropout, &DROPOUT_KEYS, &config.overrides)?;
    let hf = HfTextConfig::parse(&json.to_string())
        .with_context(|| format!("reading {}", dir.join("config.json").display()))?;
    if let Some(expected) = config.kind.model_type() {
        anyhow::ensure!(
            hf.family().model_type() == expected,
            "{} says model_type = {:?}, but encoders.text.kind expects {expected:?}",
            dir.join("config.json").display(),
            hf.family().model_type()
        );
    }
    Ok(hf)
}

// One backbone per encoder: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum TextBackbone {
    Small(SmallTextEncoder),
    Pretrained(HfTextModel),
}

#[derive(Module, Debug)]
pub struct TextEncoder {
    backbone: TextBackbone,
    #[module(skip)]
    pooling: Pooling,
    /// Index into Hugging Face's `hidden_states` (resolved from `encoders.text.layer`).
    #[module(skip)]
    layer: usize,
    /// Seed 004's swapped mask and token types (`encoders.text.mask_swap`).
    #[module(skip)]
    mask_swap: bool,
}

impl TextEncoder {
    /// One vector per utterance, `[batch, hidden]`, pooled as `encoders.text.pooling` says.
    /// `ids`: `[batch, max_len]` right-padded token ids; `lengths`: real tokens per row.
    pub fn forward(&self, ids: Tensor<2, Int>, lengths: &[usize]) -> Tensor<2> {
        match &self.backbone {
            TextBackbone::Pretrained(model) if self.pooling == Pooling::Pooler => {
                let out = model.forward(hf_input(ids, lengths, self.mask_swap));
                out.pooler.expect(
                    "encoders.text.pooling = \"pooler\", but the checkpoint has no pooler weights",
                )
            }
            _ => pool(self.forward_sequence(ids, lengths), lengths, self.pooling),
        }
    }

    /// Hidden states at the chosen layer, `[batch, max_len, hidden]`, padding included, for
    /// token-level fusion methods and for pooling.
    pub fn forward_sequence(&self, ids: Tensor<2, Int>, lengths: &[usize]) -> Tensor<3> {
        match &self.backbone {
            TextBackbone::Small(model) => model.forward_sequence(ids, lengths),
            TextBackbone::Pretrained(model) => {
                let mut out = model.forward(hf_input(ids, lengths, self.mask_swap));
                out.hidden_states.swap_remove(self.layer)
            }
        }
    }
}

/// Hugging Face's inputs: the attention mask is 1 on the first `lengths[row]` positions.
/// `mask_swap` (seed 004, docs/methods/seed-004-etri.md#input-pipeline): BERT got the all-zero token types as its attention mask,
/// which adds the same -10000 to every score and so masks nothing (here: all ones), and the
/// padding mask as token types.
fn hf_input(ids: Tensor<2, Int>, lengths: &[usize], mask_swap: bool) -> TextInput {
    let [batch, len] = ids.dims();
    let device = ids.device();
    let mask: Vec<i64> = lengths
        .iter()
        .flat_map(|&l| (0..len).map(move |t| i64::from(t < l)))
        .collect();
    let padding_mask = Tensor::from_data(TensorData::new(mask, [batch, len]), &device);
    if mask_swap {
        TextInput {
            ids,
            attention_mask: Tensor::ones([batch, len], &device),
            token_type_ids: Some(padding_mask),
        }
    } else {
        TextInput {
            ids,
            attention_mask: padding_mask,
            token_type_ids: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(x: Tensor<2, Int>) -> Vec<i64> {
        x.into_data().convert::<i64>().try_to_vec().unwrap()
    }

    #[test]
    fn mask_swap_attends_everything_and_moves_the_padding_mask_to_token_types() {
        let device = Device::default();
        let ids =
            Tensor::<2, Int>::from_data(TensorData::new(vec![2i64, 5, 3, 0], [1, 4]), &device);
        let plain = hf_input(ids.clone(), &[3], false);
        assert_eq!(ints(plain.attention_mask), vec![1, 1, 1, 0]);
        assert!(plain.token_type_ids.is_none());
        let swapped = hf_input(ids, &[3], true);
        assert_eq!(ints(swapped.attention_mask), vec![1, 1, 1, 1]);
        assert_eq!(ints(swapped.token_type_ids.unwrap()), vec![1, 1, 1, 0]);
    }
}
