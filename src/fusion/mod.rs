//! Fusion methods, one per file. The registry maps the TOML name (`fusion.method`) to the module;
//! each method takes the pooled text and audio vectors and returns class logits.

pub mod early_fusion;
pub mod late_fusion;
pub mod mlp;
pub mod single_modality;

use burn::prelude::*;

use crate::config::{FusionConfig, FusionMethod};
pub use early_fusion::EarlyFusion;
pub use late_fusion::LateFusion;
pub use single_modality::SingleModality;

/// Sizes a fusion method is built for.
#[derive(Debug, Clone)]
pub struct FusionSpec {
    pub config: FusionConfig,
    pub text_dim: usize,
    pub audio_dim: usize,
    pub n_classes: usize,
}

// Boxing the variants would buy nothing: one Fusion exists per model.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Fusion {
    EarlyFusion(EarlyFusion),
    LateFusion(LateFusion),
    TextOnly(SingleModality),
    AudioOnly(SingleModality),
}

impl FusionSpec {
    pub fn init(&self, device: &Device) -> Fusion {
        let c = &self.config;
        match c.method {
            FusionMethod::EarlyFusion => Fusion::EarlyFusion(EarlyFusion::new(self, device)),
            FusionMethod::LateFusion => Fusion::LateFusion(LateFusion::new(self, device)),
            FusionMethod::TextOnly => {
                Fusion::TextOnly(SingleModality::new(self.text_dim, self, device))
            }
            FusionMethod::AudioOnly => {
                Fusion::AudioOnly(SingleModality::new(self.audio_dim, self, device))
            }
        }
    }
}

impl Fusion {
    /// Logits `[batch, n_classes]`; a single-modality method ignores the other input (`None`).
    pub fn forward(&self, text: Option<Tensor<2>>, audio: Option<Tensor<2>>) -> Tensor<2> {
        let need = |x: Option<Tensor<2>>, what: &str| {
            x.unwrap_or_else(|| {
                panic!("fusion needs the {what} vector, which the model did not compute")
            })
        };
        match self {
            Fusion::EarlyFusion(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::LateFusion(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::TextOnly(m) => m.forward(need(text, "text")),
            Fusion::AudioOnly(m) => m.forward(need(audio, "audio")),
        }
    }
}
