//! fairseq's multi-head attention as MulT copies it (seed 003 B.4, "MHA"): one fused input
//! projection sliced into q, k and v, `q` scaled by `head_dim^-0.5` after its bias, a softmax,
//! attention-weight dropout, then `out_proj`. Field names are PyTorch's state_dict keys.

use crate::kernels::dropout;
use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

/// The score a masked key gets (`fusion.key_padding_mask`): f32's lowest value rather than
/// -inf, so a row whose keys were all padding averages them instead of turning into NaN.
const MASKED_SCORE: f32 = f32::MIN;

#[derive(Module, Debug)]
pub struct FairseqAttention {
    /// `[3d, d]`: the q, k and v projections stacked, in that order.
    pub in_proj_weight: Param<Tensor<2>>,
    /// `[3d]`.
    pub in_proj_bias: Param<Tensor<1>>,
    pub out_proj: Linear,
    attn_dropout: Dropout,
    #[module(skip)]
    heads: usize,
}

impl FairseqAttention {
    /// Xavier-uniform `in_proj_weight` and `out_proj.weight`, zero biases (fairseq's
    /// `reset_parameters`). `heads` must divide `dim` (checked before the model is built).
    pub fn new(dim: usize, heads: usize, attn_dropout: f64, device: &Device) -> Self {
        // torch's xavier_uniform_ on [3d, d]: fan_in = d, fan_out = 3d.
        let in_proj_weight = Initializer::XavierUniform { gain: 1.0 }.init_with(
            [3 * dim, dim],
            Some(dim),
            Some(3 * dim),
            device,
        );
        Self {
            in_proj_weight,
            in_proj_bias: Initializer::Zeros.init([3 * dim], device),
            out_proj: xavier_linear(dim, dim, device),
            attn_dropout: DropoutConfig::new(attn_dropout).init(),
            heads,
        }
    }

    /// `query [B, L, d]`, `key` and `value` `[B, S, d]` -> `[B, L, d]`. `padded_keys`
    /// `[B, S]` (true = padding) masks keys when `fusion.key_padding_mask` is on.
    pub fn forward(
        &self,
        query: Tensor<3>,
        key: Tensor<3>,
        value: Tensor<3>,
        padded_keys: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let [batch, len, dim] = query.dims();
        let head_dim = dim / self.heads;
        let scaling = (head_dim as f64).powf(-0.5);
        let q = self.project(query, 0).mul_scalar(scaling);
        let k = self.project(key, 1);
        let v = self.project(value, 2);
        let (q, k, v) = (self.split(q), self.split(k), self.split(v));
        let mut scores = q.matmul(k.swap_dims(2, 3)); // [B, H, L, S]
        if let Some(padded) = padded_keys {
            let [_, keys] = padded.dims();
            let mask = padded
                .reshape([batch, 1, 1, keys])
                .expand([batch, self.heads, len, keys]);
            scores = scores.mask_fill(mask, MASKED_SCORE);
        }
        let weights = dropout::apply(&self.attn_dropout, softmax(scores, 3));
        let context = weights.matmul(v).swap_dims(1, 2).reshape([batch, len, dim]);
        self.out_proj.forward(context)
    }

    /// `x W_i^T + b_i` with the `i`-th slice (0 = q, 1 = k, 2 = v) of the fused projection.
    fn project(&self, x: Tensor<3>, slice: usize) -> Tensor<3> {
        let [batch, steps, dim] = x.dims();
        let weight = self.in_proj_weight.val().narrow(0, slice * dim, dim);
        let bias = self.in_proj_bias.val().narrow(0, slice * dim, dim);
        let projected = x.reshape([batch * steps, dim]).matmul(weight.transpose());
        (projected + bias.unsqueeze_dim(0)).reshape([batch, steps, dim])
    }

    /// `[B, T, d]` -> `[B, H, T, d/H]`.
    fn split(&self, x: Tensor<3>) -> Tensor<4> {
        let [batch, steps, dim] = x.dims();
        x.reshape([batch, steps, self.heads, dim / self.heads])
            .swap_dims(1, 2)
    }
}

/// MulT's `Linear` helper: Xavier-uniform weight, zero bias.
pub fn xavier_linear(input: usize, output: usize, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(input, output)
        .with_initializer(Initializer::XavierUniform { gain: 1.0 })
        .init(device);
    // burn draws the bias from the same initializer; MulT zeroes it.
    linear.bias = Some(Initializer::Zeros.init([output], device));
    linear
}
