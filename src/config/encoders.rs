//! The `[encoders.text]` and `[encoders.audio]` tables: which encoder, where its weights are,
//! how its output is pooled, and which of its parameters train.
//!
//! Two families live side by side: the small randomly initialised encoders that the embedded
//! quickstart uses (`transformer`, `logmel_conv`, sized by the keys below), and Hugging Face
//! architectures (`bert` .. `albert`, `wav2vec2`) read from a model folder given by `path`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::audio_input::AudioInputOptions;

/// The encoders, one per modality. A fusion method that uses one modality ignores the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EncodersConfig {
    pub text: TextEncoderConfig,
    pub audio: AudioEncoderConfig,
}

/// The text encoder: a small transformer over a WordPiece vocabulary trained on each fold
/// (`kind = "transformer"`), or a Hugging Face model folder (`bert`, `roberta`, `xlm_roberta`,
/// `electra`, `albert`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TextEncoderConfig {
    pub kind: TextEncoderKind,
    /// Hugging Face model folder (`config.json`, `tokenizer.json`, and `model.safetensors` or
    /// `pytorch_model.bin`), relative to the working directory. Required for the pretrained
    /// kinds; with `init = "random"` only `config.json` and `tokenizer.json` are read.
    pub path: Option<PathBuf>,
    /// `pretrained`: load the folder's weights. `random`: build the architecture of the folder's
    /// `config.json` with fresh weights (tests, parameter counts, ablations).
    pub init: EncoderInit,
    /// Which parameters train: `full`, `frozen` (features are computed once and cached), or
    /// `top:N` (only the last N transformer layers and what follows them).
    pub train: EncoderTraining,
    /// Hidden state to use, as in Hugging Face's `hidden_states` tuple: 0 is the embeddings'
    /// output, 1..=L the layers; negative counts from the end (-1 = `last_hidden_state`).
    pub layer: i64,
    /// Keys merged over the folder's `config.json` before the model is built, as
    /// `from_pretrained(path, **overrides)` does (e.g. `{ hidden_dropout_prob = 0.2 }`).
    pub overrides: BTreeMap<String, serde_json::Value>,
    /// Width of token embeddings and transformer layers (`transformer` only).
    pub hidden: usize,
    /// Transformer layers (`transformer` only).
    pub layers: usize,
    /// Attention heads (`transformer` only).
    pub heads: usize,
    /// Width of the position-wise feed-forward layer (`transformer` only).
    pub ffn: usize,
    /// Tokens per utterance after truncation/padding (including [CLS] and [SEP]).
    pub max_len: usize,
    /// Dropout inside the encoder. Unset: 0.1 for `transformer`, the `config.json` values for
    /// the pretrained kinds; set: replaces every dropout probability of the encoder.
    pub dropout: Option<f64>,
    pub pooling: Pooling,
    /// Seed 004's argument-order bug (docs/methods/seed-004-etri.md#input-pipeline, `bert_mask_swap`): the scripts call
    /// `forward(input_ids, token_type_ids, mask)` on `forward(input_ids, attention_mask,
    /// token_type_ids)`, so BERT gets an all-zero attention mask (a uniform -10000 shift, i.e.
    /// every position, `[PAD]` included, is attended) and the padding mask as token types (type 1
    /// on real tokens). `true` reproduces that: no padding mask, token types = padding mask.
    /// Needs `kind = "bert"` (two token types).
    pub mask_swap: bool,
    /// The WordPiece tokenizer trained per fold (`transformer` only; the pretrained kinds use
    /// the folder's `tokenizer.json`).
    pub tokenizer: TokenizerConfig,
}

impl Default for TextEncoderConfig {
    fn default() -> Self {
        Self {
            kind: TextEncoderKind::Transformer,
            path: None,
            init: EncoderInit::Pretrained,
            train: EncoderTraining::Full,
            layer: -1,
            overrides: BTreeMap::new(),
            hidden: 64,
            layers: 2,
            heads: 4,
            ffn: 128,
            max_len: 32,
            dropout: None,
            pooling: Pooling::Mean,
            mask_swap: false,
            tokenizer: TokenizerConfig::default(),
        }
    }
}

