//! A small transformer text encoder with learned positions, randomly initialised
//! (`kind = "transformer"`): the quickstart's encoder, sized by `[encoders.text]`.

use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::prelude::*;

use super::pooling::padding_mask;
use crate::config::TextEncoderConfig;
use crate::kernels::dropout;
use crate::kernels::transformer;

/// Everything needed to build the module: the experiment's settings plus the vocabulary size,
/// which is known only once the fold's tokenizer is trained.
#[derive(Debug, Clone)]
pub struct SmallTextSpec {
    pub config: TextEncoderConfig,
    pub vocab_size: usize,
}

impl SmallTextSpec {
    pub fn output_dim(&self) -> usize {
        self.config.hidden
    }

    pub fn init(&self, device: &Device) -> SmallTextEncoder {
        let c = &self.config;
        SmallTextEncoder {
            tokens: EmbeddingConfig::new(self.vocab_size, c.hidden).init(device),
            positions: EmbeddingConfig::new(c.max_len, c.hidden).init(device),
            norm: LayerNormConfig::new(c.hidden).init(device),
            dropout: DropoutConfig::new(c.small_dropout()).init(),
            transformer: TransformerEncoderConfig::new(c.hidden, c.ffn, c.heads, c.layers)
                .with_dropout(c.small_dropout())
                .with_norm_first(true)
                .init(device),
        }
    }
}

#[derive(Module, Debug)]
pub struct SmallTextEncoder {
    tokens: Embedding,
    positions: Embedding,
    norm: LayerNorm,
    dropout: Dropout,
    transformer: TransformerEncoder,
}

impl SmallTextEncoder {
    /// Hidden states `[batch, max_len, hidden]` (padding positions included) of right-padded
    /// token ids `[batch, max_len]` with `lengths` real tokens per row.
    pub fn forward_sequence(&self, ids: Tensor<2, Int>, lengths: &[usize]) -> Tensor<3> {
        let [batch, len] = ids.dims();
        let device = ids.device();
        let positions = Tensor::<1, Int>::arange(0..len as i64, &device)
            .reshape([1, len])
            .repeat_dim(0, batch);
        let x = self.tokens.forward(ids) + self.positions.forward(positions);
        let x = dropout::apply(&self.dropout, self.norm.forward(x));
        let mask = padding_mask(lengths, len, &device);
        transformer::encode(&self.transformer, x, Some(mask))
    }
}
