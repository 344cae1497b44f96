//! `SelfAttention(input_size=1, hidden=h)` of seed 000 (`src/layer.py`, docs/methods/seed-000-rsa-cfn.md#heads): self-attention
//! over the SCALAR FEATURES of a vector. Every feature of `v [B, D]` is a token of width 1, so the
//! attention map is `[B, D, D]` and grows with the square of the vector width.
//!
//! ```text
//! X = v[..., None]                     [B, D, 1]
//! Q = Lin(1, h)(X), K = Lin(1, h)(X)   [B, D, h]
//! V = Lin(1, 1)(X)                     [B, D, 1]
//! P = softmax(Q K^T / sqrt(h), -1)     [B, D, D]
//! out = (P V).squeeze(-1)              [B, D]
//! ```

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

#[derive(Module, Debug)]
pub struct ScalarSelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    #[module(skip)]
    hidden: usize,
}

impl ScalarSelfAttention {
    pub fn new(hidden: usize, device: &Device) -> Self {
        Self {
            query: LinearConfig::new(1, hidden).init(device),
            key: LinearConfig::new(1, hidden).init(device),
            value: LinearConfig::new(1, 1).init(device),
            hidden,
        }
    }

    /// `(out [B, D], P [B, D, D])`; the attention map is returned because rsa reports it.
    pub fn forward(&self, v: Tensor<2>) -> (Tensor<2>, Tensor<3>) {
        let [batch, width] = v.dims();
        let tokens: Tensor<3> = v.unsqueeze_dim(2);
        let q = self.query.forward(tokens.clone());
        let k = self.key.forward(tokens.clone());
        let values = self.value.forward(tokens);
        let scores = q
            .matmul(k.swap_dims(1, 2))
            .div_scalar((self.hidden as f64).sqrt());
        let attention = softmax(scores, 2);
        let out = attention.clone().matmul(values).reshape([batch, width]);
        (out, attention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::blocks::linear_params;
    use crate::fusion::blocks::test_support::{ramp, to_vec};
    use burn::module::Param;

    #[test]
    fn parameter_count_is_two_linear_1_h_and_one_linear_1_1() {
        let device = Device::default();
        // Lin(1,96) for Q and K, Lin(1,1) for V: 4h + 2.
        assert_eq!(
            ScalarSelfAttention::new(96, &device).num_params(),
            2 * linear_params(1, 96) + linear_params(1, 1)
        );
        assert_eq!(ScalarSelfAttention::new(256, &device).num_params(), 1026);
    }

    #[test]
    fn shapes_and_rows_of_the_attention_map_sum_to_one() {
        let device = Device::default();
        let sa = ScalarSelfAttention::new(4, &device);
        let (out, p) = sa.forward(ramp(3, 5, &device));
        assert_eq!(out.dims(), [3, 5]);
        assert_eq!(p.dims(), [3, 5, 5]);
        for s in to_vec(p.sum_dim(2)) {
            assert!((s - 1.0).abs() < 1e-5, "row sum {s}");
        }
    }

    #[test]
    fn zero_queries_attend_uniformly_so_every_output_is_the_mean_value() {
        let device = Device::default();
        let mut sa = ScalarSelfAttention::new(3, &device);
        sa.query.weight = Param::from_tensor(Tensor::zeros([1, 3], &device));
        sa.query.bias = Some(Param::from_tensor(Tensor::zeros([3], &device)));
        // V = 2x + 1
        sa.value.weight = Param::from_tensor(Tensor::from_data([[2.0f32]], &device));
        sa.value.bias = Some(Param::from_tensor(Tensor::from_data([1.0f32], &device)));
        let v = Tensor::<2>::from_data([[1.0f32, 2.0, 6.0]], &device);
        let (out, _) = sa.forward(v);
        // mean of V = mean(3, 5, 13) = 7 for every feature.
        for x in to_vec(out) {
            assert!((x - 7.0).abs() < 1e-5, "{x}");
        }
    }
}
