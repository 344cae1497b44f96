//! The whole model: the encoders a fusion method needs, and the fusion method with its head.

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::batch::Batch;
use crate::encoders::{AudioEncoder, AudioEncoderSpec, TextEncoder, TextEncoderSpec};
use crate::fusion::{Fusion, FusionSpec, TokenSequences};

/// Everything needed to build the model for one fold.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub text: Option<TextEncoderSpec>,
    pub audio: Option<AudioEncoderSpec>,
    pub fusion: FusionSpec,
}

impl ModelSpec {
    pub fn init(&self, device: &Device) -> EmotionModel {
        EmotionModel {
            text: self.text.as_ref().map(|s| s.init(device)),
            audio: self.audio.as_ref().map(|s| s.init(device)),
            fusion: self.fusion.init(device),
        }
    }
}

#[derive(Module, Debug)]
pub struct EmotionModel {
    pub text: Option<TextEncoder>,
    pub audio: Option<AudioEncoder>,
    pub fusion: Fusion,
}

impl EmotionModel {
    /// Class logits `[batch, n_classes]`.
    pub fn forward(&self, batch: &Batch) -> Tensor<2> {
        if self.fusion.consumes_sequences() {
            return self.fusion.forward_sequences(self.sequences(batch));
        }
        let text = self.text.as_ref().map(|enc| {
            let ids = batch
                .text_ids
                .clone()
                .expect("batch built with text for a text model");
            enc.forward(ids, &batch.text_lengths)
        });
        let audio = self.audio.as_ref().map(|enc| {
            let feats = batch
                .audio
                .clone()
                .expect("batch built with audio for an audio model");
            enc.forward(feats, &batch.audio_frames)
        });
        self.fusion.forward(text, audio)
    }

    /// Both encoders' hidden states before pooling, for a token-level fusion (mlp_mixer). The
    /// encoders pool internally, so such a method needs their `forward_sequence` instead; this
    /// second path is the whole change, and pooled methods never take it.
    fn sequences(&self, batch: &Batch) -> TokenSequences {
        let (text, audio) = match (&self.text, &self.audio) {
            (Some(text), Some(audio)) => (text, audio),
            _ => panic!("a token-level fusion needs both encoders"),
        };
        let ids = batch.text_ids.clone().expect("batch built with text");
        let feats = batch.audio.clone().expect("batch built with audio");
        let (audio, audio_lengths) = audio.forward_sequence(feats, &batch.audio_frames);
        TokenSequences {
            text: text.forward_sequence(ids, &batch.text_lengths),
            text_lengths: batch.text_lengths.clone(),
            audio,
            audio_lengths,
        }
    }

    /// Parameter counts per top-level module, in the order `encoders.text`, `encoders.audio`,
    /// `fusion`.
    pub fn parameter_counts(&self) -> Vec<ModuleParams> {
        let mut out = Vec::new();
        if let Some(text) = &self.text {
            out.push(ModuleParams::of("encoders.text", text));
        }
        if let Some(audio) = &self.audio {
            out.push(ModuleParams::of("encoders.audio", audio));
        }
        out.push(ModuleParams::of("fusion", &self.fusion));
        out
    }
}

/// Total and trainable parameter counts of one module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleParams {
    pub module: String,
    pub total: usize,
    pub trainable: usize,
}

impl ModuleParams {
    pub fn of(name: &str, module: &impl Module) -> Self {
        let mut counter = ParamCounter::default();
        module.visit(&mut counter);
        Self {
            module: name.to_string(),
            total: counter.total,
            trainable: counter.trainable,
        }
    }
}

#[derive(Default)]
struct ParamCounter {
    total: usize,
    trainable: usize,
}

impl ModuleVisitor for ParamCounter {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let n = param.shape().num_elements();
        self.total += n;
        if param.is_require_grad() {
            self.trainable += n;
        }
    }
}
