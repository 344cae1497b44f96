//! `element_wise_add` (seed 004, `multimodal_classification_element_wise_add.py`, docs/methods/seed-004-etri.md#models):
//! the audio vector projected to the text width and added to the text vector.
//!
//! ```text
//! s = Lin(A, T)(Drop(0.1)(a)) + Drop(0.1)(t)
//! logits = Lin(T, C)(s)
//! ```
//!
//! The seed projects every frame of `extract_features` and then takes the last one; a Linear and
//! dropout act per frame, so projecting the last frame alone (the encoder's pooling) is the same.
//! As in `concat`, the seed's softmax before its loss is left to the task.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::kernels::dropout;
use crate::modality::{Form, Modality};

use super::concat::ETRI_DROPOUT;
use super::registry::{Method, NoKeys};
use super::{FusionInputs, FusionSpec};

#[derive(Module, Debug)]
pub struct ElementWiseAdd {
    dropout: Dropout,
    audio_to_text: Linear,
    classifier: Linear,
}

impl ElementWiseAdd {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            dropout: DropoutConfig::new(ETRI_DROPOUT).init(),
            audio_to_text: LinearConfig::new(spec.dim(Modality::Audio), spec.dim(Modality::Text))
                .init(device),
            classifier: LinearConfig::new(spec.dim(Modality::Text), spec.n_classes).init(device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let audio = self
            .audio_to_text
            .forward(dropout::apply(&self.dropout, audio));
        self.classifier
            .forward(audio + dropout::apply(&self.dropout, text))
    }
}

/// `element_wise_add`, registered.
pub struct ElementWiseAddMethod;

impl Method for ElementWiseAddMethod {
    const SUMMARY: &'static str = "Seed 004 element_wise_add: audio projected to the text width and added to the text vector, then `Linear(text, classes)`.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = NoKeys;
    type Module = ElementWiseAdd;

    fn init(_: &NoKeys, spec: &FusionSpec, device: &Device) -> ElementWiseAdd {
        ElementWiseAdd::new(spec, device)
    }

    fn forward(module: &ElementWiseAdd, x: &FusionInputs) -> Tensor<2> {
        module.forward(x.pooled(Modality::Text), x.pooled(Modality::Audio))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::FusionMethod;
    use crate::fusion::blocks::linear_params;
    use crate::fusion::blocks::test_support::*;

    #[test]
    fn parameter_count_at_seed_004_dims() {
        // text 768 (klue/bert-base pooler), audio 512 (wav2vec2-base extract_features).
        let head = ElementWiseAdd::new(
            &spec(FusionMethod::ElementWiseAdd, 512, 768),
            &Device::default(),
        );
        // Lin(512, 768) + Lin(768, 7) = 393,984 + 5,383 = 399,367.
        assert_eq!(
            head.num_params(),
            linear_params(512, 768) + linear_params(768, 7)
        );
        assert_eq!(head.num_params(), 399_367);
    }

    #[test]
    fn logits_shape_at_small_dims() {
        let device = Device::default();
        let head = ElementWiseAdd::new(&spec(FusionMethod::ElementWiseAdd, 3, 5), &device);
        assert_eq!(
            head.forward(ramp(2, 5, &device), ramp(2, 3, &device))
                .dims(),
            [2, CLASSES]
        );
    }
}
