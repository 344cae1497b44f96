//! Encoders: one per modality, each turning a padded batch into hidden states and one vector per
//! utterance. The small random-init encoders (`small_text`, `logmel_conv`) and the Hugging Face
//! architectures (`hf`, `wav2vec2`) sit behind one text and one audio type; frozen encoders'
//! outputs go through the feature cache (`cache`, `frozen`).

pub mod audio;
pub mod cache;
pub mod folder;
pub mod frozen;
pub mod hf;
pub mod logmel_conv;
pub use crate::pooling;
pub mod small_text;
pub mod text;
pub mod training;
pub mod wav2vec2;

pub use audio::{AudioEncoder, AudioEncoderSpec, AudioInput};
pub use text::{TextEncoder, TextEncoderSpec};
