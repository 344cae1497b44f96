//! The transformer: positional conv, then post-LN (`Wav2Vec2Encoder`, base) or pre-LN
//! (`Wav2Vec2EncoderStableLayerNorm`, large-lv60) layers, in transformers' exact order of
//! LayerNorm, dropout and residuals.

use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear};
use burn::prelude::*;

use super::activation::Activation;
use super::attention::{Attention, FrameMask, normal_linear};
use super::config::Wav2Vec2Config;
use super::positional::PositionalConvEmbedding;
use crate::kernels::dropout;
use crate::rows::linear_over_tokens;

#[derive(Module, Debug)]
pub struct FeedForward {
    pub intermediate_dropout: Dropout,
    pub intermediate_dense: Linear,
    pub output_dense: Linear,
    pub output_dropout: Dropout,
    #[module(skip)]
    activation: Activation,
}

impl FeedForward {
    fn new(config: &Wav2Vec2Config, device: &Device) -> Self {
        let (h, i, std) = (
            config.hidden_size,
            config.intermediate_size,
            config.initializer_range,
        );
        Self {
            intermediate_dropout: DropoutConfig::new(config.activation_dropout).init(),
            intermediate_dense: normal_linear(h, i, std, device),
            output_dense: normal_linear(i, h, std, device),
            output_dropout: DropoutConfig::new(config.hidden_dropout).init(),
            activation: Activation::parse(&config.hidden_act).expect("a validated wav2vec2 config"),
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self
            .activation
            .forward(linear_over_tokens(&self.intermediate_dense, x));
        let x = linear_over_tokens(
            &self.output_dense,
            dropout::apply(&self.intermediate_dropout, x),
        );
        dropout::apply(&self.output_dropout, x)
    }
}

/// One transformer layer; both encoders use the same weights under the same names and differ
/// only in where the two LayerNorms sit.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    pub attention: Attention,
    pub dropout: Dropout,
    pub layer_norm: LayerNorm,
    pub feed_forward: FeedForward,
    pub final_layer_norm: LayerNorm,
}

impl EncoderLayer {
    fn new(config: &Wav2Vec2Config, device: &Device) -> Self {
        Self {
            attention: Attention::new(config, device),
            dropout: DropoutConfig::new(config.hidden_dropout).init(),
            layer_norm: layer_norm(config, device),
            feed_forward: FeedForward::new(config, device),
            final_layer_norm: layer_norm(config, device),
        }
    }

    /// `Wav2Vec2EncoderLayer`: x = LN(x + drop(attn(x))); x = LN_final(x + ff(x)).
    fn forward_post_ln(&self, x: Tensor<3>, mask: Option<&FrameMask>) -> Tensor<3> {
        let attended = dropout::apply(&self.dropout, self.attention.forward(x.clone(), mask));
        let x = self.layer_norm.forward(x + attended);
        let x = x.clone() + self.feed_forward.forward(x);
        self.final_layer_norm.forward(x)
    }

    /// `Wav2Vec2EncoderLayerStableLayerNorm`: x = x + drop(attn(LN(x))); x = x + ff(LN_final(x)).
    fn forward_stable(&self, x: Tensor<3>, mask: Option<&FrameMask>) -> Tensor<3> {
        let attended = self
            .attention
            .forward(self.layer_norm.forward(x.clone()), mask);
        let x = x + dropout::apply(&self.dropout, attended);
        x.clone() + self.feed_forward.forward(self.final_layer_norm.forward(x))
    }
}

fn layer_norm(config: &Wav2Vec2Config, device: &Device) -> LayerNorm {
    LayerNormConfig::new(config.hidden_size)
        .with_epsilon(config.layer_norm_eps)
        .init(device)
}

/// Post-LN encoder (`do_stable_layer_norm = false`, base).
#[derive(Module, Debug)]
pub struct Wav2Vec2Encoder {
    pub pos_conv_embed: PositionalConvEmbedding,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
    pub layers: Vec<EncoderLayer>,
}

/// Pre-LN encoder (`do_stable_layer_norm = true`, large-lv60): the same parameters, with the
/// encoder's LayerNorm moved from the input to the output.
#[derive(Module, Debug)]
pub struct Wav2Vec2EncoderStableLayerNorm {
    pub pos_conv_embed: PositionalConvEmbedding,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
    pub layers: Vec<EncoderLayer>,
}

