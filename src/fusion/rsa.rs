//! `rsa`, Residual Self-Attention (seed 000, docs/methods/seed-000-rsa-cfn.md#heads): `residual` whose blocks read a
//! self-attention over the scalar features of the normed concatenation.
//!
//! ```text
//! x = LN_D(cat[a, t]);  (ax, P) = SelfAttention(1, 256)(x)     P [B, D, D]
//! r1 = Drop(0.3)(ReLU(Lin(D, 512)(ax)))
//! r2 = Drop(0.3)(ReLU(Lin(D + 512, D)(cat[ax, r1])))
//! logits = Lin(D, C)(x + r2)          the skip adds x (the normed concat), NOT ax
//! ```
//!
//! The seed's validation loop keeps every `P` and saves their mean as `attn_weights.npy`
//! ([D, D]); keeping them all takes tens of GB at D = 1792. Here evaluation passes fold `P` into
//! a running mean ([`AttentionMean`]) instead (switch `fusion.rsa_attention_mean`).

use std::sync::{Arc, Mutex};

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::modality::{Form, Modality};

use super::blocks::{NormedConcat, ResidualBlocks};
use super::registry::Method;
use super::residual::RESIDUAL_HIDDEN;
use super::scalar_attention::ScalarSelfAttention;
use super::{FusionInputs, FusionSpec};

/// Keys of rsa.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RsaKeys {
    /// Keep a running mean of the [D, D] feature-attention map over the samples of every
    /// evaluation pass (training passes are not counted), readable through
    /// `Rsa::attention_mean`. Seed 000 saves that mean (`attn_weights.npy`) but keeps every
    /// per-sample map first (tens of GB of host RAM; docs/methods/seed-000-rsa-cfn.md#heads);
    /// the running mean gives the same array in 4·D² bytes. `false` skips the bookkeeping.
    pub rsa_attention_mean: bool,
}

impl Default for RsaKeys {
    fn default() -> Self {
        Self {
            rsa_attention_mean: true,
        }
    }
}

/// Hidden width of rsa's SelfAttention over the concatenation (docs/methods/seed-000-rsa-cfn.md#heads).
pub const RSA_ATTENTION_HIDDEN: usize = 256;

#[derive(Module, Debug)]
pub struct Rsa {
    input: NormedConcat,
    attention: ScalarSelfAttention,
    blocks: ResidualBlocks,
    classifier: Linear,
    /// Shared by the clones burn makes (`valid()`), so the mean survives the switch to
    /// evaluation and can be read from the training model too.
    #[module(skip)]
    attention_mean: Option<AttentionMean>,
}

impl Rsa {
    pub fn new(keys: &RsaKeys, spec: &FusionSpec, device: &Device) -> Self {
        let width = spec.dim(Modality::Audio) + spec.dim(Modality::Text);
        Self {
            input: NormedConcat::new(spec.dim(Modality::Audio), spec.dim(Modality::Text), device),
            attention: ScalarSelfAttention::new(RSA_ATTENTION_HIDDEN, device),
            blocks: ResidualBlocks::new(width, RESIDUAL_HIDDEN, device),
            classifier: LinearConfig::new(width, spec.n_classes).init(device),
            attention_mean: keys.rsa_attention_mean.then(AttentionMean::default),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let x = self.input.forward(audio, text);
        let (attended, attention) = self.attention.forward(x.clone());
        if let Some(mean) = &self.attention_mean
            && !self.blocks.is_training(&x)
        {
            mean.add(attention);
        }
        let residual = self.blocks.forward(attended);
        self.classifier.forward(x + residual)
    }

    /// Mean attention map `[D, D]` over every sample of the evaluation passes since the last
    /// [`Rsa::reset_attention_mean`]; `None` before any, or with `fusion.rsa_attention_mean`
    /// off. Row = query feature, column = key feature; audio features come first.
    pub fn attention_mean(&self) -> Option<Tensor<2>> {
        self.attention_mean.as_ref()?.mean()
    }

    /// Forget the accumulated maps (e.g. before each validation pass).
    pub fn reset_attention_mean(&self) {
        if let Some(mean) = &self.attention_mean {
            mean.reset();
        }
    }
}

/// A running mean of `[B, D, D]` attention maps over samples: a `[D, D]` sum and a count.
#[derive(Debug, Clone, Default)]
pub struct AttentionMean {
    state: Arc<Mutex<Option<(Tensor<2>, usize)>>>,
}

impl AttentionMean {
    pub fn add(&self, attention: Tensor<3>) {
        let [batch, rows, cols] = attention.dims();
        let batch_sum = attention.detach().sum_dim(0).reshape([rows, cols]);
        let mut state = self.state.lock().expect("attention mean lock");
        *state = Some(match state.take() {
            None => (batch_sum, batch),
            Some((sum, count)) => (sum + batch_sum, count + batch),
        });
    }

