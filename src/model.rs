//! The whole model: the encoders a fusion method needs, and the fusion method with its head.

use burn::prelude::*;

use crate::batch::{AudioBatch, Batch, TextBatch};
use crate::encoders::{AudioEncoder, AudioEncoderSpec, TextEncoder, TextEncoderSpec};
use crate::fusion::{Fusion, FusionSpec, TokenSequences};
pub use crate::params::ModuleParams;

/// Everything needed to build the model for one fold.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub text: Option<TextEncoderSpec>,
    pub audio: Option<AudioEncoderSpec>,
    pub fusion: FusionSpec,
}

impl ModelSpec {
    /// The model to train: pretrained weights loaded where the experiment says so. A frozen
    /// encoder is left out: its outputs come from the feature cache with each batch.
    pub fn init(&self, device: &Device) -> anyhow::Result<EmotionModel> {
        Ok(EmotionModel {
            text: self.trained_text().map(|s| s.init(device)).transpose()?,
            audio: self.trained_audio().map(|s| s.init(device)).transpose()?,
            fusion: self.fusion.init(device),
        })
    }

    /// The same modules with fresh weights and no weight file read: what a checkpoint is
    /// loaded into.
    pub fn init_skeleton(&self, device: &Device) -> anyhow::Result<EmotionModel> {
        Ok(EmotionModel {
            text: self
                .trained_text()
                .map(|s| s.init_skeleton(device))
                .transpose()?,
            audio: self
                .trained_audio()
                .map(|s| s.init_skeleton(device))
                .transpose()?,
            fusion: self.fusion.init(device),
        })
    }

    fn trained_text(&self) -> Option<&TextEncoderSpec> {
        self.text.as_ref().filter(|s| !s.is_frozen())
    }

    fn trained_audio(&self) -> Option<&AudioEncoderSpec> {
        self.audio.as_ref().filter(|s| !s.is_frozen())
    }

    /// Parameter counts of every module: the trained ones counted on `model`, a frozen
    /// encoder (absent from the model) on a skeleton built from its config alone.
    pub fn parameter_counts(
        &self,
        model: &EmotionModel,
        device: &Device,
    ) -> anyhow::Result<Vec<ModuleParams>> {
        let mut out = Vec::new();
        match (&self.text, &model.text) {
            (_, Some(text)) => out.push(ModuleParams::of("encoders.text", text)),
            (Some(spec), None) => out.push(ModuleParams::of(
                "encoders.text",
                &spec.init_skeleton(device)?,
            )),
            (None, None) => {}
        }
        match (&self.audio, &model.audio) {
            (_, Some(audio)) => out.push(ModuleParams::of("encoders.audio", audio)),
            (Some(spec), None) => out.push(ModuleParams::of(
                "encoders.audio",
                &spec.init_skeleton(device)?,
            )),
            (None, None) => {}
        }
        out.push(ModuleParams::of("fusion", &model.fusion));
        Ok(out)
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
        let text = batch.text.as_ref().map(|input| match input {
            TextBatch::Cached(cached) => cached.pooled(),
            TextBatch::Tokens { ids, lengths } => self
                .text
                .as_ref()
                .expect("a model with a trained text encoder")
                .forward(ids.clone(), lengths),
        });
        let audio = batch.audio.as_ref().map(|input| match input {
            AudioBatch::Cached(cached) => cached.pooled(),
            AudioBatch::Input(input) => self
                .audio
                .as_ref()
                .expect("a model with a trained audio encoder")
                .forward(input.clone()),
        });
        self.fusion.forward(text, audio)
    }

    /// Both encoders' hidden states before pooling, for a token-level fusion (mlp_mixer): from
    /// the encoders' `forward_sequence`, or from the cache when they are frozen.
    fn sequences(&self, batch: &Batch) -> TokenSequences {
        let (text, text_lengths) = match batch.text.as_ref().expect("batch built with text") {
            TextBatch::Cached(cached) => cached.sequence(),
            TextBatch::Tokens { ids, lengths } => (
                self.text
                    .as_ref()
                    .expect("a model with a trained text encoder")
                    .forward_sequence(ids.clone(), lengths),
                lengths.clone(),
            ),
        };
        let (audio, audio_lengths) = match batch.audio.as_ref().expect("batch built with audio") {
            AudioBatch::Cached(cached) => cached.sequence(),
            AudioBatch::Input(input) => self
                .audio
                .as_ref()
                .expect("a model with a trained audio encoder")
                .forward_sequence(input.clone()),
        };
        TokenSequences {
            text,
            text_lengths,
            audio,
            audio_lengths,
        }
    }
}