/// What the transformer needs besides its input: the padding mask and LayerDrop's decisions.
pub struct EncoderPass<'a> {
    pub mask: Option<&'a FrameMask>,
    /// One entry per layer; `true` skips the layer (LayerDrop). All `false` in evaluation.
    pub skip: &'a [bool],
}

impl EncoderPass<'_> {
    /// transformers zeroes the padded frames once, before the positional conv, so that
    /// padding does not leak into real frames through the convolution.
    fn zero_padding(&self, hidden: Tensor<3>) -> Tensor<3> {
        match self.mask {
            Some(mask) => hidden * mask.keep.clone(),
            None => hidden,
        }
    }

    /// Runs the layers, collecting the state before each one; the caller adds the last.
    fn run_layers(
        &self,
        layers: &[EncoderLayer],
        mut hidden: Tensor<3>,
        forward: fn(&EncoderLayer, Tensor<3>, Option<&FrameMask>) -> Tensor<3>,
    ) -> (Vec<Tensor<3>>, Tensor<3>) {
        assert_eq!(
            self.skip.len(),
            layers.len(),
            "one LayerDrop decision per layer"
        );
        let mut states = Vec::with_capacity(layers.len() + 1);
        for (layer, &skip) in layers.iter().zip(self.skip) {
            states.push(hidden.clone());
            if !skip {
                hidden = forward(layer, hidden, self.mask);
            }
        }
        (states, hidden)
    }
}

impl Wav2Vec2Encoder {
    fn forward(&self, hidden: Tensor<3>, pass: &EncoderPass) -> Vec<Tensor<3>> {
        let hidden = pass.zero_padding(hidden);
        let hidden = hidden.clone() + self.pos_conv_embed.forward(hidden);
        let hidden = dropout::apply(&self.dropout, self.layer_norm.forward(hidden));
        let (mut states, last) =
            pass.run_layers(&self.layers, hidden, EncoderLayer::forward_post_ln);
        states.push(last);
        states
    }
}

impl Wav2Vec2EncoderStableLayerNorm {
    fn forward(&self, hidden: Tensor<3>, pass: &EncoderPass) -> Vec<Tensor<3>> {
        let hidden = pass.zero_padding(hidden);
        let hidden = hidden.clone() + self.pos_conv_embed.forward(hidden);
        let hidden = dropout::apply(&self.dropout, hidden);
        let (mut states, last) =
            pass.run_layers(&self.layers, hidden, EncoderLayer::forward_stable);
        states.push(self.layer_norm.forward(last));
        states
    }
}

/// The model's transformer, one of the two variants. Checkpoints name the fields below
/// `encoder.` directly, so loading skips the variant names.
#[derive(Module, Debug)]
pub enum Encoder {
    PostLn(Wav2Vec2Encoder),
    StableLayerNorm(Wav2Vec2EncoderStableLayerNorm),
}

impl Encoder {
    pub fn new(config: &Wav2Vec2Config, device: &Device) -> Self {
        let pos_conv_embed = PositionalConvEmbedding::new(config, device);
        let layer_norm = layer_norm(config, device);
        let dropout = DropoutConfig::new(config.hidden_dropout).init();
        let layers = (0..config.num_hidden_layers)
            .map(|_| EncoderLayer::new(config, device))
            .collect();
        if config.do_stable_layer_norm {
            Self::StableLayerNorm(Wav2Vec2EncoderStableLayerNorm {
                pos_conv_embed,
                layer_norm,
                dropout,
                layers,
            })
        } else {
            Self::PostLn(Wav2Vec2Encoder {
                pos_conv_embed,
                layer_norm,
                dropout,
                layers,
            })
        }
    }

    pub fn num_layers(&self) -> usize {
        match self {
            Self::PostLn(e) => e.layers.len(),
            Self::StableLayerNorm(e) => e.layers.len(),
        }
    }

    /// All hidden states as transformers returns them with `output_hidden_states`: the input
    /// of every layer, then the output (for the stable variant, after the final LayerNorm).
    pub fn forward(&self, hidden: Tensor<3>, pass: &EncoderPass) -> Vec<Tensor<3>> {
        match self {
            Self::PostLn(e) => e.forward(hidden, pass),
            Self::StableLayerNorm(e) => e.forward(hidden, pass),
        }
    }
}
