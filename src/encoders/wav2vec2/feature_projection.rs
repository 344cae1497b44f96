//! LayerNorm, Linear and dropout from the CNN's channels to the transformer's width
//! (transformers' `Wav2Vec2FeatureProjection`).

use burn::nn::{
    Dropout, DropoutConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::prelude::*;

use super::config::Wav2Vec2Config;
use crate::kernels::dropout;
use crate::rows::linear_over_tokens;

#[derive(Module, Debug)]
pub struct FeatureProjection {
    pub layer_norm: LayerNorm,
    pub projection: Linear,
    pub dropout: Dropout,
}

impl FeatureProjection {
    pub fn new(config: &Wav2Vec2Config, device: &Device) -> Self {
        let channels = *config.conv_dim.last().expect("a validated wav2vec2 config");
        // transformers: uniform(-k, k) with k = 1/sqrt(fan_in), weight and bias alike.
        let k = (1.0 / channels as f64).sqrt();
        Self {
            layer_norm: LayerNormConfig::new(channels)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            projection: LinearConfig::new(channels, config.hidden_size)
                .with_initializer(Initializer::Uniform { min: -k, max: k })
                .init(device),
            dropout: DropoutConfig::new(config.feat_proj_dropout).init(),
        }
    }

    /// `(projected, normed)`: the transformer's input and transformers' `extract_features`
    /// (the LayerNorm of the CNN output, which the quantizer and some heads read).
    pub fn forward(&self, features: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let normed = self.layer_norm.forward(features);
        let projected = dropout::apply(
            &self.dropout,
            linear_over_tokens(&self.projection, normed.clone()),
        );
        (projected, normed)
    }
}
