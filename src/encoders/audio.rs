//! The experiment's audio encoder: the small log-mel stack (`kind = "logmel_conv"`) or wav2vec2
//! from a Hugging Face folder on the raw waveform. Both give a sequence with its real length per
//! row and pool it the same way, so training, feature extraction and `emo-run embed` compute
//! one thing.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::*;

use super::folder;
use super::logmel_conv::{LogmelConvEncoder, LogmelConvSpec};
use super::pooling::pool;
use super::training;
use super::wav2vec2::{Wav2Vec2Config, Wav2Vec2Input, Wav2Vec2Model, Wav2Vec2Preprocessor};
use crate::config::{
    AttentionMaskMode, AudioEncoderConfig, AudioEncoderKind, AudioFeatures, EncoderInit, Pooling,
};

/// Dropout probabilities of wav2vec2's config that `encoders.audio.dropout` replaces (LayerDrop
/// is a separate override).
const DROPOUT_KEYS: [&str; 4] = [
    "hidden_dropout",
    "activation_dropout",
    "attention_dropout",
    "feat_proj_dropout",
];

const NO_MODULE: &str = "encoders.audio.kind = \"mel_pieces\" is a front end with no module to build: the method's own CNN reads the pieces";

/// A padded batch in the form the encoder reads.
#[derive(Debug, Clone)]
pub enum AudioInput {
    /// Normalised log-mel frames `[batch, frames, n_mels]`, with real frames per row.
    LogMel {
        frames: Tensor<3>,
        lengths: Vec<usize>,
    },
    /// Waveforms `[batch, samples]`, zero-padded, with real samples per row.
    Waveform {
        samples: Tensor<2>,
        lengths: Vec<usize>,
    },
}

#[derive(Debug, Clone)]
pub struct AudioEncoderSpec {
    pub config: AudioEncoderConfig,
    pub backbone: AudioBackboneSpec,
}

#[derive(Debug, Clone)]
pub enum AudioBackboneSpec {
    LogmelConv(LogmelConvSpec),
    /// Seed 001's spectrogram pieces: a front end with no module (`kind = "mel_pieces"`).
    MelPieces,
    Wav2vec2 {
        dir: PathBuf,
        w2v: Wav2Vec2Config,
        /// Whether the model sees an attention mask (`encoders.audio.attention_mask`).
        attention_mask: bool,
    },
}

impl AudioEncoderSpec {
    /// The spec the experiment asks for (reads the folder's config.json for wav2vec2).
    pub fn for_experiment(config: &AudioEncoderConfig) -> anyhow::Result<Self> {
        let backbone = match config.kind {
            AudioEncoderKind::MelPieces => AudioBackboneSpec::MelPieces,
            AudioEncoderKind::LogmelConv => AudioBackboneSpec::LogmelConv(LogmelConvSpec {
                config: config.clone(),
            }),
            AudioEncoderKind::Wav2vec2 => {
                let dir = config
                    .path
                    .clone()
                    .context("encoders.audio.path is required for wav2vec2")?;
                let json = folder::merged_config_json(
                    &dir,
                    config.dropout,
                    &DROPOUT_KEYS,
                    &config.overrides,
                )?;
                let w2v: Wav2Vec2Config = folder::parse_config(&dir, json)?;
                w2v.validate()
                    .with_context(|| format!("unsupported wav2vec2 config in {}", dir.display()))?;
                let attention_mask = match config.attention_mask {
                    AttentionMaskMode::On => true,
                    AttentionMaskMode::Off => false,
                    AttentionMaskMode::Auto => {
                        Wav2Vec2Preprocessor::read(&dir)?.is_some_and(|p| p.return_attention_mask)
                    }
                };
                AudioBackboneSpec::Wav2vec2 {
                    dir,
                    w2v,
                    attention_mask,
                }
            }
        };
        Ok(Self {
            config: config.clone(),
            backbone,
        })
    }

    pub fn output_dim(&self) -> usize {
        match &self.backbone {
            AudioBackboneSpec::LogmelConv(s) => s.output_dim(),
            AudioBackboneSpec::MelPieces => crate::data::mel_pieces::PIECE_VALUES,
            AudioBackboneSpec::Wav2vec2 { w2v, .. } => match self.config.features {
                AudioFeatures::HiddenStates => w2v.hidden_size,
                AudioFeatures::ExtractFeatures => *w2v.conv_dim.last().expect("validated"),
            },
        }
    }

    /// Whether the encoder reads raw waveforms (rather than log-mel frames).
    pub fn reads_waveforms(&self) -> bool {
        matches!(self.backbone, AudioBackboneSpec::Wav2vec2 { .. })
    }

    /// Whether the model holds no trained module for it: a frozen encoder (its outputs come
    /// from the feature cache) or the spectrogram pieces (computed once, no weights).
    pub fn is_frozen(&self) -> bool {
        self.config.train.is_frozen() || !self.has_module()
    }

    /// Whether there is a module at all (`mel_pieces` is a front end only).
    pub fn has_module(&self) -> bool {
        !matches!(self.backbone, AudioBackboneSpec::MelPieces)
    }

    pub fn folder(&self) -> Option<&Path> {
        match &self.backbone {
            AudioBackboneSpec::LogmelConv(_) | AudioBackboneSpec::MelPieces => None,
            AudioBackboneSpec::Wav2vec2 { dir, .. } => Some(dir),
        }
    }

