//! Multi-head self-attention and the padding mask it takes (transformers' `Wav2Vec2Attention`
//! with the eager attention function).

use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::config::Wav2Vec2Config;
use crate::kernels::dropout;
use crate::rows::linear_over_tokens;

/// `Linear(input, output)` initialised as transformers does for the transformer's linears:
/// weight from N(0, initializer_range), bias zero.
pub fn normal_linear(input: usize, output: usize, std: f64, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(input, output)
        .with_initializer(Initializer::Normal { mean: 0.0, std })
        .init(device);
    linear.bias = Some(Initializer::Zeros.init([output], device));
    linear
}

/// Which frames are real, in the two forms the encoder needs.
#[derive(Debug, Clone)]
pub struct FrameMask {
    /// `[batch, time, 1]`: 1 on real frames, 0 on padding, to zero padded hidden states.
    pub keep: Tensor<3>,
    /// `[batch, 1, 1, time]`: 0 on real keys and the lowest finite float on padded ones, added
    /// to the attention scores as transformers' `_prepare_4d_attention_mask` does (a finite
    /// value, so a row with no real key still gets a uniform softmax rather than NaN).
    pub additive: Tensor<4>,
}

impl FrameMask {
    pub fn new(frame_lengths: &[usize], time: usize, device: &Device) -> Self {
        let batch = frame_lengths.len();
        let keep: Vec<f32> = frame_lengths
            .iter()
            .flat_map(|&len| (0..time).map(move |t| if t < len { 1.0 } else { 0.0 }))
            .collect();
        let additive: Vec<f32> = keep
            .iter()
            .map(|&k| if k > 0.0 { 0.0 } else { f32::MIN })
            .collect();
        Self {
            keep: Tensor::from_data(TensorData::new(keep, [batch, time, 1]), device),
            additive: Tensor::from_data(TensorData::new(additive, [batch, 1, 1, time]), device),
        }
    }
}

#[derive(Module, Debug)]
pub struct Attention {
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub q_proj: Linear,
    pub out_proj: Linear,
    /// Dropout on the attention probabilities (`attention_dropout`).
    pub dropout: Dropout,
    #[module(skip)]
    num_heads: usize,
}

impl Attention {
    pub fn new(config: &Wav2Vec2Config, device: &Device) -> Self {
        let (h, std) = (config.hidden_size, config.initializer_range);
        Self {
            k_proj: normal_linear(h, h, std, device),
            v_proj: normal_linear(h, h, std, device),
            q_proj: normal_linear(h, h, std, device),
            out_proj: normal_linear(h, h, std, device),
            dropout: DropoutConfig::new(config.attention_dropout).init(),
            num_heads: config.num_attention_heads,
        }
    }

    /// `[batch, time, hidden]` to the same shape.
    pub fn forward(&self, x: Tensor<3>, mask: Option<&FrameMask>) -> Tensor<3> {
        let [batch, time, hidden] = x.dims();
        let head_dim = hidden / self.num_heads;
        let heads = |linear: &Linear| {
            linear_over_tokens(linear, x.clone())
                .reshape([batch, time, self.num_heads, head_dim])
                .swap_dims(1, 2)
        };
        let (q, k, v) = (
            heads(&self.q_proj),
            heads(&self.k_proj),
            heads(&self.v_proj),
        );
        let scores = q.matmul(k.swap_dims(2, 3)) * (head_dim as f64).powf(-0.5);
        let scores = match mask {
            Some(mask) => scores + mask.additive.clone(),
            None => scores,
        };
        let probs = dropout::apply(&self.dropout, softmax(scores, 3));
        let out = probs
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, time, hidden]);
        linear_over_tokens(&self.out_proj, out)
    }
}
