//! The post-LayerNorm transformer layer of BERT, shared by RoBERTa, XLM-R and ELECTRA, plus the
//! attention arithmetic and activations ALBERT reuses. Field names follow Hugging Face's module
//! names so that the key remapping (weights.rs) stays a handful of renames.

use anyhow::bail;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{gelu_approximate, relu, softmax};

use crate::kernels::gelu::gelu;

use super::config::HfTextConfig;
use crate::kernels::dropout;
use crate::rows::linear_over_tokens;

/// `hidden_act` of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// "gelu": the exact, erf-based GELU.
    Gelu,
    /// "gelu_new" / "gelu_pytorch_tanh": the tanh approximation (same formula, two names).
    GeluTanh,
    Relu,
}

impl Activation {
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "gelu" => Self::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" => Self::GeluTanh,
            "relu" => Self::Relu,
            other => bail!(
                "hidden_act {other:?} is not supported (expected gelu, gelu_new, gelu_pytorch_tanh or relu)"
            ),
        })
    }

    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Gelu => gelu(x),
            Self::GeluTanh => gelu_approximate(x),
            Self::Relu => relu(x),
        }
    }
}

/// Hugging Face adds `torch.finfo(float32).min` to the scores of padded keys; the same here, so
/// that a padded key gets exactly zero weight after the softmax.
const MASKED_SCORE: f32 = f32::MIN;

/// Additive attention bias `[batch, 1, 1, len]` from a `1 = real token` mask: 0 where a key may
/// be attended to, a large negative where it is padding.
pub fn attention_bias(attention_mask: Tensor<2, Int>) -> Tensor<4> {
    let [batch, len] = attention_mask.dims();
    let padded = attention_mask.equal_elem(0);
    // mask_fill rather than `(1 - mask) * MIN`: a multiplication would turn 0 * -inf into NaN
    // on a half-precision backend where MIN rounds to -inf.
    Tensor::<2>::zeros([batch, len], &padded.device())
        .mask_fill(padded, MASKED_SCORE)
        .reshape([batch, 1, 1, len])
}

/// Scaled dot-product attention over `heads` heads. `q`, `k`, `v`: `[batch, len, hidden]`
/// after their projections; returns the context `[batch, len, hidden]` before the output dense.
pub fn attend(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    bias: Tensor<4>,
    heads: usize,
    dropout: &Dropout,
) -> Tensor<3> {
    let [batch, len, hidden] = q.dims();
    let head_dim = hidden / heads;
    let split = |x: Tensor<3>| x.reshape([batch, len, heads, head_dim]).swap_dims(1, 2);
    let (q, k, v) = (split(q), split(k), split(v));
    let scores = q.matmul(k.swap_dims(2, 3)) / (head_dim as f64).sqrt() + bias;
    let probs = dropout::apply(dropout, softmax(scores, 3));
    probs
        .matmul(v)
        .swap_dims(1, 2)
        .reshape([batch, len, hidden])
}

pub fn linear(d_in: usize, d_out: usize, device: &Device) -> Linear {
    LinearConfig::new(d_in, d_out).init(device)
}

pub fn layer_norm(width: usize, config: &HfTextConfig, device: &Device) -> LayerNorm {
    LayerNormConfig::new(width)
        .with_epsilon(config.layer_norm_eps)
        .init(device)
}

/// HF `BertSelfAttention`: the query, key and value projections.
#[derive(Module, Debug)]
pub struct SelfAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    dropout: Dropout,
    #[module(skip)]
    heads: usize,
}

impl SelfAttention {
    fn new(config: &HfTextConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            query: linear(h, h, device),
            key: linear(h, h, device),
            value: linear(h, h, device),
            dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            heads: config.num_attention_heads,
        }
    }

    fn forward(&self, x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        attend(
            linear_over_tokens(&self.query, x.clone()),
            linear_over_tokens(&self.key, x.clone()),
            linear_over_tokens(&self.value, x),
            bias,
            self.heads,
            &self.dropout,
        )
    }
}

/// HF `BertSelfOutput` / `BertOutput`: dense, dropout, then LayerNorm over the residual sum.
#[derive(Module, Debug)]
pub struct ResidualOutput {
    dense: Linear,
    layer_norm: LayerNorm,
    dropout: Dropout,
}

