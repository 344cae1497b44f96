//! Late fusion: one head per modality, class logits averaged. Each modality must predict on its
//! own, and the average lets the confident one win.

use burn::prelude::*;

use super::FusionSpec;
use super::mlp::MlpHead;

#[derive(Module, Debug)]
pub struct LateFusion {
    text_head: MlpHead,
    audio_head: MlpHead,
}

impl LateFusion {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        let c = &spec.config;
        Self {
            text_head: MlpHead::new(spec.text_dim, c.hidden, spec.n_classes, c.dropout, device),
            audio_head: MlpHead::new(spec.audio_dim, c.hidden, spec.n_classes, c.dropout, device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        (self.text_head.forward(text) + self.audio_head.forward(audio)).div_scalar(2.0)
    }
}