    pub fn mean(&self) -> Option<Tensor<2>> {
        let state = self.state.lock().expect("attention mean lock");
        let (sum, count) = state.as_ref()?;
        Some(sum.clone().div_scalar(*count as f64))
    }

    pub fn reset(&self) {
        *self.state.lock().expect("attention mean lock") = None;
    }
}

/// `rsa`, registered.
pub struct RsaMethod;

impl Method for RsaMethod {
    const SUMMARY: &'static str = "Seed 000 \"RSA\": `residual` whose blocks read the output of a self-attention over the scalar features of the normed concatenation; the skip still adds the normed concatenation.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = RsaKeys;
    type Module = Rsa;

    fn init(keys: &RsaKeys, spec: &FusionSpec, device: &Device) -> Rsa {
        Rsa::new(keys, spec, device)
    }

    fn forward(module: &Rsa, x: &FusionInputs) -> Tensor<2> {
        module.forward(x.pooled(Modality::Text), x.pooled(Modality::Audio))
    }

    fn attention_mean(module: &Rsa) -> Option<Tensor<2>> {
        module.attention_mean()
    }

    fn reset_attention_mean(module: &Rsa) {
        module.reset_attention_mean();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::FusionMethod;
    use crate::fusion::blocks::test_support::*;
    use crate::fusion::blocks::{layer_norm_params, linear_params};

    #[test]
    fn parameter_count_at_seed_000_dims() {
        let spec = spec(FusionMethod::Rsa, SEED000_AUDIO, SEED000_TEXT);
        let rsa = Rsa::new(&RsaKeys::default(), &spec, &Device::default());
        // residual (5,064,711) + SelfAttention(1,256) = 2·Lin(1,256) + Lin(1,1) = 1,026.
        let expected = layer_norm_params(1792)
            + (2 * linear_params(1, 256) + linear_params(1, 1))
            + linear_params(1792, 512)
            + linear_params(1792 + 512, 1792)
            + linear_params(1792, 7);
        assert_eq!(rsa.num_params(), expected);
        assert_eq!(rsa.num_params(), 5_065_737);
    }

    #[test]
    fn evaluation_accumulates_a_running_mean_of_the_attention_map() {
        let device = Device::default();
        let rsa = Rsa::new(&RsaKeys::default(), &spec(FusionMethod::Rsa, 3, 2), &device);
        assert!(rsa.attention_mean().is_none());
        let (a1, t1) = (ramp(2, 3, &device), ramp(2, 2, &device));
        let (a2, t2) = (ramp(1, 3, &device).mul_scalar(2.0), ramp(1, 2, &device));
        assert_eq!(rsa.forward(t1.clone(), a1.clone()).dims(), [2, CLASSES]);
        rsa.forward(t2.clone(), a2.clone());
        let mean = rsa.attention_mean().unwrap();
        assert_eq!(mean.dims(), [5, 5]);
        // The same mean computed from every per-sample map at once.
        let x = Tensor::cat(vec![a1, a2], 0);
        let t = Tensor::cat(vec![t1, t2], 0);
        let (_, p) = rsa.attention.forward(rsa.input.forward(x, t));
        let expected = p.mean_dim(0).reshape([5, 5]);
        for (g, e) in to_vec(mean).iter().zip(to_vec(expected)) {
            assert!((g - e).abs() < 1e-6);
        }
        rsa.reset_attention_mean();
        assert!(rsa.attention_mean().is_none());
    }

    #[test]
    fn training_passes_are_not_counted() {
        let device = Device::default().autodiff();
        let rsa = Rsa::new(&RsaKeys::default(), &spec(FusionMethod::Rsa, 3, 2), &device);
        rsa.forward(ramp(2, 2, &device), ramp(2, 3, &device));
        assert!(rsa.attention_mean().is_none());
    }

    #[test]
    fn skip_adds_the_normed_concat_not_the_attended_vector() {
        // With the residual blocks' last layer zeroed, r2 = 0 and logits = Lin(x).
        let device = Device::default();
        let mut rsa = Rsa::new(&RsaKeys::default(), &spec(FusionMethod::Rsa, 3, 2), &device);
        let zeros_w = Tensor::<2>::zeros(rsa.blocks.back.weight.dims(), &device);
        rsa.blocks.back.weight = burn::module::Param::from_tensor(zeros_w);
        rsa.blocks.back.bias = Some(burn::module::Param::from_tensor(Tensor::zeros(
            [5],
            &device,
        )));
        let (a, t) = (ramp(2, 3, &device), ramp(2, 2, &device));
        let expected = rsa
            .classifier
            .forward(rsa.input.forward(a.clone(), t.clone()));
        assert_eq!(to_vec(rsa.forward(t, a)), to_vec(expected));
    }
}
