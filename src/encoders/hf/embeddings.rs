//! HF `BertEmbeddings` and its relatives: word + position + token-type embeddings, LayerNorm,
//! dropout. RoBERTa, ELECTRA and ALBERT differ only in the width (`embedding_size`) and in how
//! their position ids are made, which the caller passes in.

use crate::kernels::dropout;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm};
use burn::prelude::*;

use super::config::HfTextConfig;
use super::layer::layer_norm;

#[derive(Module, Debug)]
pub struct Embeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    token_type_embeddings: Embedding,
    layer_norm: LayerNorm,
    dropout: Dropout,
}

impl Embeddings {
    pub fn new(config: &HfTextConfig, device: &Device) -> Self {
        let width = config.embedding_width();
        let table = |rows: usize| EmbeddingConfig::new(rows, width).init(device);
        Self {
            word_embeddings: table(config.vocab_size),
            position_embeddings: table(config.max_position_embeddings),
            token_type_embeddings: table(config.type_vocab_size),
            layer_norm: layer_norm(width, config, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        }
    }

    /// `ids`, `token_types`, `positions`: `[batch, len]`; returns `[batch, len, width]`.
    pub fn forward(
        &self,
        ids: Tensor<2, Int>,
        token_types: Tensor<2, Int>,
        positions: Tensor<2, Int>,
    ) -> Tensor<3> {
        let x = self.word_embeddings.forward(ids)
            + self.token_type_embeddings.forward(token_types)
            + self.position_embeddings.forward(positions);
        dropout::apply(&self.dropout, self.layer_norm.forward(x))
    }
}

/// `0, 1, …, len-1` on every row: BERT's, ELECTRA's and ALBERT's absolute positions.
pub fn sequential_positions(batch: usize, len: usize, device: &Device) -> Tensor<2, Int> {
    Tensor::<1, Int>::arange(0..len as i64, device)
        .reshape([1, len])
        .repeat_dim(0, batch)
}

/// The token types given, or all zeros as Hugging Face uses when none are passed.
pub fn token_types_or_zeros(
    token_types: Option<Tensor<2, Int>>,
    ids: &Tensor<2, Int>,
) -> Tensor<2, Int> {
    token_types.unwrap_or_else(|| ids.zeros_like())
}
