//! Batches: padded host arrays turned into device tensors.

use burn::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::features::{FeatureStats, LogMel};
use super::tokenize::Encoded;

/// One batch on the device. Lengths stay on the host: masks and pooling weights are built from
/// them where they are needed.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Indices into the corpus' examples, in batch order.
    pub indices: Vec<usize>,
    pub text_ids: Option<Tensor<2, Int>>,
    pub text_lengths: Vec<usize>,
    /// Normalised log-mel frames `[batch, frames, n_mels]`, zero-padded to the longest clip.
    pub audio: Option<Tensor<3>>,
    pub audio_frames: Vec<usize>,
    pub labels: Tensor<1, Int>,
}

/// A fold's inputs for every example of the corpus: token ids (from the fold's tokenizer) and
/// log-mel features with the fold's normalisation.
pub struct FoldInputs<'a> {
    pub labels: &'a [usize],
    pub text: Option<&'a [Encoded]>,
    pub audio: Option<(&'a [LogMel], &'a FeatureStats)>,
}

impl FoldInputs<'_> {
    pub fn batch(&self, indices: &[usize], device: &Device) -> Batch {
        let (text_ids, text_lengths) = match self.text {
            Some(encoded) => {
                let (ids, lengths) = text_arrays(encoded, indices);
                (Some(Tensor::from_data(ids, device)), lengths)
            }
            None => (None, Vec::new()),
        };
        let (audio, audio_frames) = match self.audio {
            Some((features, stats)) => {
                let (data, frames) = audio_array(features, stats, indices);
                (Some(Tensor::from_data(data, device)), frames)
            }
            None => (None, Vec::new()),
        };
        let labels: Vec<i64> = indices.iter().map(|&i| self.labels[i] as i64).collect();
        Batch {
            indices: indices.to_vec(),
            text_ids,
            text_lengths,
            audio,
            audio_frames,
            labels: Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
        }
    }
}

fn text_arrays(encoded: &[Encoded], indices: &[usize]) -> (TensorData, Vec<usize>) {
    let len = encoded[indices[0]].ids.len();
    let mut ids = Vec::with_capacity(indices.len() * len);
    let mut lengths = Vec::with_capacity(indices.len());
    for &i in indices {
        ids.extend(encoded[i].ids.iter().map(|&id| id as i64));
        lengths.push(encoded[i].mask.iter().filter(|&&m| m).count());
    }
    (TensorData::new(ids, [indices.len(), len]), lengths)
}

fn audio_array(
    features: &[LogMel],
    stats: &FeatureStats,
    indices: &[usize],
) -> (TensorData, Vec<usize>) {
    let n_mels = features[indices[0]].n_mels;
    let frames: Vec<usize> = indices.iter().map(|&i| features[i].frames).collect();
    let max_frames = frames.iter().copied().max().unwrap_or(1);
    let mut data = vec![0f32; indices.len() * max_frames * n_mels];
    for (row, &i) in indices.iter().enumerate() {
        let out = &mut data[row * max_frames * n_mels..];
        for (j, &v) in features[i].values.iter().enumerate() {
            out[j] = stats.normalise(v, j % n_mels);
        }
    }
    (
        TensorData::new(data, [indices.len(), max_frames, n_mels]),
        frames,
    )
}

/// Training order for one epoch: a seeded shuffle, so a resumed epoch sees the same batches.
pub fn shuffled(indices: &[usize], seed: u64) -> Vec<usize> {
    let mut order = indices.to_vec();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order
}
