//! The experiment file: typed schema, layering, validation, JSON Schema.

pub mod applicable;
pub mod audio_input;
pub mod dataset_options;
pub mod docs;
pub mod encoders;
pub mod error;
pub mod experiment;
pub mod fold_override;
pub mod load;
pub mod locate;
pub mod methods;
pub mod names;
pub mod schema;
pub mod stages;
pub mod sweep;
pub mod validate;
pub mod validate_encoders;
pub mod validate_fusion;

pub use crate::fusion::{
    ConcatOrder, FusionConfig, FusionHead, FusionMethod, TfnOutputKind,
    early_fusion::EarlyFusionKeys,
    heads::{HeadKeys, MlpKeys},
    hybrid_fusion::HybridFusionKeys,
    lmf::LmfKeys,
    mlp_mixer::MlpMixerKeys,
    rsa::RsaKeys,
    rsa_cfn::RsaCfnKeys,
    subnet::SubnetKeys,
    tfn::TfnKeys,
};
pub use crate::modality;
pub use crate::modality::{Arrival, Form, Modality};
pub use error::{ConfigError, Located};
pub use experiment::*;
pub use load::{LoadedExperiment, Overrides, load_cells, load_experiment, load_resolved};
