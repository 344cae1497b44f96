//! Seed 001's `WrappedTransformerEncoder` (docs/methods/seed-001-mme2e.md): a learned CLS vector
//! prepended to each sequence, PyTorch's post-LN `nn.TransformerEncoderLayer` (FFN 2048 by
//! default whatever the width, ReLU, dropout 0.1) stacked, no positional encoding (the seed's line
//! is commented out), and the encoded CLS as the output. With lengths, padding is masked as keys;
//! without (LF-TRANS's text), every position attends everywhere.

use burn::module::Param;
use burn::nn::Initializer;
use burn::nn::activation::ActivationConfig;
use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig};
use burn::prelude::*;

use crate::kernels::transformer;
use crate::pooling::padding_mask;

#[derive(Config, Debug)]
pub struct WrappedTransformerConfig {
    pub d_model: usize,
    pub n_heads: usize,
    pub n_layers: usize,
    /// PyTorch 1.6's `TransformerEncoderLayer` default, which the seed never overrides.
    #[config(default = 2048)]
    pub d_ff: usize,
    #[config(default = 0.1)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct WrappedTransformer {
    /// `cls_emb = Embedding(1, dim)`: `[1, d_model]`, N(0, 1) as PyTorch's embedding.
    cls: Param<Tensor<2>>,
    encoder: TransformerEncoder,
}

impl WrappedTransformerConfig {
    pub fn init(&self, device: &Device) -> WrappedTransformer {
        let cls = Initializer::Normal {
            mean: 0.0,
            std: 1.0,
        }
        .init([1, self.d_model], device);
        let encoder =
            TransformerEncoderConfig::new(self.d_model, self.d_ff, self.n_heads, self.n_layers)
                .with_dropout(self.dropout)
                .with_norm_first(false)
                .with_activation(ActivationConfig::Relu)
                .init(device);
        WrappedTransformer { cls, encoder }
    }
}

impl WrappedTransformer {
    /// `x`: `[batch, len, d]`, zero-padded past each row's length when `lengths` is given →
    /// the encoded CLS, `[batch, d]`.
    pub fn forward(&self, x: Tensor<3>, lengths: Option<&[usize]>) -> Tensor<2> {
        let [batch, len, d] = x.dims();
        let cls = self.cls.val().reshape([1, 1, d]).expand([batch, 1, d]);
        let x = Tensor::cat(vec![cls, x], 1);
        let mask = lengths.map(|lengths| {
            // Length + 1 per row: the CLS position is never padding.
            let with_cls: Vec<usize> = lengths.iter().map(|&n| n + 1).collect();
            padding_mask(&with_cls, len + 1, &x.device())
        });
        transformer::encode(&self.encoder, x, mask)
            .narrow(1, 0, 1)
            .reshape([batch, d])
    }
}

/// The seed's split of a flat `[Σ lengths, d]` (every utterance's frames or pieces one after
/// another) into `[batch, max length, d]`, zero-padded.
pub fn split_and_pad(flat: Tensor<2>, lengths: &[usize]) -> Tensor<3> {
    let [total, d] = flat.dims();
    debug_assert_eq!(total, lengths.iter().sum::<usize>());
    let max_len = lengths.iter().copied().max().unwrap_or(0);
    let device = flat.device();
    let mut start = 0;
    let rows: Vec<Tensor<3>> = lengths
        .iter()
        .map(|&n| {
            let row = flat.clone().narrow(0, start, n);
            start += n;
            let row = if n < max_len {
                Tensor::cat(vec![row, Tensor::zeros([max_len - n, d], &device)], 0)
            } else {
                row
            };
            row.reshape([1, max_len, d])
        })
        .collect();
    Tensor::cat(rows, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ModuleParams;
    use burn::tensor::Distribution;

    #[test]
    fn the_readme_transformer_has_the_seeds_count() {
        // d 64, 4 heads, 4 layers, FFN 2048: per layer attention 4·(64·64 + 64), FFN
        // 64·2048 + 2048 + 2048·64 + 64, two LayerNorms 4·64; plus the CLS embedding's 64.
        let t = WrappedTransformerConfig::new(64, 4, 4).init(&Device::default().autodiff());
        assert_eq!(ModuleParams::of("t", &t).trainable, 1_124_608 + 64);
    }

    #[test]
    fn padding_past_a_length_does_not_change_the_cls_output() {
        let device = Device::default();
        let t = WrappedTransformerConfig::new(8, 2, 2)
            .with_d_ff(16)
            .with_dropout(0.0)
            .init(&device);
        let x = Tensor::<3>::random([1, 3, 8], Distribution::Default, &device);
        let padded = Tensor::cat(vec![x.clone(), Tensor::ones([1, 2, 8], &device) * 7.0], 1);
        let alone = t.forward(x, Some(&[3]));
        let masked = t.forward(padded.clone(), Some(&[3]));
        let unmasked = t.forward(padded, None);
        let diff = |a: Tensor<2>, b: Tensor<2>| (a - b).abs().max().into_scalar::<f32>();
        assert!(diff(alone.clone(), masked) < 1e-5);
        assert!(
            diff(alone, unmasked) > 1e-3,
            "without lengths the tail must count"
        );
    }

    #[test]
    fn split_and_pad_keeps_each_utterances_rows_in_order() {
        let device = Device::default();
        let flat =
            Tensor::<1>::from_floats([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &device).reshape([3, 2]);
        let padded = split_and_pad(flat, &[1, 2]);
        let values: Vec<f32> = padded.into_data().try_to_vec().unwrap();
        assert_eq!(values, [1.0, 2.0, 0.0, 0.0, 3.0, 4.0, 5.0, 6.0]);
    }
}
