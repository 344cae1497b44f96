//! Fusion methods, one per file. The registry maps the TOML name (`fusion.method`) to the module;
//! each method takes the pooled text and audio vectors and returns class logits.

pub mod blocks;
pub mod concat;
pub mod early_fusion;
pub mod element_wise_add;
pub mod hybrid_fusion;
pub mod late_fusion;
pub mod lmf;
pub mod mlp;
pub mod mlp_mixer;
pub mod residual;
pub mod rsa;
pub mod rsa_cfn;
pub mod scalar_attention;
pub mod single_modality;
pub mod stack;
pub mod subnet;
pub mod tfn;
pub mod torch_lstm;

use burn::prelude::*;

use crate::config::{FusionConfig, FusionHead, FusionMethod};
pub use concat::Concat;
pub use early_fusion::{EarlyFusion, SeedEarlyFusion};
pub use element_wise_add::ElementWiseAdd;
pub use hybrid_fusion::HybridFusion;
pub use late_fusion::{LateFusion, SeedLateFusion};
pub use mlp_mixer::MlpMixer;
pub use residual::Residual;
pub use rsa::Rsa;
pub use rsa_cfn::RsaCfn;
pub use single_modality::{LinearHead, SeedAudioHead, SeedTextHead, SingleModality};
pub use stack::Stack;

/// Sizes a fusion method is built for.
#[derive(Debug, Clone)]
pub struct FusionSpec {
    pub config: FusionConfig,
    pub text_dim: usize,
    pub audio_dim: usize,
    /// Tokens in the text sequence (`encoders.text.max_len`); only mlp_mixer, which mixes
    /// across tokens, depends on it.
    pub text_tokens: usize,
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
    Stack(Stack),
    Residual(Residual),
    Rsa(Rsa),
    RsaCfn(RsaCfn),
    HybridFusion(HybridFusion),
    Concat(Concat),
    ElementWiseAdd(ElementWiseAdd),
    MlpMixer(MlpMixer),
    /// `fusion.head = "seed000"` variants of the four methods above that have an MLP head. New
    /// variants rather than a switch inside the old ones, so that the MLP heads' module paths
    /// (and so checkpoints written before the switch existed) do not change.
    SeedEarlyFusion(SeedEarlyFusion),
    SeedLateFusion(SeedLateFusion),
    SeedTextOnly(SeedTextHead),
    SeedAudioOnly(SeedAudioHead),
    /// `fusion.head = "linear"` (seed 004's text_* and speech_* heads).
    LinearTextOnly(LinearHead),
    LinearAudioOnly(LinearHead),
}

/// The encoders' outputs before pooling, for token-level fusion (mlp_mixer). The lengths are
/// the real (unpadded) tokens per row; a method that, like seed 000's mixer, mixes padding in
/// ignores them.
#[derive(Debug, Clone)]
pub struct TokenSequences {
    /// `[batch, text_tokens, text_dim]`
    pub text: Tensor<3>,
    pub text_lengths: Vec<usize>,
    /// `[batch, audio_frames, audio_dim]`
    pub audio: Tensor<3>,
    pub audio_lengths: Vec<usize>,
}

impl FusionSpec {
    pub fn init(&self, device: &Device) -> Fusion {
        let c = &self.config;
        let seed = c.head == FusionHead::Seed000;
        let linear = c.head == FusionHead::Linear;
        match c.method {
            FusionMethod::EarlyFusion if seed => {
                Fusion::SeedEarlyFusion(SeedEarlyFusion::new(self, device))
            }
            FusionMethod::LateFusion if seed => {
                Fusion::SeedLateFusion(SeedLateFusion::new(self, device))
            }
            FusionMethod::TextOnly if seed => Fusion::SeedTextOnly(SeedTextHead::new(self, device)),
            FusionMethod::AudioOnly if seed => {
                Fusion::SeedAudioOnly(SeedAudioHead::new(self, device))
            }
            FusionMethod::TextOnly if linear => {
                Fusion::LinearTextOnly(LinearHead::new(self.text_dim, self, device))
            }
            FusionMethod::AudioOnly if linear => {
                Fusion::LinearAudioOnly(LinearHead::new(self.audio_dim, self, device))
            }
            FusionMethod::EarlyFusion => Fusion::EarlyFusion(EarlyFusion::new(self, device)),
            FusionMethod::LateFusion => Fusion::LateFusion(LateFusion::new(self, device)),
            FusionMethod::TextOnly => {
                Fusion::TextOnly(SingleModality::new(self.text_dim, self, device))
            }
            FusionMethod::AudioOnly => {
                Fusion::AudioOnly(SingleModality::new(self.audio_dim, self, device))
            }
            FusionMethod::Stack => Fusion::Stack(Stack::new(self, device)),
            FusionMethod::Residual => Fusion::Residual(Residual::new(self, device)),
            FusionMethod::Rsa => Fusion::Rsa(Rsa::new(self, device)),
            FusionMethod::RsaCfn => Fusion::RsaCfn(RsaCfn::new(self, device)),
            FusionMethod::HybridFusion => Fusion::HybridFusion(HybridFusion::new(self, device)),
            FusionMethod::Concat => Fusion::Concat(Concat::new(self, device)),
            FusionMethod::ElementWiseAdd => {
                Fusion::ElementWiseAdd(ElementWiseAdd::new(self, device))
            }
            FusionMethod::MlpMixer => Fusion::MlpMixer(MlpMixer::new(self, device)),
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
            Fusion::Stack(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::Residual(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::Rsa(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::RsaCfn(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::HybridFusion(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::Concat(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::ElementWiseAdd(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::SeedEarlyFusion(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::SeedLateFusion(m) => m.forward(need(text, "text"), need(audio, "audio")),
            Fusion::SeedTextOnly(m) => m.forward(need(text, "text")),
            Fusion::SeedAudioOnly(m) => m.forward(need(audio, "audio")),
            Fusion::LinearTextOnly(m) => m.forward(need(text, "text")),
            Fusion::LinearAudioOnly(m) => m.forward(need(audio, "audio")),
            Fusion::MlpMixer(_) => {
                panic!("mlp_mixer fuses token sequences: call Fusion::forward_sequences")
            }
        }
    }

    /// rsa's mean attention map `[D, D]` over the evaluation samples since the last reset
    /// (`fusion.rsa_attention_mean`); `None` for every other method.
    pub fn attention_mean(&self) -> Option<Tensor<2>> {
        match self {
            Fusion::Rsa(m) => m.attention_mean(),
            _ => None,
        }
    }

    /// Forget rsa's accumulated attention maps; a no-op for every other method.
    pub fn reset_attention_mean(&self) {
        if let Fusion::Rsa(m) = self {
            m.reset_attention_mean();
        }
    }

    /// Whether the method consumes the encoders' sequences rather than pooled vectors.
    pub fn consumes_sequences(&self) -> bool {
        matches!(self, Fusion::MlpMixer(_))
    }

    /// Logits `[batch, n_classes]` of a token-level method (see `consumes_sequences`).
    pub fn forward_sequences(&self, sequences: TokenSequences) -> Tensor<2> {
        match self {
            Fusion::MlpMixer(m) => m.forward(sequences.text, sequences.audio),
            _ => panic!("this fusion method takes pooled vectors: call Fusion::forward"),
        }
    }
}
