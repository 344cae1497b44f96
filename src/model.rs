//! The whole model: the encoders a fusion method needs, and the fusion method with its head.

use burn::prelude::*;

use crate::batch::{Batch, CachedBatch, StreamBatch};
use crate::config::{Form, Modality};
use crate::encoders::{AudioEncoder, AudioEncoderSpec, TextEncoder, TextEncoderSpec};
use crate::fusion::{Fusion, FusionInputs, FusionSpec, Stream};
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
            (Some(spec), None) if !spec.has_module() => {}
            (Some(spec), None) => out.push(ModuleParams::of(
                "encoders.audio",
                &spec.init_skeleton(device)?,
            )),
            (None, None) => {}
        }
        let mut fusion = ModuleParams::of("fusion", &model.fusion);
        fusion.parts = model.fusion.parameter_parts();
        out.push(fusion);
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
        let method = self.fusion.method();
        let mut inputs = FusionInputs::default();
        for (&modality, input) in &batch.streams {
            let form = method.form_of(modality).unwrap_or_else(|| {
                panic!(
                    "the batch holds {modality}, which {} does not take",
                    method.name()
                )
            });
            inputs.insert(modality, self.stream(modality, input, form));
        }
        self.fusion.forward(&inputs)
    }

    /// One modality's stream in the form the fusion takes: through its trained encoder, or
    /// as cached / pre-extracted (a sequence averaged when the method wants a vector).
    fn stream(&self, modality: Modality, input: &StreamBatch, form: Form) -> Stream {
        let sequence = form == Form::Sequence;
        match input {
            StreamBatch::Features(CachedBatch::Pooled(t)) => Stream::Pooled(t.clone()),
            StreamBatch::Features(CachedBatch::Sequence { values, lengths }) => Stream::Sequence {
                values: values.clone(),
                lengths: lengths.clone(),
            }
            .into_form(form),
            StreamBatch::Tokens { ids, lengths } => {
                let encoder = self.text.as_ref().unwrap_or_else(|| no_encoder(modality));
                if sequence {
                    Stream::Sequence {
                        values: encoder.forward_sequence(ids.clone(), lengths),
                        lengths: lengths.clone(),
                    }
                } else {
                    Stream::Pooled(encoder.forward(ids.clone(), lengths))
                }
            }
            StreamBatch::Audio(input) => {
                let encoder = self.audio.as_ref().unwrap_or_else(|| no_encoder(modality));
                if sequence {
                    let (values, lengths) = encoder.forward_sequence(input.clone());
                    Stream::Sequence { values, lengths }
                } else {
                    Stream::Pooled(encoder.forward(input.clone()))
                }
            }
        }
    }
}

fn no_encoder(modality: Modality) -> ! {
    panic!("the batch holds raw {modality} input but the model has no trained {modality} encoder")
}
