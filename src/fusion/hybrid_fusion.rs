//! `hybrid_fusion` (seed 000's "Cross-Modality", the table's "Hybrid (③+④+⑦+⑩)", docs/methods/seed-000-rsa-cfn.md#heads): an
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
//! The early and late branches are seed 000's heads, the ones `early_fusion` and `late_fusion`
//! use with `fusion.head = "seed000"` (whatever `fusion.head` says here).

use burn::nn::{LayerNorm, LayerNormConfig};
use burn::prelude::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::early_fusion::ConcatOrder;
use super::early_fusion::SeedEarlyFusion;
use super::heads::positive;
use super::late_fusion::{SeedLateFusion, mean_of_normed_rows};
use super::registry::{Method, TaskShape, erases_regression_scale};
use super::residual::Residual;
use super::rsa_cfn::RsaCfn;
use super::{FusionInputs, FusionSpec};
use crate::modality::{Form, Modality};

#[derive(Module, Debug)]
pub struct HybridFusion {
    early: SeedEarlyFusion,
    late: SeedLateFusion,
    residual: Residual,
    rsa_cfn: RsaCfn,
    vote_norm: LayerNorm,
}

impl HybridFusion {
    pub fn new(keys: &HybridFusionKeys, spec: &FusionSpec, device: &Device) -> Self {
        Self {
            early: SeedEarlyFusion::new(keys.order, spec, device),
            late: SeedLateFusion::new(spec, device),
            residual: Residual::new(spec, device),
            rsa_cfn: RsaCfn::new(keys.proj_dim, spec, device),
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

/// Keys of hybrid_fusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct HybridFusionKeys {
    /// Order of the early branch's concatenation (`audio_text` is seed 000's order).
    pub order: ConcatOrder,
    /// Width of the rsa_cfn branch's projections (see rsa_cfn).
    pub proj_dim: usize,
}

impl Default for HybridFusionKeys {
    fn default() -> Self {
        Self {
            order: ConcatOrder::AudioText,
            proj_dim: 128,
        }
    }
}

/// `hybrid_fusion`, registered.
pub struct HybridFusionMethod;

impl Method for HybridFusionMethod {
    const SUMMARY: &'static str = "Seed 000 \"Hybrid\": early fusion, late fusion, residual and rsa_cfn heads (own parameters) trained end to end; their logits are layer-normed and averaged.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = HybridFusionKeys;
    type Module = HybridFusion;

    fn init(keys: &HybridFusionKeys, spec: &FusionSpec, device: &Device) -> HybridFusion {
        HybridFusion::new(keys, spec, device)
    }

    fn forward(module: &HybridFusion, x: &FusionInputs) -> Tensor<2> {
        module.forward(x.pooled(Modality::Text), x.pooled(Modality::Audio))
    }

    fn problems(keys: &HybridFusionKeys, task: TaskShape) -> Vec<(&'static str, String)> {
        let mut out: Vec<_> = positive("proj_dim", keys.proj_dim).into_iter().collect();
        if task.regression_targets > 0 {
            out.push((
                "method",
                erases_regression_scale("hybrid_fusion", "it with "),
            ));
        }
        out
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
        // Built lazily: `num_params` reads shapes, so nothing is allocated.
        let spec = spec(FusionMethod::HybridFusion, SEED000_AUDIO, SEED000_TEXT);
        let head = HybridFusion::new(&HybridFusionKeys::default(), &spec, &Device::default());
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
        let spec = spec(FusionMethod::HybridFusion, 6, 5);
        let keys = HybridFusionKeys {
            proj_dim: 3,
            ..Default::default()
        };
        let head = HybridFusion::new(&keys, &spec, &device);
        assert_eq!(
            head.forward(ramp(2, 5, &device), ramp(2, 6, &device))
                .dims(),
            [2, CLASSES]
        );
    }
}
