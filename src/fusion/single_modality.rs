//! `text_only`, `audio_only` and `visual_only`: the baselines every fusion method must beat.
//!
//! Heads, chosen by `fusion.head`:
//! * `mlp` (the default): this crate's two-layer MLP, the same for both modalities.
//! * `seed000`: seed 000's uni-modal heads (docs/methods/seed-000-rsa-cfn.md#encoders). Text (`xlm_RoBertaBase`):
//!   `Lin(T, C)(LN_T(t))`. Audio (`Wav2Vec2ForSpeechClassification`):
//!   `Drop(0.1) -> Lin(A, A) -> tanh -> Drop(0.1) -> Lin(A, C)`.
//! * `linear`: seed 004's `text_*` and `speech_*` heads (docs/methods/seed-004-etri.md#models): `Lin(in, C)(Drop(p)(x))`
//!   with `p = fusion.dropout` (the seed: 0.1).

use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig, Tanh};
use burn::prelude::*;

use super::heads::{FusionHead, HeadKeys, MlpKeys, mlp_problems};
use super::mlp::MlpHead;
use super::registry::{Method, TaskShape};
use super::{FusionInputs, FusionSpec};
use crate::kernels::dropout;
use crate::modality::{Form, Modality};

/// Dropout of seed 000's wav classification head (`final_dropout` 0.1, docs/methods/seed-000-rsa-cfn.md#encoders).
pub const SEED_AUDIO_HEAD_DROPOUT: f64 = 0.1;

/// `fusion.head = "mlp"`.
#[derive(Module, Debug)]
pub struct SingleModality {
    head: MlpHead,
}

impl SingleModality {
    pub fn new(
        input_dim: usize,
        hidden: usize,
        dropout: f64,
        spec: &FusionSpec,
        device: &Device,
    ) -> Self {
        Self {
            head: MlpHead::new(input_dim, hidden, spec.n_classes, dropout, device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.head.forward(x)
    }
}

/// `text_only` with `fusion.head = "seed000"`: `Lin(T, C)(LN_T(t))`.
#[derive(Module, Debug)]
pub struct SeedTextHead {
    norm: LayerNorm,
    classifier: Linear,
}

impl SeedTextHead {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            norm: LayerNormConfig::new(spec.dim(Modality::Text)).init(device),
            classifier: LinearConfig::new(spec.dim(Modality::Text), spec.n_classes).init(device),
        }
    }

    pub fn forward(&self, text: Tensor<2>) -> Tensor<2> {
        self.classifier.forward(self.norm.forward(text))
    }
}

/// `audio_only` with `fusion.head = "seed000"`: the classification head of the common
/// `Wav2Vec2ForSpeechClassification` recipe, `Drop -> Lin(A, A) -> tanh -> Drop -> Lin(A, C)`.
#[derive(Module, Debug)]
pub struct SeedAudioHead {
    dropout: Dropout,
    dense: Linear,
    activation: Tanh,
    output: Linear,
}

impl SeedAudioHead {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            dropout: DropoutConfig::new(SEED_AUDIO_HEAD_DROPOUT).init(),
            dense: LinearConfig::new(spec.dim(Modality::Audio), spec.dim(Modality::Audio))
                .init(device),
            activation: Tanh::new(),
            output: LinearConfig::new(spec.dim(Modality::Audio), spec.n_classes).init(device),
        }
    }

    pub fn forward(&self, audio: Tensor<2>) -> Tensor<2> {
        let x = self.dense.forward(dropout::apply(&self.dropout, audio));
        self.output
            .forward(dropout::apply(&self.dropout, self.activation.forward(x)))
    }
}

/// `text_only` / `audio_only` with `fusion.head = "linear"`: `Lin(in, C)(Drop(p)(x))`.
#[derive(Module, Debug)]
pub struct LinearHead {
    dropout: Dropout,
    classifier: Linear,
}

