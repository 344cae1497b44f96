//! What seed 001's two hand-crafted-feature baselines (LF-LSTM, LF-TRANS) share: the streams
//! they take, one class head per modality, and the learned weighting of the three logits.

use burn::nn::{Linear, LinearConfig, Relu};
use burn::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::logit_fusion::WeightedLogitFusion;
use crate::modality::{Form, Modality};

/// Word vectors, audio frames and video frames, each a sequence (`[dataset.hcf]`).
pub const NEEDS: &[(Modality, Form)] = &[
    (Modality::Text, Form::Sequence),
    (Modality::Audio, Form::Sequence),
    (Modality::Visual, Form::Sequence),
];

/// How the baselines treat the batch's zero padding (`fusion.padding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaddingChoice {
    /// The seed: LF-LSTM runs every LSTM over the padding (and its text reads the output at the
    /// last padded step); LF-TRANS's text transformer attends to the padding. A row's result
    /// then depends on how long the other rows of its batch are.
    #[default]
    Seed,
    /// Each sequence ends at its own length: LF-LSTM reads every modality's final states at the
    /// real ends (PyTorch's packed sequences), LF-TRANS masks text's padding as it masks the
    /// others'. A row's result no longer depends on its batch.
    Masked,
}

/// `Linear(input, hidden) → ReLU → Linear(hidden, classes)`, the seed's `affines[m]`.
#[derive(Module, Debug)]
pub struct ClassHead {
    hidden: Linear,
    activation: Relu,
    out: Linear,
}

impl ClassHead {
    pub fn new(input: usize, hidden: usize, n_classes: usize, device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(input, hidden).init(device),
            activation: Relu::new(),
            out: LinearConfig::new(hidden, n_classes).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out
            .forward(self.activation.forward(self.hidden.forward(x)))
    }
}

/// The three heads and the weighting, in the seed's order: text, audio, visual.
#[derive(Module, Debug)]
pub struct LateHeads {
    pub text: ClassHead,
    pub audio: ClassHead,
    pub visual: ClassHead,
    pub weighted_fusion: WeightedLogitFusion,
}

impl LateHeads {
    /// `inputs` and `hidden` are per modality, text, audio, visual.
    pub fn new(inputs: [usize; 3], hidden: [usize; 3], n_classes: usize, device: &Device) -> Self {
        let head = |i: usize| ClassHead::new(inputs[i], hidden[i], n_classes, device);
        Self {
            text: head(0),
            audio: head(1),
            visual: head(2),
            weighted_fusion: WeightedLogitFusion::new(3, device),
        }
    }

    /// Class logits from each modality's summary vector.
    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>, visual: Tensor<2>) -> Tensor<2> {
        self.weighted_fusion.forward(vec![
            self.text.forward(text),
            self.audio.forward(audio),
            self.visual.forward(visual),
        ])
    }
}

/// The widths of the three streams, text, audio, visual.
pub fn stream_widths(spec: &crate::fusion::FusionSpec) -> [usize; 3] {
    [Modality::Text, Modality::Audio, Modality::Visual].map(|m| spec.dim(m))
}

/// A spec with seed 001's IEMOCAP widths (text 300, audio 144, visual 35) and 6 classes.
#[cfg(test)]
pub fn iemocap_spec(method: crate::fusion::FusionMethod) -> crate::fusion::FusionSpec {
    crate::fusion::FusionSpec {
        config: crate::fusion::FusionConfig::of(method),
        dims: [
            (Modality::Text, 300),
            (Modality::Audio, 144),
            (Modality::Visual, 35),
        ]
        .into(),
        text_tokens: 0,
        n_classes: 6,
    }
}
