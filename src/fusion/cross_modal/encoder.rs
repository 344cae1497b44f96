//! MulT's `TransformerEncoder` and `TransformerEncoderLayer` (seed 003 B.4 steps 1-5): a
//! pre-LN crossmodal encoder whose keys and values come from a source that is NOT updated from
//! layer to layer. Field names are PyTorch's state_dict keys.

use crate::kernels::dropout;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, Relu};
use burn::prelude::*;

use super::attention::{FairseqAttention, xavier_linear};
use super::positions::sinusoidal_positions;

/// The encoder's sizes and dropouts.
#[derive(Debug, Clone, Copy)]
pub struct EncoderShape {
    pub dim: usize,
    pub heads: usize,
    pub ffn: usize,
    pub layers: usize,
    pub attn_dropout: f64,
    pub relu_dropout: f64,
    pub res_dropout: f64,
    pub embed_dropout: f64,
}

#[derive(Module, Debug)]
pub struct CrossModalEncoder {
    pub layers: Vec<CrossModalLayer>,
    /// The final LayerNorm after the last layer.
    pub layer_norm: LayerNorm,
    embed_dropout: Dropout,
}

impl CrossModalEncoder {
    pub fn new(shape: &EncoderShape, device: &Device) -> Self {
        Self {
            layers: (0..shape.layers)
                .map(|_| CrossModalLayer::new(shape, device))
                .collect(),
            layer_norm: LayerNormConfig::new(shape.dim).init(device),
            embed_dropout: DropoutConfig::new(shape.embed_dropout).init(),
        }
    }

    /// Queries `[B, L, d]` attending to `source` `[B, S, d]` (keys and values both) ->
    /// `[B, L, d]`. `padded_keys` `[B, S]` masks padded source steps when given.
    pub fn forward(
        &self,
        query: Tensor<3>,
        source: Tensor<3>,
        padded_keys: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let mut x = self.embed(query);
        // MulT embeds x_k and x_v separately (two dropout draws), from the same source here.
        let keys = self.embed(source.clone());
        let values = self.embed(source);
        for layer in &self.layers {
            x = layer.forward(x, keys.clone(), values.clone(), padded_keys.clone());
        }
        self.layer_norm.forward(x)
    }

    /// `dropout(√d·x + PE(x))`, the positions read from the unscaled input.
    fn embed(&self, x: Tensor<3>) -> Tensor<3> {
        let [_, _, dim] = x.dims();
        let positions = sinusoidal_positions(&x);
        dropout::apply(
            &self.embed_dropout,
            x.mul_scalar((dim as f64).sqrt()) + positions,
        )
    }
}

/// One pre-LN layer:
/// ```text
/// r = x; x = LN0(x); k = LN0(k_src); v = LN0(v_src); x = r + drop(MHA(x, k, v))
/// r = x; x = r + drop(fc2(drop(relu(fc1(LN1(x))))))
/// ```
#[derive(Module, Debug)]
pub struct CrossModalLayer {
    pub self_attn: FairseqAttention,
    pub fc1: Linear,
    pub fc2: Linear,
    /// `[LN0, LN1]`. LN0 is ONE module applied to the query, the keys and the values (B.4
    /// step 4): one set of parameters, three normalisations.
    pub layer_norms: Vec<LayerNorm>,
    activation: Relu,
    relu_dropout: Dropout,
    res_dropout: Dropout,
}

impl CrossModalLayer {
    pub fn new(shape: &EncoderShape, device: &Device) -> Self {
        Self {
            self_attn: FairseqAttention::new(shape.dim, shape.heads, shape.attn_dropout, device),
            fc1: xavier_linear(shape.dim, shape.ffn, device),
            fc2: xavier_linear(shape.ffn, shape.dim, device),
            layer_norms: (0..2)
                .map(|_| LayerNormConfig::new(shape.dim).init(device))
                .collect(),
            activation: Relu::new(),
            relu_dropout: DropoutConfig::new(shape.relu_dropout).init(),
            res_dropout: DropoutConfig::new(shape.res_dropout).init(),
        }
    }

    pub fn forward(
        &self,
        x: Tensor<3>,
        keys: Tensor<3>,
        values: Tensor<3>,
        padded_keys: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let shared_norm = &self.layer_norms[0];
        let attended = self.self_attn.forward(
            shared_norm.forward(x.clone()),
            shared_norm.forward(keys),
            shared_norm.forward(values),
            padded_keys,
        );
        let x = x + dropout::apply(&self.res_dropout, attended);
        let h = self.fc1.forward(self.layer_norms[1].forward(x.clone()));
        let h = self.fc2.forward(dropout::apply(
            &self.relu_dropout,
            self.activation.forward(h),
        ));
        x + dropout::apply(&self.res_dropout, h)
    }
}
