//! The small audio encoder (`kind = "logmel_conv"`) over precomputed log-mel frames: strided 1-D convolutions (each halves the frame
//! rate) followed by an optional transformer and pooling.

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, PaddingConfig1d};
use burn::prelude::*;

use super::pooling::padding_mask;
use crate::config::AudioEncoderConfig;
use crate::kernels::dropout;
use crate::kernels::gelu::gelu;
use crate::kernels::transformer;

#[derive(Debug, Clone)]
pub struct LogmelConvSpec {
    pub config: AudioEncoderConfig,
}

impl LogmelConvSpec {
    pub fn output_dim(&self) -> usize {
        self.config.channels
    }

    pub fn init(&self, device: &Device) -> LogmelConvEncoder {
        let c = &self.config;
        let convs = (0..c.conv_layers)
            .map(|i| {
                let input = if i == 0 { c.n_mels } else { c.channels };
                Conv1dConfig::new(input, c.channels, 3)
                    .with_stride(2)
                    .with_padding(PaddingConfig1d::Explicit(1, 1))
                    .init(device)
            })
            .collect();
        LogmelConvEncoder {
            convs,
            norm: LayerNormConfig::new(c.channels).init(device),
            dropout: DropoutConfig::new(c.small_dropout()).init(),
            transformer: (c.transformer_layers > 0).then(|| {
                TransformerEncoderConfig::new(
                    c.channels,
                    2 * c.channels,
                    c.heads,
                    c.transformer_layers,
                )
                .with_dropout(c.small_dropout())
                .with_norm_first(true)
                .init(device)
            }),
        }
    }
}

#[derive(Module, Debug)]
pub struct LogmelConvEncoder {
    convs: Vec<Conv1d>,
    norm: LayerNorm,
    dropout: Dropout,
    transformer: Option<TransformerEncoder>,
}

/// Frames left after one stride-2, kernel-3, padding-1 convolution.
fn halve(frames: usize) -> usize {
    frames.div_ceil(2)
}

impl LogmelConvEncoder {
    /// Hidden states `[batch, time, channels]` and the real frames per row after the strided
    /// convolutions, for log-mel `features` `[batch, frames, n_mels]` zero-padded, with
    /// `frames` real frames per row.
    pub fn forward_sequence(
        &self,
        features: Tensor<3>,
        frames: &[usize],
    ) -> (Tensor<3>, Vec<usize>) {
        let mut x = features.swap_dims(1, 2);
        let mut lengths = frames.to_vec();
        for conv in &self.convs {
            x = gelu(conv.forward(x));
            lengths.iter_mut().for_each(|l| *l = halve(*l));
        }
        let x = dropout::apply(&self.dropout, self.norm.forward(x.swap_dims(1, 2)));
        let [_, time, _] = x.dims();
        let h = match &self.transformer {
            Some(t) => {
                let mask = padding_mask(&lengths, time, &x.device());
                transformer::encode(t, x, Some(mask))
            }
            None => x,
        };
        (h, lengths)
    }
}
