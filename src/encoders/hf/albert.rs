//! ALBERT (`AlbertModel`): factorised embeddings (`embedding_size`), mapped to `hidden_size` by
//! `embedding_hidden_mapping_in`, then `num_hidden_layers` passes through
//! `num_hidden_groups` shared layer groups of `inner_group_num` layers each, and a pooler.

use burn::nn::{Dropout, DropoutConfig, LayerNorm, Linear};
use burn::prelude::*;

use super::bert::last;
use super::config::HfTextConfig;
use super::embeddings::{Embeddings, sequential_positions, token_types_or_zeros};
use super::layer::{Activation, attend, attention_bias, first_token, layer_norm, linear};
use super::{TextInput, TextOutput};
use crate::kernels::dropout;
use crate::rows::linear_over_tokens;

/// HF `AlbertAttention`: projections, output dense and LayerNorm in one module.
#[derive(Module, Debug)]
pub struct AlbertAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    dense: Linear,
    layer_norm: LayerNorm,
    attention_dropout: Dropout,
    output_dropout: Dropout,
    #[module(skip)]
    heads: usize,
}

impl AlbertAttention {
    fn new(config: &HfTextConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            query: linear(h, h, device),
            key: linear(h, h, device),
            value: linear(h, h, device),
            dense: linear(h, h, device),
            layer_norm: layer_norm(h, config, device),
            attention_dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            output_dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            heads: config.num_attention_heads,
        }
    }

    fn forward(&self, x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let context = attend(
            linear_over_tokens(&self.query, x.clone()),
            linear_over_tokens(&self.key, x.clone()),
            linear_over_tokens(&self.value, x.clone()),
            bias,
            self.heads,
            &self.attention_dropout,
        );
        let projected = dropout::apply(
            &self.output_dropout,
            linear_over_tokens(&self.dense, context),
        );
        self.layer_norm.forward(x + projected)
    }
}

/// HF `AlbertLayer`. Its FFN output goes into the LayerNorm without dropout, as in HF (which
/// builds a dropout module there but never calls it).
#[derive(Module, Debug)]
pub struct AlbertLayer {
    attention: AlbertAttention,
    ffn: Linear,
    ffn_output: Linear,
    full_layer_layer_norm: LayerNorm,
    #[module(skip)]
    activation: Activation,
}

impl AlbertLayer {
    fn new(config: &HfTextConfig, device: &Device) -> Self {
        let (h, inner) = (config.hidden_size, config.intermediate_size);
        Self {
            attention: AlbertAttention::new(config, device),
            ffn: linear(h, inner, device),
            ffn_output: linear(inner, h, device),
            full_layer_layer_norm: layer_norm(h, config, device),
            activation: config.activation(),
        }
    }

    fn forward(&self, x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let attended = self.attention.forward(x, bias);
        let inner = self
            .activation
            .forward(linear_over_tokens(&self.ffn, attended.clone()));
        self.full_layer_layer_norm
            .forward(linear_over_tokens(&self.ffn_output, inner) + attended)
    }
}

/// HF `AlbertLayerGroup`: `inner_group_num` layers run one after the other.
#[derive(Module, Debug)]
pub struct AlbertLayerGroup {
    albert_layers: Vec<AlbertLayer>,
}

impl AlbertLayerGroup {
    fn forward(&self, mut x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        for layer in &self.albert_layers {
            x = layer.forward(x, bias.clone());
        }
        x
    }
}

/// HF `AlbertTransformer`.
#[derive(Module, Debug)]
pub struct AlbertTransformer {
    embedding_hidden_mapping_in: Linear,
    albert_layer_groups: Vec<AlbertLayerGroup>,
    #[module(skip)]
    num_hidden_layers: usize,
}

impl AlbertTransformer {
    fn new(config: &HfTextConfig, device: &Device) -> Self {
        let group = || AlbertLayerGroup {
            albert_layers: (0..config.inner_group_num)
                .map(|_| AlbertLayer::new(config, device))
                .collect(),
        };
        Self {
            embedding_hidden_mapping_in: linear(
                config.embedding_width(),
                config.hidden_size,
                device,
            ),
            albert_layer_groups: (0..config.num_hidden_groups).map(|_| group()).collect(),
            num_hidden_layers: config.num_hidden_layers,
        }
    }

    /// HF's hidden states: the mapped embeddings, then one entry per outer layer (a whole
    /// group's pass), not one per inner layer.
    fn forward(&self, embedded: Tensor<3>, bias: Tensor<4>) -> Vec<Tensor<3>> {
        let mut hidden_states = vec![linear_over_tokens(
            &self.embedding_hidden_mapping_in,
            embedded,
        )];
        for i in 0..self.num_hidden_layers {
            let group = &self.albert_layer_groups[self.group_of(i)];
            let x = last(&hidden_states);
            hidden_states.push(group.forward(x, bias.clone()));
        }
        hidden_states
    }

    /// The group outer layer `i` runs: consecutive layers share a group,
    /// `i / (num_hidden_layers / num_hidden_groups)` as in HF.
    fn group_of(&self, i: usize) -> usize {
        i / (self.num_hidden_layers / self.albert_layer_groups.len())
    }
}

#[derive(Module, Debug)]
pub struct AlbertModel {
    embeddings: Embeddings,
    encoder: AlbertTransformer,
    /// HF's `pooler` is a bare Linear (with `pooler_activation` = tanh).
    pooler: Option<Linear>,
}

impl AlbertModel {
    pub fn new(config: &HfTextConfig, with_pooler: bool, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            embeddings: Embeddings::new(config, device),
            encoder: AlbertTransformer::new(config, device),
            pooler: with_pooler.then(|| linear(h, h, device)),
        }
    }

    pub fn forward(&self, input: TextInput) -> TextOutput {
        let [batch, len] = input.ids.dims();
        let positions = sequential_positions(batch, len, &input.ids.device());
        let token_types = token_types_or_zeros(input.token_type_ids, &input.ids);
        let embedded = self.embeddings.forward(input.ids, token_types, positions);
        let hidden_states = self
            .encoder
            .forward(embedded, attention_bias(input.attention_mask));
        let pooler = self
            .pooler
            .as_ref()
            .map(|dense| first_token(dense, last(&hidden_states)));
        TextOutput {
            hidden_states,
            pooler,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_layers_share_a_group() {
        let config = HfTextConfig {
            num_hidden_layers: 6,
            num_hidden_groups: 3,
            hidden_size: 8,
            num_attention_heads: 2,
            intermediate_size: 8,
            embedding_size: Some(4),
            vocab_size: 10,
            ..HfTextConfig::defaults(super::super::HfTextFamily::Albert)
        };
        let t = AlbertTransformer::new(&config, &Device::default());
        let groups: Vec<usize> = (0..6).map(|i| t.group_of(i)).collect();
        assert_eq!(groups, vec![0, 0, 1, 1, 2, 2]);
    }
}