impl LinearHead {
    pub fn new(input_dim: usize, dropout: f64, spec: &FusionSpec, device: &Device) -> Self {
        Self {
            dropout: DropoutConfig::new(dropout).init(),
            classifier: LinearConfig::new(input_dim, spec.n_classes).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.classifier.forward(dropout::apply(&self.dropout, x))
    }
}

/// One method over one pooled stream with a choice of head: its module enum (the head
/// `fusion.head` chose) and its `Method` impl. text_only and audio_only differ only in the
/// stream and in seed 000's head for it.
macro_rules! one_stream_method {
    ($(#[$doc:meta])* $method:ident, $module:ident, $seed:ident, $modality:expr, $summary:literal) => {
        #[doc = concat!("The module of `", stringify!($method), "`: the head `fusion.head` chose.")]
        #[derive(Module, Debug)]
        pub enum $module {
            Mlp(SingleModality),
            Seed000($seed),
            Linear(LinearHead),
        }

        $(#[$doc])*
        pub struct $method;

        impl Method for $method {
            const SUMMARY: &'static str = $summary;
            const NEEDS: &'static [(Modality, Form)] = &[($modality, Form::Pooled)];
            type Keys = HeadKeys;
            type Module = $module;

            fn init(keys: &HeadKeys, spec: &FusionSpec, device: &Device) -> $module {
                let dim = spec.dim($modality);
                match keys.head {
                    FusionHead::Mlp => $module::Mlp(SingleModality::new(
                        dim,
                        keys.hidden,
                        keys.dropout,
                        spec,
                        device,
                    )),
                    FusionHead::Seed000 => $module::Seed000($seed::new(spec, device)),
                    FusionHead::Linear => {
                        $module::Linear(LinearHead::new(dim, keys.dropout, spec, device))
                    }
                }
            }

            fn forward(module: &$module, x: &FusionInputs) -> Tensor<2> {
                let stream = x.pooled($modality);
                match module {
                    $module::Mlp(m) => m.forward(stream),
                    $module::Seed000(m) => m.forward(stream),
                    $module::Linear(m) => m.forward(stream),
                }
            }

            fn unread(keys: &HeadKeys) -> &'static [&'static str] {
                keys.unread()
            }

            fn problems(keys: &HeadKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
                keys.problems(true)
            }
        }
    };
}

one_stream_method!(
    /// `text_only`: the text vector alone.
    TextOnly,
    TextOnlyHead,
    SeedTextHead,
    Modality::Text,
    "The text vector alone."
);

one_stream_method!(
    /// `audio_only`: the audio vector alone.
    AudioOnly,
    AudioOnlyHead,
    SeedAudioHead,
    Modality::Audio,
    "The audio vector alone."
);

/// `visual_only`: the visual vector alone, through an MLP head.
pub struct VisualOnly;

impl Method for VisualOnly {
    const SUMMARY: &'static str =
        "The visual vector alone (an MLP head, like text_only and audio_only).";
    const NEEDS: &'static [(Modality, Form)] = &[(Modality::Visual, Form::Pooled)];
    type Keys = MlpKeys;
    type Module = SingleModality;

    fn init(keys: &MlpKeys, spec: &FusionSpec, device: &Device) -> SingleModality {
        let dim = spec.dim(Modality::Visual);
        SingleModality::new(dim, keys.hidden, keys.dropout, spec, device)
    }

    fn forward(module: &SingleModality, x: &FusionInputs) -> Tensor<2> {
        module.forward(x.pooled(Modality::Visual))
    }

    fn problems(keys: &MlpKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
        mlp_problems(keys.hidden, keys.dropout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::FusionMethod;
    use crate::fusion::blocks::test_support::*;
    use crate::fusion::blocks::{layer_norm_params, linear_params};

    #[test]
    fn seed_heads_parameter_counts_at_seed_000_dims() {
        let device = Device::default();
        let text = SeedTextHead::new(
            &spec(FusionMethod::TextOnly, SEED000_AUDIO, SEED000_TEXT),
            &device,
        );
        // LN_768 + Lin(768, 7) = 1,536 + 5,383.
        assert_eq!(
            text.num_params(),
            layer_norm_params(768) + linear_params(768, 7)
        );
        assert_eq!(text.num_params(), 6_919);
        let audio = SeedAudioHead::new(
            &spec(FusionMethod::AudioOnly, SEED000_AUDIO, SEED000_TEXT),
            &device,
        );
        // Lin(1024, 1024) + Lin(1024, 7) = 1,049,600 + 7,175.
        assert_eq!(
            audio.num_params(),
            linear_params(1024, 1024) + linear_params(1024, 7)
        );
        assert_eq!(audio.num_params(), 1_056_775);
    }

    #[test]
    fn linear_head_parameter_counts_at_seed_004_dims() {
        let device = Device::default();
        let s = spec(FusionMethod::TextOnly, 512, 768);
        // klue/bert-base pooler 768 and wav2vec2-base extract_features 512 to 7 classes.
        assert_eq!(LinearHead::new(768, 0.1, &s, &device).num_params(), 5_383);
        assert_eq!(LinearHead::new(512, 0.1, &s, &device).num_params(), 3_591);
        let x = ramp(2, 768, &device);
        let head = LinearHead::new(768, 0.1, &s, &device);
        // Not an autodiff device: dropout is the identity.
        assert_eq!(
            to_vec(head.forward(x.clone())),
            to_vec(head.classifier.forward(x))
        );
    }

    #[test]
    fn seed_text_head_is_a_linear_on_the_layer_norm() {
        let device = Device::default();
        let head = SeedTextHead::new(&spec(FusionMethod::TextOnly, 2, 5), &device);
        let x = ramp(3, 5, &device);
        let expected = head.classifier.forward(head.norm.forward(x.clone()));
        assert_eq!(to_vec(head.forward(x)), to_vec(expected));
    }

    #[test]
    fn seed_audio_head_in_evaluation_is_dense_tanh_output() {
        let device = Device::default();
        let head = SeedAudioHead::new(&spec(FusionMethod::AudioOnly, 4, 2), &device);
        let x = ramp(3, 4, &device);
        // Not an autodiff device, so dropout is the identity.
        let expected = head.output.forward(head.dense.forward(x.clone()).tanh());
        assert_eq!(head.forward(x).dims(), [3, CLASSES]);
        let got = to_vec(head.forward(ramp(3, 4, &device)));
        for (g, e) in got.iter().zip(to_vec(expected)) {
            assert!((g - e).abs() < 1e-6);
        }
    }
}
