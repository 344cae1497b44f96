//! ELECTRA's discriminator body (`ElectraModel`): BERT embeddings at `embedding_size`, projected
//! to `hidden_size` by `embeddings_project` when the two differ, BERT's layers, no pooler.

use burn::nn::Linear;
use burn::prelude::*;

use super::config::HfTextConfig;
use super::embeddings::{Embeddings, sequential_positions, token_types_or_zeros};
use super::layer::{Encoder, attention_bias, linear};
use super::{TextInput, TextOutput};
use crate::rows::linear_over_tokens;

#[derive(Module, Debug)]
pub struct ElectraModel {
    embeddings: Embeddings,
    embeddings_project: Option<Linear>,
    encoder: Encoder,
}

impl ElectraModel {
    pub fn new(config: &HfTextConfig, device: &Device) -> Self {
        let width = config.embedding_width();
        Self {
            embeddings: Embeddings::new(config, device),
            embeddings_project: (width != config.hidden_size)
                .then(|| linear(width, config.hidden_size, device)),
            encoder: Encoder::new(config, device),
        }
    }

    pub fn forward(&self, input: TextInput) -> TextOutput {
        let [batch, len] = input.ids.dims();
        let positions = sequential_positions(batch, len, &input.ids.device());
        let token_types = token_types_or_zeros(input.token_type_ids, &input.ids);
        let mut x = self.embeddings.forward(input.ids, token_types, positions);
        // HF's hidden_states[0] is the encoder's input, i.e. after the projection.
        if let Some(project) = &self.embeddings_project {
            x = linear_over_tokens(project, x);
        }
        let mut hidden_states = vec![x];
        self.encoder
            .forward(&mut hidden_states, attention_bias(input.attention_mask));
        TextOutput {
            hidden_states,
            pooler: None,
        }
    }
}
