//! Corpora, labels, folds, features and batches: everything between the files on disk and the
//! tensors the model sees.

pub mod audio;
pub mod cmu_pickle;
pub mod corpus;
pub mod error;
pub mod faces;
pub mod feature;
pub mod features;
pub mod fingerprint;
pub mod folds;
pub mod frames;
pub mod hcf;
pub mod iemocap;
pub mod kemdy19;
pub mod kemdy20;
pub mod manifest;
pub mod mel_pieces;
pub mod mosei;
pub mod parallel;
pub mod pickle;
pub mod plan;
pub mod raw;
pub mod sampler;
pub mod split_files;
pub mod synth;
pub mod synth_faces;
pub mod synth_hcf;
pub mod tokenize;

pub use corpus::{Corpus, Example, prepare_corpus};
pub use error::DataError;
pub use folds::{Fold, make_folds};
pub use raw::{DroppedRow, RawCorpus, RawUtterance};
