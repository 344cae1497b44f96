//! `text_only` and `audio_only`: the baselines every fusion method must beat.

use burn::prelude::*;

use super::FusionSpec;
use super::mlp::MlpHead;

#[derive(Module, Debug)]
pub struct SingleModality {
    head: MlpHead,
}

impl SingleModality {
    pub fn new(input_dim: usize, spec: &FusionSpec, device: &Device) -> Self {
        let c = &spec.config;
        Self {
            head: MlpHead::new(input_dim, c.hidden, spec.n_classes, c.dropout, device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.head.forward(x)
    }
}
