//! The convolutional feature encoder: raw waveform to one frame per 20 ms (transformers'
//! `Wav2Vec2FeatureEncoder`).

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Initializer, LayerNorm, LayerNormConfig};
use burn::prelude::*;

use super::activation::Activation;
use super::config::{FeatExtractNorm, Wav2Vec2Config};

/// The norm after a conv. Its field is called `layer_norm` in transformers for both kinds, so
/// the enum keeps one path; checkpoints load with enum variants skipped.
#[derive(Module, Debug)]
pub enum ConvNorm {
    /// `GroupNorm(num_groups = channels)`: each channel normalised over time, per example.
    Group(GroupNorm),
    /// `LayerNorm(channels)` at every frame.
    Layer(LayerNorm),
}

#[derive(Module, Debug)]
pub struct ConvLayer {
    pub conv: Conv1d,
    pub layer_norm: Option<ConvNorm>,
    #[module(skip)]
    activation: Activation,
}

impl ConvLayer {
    /// `[batch, channels_in, time]` to `[batch, channels_out, time']`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self.conv.forward(x);
        let x = match &self.layer_norm {
            Some(ConvNorm::Group(norm)) => norm.forward(x),
            // LayerNorm normalises the last axis, so the channels go there and back.
            Some(ConvNorm::Layer(norm)) => norm.forward(x.swap_dims(1, 2)).swap_dims(1, 2),
            None => x,
        };
        self.activation.forward(x)
    }
}

#[derive(Module, Debug)]
pub struct FeatureEncoder {
    pub conv_layers: Vec<ConvLayer>,
}

impl FeatureEncoder {
    pub fn new(config: &Wav2Vec2Config, device: &Device) -> Self {
        let norm = config
            .feat_extract_norm()
            .expect("a validated wav2vec2 config");
        let activation = Activation::parse(&config.feat_extract_activation)
            .expect("a validated wav2vec2 config");
        let conv_layers = (0..config.conv_dim.len())
            .map(|i| {
                let channels_in = if i == 0 { 1 } else { config.conv_dim[i - 1] };
                let channels = config.conv_dim[i];
                // transformers initialises these convs with kaiming_normal_ (fan in, gain √2).
                let conv = Conv1dConfig::new(channels_in, channels, config.conv_kernel[i])
                    .with_stride(config.conv_stride[i])
                    .with_bias(config.conv_bias)
                    .with_initializer(Initializer::KaimingNormal {
                        gain: 2f64.sqrt(),
                        fan_out_only: false,
                    })
                    .init(device);
                let layer_norm = match norm {
                    FeatExtractNorm::Group if i == 0 => Some(ConvNorm::Group(
                        GroupNormConfig::new(channels, channels).init(device),
                    )),
                    FeatExtractNorm::Group => None,
                    // nn.LayerNorm's default epsilon, not config.layer_norm_eps.
                    FeatExtractNorm::Layer => {
                        Some(ConvNorm::Layer(LayerNormConfig::new(channels).init(device)))
                    }
                };
                ConvLayer {
                    conv,
                    layer_norm,
                    activation,
                }
            })
            .collect();
        Self { conv_layers }
    }

    /// `[batch, samples]` to `[batch, frames, conv_dim[-1]]`.
    pub fn forward(&self, waveform: Tensor<2>) -> Tensor<3> {
        let x = self
            .conv_layers
            .iter()
            .fold(waveform.unsqueeze_dim(1), |x, layer| layer.forward(x));
        x.swap_dims(1, 2)
    }
}
