//! Fusion methods, one per file. [`FusionSpec::init`] maps the TOML name (`fusion.method`) to
//! the module; each method takes the streams it declares in `FusionMethod::needs` (pooled
//! vectors or sequences, per modality) through [`FusionInputs`] and returns class logits.

pub mod blocks;
pub mod concat;
pub mod early_fusion;
pub mod element_wise_add;
pub mod hybrid_fusion;
pub mod inputs;
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

use std::collections::BTreeMap;

use crate::config::{FusionConfig, FusionHead, FusionMethod, Modality, TfnOutputKind};
pub use concat::Concat;
pub use early_fusion::{EarlyFusion, SeedEarlyFusion};
pub use element_wise_add::ElementWiseAdd;
pub use hybrid_fusion::HybridFusion;
pub use inputs::{FusionInputs, Stream};
pub use late_fusion::{LateFusion, SeedLateFusion};
pub use lmf::Lmf;
pub use mlp_mixer::MlpMixer;
pub use residual::Residual;
pub use rsa::Rsa;
pub use rsa_cfn::RsaCfn;
pub use single_modality::{LinearHead, SeedAudioHead, SeedTextHead, SingleModality};
pub use stack::Stack;
pub use tfn::Tfn;

/// Sizes a fusion method is built for.
#[derive(Debug, Clone)]
pub struct FusionSpec {
    pub config: FusionConfig,
    /// Width of each stream the method takes (an encoder's output, or a pre-extracted
    /// feature's), by modality.
    pub dims: BTreeMap<Modality, usize>,
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
    VisualOnly(SingleModality),
    Lmf(Lmf),
    Tfn(Tfn),
}

impl FusionSpec {
    /// Width of `modality`'s stream; 0 for a stream the method does not take.
    pub fn dim(&self, modality: Modality) -> usize {
        self.dims.get(&modality).copied().unwrap_or(0)
    }

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
                Fusion::LinearTextOnly(LinearHead::new(self.dim(Modality::Text), self, device))
            }
            FusionMethod::AudioOnly if linear => {
                Fusion::LinearAudioOnly(LinearHead::new(self.dim(Modality::Audio), self, device))
            }
            FusionMethod::EarlyFusion => Fusion::EarlyFusion(EarlyFusion::new(self, device)),
            FusionMethod::LateFusion => Fusion::LateFusion(LateFusion::new(self, device)),
            FusionMethod::TextOnly => {
                Fusion::TextOnly(SingleModality::new(self.dim(Modality::Text), self, device))
            }
            FusionMethod::AudioOnly => {
                Fusion::AudioOnly(SingleModality::new(self.dim(Modality::Audio), self, device))
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
            FusionMethod::VisualOnly => Fusion::VisualOnly(SingleModality::new(
                self.dim(Modality::Visual),
                self,
                device,
            )),
            FusionMethod::Lmf => Fusion::Lmf(self.lmf_config().init(device)),
            FusionMethod::Tfn => Fusion::Tfn(self.tfn_config().init(device)),
        }
    }

    /// The subnetworks lmf and tfn share, at the streams' widths.
    fn subnets_config(&self) -> subnet::SubnetsConfig {
        let c = &self.config;
        subnet::SubnetsConfig {
            audio_in: self.dim(Modality::Audio),
            video_in: self.dim(Modality::Visual),
            text_in: self.dim(Modality::Text),
            audio_hidden: c.audio_hidden,
            video_hidden: c.visual_hidden,
            text_hidden: c.text_hidden,
            text_out: c.text_out(),
            audio_dropout: c.audio_dropout,
            video_dropout: c.visual_dropout,
            text_dropout: c.text_dropout,
        }
    }

    fn lmf_config(&self) -> lmf::LmfConfig {
        lmf::LmfConfig {
            subnets: self.subnets_config(),
            rank: self.config.rank,
            output_dim: self.n_classes,
        }
    }

    fn tfn_config(&self) -> tfn::TfnConfig {
        let c = &self.config;
        tfn::TfnConfig {
            subnets: self.subnets_config(),
            post_fusion_dropout: c.post_fusion_dropout,
            post_fusion_dim: c.post_fusion_dim,
            output: match c.tfn_output {
                TfnOutputKind::Logits => tfn::TfnOutput::Logits {
                    classes: self.n_classes,
                },
                TfnOutputKind::MosiRegression => tfn::TfnOutput::MosiRegression,
            },
        }
    }
}

