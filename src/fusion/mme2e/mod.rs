//! Seed 001's networks after the CNNs (docs/methods/seed-001-mme2e.md): the flatten MLPs that
//! bring a face's or a spectrogram piece's map to the transformer's width, the
//! `WrappedTransformerEncoder` over each utterance's frames or pieces, and the learned per-modality
//! weighting of the class logits. The CNNs themselves are `encoders::vgg`.

pub mod flatten;
pub mod logit_fusion;
pub mod transformer;

pub use flatten::{FlattenMlp, FlattenMlpConfig};
pub use logit_fusion::WeightedLogitFusion;
pub use transformer::{WrappedTransformer, WrappedTransformerConfig, split_and_pad};
