//! `Wav2Vec2Model`: CNN feature encoder, feature projection, SpecAugment, transformer.

use burn::module::{Flag, Param};
use burn::nn::Initializer;
use burn::prelude::*;

use super::attention::FrameMask;
use super::config::Wav2Vec2Config;
use super::encoder::{Encoder, EncoderPass};
use super::feature_encoder::FeatureEncoder;
use super::feature_projection::FeatureProjection;
use super::random::{layers_to_skip, uniforms};
use super::spec_augment::{MaskDraws, MaskSpec};

/// A zero-padded batch of waveforms.
#[derive(Debug, Clone)]
pub struct Wav2Vec2Input {
    /// `[batch, samples]`, zero-padded on the right.
    pub waveform: Tensor<2>,
    /// Real samples per row. `None` passes no attention mask, as the seed experiments do:
    /// padding then takes part in attention (and, for the group-norm CNN, in its statistics).
    pub lengths: Option<Vec<usize>>,
}

#[derive(Debug, Clone)]
pub struct Wav2Vec2Output {
    /// `[batch, frames, conv_dim[-1]]`: transformers' `extract_features`, the LayerNorm of the
    /// CNN output inside the feature projection.
    pub extract_features: Tensor<3>,
    /// `[batch, frames, hidden]` × (num_hidden_layers + 1), as transformers returns them with
    /// `output_hidden_states=True`; the last one is `last_hidden_state` (after the final
    /// LayerNorm in the stable-layer-norm variant).
    pub hidden_states: Vec<Tensor<3>>,
    /// Real frames per row (every row `frames` without lengths).
    pub frame_lengths: Vec<usize>,
}

impl Wav2Vec2Output {
    pub fn last_hidden_state(&self) -> Tensor<3> {
        self.hidden_states
            .last()
            .expect("at least the encoder's input")
            .clone()
    }
}

#[derive(Module, Debug)]
pub struct Wav2Vec2Model {
    pub feature_extractor: FeatureEncoder,
    pub feature_projection: FeatureProjection,
    /// The learned vector that replaces SpecAugment's masked frames; present, as in
    /// transformers, only when `mask_time_prob` or `mask_feature_prob` is positive.
    pub masked_spec_embed: Option<Param<Tensor<1>>>,
    pub encoder: Encoder,
    /// Training behaviour (SpecAugment, LayerDrop), under the rule `nn::Dropout` follows: the
    /// flag is enabled and the input is on an autodiff device. `valid()` and `freeze()` clear it.
    pub training: Param<Flag>,
    #[module(skip)]
    config: Wav2Vec2Config,
}

impl Wav2Vec2Config {
    /// A randomly initialised model, with transformers' initialisation scheme. Panics on a
    /// config that `validate` rejects.
    pub fn init(&self, device: &Device) -> Wav2Vec2Model {
        if let Err(e) = self.validate() {
            panic!("invalid wav2vec2 config: {e:#}");
        }
        Wav2Vec2Model {
            feature_extractor: FeatureEncoder::new(self, device),
            feature_projection: FeatureProjection::new(self, device),
            masked_spec_embed: self.has_masked_spec_embed().then(|| {
                Initializer::Uniform { min: 0.0, max: 1.0 }.init([self.hidden_size], device)
            }),
            encoder: Encoder::new(self, device),
            training: Param::from_bool(true),
            config: self.clone(),
        }
    }
}

impl Wav2Vec2Model {
    pub fn config(&self) -> &Wav2Vec2Config {
        &self.config
    }

    /// Whether this pass trains, by `nn::Dropout`'s rule.
    pub fn is_training<const D: usize>(&self, x: &Tensor<D>) -> bool {
        self.training.is_enabled() && x.device().is_autodiff()
    }

    /// transformers' `freeze_feature_encoder`: the CNN's parameters stop requiring gradients;
    /// the feature projection, `masked_spec_embed` and the transformer stay trainable.
    pub fn freeze_feature_encoder(mut self) -> Self {
        self.feature_extractor = self.feature_extractor.no_grad();
        self
    }

