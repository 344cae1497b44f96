//! The activations a wav2vec2 config can name (transformers' `ACT2FN`, the ones checkpoints use).

use burn::prelude::*;
use burn::tensor::activation;

use crate::kernels::gelu::gelu;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `"gelu"`: the exact, erf-based GELU.
    Gelu,
    /// `"gelu_new"`, `"gelu_pytorch_tanh"`: the tanh approximation.
    GeluTanh,
    Relu,
    /// `"silu"`, `"swish"`.
    Silu,
}

impl Activation {
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        match name {
            "gelu" => Ok(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" => Ok(Self::GeluTanh),
            "relu" => Ok(Self::Relu),
            "silu" | "swish" => Ok(Self::Silu),
            other => anyhow::bail!(
                "activation {other:?} is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)"
            ),
        }
    }

    pub fn forward<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Gelu => gelu(x),
            Self::GeluTanh => activation::gelu_approximate(x),
            Self::Relu => activation::relu(x),
            Self::Silu => activation::silu(x),
        }
    }
}
