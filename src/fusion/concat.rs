//! `concat` (seed 004, `multimodal_classification_concat.py`, docs/methods/seed-004-etri.md#models): one Linear on the
//! dropped-out `[text, audio]`.
//!
//! ```text
//! e = cat[Drop(0.1)(t), Drop(0.1)(a)]      TEXT first (`cat[pooled, wav]`, docs/methods/seed-004-etri.md#models)
//! logits = Lin(T + A, C)(e)
//! ```
//!
//! In the seed `t` is BERT's pooler output and `a` the LAST frame of wav2vec2's
//! `extract_features` (both chosen by the encoders' pooling, not here). The seed applies softmax
//! and then `MultiLabelSoftMarginLoss` to the probabilities; that belongs to the task and loss,
//! so this head returns the logits before the softmax. Its one `Dropout(0.1)` module serves both
//! inputs; dropout has no parameters, so one module here does the same.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::kernels::dropout;
use crate::modality::{Form, Modality};

use super::registry::{Method, NoKeys};
use super::{FusionInputs, FusionSpec};

/// The seed's dropout on both inputs (docs/methods/seed-004-etri.md#models).
pub const ETRI_DROPOUT: f64 = 0.1;

#[derive(Module, Debug)]
pub struct Concat {
    dropout: Dropout,
    classifier: Linear,
}

impl Concat {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            dropout: DropoutConfig::new(ETRI_DROPOUT).init(),
            classifier: LinearConfig::new(
                spec.dim(Modality::Text) + spec.dim(Modality::Audio),
                spec.n_classes,
            )
            .init(device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let joined = Tensor::cat(
            vec![
                dropout::apply(&self.dropout, text),
                dropout::apply(&self.dropout, audio),
            ],
            1,
        );
        self.classifier.forward(joined)
    }
}

/// `concat`, registered.
pub struct ConcatMethod;

impl Method for ConcatMethod {
    const SUMMARY: &'static str =
        "Seed 004 concat: `Linear(text + audio, classes)` on the dropped-out `[text, audio]`.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = NoKeys;
    type Module = Concat;

    fn init(_: &NoKeys, spec: &FusionSpec, device: &Device) -> Concat {
        Concat::new(spec, device)
    }

    fn forward(module: &Concat, x: &FusionInputs) -> Tensor<2> {
        module.forward(x.pooled(Modality::Text), x.pooled(Modality::Audio))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::FusionMethod;
    use crate::fusion::blocks::linear_params;
    use crate::fusion::blocks::test_support::*;

    /// Seed 004's widths: klue/bert-base pooler 768, wav2vec2-base `extract_features` 512.
    const SEED004_TEXT: usize = 768;
    const SEED004_AUDIO: usize = 512;

    #[test]
    fn parameter_count_at_seed_004_dims() {
        let spec = spec(FusionMethod::Concat, SEED004_AUDIO, SEED004_TEXT);
        let head = Concat::new(&spec, &Device::default());
        // Lin(1280, 7) = 1280·7 + 7 = 8,967.
        assert_eq!(head.num_params(), linear_params(768 + 512, 7));
        assert_eq!(head.num_params(), 8_967);
    }

    #[test]
    fn text_comes_first_in_the_concatenation() {
        let device = Device::default();
        let head = Concat::new(&spec(FusionMethod::Concat, 2, 3), &device);
        let (text, audio) = (ramp(4, 3, &device), ramp(4, 2, &device).add_scalar(1.0));
        let expected = head
            .classifier
            .forward(Tensor::cat(vec![text.clone(), audio.clone()], 1));
        let got = head.forward(text, audio);
        assert_eq!(got.dims(), [4, CLASSES]);
        assert_eq!(to_vec(got), to_vec(expected));
    }
}