impl ResidualOutput {
    fn new(d_in: usize, config: &HfTextConfig, device: &Device) -> Self {
        Self {
            dense: linear(d_in, config.hidden_size, device),
            layer_norm: layer_norm(config.hidden_size, config, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        }
    }

    fn forward(&self, x: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        let x = dropout::apply(&self.dropout, linear_over_tokens(&self.dense, x));
        self.layer_norm.forward(x + residual)
    }
}

/// HF `BertAttention`. The field `self_attention` is Hugging Face's `self` (a Rust keyword).
#[derive(Module, Debug)]
pub struct Attention {
    self_attention: SelfAttention,
    output: ResidualOutput,
}

/// HF `BertIntermediate`: dense then the activation.
#[derive(Module, Debug)]
pub struct Intermediate {
    dense: Linear,
    #[module(skip)]
    activation: Activation,
}

/// HF `BertLayer`, post-LN.
#[derive(Module, Debug)]
pub struct TransformerLayer {
    attention: Attention,
    intermediate: Intermediate,
    output: ResidualOutput,
}

impl TransformerLayer {
    pub fn new(config: &HfTextConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            attention: Attention {
                self_attention: SelfAttention::new(config, device),
                output: ResidualOutput::new(h, config, device),
            },
            intermediate: Intermediate {
                dense: linear(h, config.intermediate_size, device),
                activation: config.activation(),
            },
            output: ResidualOutput::new(config.intermediate_size, config, device),
        }
    }

    pub fn forward(&self, x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let context = self.attention.self_attention.forward(x.clone(), bias);
        let attended = self.attention.output.forward(context, x);
        let inner = linear_over_tokens(&self.intermediate.dense, attended.clone());
        let inner = self.intermediate.activation.forward(inner);
        self.output.forward(inner, attended)
    }
}

/// HF `BertEncoder`: the stack of layers.
#[derive(Module, Debug)]
pub struct Encoder {
    layer: Vec<TransformerLayer>,
}

impl Encoder {
    pub fn new(config: &HfTextConfig, device: &Device) -> Self {
        Self {
            layer: (0..config.num_hidden_layers)
                .map(|_| TransformerLayer::new(config, device))
                .collect(),
        }
    }

    /// Appends each layer's output to `hidden_states`, whose last entry is the layer input.
    pub fn forward(&self, hidden_states: &mut Vec<Tensor<3>>, bias: Tensor<4>) {
        for layer in &self.layer {
            let x = hidden_states.last().expect("the embeddings output").clone();
            hidden_states.push(layer.forward(x, bias.clone()));
        }
    }
}

/// HF `BertPooler`: `tanh(dense(h[:, 0]))`.
#[derive(Module, Debug)]
pub struct Pooler {
    dense: Linear,
}

impl Pooler {
    pub fn new(config: &HfTextConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            dense: linear(h, h, device),
        }
    }

    pub fn forward(&self, last_hidden: Tensor<3>) -> Tensor<2> {
        first_token(&self.dense, last_hidden)
    }
}

/// `tanh(dense(h[:, 0]))`, the pooler of BERT and ALBERT alike.
pub fn first_token(dense: &Linear, last_hidden: Tensor<3>) -> Tensor<2> {
    let [batch, _, hidden] = last_hidden.dims();
    let cls = last_hidden.narrow(1, 0, 1).reshape([batch, hidden]);
    dense.forward(cls).tanh()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_ignores_padded_keys() {
        let device = Device::default();
        let mask = Tensor::<2, Int>::from_data([[1, 1, 0]], &device);
        // The padded key holds a huge value: any weight on it would show in the output.
        let v = Tensor::<3>::from_data([[[1.0, 0.0], [0.0, 1.0], [1e6, 1e6]]], &device);
        let q = Tensor::<3>::zeros([1, 3, 2], &device);
        let out = attend(
            q.clone(),
            q,
            v,
            attention_bias(mask),
            1,
            &DropoutConfig::new(0.0).init(),
        );
        let out: Vec<f32> = out.into_data().try_to_vec().unwrap();
        // Equal scores, so each query averages the two real values.
        for pair in out.chunks(2) {
            assert!((pair[0] - 0.5).abs() < 1e-6 && (pair[1] - 0.5).abs() < 1e-6);
        }
    }

    #[test]
    fn activations_match_their_formulas() {
        let device = Device::default();
        let x = || Tensor::<1>::from_data([-1.0f32, 0.5, 2.0], &device);
        let erf: Vec<f32> = Activation::Gelu
            .forward(x())
            .into_data()
            .try_to_vec()
            .unwrap();
        let tanh: Vec<f32> = Activation::GeluTanh
            .forward(x())
            .into_data()
            .try_to_vec()
            .unwrap();
        // torch.nn.functional.gelu(x) and gelu(x, approximate="tanh") at -1, 0.5, 2.
        for (got, want) in erf.iter().zip([-0.15865529, 0.3457312, 1.95450]) {
            assert!((got - want).abs() < 1e-6, "{got} {want}");
        }
        for (got, want) in tanh.iter().zip([-0.158808, 0.345714, 1.9545977]) {
            assert!((got - want).abs() < 1e-6, "{got} {want}");
        }
        assert_eq!(
            Activation::parse("gelu_pytorch_tanh").unwrap(),
            Activation::GeluTanh
        );
    }
}
