//! The training loop: folds, epochs, evaluation, checkpoints.

pub mod checkpoint;
pub mod distill;
pub mod evaluate;
pub mod fold;
pub mod fold_setup;
pub mod objective;
pub mod optim;

/// The tiny audio-only model the checkpoint and optimizer tests train: log-mel 8 → one conv
/// of 8 channels, no transformer, no dropout anywhere, so a pass is a pure function.
#[cfg(test)]
pub(crate) fn tiny_audio_spec() -> crate::model::ModelSpec {
    use crate::config::{AudioEncoderConfig, FusionConfig, HeadKeys};
    use crate::encoders::AudioEncoderSpec;
    use crate::fusion::FusionSpec;
    let audio = AudioEncoderConfig {
        n_mels: 8,
        channels: 8,
        conv_layers: 1,
        transformer_layers: 0,
        dropout: Some(0.0),
        ..Default::default()
    };
    crate::model::ModelSpec {
        text: None,
        audio: Some(AudioEncoderSpec::for_experiment(&audio).unwrap()),
        fusion: FusionSpec {
            config: FusionConfig::AudioOnly(HeadKeys {
                hidden: 8,
                dropout: 0.0,
                ..Default::default()
            }),
            dims: [(crate::config::Modality::Audio, 8)].into(),
            text_tokens: 0,
            n_classes: 3,
        },
    }
}
