//! Early fusion: concatenate the pooled vectors, then a head. Seed 000 concatenates
//! `[audio, text]`; `fusion.order` makes the order a switch.
//!
//! Two heads, chosen by `fusion.head`:
//! * `mlp` (the default): this crate's two-layer MLP (`fusion.hidden`, `fusion.dropout`).
//! * `seed000`: seed 000's `early_fusion` (docs/methods/seed-000-rsa-cfn.md#heads, `base_norm` + `base_classifier`):
//!   `logits = Lin(D, C)(LN_D(cat[a, t]))`, a single Linear on the layer-normed concatenation.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::blocks::NormedConcat;
use super::heads::{FusionHead, HeadKeys};
use super::mlp::MlpHead;
use super::registry::{Method, TaskShape};
use super::{FusionInputs, FusionSpec};
use crate::modality::{Form, Modality};

/// Order of a concatenation of the audio and text vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConcatOrder {
    AudioText,
    TextAudio,
}

/// Keys of early_fusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct EarlyFusionKeys {
    #[serde(flatten)]
    pub head: HeadKeys,
    /// Order of the concatenation (`audio_text` is seed 000's order).
    pub order: ConcatOrder,
}

impl Default for EarlyFusionKeys {
    fn default() -> Self {
        Self {
            head: HeadKeys::default(),
            order: ConcatOrder::AudioText,
        }
    }
}

fn concat(order: ConcatOrder, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
    match order {
        ConcatOrder::AudioText => Tensor::cat(vec![audio, text], 1),
        ConcatOrder::TextAudio => Tensor::cat(vec![text, audio], 1),
    }
}

/// `fusion.head = "mlp"`.
#[derive(Module, Debug)]
pub struct EarlyFusion {
    head: MlpHead,
    #[module(skip)]
    order: ConcatOrder,
}

impl EarlyFusion {
    pub fn new(keys: &EarlyFusionKeys, spec: &FusionSpec, device: &Device) -> Self {
        Self {
            head: MlpHead::new(
                spec.dim(Modality::Text) + spec.dim(Modality::Audio),
                keys.head.hidden,
                spec.n_classes,
                keys.head.dropout,
                device,
            ),
            order: keys.order,
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        self.head.forward(concat(self.order, text, audio))
    }
}

/// `fusion.head = "seed000"`: seed 000's `Lin(D, C)(LN_D(cat[a, t]))`. Also the first branch of
/// hybrid_fusion, which is why the module names follow the seed's (`input.norm` = `base_norm`,
/// `classifier` = `base_classifier`).
#[derive(Module, Debug)]
pub struct SeedEarlyFusion {
    input: NormedConcat,
    classifier: Linear,
    #[module(skip)]
    order: ConcatOrder,
}

impl SeedEarlyFusion {
    pub fn new(order: ConcatOrder, spec: &FusionSpec, device: &Device) -> Self {
        Self {
            input: NormedConcat::new(spec.dim(Modality::Audio), spec.dim(Modality::Text), device),
            classifier: LinearConfig::new(
                spec.dim(Modality::Audio) + spec.dim(Modality::Text),
                spec.n_classes,
            )
            .init(device),
            order,
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        // One LayerNorm over the whole concatenation: its gamma/beta follow the order.
        let joined = self.input.norm.forward(concat(self.order, text, audio));
        self.classifier.forward(joined)
    }
}

/// early_fusion's module: the head `fusion.head` chose.
#[derive(Module, Debug)]
pub enum EarlyFusionHead {
    Mlp(EarlyFusion),
    Seed000(SeedEarlyFusion),
}

/// `early_fusion`: concatenate both pooled vectors, then one head.
pub struct EarlyFusionMethod;

impl Method for EarlyFusionMethod {
    const SUMMARY: &'static str = "Concatenate both pooled vectors, then one MLP head.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = EarlyFusionKeys;
    type Module = EarlyFusionHead;

    fn init(keys: &EarlyFusionKeys, spec: &FusionSpec, device: &Device) -> EarlyFusionHead {
        match keys.head.head {
            FusionHead::Seed000 => {
                EarlyFusionHead::Seed000(SeedEarlyFusion::new(keys.order, spec, device))
            }
            _ => EarlyFusionHead::Mlp(EarlyFusion::new(keys, spec, device)),
        }
    }

    fn forward(module: &EarlyFusionHead, x: &FusionInputs) -> Tensor<2> {
        let (text, audio) = (x.pooled(Modality::Text), x.pooled(Modality::Audio));
        match module {
            EarlyFusionHead::Mlp(m) => m.forward(text, audio),
            EarlyFusionHead::Seed000(m) => m.forward(text, audio),
        }
    }

    fn unread(keys: &EarlyFusionKeys) -> &'static [&'static str] {
        keys.head.unread()
    }

    fn problems(keys: &EarlyFusionKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
        keys.head.problems(false)
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
        let spec = spec(FusionMethod::EarlyFusion, SEED000_AUDIO, SEED000_TEXT);
        let head = SeedEarlyFusion::new(ConcatOrder::AudioText, &spec, &Device::default());
        // LN_1792 + Lin(1792, 7) = 3,584 + 12,551.
        assert_eq!(
            head.num_params(),
            layer_norm_params(1792) + linear_params(1792, 7)
        );
        assert_eq!(head.num_params(), 16_135);
    }

    #[test]
    fn mlp_head_parameter_count_is_unchanged() {
        // The default head: Lin(1792, 128) + Lin(128, 7).
        let spec = spec(FusionMethod::EarlyFusion, SEED000_AUDIO, SEED000_TEXT);
        let head = EarlyFusion::new(&EarlyFusionKeys::default(), &spec, &Device::default());
        assert_eq!(
            head.num_params(),
            linear_params(1792, 128) + linear_params(128, 7)
        );
    }

    #[test]
    fn seed_head_is_one_linear_on_the_normed_audio_first_concatenation() {
        let device = Device::default();
        let head = SeedEarlyFusion::new(
            ConcatOrder::AudioText,
            &spec(FusionMethod::EarlyFusion, 3, 2),
            &device,
        );
        let (text, audio) = (ramp(4, 2, &device), ramp(4, 3, &device).add_scalar(0.5));
        let expected = head.classifier.forward(
            head.input
                .norm
                .forward(Tensor::cat(vec![audio.clone(), text.clone()], 1)),
        );
        let got = head.forward(text, audio);
        assert_eq!(got.dims(), [4, CLASSES]);
        assert_eq!(to_vec(got), to_vec(expected));
    }
}
