//! Building blocks shared by seed 000's fusion heads (docs/methods/seed-000-rsa-cfn.md#heads): the normed `[audio, text]`
//! concatenation, the two residual ReLU blocks, and the test for "is dropout active".

use crate::kernels::dropout;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;

/// Dropout of the residual blocks and of rsa_cfn's classifier (`Drop(0.3)` in docs/methods/seed-000-rsa-cfn.md#heads).
pub const RESIDUAL_DROPOUT: f64 = 0.3;

/// `LN_D(cat[a, t])`: seed 000 concatenates audio FIRST (docs/methods/seed-000-rsa-cfn.md#heads: the diagrams draw text first,
/// the attention plot shows audio in dims 0..1023). LayerNorm eps 1e-5, affine (burn's default).
#[derive(Module, Debug)]
pub struct NormedConcat {
    pub norm: LayerNorm,
}

impl NormedConcat {
    pub fn new(audio_dim: usize, text_dim: usize, device: &Device) -> Self {
        Self {
            norm: LayerNormConfig::new(audio_dim + text_dim).init(device),
        }
    }

    pub fn forward(&self, audio: Tensor<2>, text: Tensor<2>) -> Tensor<2> {
        self.norm.forward(Tensor::cat(vec![audio, text], 1))
    }
}

/// `res_block` and `res_block2` of seed 000 (docs/methods/seed-000-rsa-cfn.md#heads):
/// `r1 = Drop(ReLU(Lin(d, h)(x)))`, `r2 = Drop(ReLU(Lin(d + h, d)(cat[x, r1])))`.
/// The caller adds the skip connection, because rsa adds a different tensor than it feeds in.
#[derive(Module, Debug)]
pub struct ResidualBlocks {
    pub widen: Linear,
    pub back: Linear,
    activation: Relu,
    dropout: Dropout,
}

impl ResidualBlocks {
    pub fn new(width: usize, hidden: usize, device: &Device) -> Self {
        Self {
            widen: LinearConfig::new(width, hidden).init(device),
            back: LinearConfig::new(width + hidden, width).init(device),
            activation: Relu::new(),
            dropout: DropoutConfig::new(RESIDUAL_DROPOUT).init(),
        }
    }

    /// `r2`, the residual to add to the skip, `[batch, width]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let r1 = self.block(&self.widen, x.clone());
        self.block(&self.back, Tensor::cat(vec![x, r1], 1))
    }

    /// Whether these blocks drop anything on `x`, i.e. whether the model is training.
    pub fn is_training<const D: usize>(&self, x: &Tensor<D>) -> bool {
        dropout::is_active(&self.dropout, x)
    }

    fn block(&self, linear: &Linear, x: Tensor<2>) -> Tensor<2> {
        dropout::apply(&self.dropout, self.activation.forward(linear.forward(x)))
    }
}

/// Parameters of `Linear(i, o)` with bias, for the hand-computed counts in the tests.
#[cfg(test)]
pub const fn linear_params(input: usize, output: usize) -> usize {
    input * output + output
}

/// Parameters of an affine `LayerNorm(n)`: gamma and beta.
#[cfg(test)]
pub const fn layer_norm_params(n: usize) -> usize {
    2 * n
}

#[cfg(test)]
pub mod test_support {
    use super::super::FusionSpec;
    use crate::fusion::{FusionConfig, FusionMethod};
    use crate::modality::Modality;
    use burn::prelude::*;

    /// Seed 000's widths (docs/methods/seed-000-rsa-cfn.md#encoders): wav2vec2-large 1024, RoBERTa-base 768, 7 classes.
    pub const SEED000_AUDIO: usize = 1024;
    pub const SEED000_TEXT: usize = 768;
    pub const CLASSES: usize = 7;

    pub fn spec(method: FusionMethod, audio_dim: usize, text_dim: usize) -> FusionSpec {
        FusionSpec {
            config: FusionConfig::of(method),
            dims: [(Modality::Text, text_dim), (Modality::Audio, audio_dim)].into(),
            text_tokens: 256,
            n_classes: CLASSES,
        }
    }

    /// A `[rows, cols]` tensor of distinct, deterministic values.
    pub fn ramp(rows: usize, cols: usize, device: &Device) -> Tensor<2> {
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
            .collect();
        Tensor::from_data(TensorData::new(values, [rows, cols]), device)
    }

    pub fn to_vec<const D: usize>(x: Tensor<D>) -> Vec<f32> {
        x.into_data().try_to_vec::<f32>().unwrap()
    }
}