    pub fn forward(&self, input: Wav2Vec2Input) -> Wav2Vec2Output {
        let [batch, samples] = input.waveform.dims();
        let training = self.is_training(&input.waveform);
        let features = self.feature_extractor.forward(input.waveform);
        let [_, frames, _] = features.dims();
        let frame_lengths = match &input.lengths {
            Some(lengths) => {
                assert_eq!(lengths.len(), batch, "one length per waveform");
                assert!(
                    lengths.iter().all(|&l| l <= samples),
                    "lengths {lengths:?} exceed the {samples} samples of the batch"
                );
                lengths
                    .iter()
                    .map(|&l| self.config.frames_for(l).min(frames))
                    .collect()
            }
            None => vec![frames; batch],
        };
        let device = features.device();
        let mask = input
            .lengths
            .as_ref()
            .map(|_| FrameMask::new(&frame_lengths, frames, &device));

        let (hidden, extract_features) = self.feature_projection.forward(features);
        let hidden = if training {
            self.spec_augment(hidden, &frame_lengths)
        } else {
            hidden
        };
        let layers = self.encoder.num_layers();
        let skip = if training {
            layers_to_skip(layers, self.config.layerdrop, &device)
        } else {
            vec![false; layers]
        };
        let hidden_states = self.encoder.forward(
            hidden,
            &EncoderPass {
                mask: mask.as_ref(),
                skip: &skip,
            },
        );
        Wav2Vec2Output {
            extract_features,
            hidden_states,
            frame_lengths,
        }
    }

    /// transformers' `_mask_hidden_states` in training: time spans replaced by
    /// `masked_spec_embed`, then feature spans zeroed. Spans stay within each row's real
    /// frames (all frames when no lengths were given, as transformers without a mask).
    pub(super) fn spec_augment(&self, hidden: Tensor<3>, frame_lengths: &[usize]) -> Tensor<3> {
        let config = &self.config;
        if !config.apply_spec_augment {
            return hidden;
        }
        let [batch, frames, width] = hidden.dims();
        let device = hidden.device();
        let mut hidden = hidden;
        if let (true, Some(embed)) = (config.mask_time_prob > 0.0, &self.masked_spec_embed) {
            let spec = MaskSpec {
                prob: config.mask_time_prob,
                length: config.mask_time_length,
                min_masks: config.mask_time_min_masks,
            };
            let mask = draw_mask(spec, frames, frame_lengths, &device);
            let mask =
                bool_tensor(mask, [batch, frames, 1], &device).expand([batch, frames, width]);
            let embed = embed
                .val()
                .reshape([1, 1, width])
                .expand([batch, frames, width]);
            hidden = hidden.mask_where(mask, embed);
        }
        if config.mask_feature_prob > 0.0 {
            let spec = MaskSpec {
                prob: config.mask_feature_prob,
                length: config.mask_feature_length,
                min_masks: config.mask_feature_min_masks,
            };
            let mask = draw_mask(spec, width, &vec![width; batch], &device);
            let mask = bool_tensor(mask, [batch, 1, width], &device).expand([batch, frames, width]);
            hidden = hidden.mask_fill(mask, 0.0);
        }
        hidden
    }
}

/// One SpecAugment mask over `positions` per row, with burn's RNG supplying the draws.
fn draw_mask(spec: MaskSpec, positions: usize, lengths: &[usize], device: &Device) -> Vec<bool> {
    let mut draws = uniforms(1 + lengths.len() * positions, device);
    let keys = draws.split_off(1);
    let draws = MaskDraws {
        epsilon: draws[0] as f64,
        keys: &keys,
    };
    spec.compute(positions, lengths, &draws)
        .into_iter()
        .flatten()
        .collect()
}

fn bool_tensor(values: Vec<bool>, shape: [usize; 3], device: &Device) -> Tensor<3, Bool> {
    Tensor::from_data(TensorData::new(values, shape), device)
}
