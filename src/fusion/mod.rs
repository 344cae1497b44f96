//! Fusion methods, one per file: each file holds the method's keys (its part of `[fusion]`), its
//! module and its [`registry::Method`] implementation, and one line of [`registry!`] below
//! registers it. [`FusionConfig::init`] builds the module the config names; each method takes the
//! streams it declares (pooled vectors or sequences, per modality) through [`FusionInputs`] and
//! returns class logits.
//!
//! This layer sits below `config`: the experiment's `[fusion]` table is this module's
//! [`FusionConfig`], as a burn model's config sits beside its module.

pub mod blocks;
pub mod concat;
pub mod cross_modal;
pub mod early_fusion;
pub mod element_wise_add;
pub mod heads;
pub mod hybrid_fusion;
pub mod inputs;
pub mod late_fusion;
pub mod lmf;
pub mod mlp;
pub mod mlp_mixer;
pub mod mme2e;
pub mod registry;
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

use crate::modality::{Form, Modality};
pub use concat::Concat;
pub use early_fusion::{ConcatOrder, EarlyFusion, SeedEarlyFusion};
pub use element_wise_add::ElementWiseAdd;
pub use heads::FusionHead;
pub use hybrid_fusion::HybridFusion;
pub use inputs::{FusionInputs, Stream};
pub use late_fusion::{LateFusion, SeedLateFusion};
pub use lmf::Lmf;
pub use mlp_mixer::MlpMixer;
pub use registry::{Method, NoKeys};
pub use residual::Residual;
pub use rsa::Rsa;
pub use rsa_cfn::RsaCfn;
pub use single_modality::{LinearHead, SeedAudioHead, SeedTextHead, SingleModality};
pub use stack::Stack;
pub use tfn::{Tfn, TfnOutputKind};

// Every method, in the order `emo-run methods` lists them. A new method is a file above and a
// line here.
registry::registry! {
    EarlyFusion(early_fusion::EarlyFusionMethod),
    LateFusion(late_fusion::LateFusionMethod),
    TextOnly(single_modality::TextOnly),
    AudioOnly(single_modality::AudioOnly),
    VisualOnly(single_modality::VisualOnly),
    Stack(stack::StackMethod),
    Residual(residual::ResidualMethod),
    Rsa(rsa::RsaMethod),
    RsaCfn(rsa_cfn::RsaCfnMethod),
    HybridFusion(hybrid_fusion::HybridFusionMethod),
    Concat(concat::ConcatMethod),
    ElementWiseAdd(element_wise_add::ElementWiseAddMethod),
    MlpMixer(mlp_mixer::MlpMixerMethod),
    Lmf(lmf::LmfMethod),
    Tfn(tfn::TfnMethod),
    CrossModal(cross_modal::CrossModalMethod),
    Mme2e(mme2e::dense::Mme2eMethod),
    Mme2eSparse(mme2e::sparse_method::Mme2eSparseMethod),
    LfRnn(mme2e::lf_rnn::LfRnnMethod),
    LfTransformer(mme2e::lf_transformer::LfTransformerMethod),
}

/// What the two-stream heads take: the pooled text and audio vectors.
pub const TEXT_AUDIO: &[(Modality, Form)] = &[
    (Modality::Text, Form::Pooled),
    (Modality::Audio, Form::Pooled),
];

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

impl FusionSpec {
    /// Width of `modality`'s stream; 0 for a stream the method does not take.
    pub fn dim(&self, modality: Modality) -> usize {
        self.dims.get(&modality).copied().unwrap_or(0)
    }

    /// Refuses keys that do not fit these widths, naming the key (`fusion.<key>`).
    pub fn check_widths(&self) -> anyhow::Result<()> {
        match self.config.width_problems(self).first() {
            None => Ok(()),
            Some((key, message)) => anyhow::bail!("fusion.{key}: {message}"),
        }
    }

    /// The module `config` names, at these sizes.
    pub fn init(&self, device: &Device) -> Fusion {
        self.config.init(self, device)
    }
}