impl TextEncoderConfig {
    /// Dropout of the small transformer: the configured value or 0.1.
    pub fn small_dropout(&self) -> f64 {
        self.dropout.unwrap_or(0.1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoderKind {
    /// Random-init transformer encoder with learned positions.
    Transformer,
    /// BERT (config.json `model_type = "bert"`), with its pooler.
    Bert,
    /// RoBERTa (`"roberta"`): positions offset past the padding id, no token types.
    Roberta,
    /// XLM-RoBERTa (`"xlm-roberta"`): RoBERTa's architecture with a SentencePiece vocabulary.
    XlmRoberta,
    /// ELECTRA discriminator (`"electra"`).
    Electra,
    /// ALBERT (`"albert"`): factorised embeddings and shared layers.
    Albert,
}

impl TextEncoderKind {
    pub fn is_pretrained(self) -> bool {
        self != Self::Transformer
    }

    /// The `model_type` a folder's config.json must state for this kind.
    pub fn model_type(self) -> Option<&'static str> {
        match self {
            Self::Transformer => None,
            Self::Bert => Some("bert"),
            Self::Roberta => Some("roberta"),
            Self::XlmRoberta => Some("xlm-roberta"),
            Self::Electra => Some("electra"),
            Self::Albert => Some("albert"),
        }
    }
}

/// Where an encoder's weights come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EncoderInit {
    Pretrained,
    Random,
}

/// Which of an encoder's parameters train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub enum EncoderTraining {
    /// Every parameter trains.
    Full,
    /// Nothing trains; the encoder's output is computed once per utterance and cached.
    Frozen,
    /// Only the last N transformer layers (and any pooler after them) train.
    Top(usize),
}

impl EncoderTraining {
    pub fn is_frozen(self) -> bool {
        self == Self::Frozen
    }
}

impl FromStr for EncoderTraining {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Self::Full),
            "frozen" => Ok(Self::Frozen),
            _ => s
                .strip_prefix("top:")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .map(Self::Top)
                .ok_or_else(|| {
                    format!(
                        "found {s:?}, expected \"full\", \"frozen\" or \"top:N\" with N >= 1 \
                         (e.g. \"top:2\")"
                    )
                }),
        }
    }
}

impl TryFrom<String> for EncoderTraining {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for EncoderTraining {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("full"),
            Self::Frozen => f.write_str("frozen"),
            Self::Top(n) => write!(f, "top:{n}"),
        }
    }
}

impl From<EncoderTraining> for String {
    fn from(t: EncoderTraining) -> Self {
        t.to_string()
    }
}

pub use crate::pooling::Pooling;

