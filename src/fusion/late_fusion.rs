//! Late fusion: one head per modality, class logits averaged. Each modality must predict on its
//! own, and the average lets the confident one win.
//!
//! Two heads, chosen by `fusion.head`:
//! * `mlp` (the default): one two-layer MLP per modality, logits averaged.
//! * `seed000`: seed 000's `late_fusion` (docs/methods/seed-000-rsa-cfn.md#heads, `wave_classifier`, `text_classifier`,
//!   `lf_norm`): `s = stack[Lin(A, C)(a), Lin(T, C)(t)]`, `logits = mean(LN_C(s), dim=1)` with ONE
//!   LayerNorm shared by both rows (the diagram draws two) and no LayerNorm on the inputs.

use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::modality::{Form, Modality};

use super::heads::{FusionHead, HeadKeys};
use super::mlp::MlpHead;
use super::registry::{Method, TaskShape, erases_regression_scale};
use super::{FusionInputs, FusionSpec};

/// `fusion.head = "mlp"`.
#[derive(Module, Debug)]
pub struct LateFusion {
    text_head: MlpHead,
    audio_head: MlpHead,
}

impl LateFusion {
    pub fn new(keys: &HeadKeys, spec: &FusionSpec, device: &Device) -> Self {
        let c = keys;
        Self {
            text_head: MlpHead::new(
                spec.dim(Modality::Text),
                c.hidden,
                spec.n_classes,
                c.dropout,
                device,
            ),
            audio_head: MlpHead::new(
                spec.dim(Modality::Audio),
                c.hidden,
                spec.n_classes,
                c.dropout,
                device,
            ),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        (self.text_head.forward(text) + self.audio_head.forward(audio)).div_scalar(2.0)
    }
}

/// `fusion.head = "seed000"`: one Linear per modality, both logit rows layer-normed by ONE shared
/// `LN_C`, then averaged. Also the second branch of hybrid_fusion.
#[derive(Module, Debug)]
pub struct SeedLateFusion {
    audio: Linear,
    text: Linear,
    norm: LayerNorm,
}

impl SeedLateFusion {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            audio: LinearConfig::new(spec.dim(Modality::Audio), spec.n_classes).init(device),
            text: LinearConfig::new(spec.dim(Modality::Text), spec.n_classes).init(device),
            norm: LayerNormConfig::new(spec.n_classes).init(device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let rows = vec![self.audio.forward(audio), self.text.forward(text)];
        mean_of_normed_rows(&self.norm, Tensor::stack(rows, 1))
    }
}

/// `mean(LN(s), dim=1)` of `s [B, K, C]`: one LayerNorm over each row of logits, then the mean
/// over the K rows. Used by the seed late fusion and by hybrid_fusion's vote (docs/methods/seed-000-rsa-cfn.md#heads).
pub fn mean_of_normed_rows(norm: &LayerNorm, stacked: Tensor<3>) -> Tensor<2> {
    let [batch, _, classes] = stacked.dims();
    norm.forward(stacked).mean_dim(1).reshape([batch, classes])
}

/// late_fusion's module: the head `fusion.head` chose.
// One exists per model: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum LateFusionHead {
    Mlp(LateFusion),
    Seed000(SeedLateFusion),
}

/// `late_fusion`: one head per modality, logits averaged.
pub struct LateFusionMethod;

impl Method for LateFusionMethod {
    const SUMMARY: &'static str = "One head per modality; the class logits are averaged.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = HeadKeys;
    type Module = LateFusionHead;

    fn init(keys: &HeadKeys, spec: &FusionSpec, device: &Device) -> LateFusionHead {
        match keys.head {
            FusionHead::Seed000 => LateFusionHead::Seed000(SeedLateFusion::new(spec, device)),
            _ => LateFusionHead::Mlp(LateFusion::new(keys, spec, device)),
        }
    }

    fn forward(module: &LateFusionHead, x: &FusionInputs) -> Tensor<2> {
        let (text, audio) = (x.pooled(Modality::Text), x.pooled(Modality::Audio));
        match module {
            LateFusionHead::Mlp(m) => m.forward(text, audio),
            LateFusionHead::Seed000(m) => m.forward(text, audio),
        }
    }

    fn unread(keys: &HeadKeys) -> &'static [&'static str] {
        keys.unread()
    }

    fn problems(keys: &HeadKeys, task: TaskShape) -> Vec<(&'static str, String)> {
        let mut out = keys.problems(false);
        if keys.head == FusionHead::Seed000 && task.regression_targets > 0 {
            out.push((
                "head",
                erases_regression_scale("seed 000's late_fusion head", "head = \"mlp\" or "),
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
    fn seed_head_parameter_count_at_seed_000_dims() {
        let spec = spec(FusionMethod::LateFusion, SEED000_AUDIO, SEED000_TEXT);
        let head = SeedLateFusion::new(&spec, &Device::default());
        // Lin(1024, 7) + Lin(768, 7) + ONE LN_7 = 7,175 + 5,383 + 14.
        assert_eq!(
            head.num_params(),
            linear_params(1024, 7) + linear_params(768, 7) + layer_norm_params(7)
        );
        assert_eq!(head.num_params(), 12_572);
    }

    #[test]
    fn mlp_head_parameter_count_is_unchanged() {
        let spec = spec(FusionMethod::LateFusion, SEED000_AUDIO, SEED000_TEXT);
        let head = LateFusion::new(&HeadKeys::default(), &spec, &Device::default());
        assert_eq!(
            head.num_params(),
            linear_params(1024, 128) + linear_params(768, 128) + 2 * linear_params(128, 7)
        );
    }

    #[test]
    fn seed_head_normalises_both_rows_with_one_layer_norm_then_averages() {
        let device = Device::default();
        let late = SeedLateFusion::new(&spec(FusionMethod::LateFusion, 4, 3), &device);
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
