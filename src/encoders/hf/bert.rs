//! BERT (`BertModel`): absolute positions `0..len`, post-LN layers and the pooler.

use burn::prelude::*;

use super::config::HfTextConfig;
use super::embeddings::{Embeddings, sequential_positions, token_types_or_zeros};
use super::layer::{Encoder, Pooler, attention_bias};
use super::{TextInput, TextOutput};

#[derive(Module, Debug)]
pub struct BertModel {
    embeddings: Embeddings,
    encoder: Encoder,
    pooler: Option<Pooler>,
}

impl BertModel {
    pub fn new(config: &HfTextConfig, with_pooler: bool, device: &Device) -> Self {
        Self {
            embeddings: Embeddings::new(config, device),
            encoder: Encoder::new(config, device),
            pooler: with_pooler.then(|| Pooler::new(config, device)),
        }
    }

    pub fn forward(&self, input: TextInput) -> TextOutput {
        let [batch, len] = input.ids.dims();
        let positions = sequential_positions(batch, len, &input.ids.device());
        run_body(
            &self.embeddings,
            &self.encoder,
            self.pooler.as_ref(),
            input,
            positions,
        )
    }
}

/// Embeddings at `positions`, the post-LN layers and the optional pooler: everything BERT and
/// RoBERTa share once each has its position ids. A missing token-type input is all zeros, as in
/// Hugging Face (RoBERTa has a single token type).
pub(super) fn run_body(
    embeddings: &Embeddings,
    encoder: &Encoder,
    pooler: Option<&Pooler>,
    input: TextInput,
    positions: Tensor<2, Int>,
) -> TextOutput {
    let token_types = token_types_or_zeros(input.token_type_ids, &input.ids);
    let embedded = embeddings.forward(input.ids, token_types, positions);
    let mut hidden_states = vec![embedded];
    encoder.forward(&mut hidden_states, attention_bias(input.attention_mask));
    let pooler = pooler.map(|p| p.forward(last(&hidden_states)));
    TextOutput {
        hidden_states,
        pooler,
    }
}

/// The last hidden state, `[batch, len, hidden]`.
pub fn last(hidden_states: &[Tensor<3>]) -> Tensor<3> {
    hidden_states
        .last()
        .expect("at least the embeddings")
        .clone()
}