/// A WordPiece tokenizer trained on the training split of each fold and saved in the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TokenizerConfig {
    pub train: TokenizerKind,
    /// Largest vocabulary, special tokens included.
    pub vocab: usize,
    /// A piece must occur this often in the training split to enter the vocabulary.
    pub min_frequency: u64,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        Self {
            train: TokenizerKind::Wordpiece,
            vocab: 2000,
            min_frequency: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerKind {
    Wordpiece,
}

/// The audio encoder: log-mel frames through a small convolution + transformer stack
/// (`kind = "logmel_conv"`), or wav2vec2 from a Hugging Face folder on the raw waveform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AudioEncoderConfig {
    pub kind: AudioEncoderKind,
    /// Hugging Face model folder (`config.json`, optional `preprocessor_config.json`, and
    /// `model.safetensors` or `pytorch_model.bin`), relative to the working directory
    /// (`wav2vec2` only).
    pub path: Option<PathBuf>,
    /// `pretrained`: load the folder's weights; `random`: fresh weights of its architecture.
    pub init: EncoderInit,
    /// `full`, `frozen` (cached features) or `top:N` (last N transformer layers train).
    pub train: EncoderTraining,
    /// Hidden state to use (`wav2vec2`): 0 = the positional-embedding input of the transformer,
    /// 1..=L the layers, negative from the end (-1 = `last_hidden_state`).
    pub layer: i64,
    /// `hidden_states` (the transformer's, at `layer`) or `extract_features` (the normalised
    /// CNN output, seed 004's choice).
    pub features: AudioFeatures,
    /// Freeze only the CNN feature encoder (`wav2vec2`), as `freeze_feature_encoder()` does.
    pub freeze_feature_encoder: bool,
    /// Pass an attention mask to wav2vec2: `auto` follows the folder's
    /// `preprocessor_config.json` (`return_attention_mask`), `on`/`off` force it. The seeds pass
    /// none, so their files say `off`.
    pub attention_mask: AttentionMaskMode,
    /// Keys merged over the folder's `config.json` before the model is built (e.g.
    /// `{ layerdrop = 0.1, mask_time_prob = 0.05 }`).
    pub overrides: BTreeMap<String, serde_json::Value>,
    /// Sample rate the front end expects; clips at another rate are resampled to it (rubato's
    /// FFT resampler, output length `round(n * sample_rate / file_rate)`).
    pub sample_rate: u32,
    /// Clip length in samples at `sample_rate`: longer clips are cut to it as `input.truncate`
    /// says, shorter ones padded to it as `input.pad` says (by default they stay shorter and
    /// batches pad and mask them).
    pub max_samples: usize,
    /// How each file becomes the clip: channel choice, truncation, padding, normalisation.
    pub input: AudioInputOptions,
    /// Mel bands (`logmel_conv` only).
    pub n_mels: usize,
    /// STFT window length in milliseconds (`logmel_conv` only).
    pub win_ms: f32,
    /// STFT hop in milliseconds (`logmel_conv` only).
    pub hop_ms: f32,
    /// Channels of the convolution stack, each layer halving the frame rate (`logmel_conv`).
    pub channels: usize,
    /// Convolution layers (`logmel_conv` only).
    pub conv_layers: usize,
    /// Transformer layers after the convolutions, 0 for none (`logmel_conv` only).
    pub transformer_layers: usize,
    /// Attention heads (`logmel_conv` only).
    pub heads: usize,
    /// Dropout inside the encoder. Unset: 0.1 for `logmel_conv`, the `config.json` values for
    /// wav2vec2; set: replaces every dropout probability of the encoder (LayerDrop excepted).
    pub dropout: Option<f64>,
    pub pooling: Pooling,
}

impl Default for AudioEncoderConfig {
    fn default() -> Self {
        Self {
            kind: AudioEncoderKind::LogmelConv,
            path: None,
            init: EncoderInit::Pretrained,
            train: EncoderTraining::Full,
            layer: -1,
            features: AudioFeatures::HiddenStates,
            freeze_feature_encoder: false,
            attention_mask: AttentionMaskMode::Auto,
            overrides: BTreeMap::new(),
            sample_rate: 16_000,
            max_samples: 40_000,
            input: AudioInputOptions::default(),
            n_mels: 40,
            win_ms: 25.0,
            hop_ms: 10.0,
            channels: 64,
            conv_layers: 2,
            transformer_layers: 1,
            heads: 4,
            dropout: None,
            pooling: Pooling::Mean,
        }
    }
}

impl AudioEncoderConfig {
    /// Dropout of the small log-mel encoder: the configured value or 0.1.
    pub fn small_dropout(&self) -> f64 {
        self.dropout.unwrap_or(0.1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudioEncoderKind {
    /// Log-mel frames, strided convolutions, an optional transformer (random init).
    LogmelConv,
    /// wav2vec2 on the raw waveform, from a Hugging Face folder.
    Wav2vec2,
    /// No encoder: seed 001's spectrogram pieces (torchaudio's power mel spectrogram, window and
    /// n_fft 25 ms, hop 12.5 ms, 128 bands, no log; cut into pieces of 32 frames), one
    /// 4096-value vector per piece, for a method that brings its own CNN (`mme2e`,
    /// `mme2e_sparse`). Computed once per clip at `sample_rate`; nothing to train.
    MelPieces,
}

/// Which wav2vec2 output an audio encoder hands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudioFeatures {
    HiddenStates,
    ExtractFeatures,
}

/// Whether wav2vec2 sees an attention mask over padded samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttentionMaskMode {
    Auto,
    On,
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_modes_parse_and_print_back() {
        for text in ["full", "frozen", "top:3"] {
            let mode: EncoderTraining = text.parse().unwrap();
            assert_eq!(mode.to_string(), text);
        }
        assert_eq!("top:2".parse(), Ok(EncoderTraining::Top(2)));
        for bad in ["top:0", "top:", "top:x", "half", ""] {
            let err = bad.parse::<EncoderTraining>().unwrap_err();
            assert!(err.contains("top:N"), "{bad}: {err}");
        }
    }
}