    /// The encoder with its pretrained weights (per `init`) and trainable parameters as
    /// `train` and `freeze_feature_encoder` say.
    pub fn init(&self, device: &Device) -> anyhow::Result<AudioEncoder> {
        let backbone = match &self.backbone {
            AudioBackboneSpec::LogmelConv(s) => AudioBackbone::LogmelConv(s.init(device)),
            AudioBackboneSpec::MelPieces => anyhow::bail!(NO_MODULE),
            AudioBackboneSpec::Wav2vec2 { dir, w2v, .. } => {
                AudioBackbone::Wav2vec2(if self.config.init == EncoderInit::Pretrained {
                    super::wav2vec2::load_pretrained(dir, w2v, device)?
                } else {
                    w2v.init(device)
                })
            }
        };
        self.finish(backbone)
    }

    /// Fresh weights of the same architecture: the skeleton a checkpoint loads into.
    pub fn init_skeleton(&self, device: &Device) -> anyhow::Result<AudioEncoder> {
        let backbone = match &self.backbone {
            AudioBackboneSpec::LogmelConv(s) => AudioBackbone::LogmelConv(s.init(device)),
            AudioBackboneSpec::MelPieces => anyhow::bail!(NO_MODULE),
            AudioBackboneSpec::Wav2vec2 { w2v, .. } => AudioBackbone::Wav2vec2(w2v.init(device)),
        };
        self.finish(backbone)
    }

    fn finish(&self, backbone: AudioBackbone) -> anyhow::Result<AudioEncoder> {
        let (layer, attention_mask, layers) = match &self.backbone {
            AudioBackboneSpec::LogmelConv(s) => (None, true, s.config.transformer_layers),
            AudioBackboneSpec::MelPieces => anyhow::bail!(NO_MODULE),
            AudioBackboneSpec::Wav2vec2 {
                w2v,
                attention_mask,
                ..
            } => {
                let layer = match self.config.features {
                    AudioFeatures::HiddenStates => Some(
                        folder::resolve_layer(self.config.layer, w2v.num_hidden_layers)
                            .context("encoders.audio.layer")?,
                    ),
                    AudioFeatures::ExtractFeatures => None,
                };
                (layer, *attention_mask, w2v.num_hidden_layers)
            }
        };
        let backbone = match backbone {
            AudioBackbone::Wav2vec2(m) if self.config.freeze_feature_encoder => {
                AudioBackbone::Wav2vec2(m.freeze_feature_encoder())
            }
            other => other,
        };
        let backbone =
            training::apply_training(backbone, self.config.train, layers, "encoders.audio.train")?;
        Ok(AudioEncoder {
            backbone,
            pooling: self.config.pooling,
            layer,
            attention_mask,
        })
    }
}

// One backbone per encoder: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum AudioBackbone {
    LogmelConv(LogmelConvEncoder),
    Wav2vec2(Wav2Vec2Model),
}

#[derive(Module, Debug)]
pub struct AudioEncoder {
    backbone: AudioBackbone,
    #[module(skip)]
    pooling: Pooling,
    /// wav2vec2: index into `hidden_states`, or `None` for `extract_features`.
    #[module(skip)]
    layer: Option<usize>,
    /// wav2vec2: pass the real lengths as an attention mask.
    #[module(skip)]
    attention_mask: bool,
}

impl AudioEncoder {
    /// One vector per clip, `[batch, dim]`, pooled as `encoders.audio.pooling` says.
    pub fn forward(&self, input: AudioInput) -> Tensor<2> {
        let (h, lengths) = self.forward_sequence(input);
        pool(h, &lengths, self.pooling)
    }

    /// The sequence `[batch, time, dim]` and the real frames per row. For wav2vec2 the lengths
    /// are the CNN's output lengths of the real samples whether or not the model saw a mask, so
    /// `pooling = "mean"` ignores padding and `mean_unmasked` (seed 000) does not.
    pub fn forward_sequence(&self, input: AudioInput) -> (Tensor<3>, Vec<usize>) {
        match (&self.backbone, input) {
            (AudioBackbone::LogmelConv(m), AudioInput::LogMel { frames, lengths }) => {
                m.forward_sequence(frames, &lengths)
            }
            (AudioBackbone::Wav2vec2(m), AudioInput::Waveform { samples, lengths }) => {
                let frames: Vec<usize> =
                    lengths.iter().map(|&l| m.config().frames_for(l)).collect();
                let out = m.forward(Wav2Vec2Input {
                    waveform: samples,
                    lengths: self.attention_mask.then_some(lengths),
                });
                let h = match self.layer {
                    Some(layer) => out.hidden_states[layer].clone(),
                    None => out.extract_features,
                };
                let [_, time, _] = h.dims();
                (h, frames.into_iter().map(|f| f.min(time)).collect())
            }
            (AudioBackbone::LogmelConv(_), AudioInput::Waveform { .. }) => {
                panic!("the log-mel encoder was given waveforms")
            }
            (AudioBackbone::Wav2vec2(_), AudioInput::LogMel { .. }) => {
                panic!("wav2vec2 was given log-mel frames")
            }
        }
    }
}
