//! `hybrid_fusion` (seed 000's "Cross-Modality", the table's "Hybrid (③+④+⑦+⑩)", spec A.5): an
//! end-to-end soft-voting ensemble of four heads, each with its OWN parameters, trained by one
//! loss on the averaged logits.
//!
//! ```text
//! o1 = early_fusion(a, t)    LN_D(cat[a, t]) -> Lin(D, C)
//! o2 = late_fusion(a, t)     mean over rows of LN_C(stack[Lin(A, C)(a), Lin(T, C)(t)])
//! o3 = residual(a, t)
//! o4 = rsa_cfn(a, t)
//! logits = mean_k LN_C(stack[o1, o2, o3, o4])[:, k]       hybrid_norm: ONE LN_C for all four
//! ```
//!
//! The early and late branches are seed 000's heads, which are single Linear layers; this
//! crate's `early_fusion` and `late_fusion` methods end in an MLP instead, so they are not reused.

use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::FusionSpec;
use super::blocks::NormedConcat;
use super::residual::Residual;
use super::rsa_cfn::RsaCfn;

#[derive(Module, Debug)]
pub struct HybridFusion {
    early: LinearEarlyFusion,
    late: SharedNormLateFusion,
    residual: Residual,
    rsa_cfn: RsaCfn,
    vote_norm: LayerNorm,
}

impl HybridFusion {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            early: LinearEarlyFusion::new(spec, device),
            late: SharedNormLateFusion::new(spec, device),
            residual: Residual::new(spec, device),
            rsa_cfn: RsaCfn::new(spec, device),
            vote_norm: LayerNormConfig::new(spec.n_classes).init(device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let votes = vec![
            self.early.forward(text.clone(), audio.clone()),
            self.late.forward(text.clone(), audio.clone()),
            self.residual.forward(text.clone(), audio.clone()),
            self.rsa_cfn.forward(text, audio),
        ];
        mean_of_normed_rows(&self.vote_norm, Tensor::stack(votes, 1))
    }
}

/// `mean(LN(s), dim=1)` of `s [B, K, C]`: one LayerNorm over each row of logits, then the mean
/// over the K rows. Used by hybrid_fusion and by its late branch (spec A.5).
fn mean_of_normed_rows(norm: &LayerNorm, stacked: Tensor<3>) -> Tensor<2> {
    let [batch, _, classes] = stacked.dims();
    norm.forward(stacked).mean_dim(1).reshape([batch, classes])
}

/// Seed 000's early_fusion: `Lin(D, C)(LN_D(cat[a, t]))` (`base_norm`, `base_classifier`).
#[derive(Module, Debug)]
pub struct LinearEarlyFusion {
    input: NormedConcat,
    classifier: Linear,
}

impl LinearEarlyFusion {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            input: NormedConcat::new(spec.audio_dim, spec.text_dim, device),
            classifier: LinearConfig::new(spec.audio_dim + spec.text_dim, spec.n_classes)
                .init(device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        self.classifier.forward(self.input.forward(audio, text))
    }
}

/// Seed 000's late_fusion: one Linear per modality (no LN on the inputs), the two logit rows
/// layer-normed by ONE shared `LN_C` (`lf_norm`; the diagram draws two), then averaged.
#[derive(Module, Debug)]
pub struct SharedNormLateFusion {
    audio: Linear,
    text: Linear,
    norm: LayerNorm,
}

impl SharedNormLateFusion {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            audio: LinearConfig::new(spec.audio_dim, spec.n_classes).init(device),
            text: LinearConfig::new(spec.text_dim, spec.n_classes).init(device),
            norm: LayerNormConfig::new(spec.n_classes).init(device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let rows = vec![self.audio.forward(audio), self.text.forward(text)];
        mean_of_normed_rows(&self.norm, Tensor::stack(rows, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FusionMethod;
    use crate::fusion::blocks::test_support::*;
    use crate::fusion::blocks::{layer_norm_params, linear_params};

    #[test]
    fn parameter_count_at_seed_000_dims() {
        // Built lazily: `num_params` reads shapes, so nothing is allocated.
        let spec = spec(FusionMethod::HybridFusion, SEED000_AUDIO, SEED000_TEXT);
        let head = HybridFusion::new(&spec, &Device::default());
        let early = layer_norm_params(1792) + linear_params(1792, 7); // 16,135
        let late = linear_params(1024, 7) + linear_params(768, 7) + layer_norm_params(7); // 12,572
        let residual = layer_norm_params(1792)
            + linear_params(1792, 512)
            + linear_params(2304, 1792)
            + linear_params(1792, 7); // 5,064,711
        let n = 129 * 129;
        let rsa_cfn = linear_params(1024, 128)
            + linear_params(768, 128)
            + 2 * (2 * linear_params(1, 96) + linear_params(1, 1))
            + 2 * layer_norm_params(128)
            + linear_params(n, 1024)
            + linear_params(n + 1024, n)
            + linear_params(n, 1024)
            + linear_params(1024, 7); // 328,300,813
        let hybrid_norm = layer_norm_params(7); // 14
        assert_eq!(
            head.num_params(),
            early + late + residual + rsa_cfn + hybrid_norm
        );
        assert_eq!(head.num_params(), 333_394_245);
    }

    #[test]
    fn logits_shape_at_small_dims() {
        let device = Device::default();
        let mut spec = spec(FusionMethod::HybridFusion, 6, 5);
        spec.config.proj_dim = 3;
        let head = HybridFusion::new(&spec, &device);
        assert_eq!(
            head.forward(ramp(2, 5, &device), ramp(2, 6, &device))
                .dims(),
            [2, CLASSES]
        );
    }

    #[test]
    fn late_branch_normalises_both_rows_with_one_layer_norm_then_averages() {
        let device = Device::default();
        let late = SharedNormLateFusion::new(&spec(FusionMethod::HybridFusion, 4, 3), &device);
        let (audio, text) = (ramp(2, 4, &device), ramp(2, 3, &device));
        let a = late.norm.forward(late.audio.forward(audio.clone()));
        let t = late.norm.forward(late.text.forward(text.clone()));
        let expected = to_vec((a + t).div_scalar(2.0));
        let got = to_vec(late.forward(text, audio));
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6);
        }
    }
}