impl Fusion {
    /// The method this module is (`fusion.method`).
    pub fn method(&self) -> FusionMethod {
        use FusionMethod as M;
        match self {
            Fusion::EarlyFusion(_) | Fusion::SeedEarlyFusion(_) => M::EarlyFusion,
            Fusion::LateFusion(_) | Fusion::SeedLateFusion(_) => M::LateFusion,
            Fusion::TextOnly(_) | Fusion::SeedTextOnly(_) | Fusion::LinearTextOnly(_) => {
                M::TextOnly
            }
            Fusion::AudioOnly(_) | Fusion::SeedAudioOnly(_) | Fusion::LinearAudioOnly(_) => {
                M::AudioOnly
            }
            Fusion::VisualOnly(_) => M::VisualOnly,
            Fusion::Stack(_) => M::Stack,
            Fusion::Residual(_) => M::Residual,
            Fusion::Rsa(_) => M::Rsa,
            Fusion::RsaCfn(_) => M::RsaCfn,
            Fusion::HybridFusion(_) => M::HybridFusion,
            Fusion::Concat(_) => M::Concat,
            Fusion::ElementWiseAdd(_) => M::ElementWiseAdd,
            Fusion::MlpMixer(_) => M::MlpMixer,
            Fusion::Lmf(_) => M::Lmf,
            Fusion::Tfn(_) => M::Tfn,
        }
    }

    /// Logits `[batch, n_classes]` from the streams the method declared.
    pub fn forward(&self, x: &FusionInputs) -> Tensor<2> {
        use Modality::{Audio, Text, Visual};
        let (t, a) = (|| x.pooled(Text), || x.pooled(Audio));
        match self {
            Fusion::EarlyFusion(m) => m.forward(t(), a()),
            Fusion::LateFusion(m) => m.forward(t(), a()),
            Fusion::TextOnly(m) => m.forward(t()),
            Fusion::AudioOnly(m) => m.forward(a()),
            Fusion::VisualOnly(m) => m.forward(x.pooled(Visual)),
            Fusion::Stack(m) => m.forward(t(), a()),
            Fusion::Residual(m) => m.forward(t(), a()),
            Fusion::Rsa(m) => m.forward(t(), a()),
            Fusion::RsaCfn(m) => m.forward(t(), a()),
            Fusion::HybridFusion(m) => m.forward(t(), a()),
            Fusion::Concat(m) => m.forward(t(), a()),
            Fusion::ElementWiseAdd(m) => m.forward(t(), a()),
            Fusion::SeedEarlyFusion(m) => m.forward(t(), a()),
            Fusion::SeedLateFusion(m) => m.forward(t(), a()),
            Fusion::SeedTextOnly(m) => m.forward(t()),
            Fusion::SeedAudioOnly(m) => m.forward(a()),
            Fusion::LinearTextOnly(m) => m.forward(t()),
            Fusion::LinearAudioOnly(m) => m.forward(a()),
            Fusion::MlpMixer(m) => m.forward(x.sequence(Text).0, x.sequence(Audio).0),
            Fusion::Lmf(m) => m.forward(a(), x.pooled(Visual), x.sequence(Text).0),
            Fusion::Tfn(m) => m.forward(a(), x.pooled(Visual), x.sequence(Text).0),
        }
    }

    /// The parameters of a named group inside the method, for `train.optimizer.module_lr`
    /// (`fusion.factors`: lmf's three modality factors, seed 002's first optimizer group).
    pub fn param_group(&self, name: &str) -> Option<burn::module::ParamGroup> {
        match (self, name) {
            (Fusion::Lmf(m), "factors") => Some(m.factor_group()),
            _ => None,
        }
    }

    /// Parts of the method that its paper counts on their own (see `ModuleParams::parts`).
    pub fn parameter_parts(&self) -> Vec<crate::params::ModuleParams> {
        match self {
            Fusion::Lmf(m) => vec![m.low_rank_params()],
            _ => Vec::new(),
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
}
