//! Early fusion: concatenate the pooled vectors, then one MLP head. Seed 000 concatenates
//! `[audio, text]`; `fusion.order` makes the order a switch.

use burn::prelude::*;

use super::FusionSpec;
use super::mlp::MlpHead;
use crate::config::ConcatOrder;

#[derive(Module, Debug)]
pub struct EarlyFusion {
    head: MlpHead,
    #[module(skip)]
    order: ConcatOrder,
}

impl EarlyFusion {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        let c = &spec.config;
        Self {
            head: MlpHead::new(
                spec.text_dim + spec.audio_dim,
                c.hidden,
                spec.n_classes,
                c.dropout,
                device,
            ),
            order: c.order,
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let joined = match self.order {
            ConcatOrder::AudioText => Tensor::cat(vec![audio, text], 1),
            ConcatOrder::TextAudio => Tensor::cat(vec![text, audio], 1),
        };
        self.head.forward(joined)
    }
}
