//! wav2vec 2.0 in burn, matching Hugging Face transformers' `Wav2Vec2Model` (4.57) output for
//! output, and loading its model folders (`config.json`, `preprocessor_config.json`,
//! `model.safetensors` or `pytorch_model.bin`).
//!
//! Both architectures are covered: base ("group" norm on the first conv, post-LN transformer)
//! and large-lv60 ("layer" norm after every conv, pre-LN "stable layer norm" transformer).
//! In training (an autodiff device and the model's training flag, the rule `nn::Dropout`
//! follows) SpecAugment masks spans and LayerDrop skips layers, drawing from burn's seeded RNG.
//! `tests/wav2vec2_parity.rs` compares every output with transformers' on fixtures written by
//! `scripts/dev/make_wav2vec2_parity_fixtures.py`.

mod activation;
mod attention;
mod config;
mod encoder;
mod feature_encoder;
mod feature_projection;
mod load;
mod model;
mod positional;
mod random;
mod spec_augment;
#[cfg(test)]
mod tests;

pub use activation::Activation;
pub use attention::{Attention, FrameMask};
pub use config::{FeatExtractNorm, Wav2Vec2Config, Wav2Vec2Preprocessor};
pub use encoder::{Encoder, EncoderLayer, Wav2Vec2Encoder, Wav2Vec2EncoderStableLayerNorm};
pub use feature_encoder::{ConvLayer, ConvNorm, FeatureEncoder};
pub use feature_projection::FeatureProjection;
pub use load::{hf_key, key_remapper, load_pretrained};
pub use model::{Wav2Vec2Input, Wav2Vec2Model, Wav2Vec2Output};
pub use positional::{PositionalConvEmbedding, WeightNormConv1d};
pub use spec_augment::{MaskDraws, MaskSpec};
