//! Seed 001's MME2E and MESM (docs/methods/seed-001-mme2e.md): `vgg/` the face and
//! spectrogram CNNs (dense, and MESM's text-guided sparse blocks), the flatten MLPs that bring a
//! face's or a spectrogram piece's map to the transformer's width, the
//! `WrappedTransformerEncoder` over each utterance's frames or pieces, the learned per-modality
//! weighting of the class logits, and the two registered methods built from them; and the
//! seed's two baselines on hand-crafted feature sequences, `lf_rnn` (LF-LSTM) and
//! `lf_transformer` (LF-TRANS), which share the transformer and the weighting.

pub mod branches;
pub mod dense;
pub mod flatten;
pub mod keys;
pub mod lf_heads;
pub mod lf_rnn;
pub mod lf_transformer;
pub mod logit_fusion;
pub mod sparse_cnn;
pub mod sparse_method;
pub mod transformer;
pub mod vgg;

/// A face as the CNN `V` takes it: RGB, 48 × 48 (the corpus's `[dataset.faces]` crops).
pub const FACE: [usize; 3] = [3, 48, 48];
/// A spectrogram piece as the CNN `A` takes it: 128 mel bands × 32 frames.
pub const PIECE: [usize; 3] = [1, 128, 32];

pub use flatten::{FlattenMlp, FlattenMlpConfig};
pub use logit_fusion::WeightedLogitFusion;
pub use transformer::{WrappedTransformer, WrappedTransformerConfig, split_and_pad};
