//! Encoders: one per modality, each turning a padded batch into one vector per utterance.

pub mod audio;
pub mod pooling;
pub mod text;
pub mod wav2vec2;

pub use audio::{AudioEncoder, AudioEncoderSpec};
pub use text::{TextEncoder, TextEncoderSpec};
