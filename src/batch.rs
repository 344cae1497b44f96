//! Batches: a fold's inputs per modality (token ids, log-mel frames, waveforms, cached encoder
//! outputs or pre-extracted features) turned into padded device tensors. It sits above `data` and `encoders`, whose types it joins.

use std::collections::BTreeMap;

use burn::prelude::*;

use crate::config::Modality;

use crate::data::features::{FeatureStats, LogMel};
use crate::data::tokenize::{Encoded, text_arrays};
use crate::encoders::AudioInput;
use crate::encoders::cache::CachedFeature;

/// One batch on the device. Lengths stay on the host: masks and pooling weights are built from
/// them where they are needed.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Indices into the corpus' examples, in batch order.
    pub indices: Vec<usize>,
    /// The input of every stream the method takes, by modality.
    pub streams: BTreeMap<Modality, StreamBatch>,
    pub labels: Tensor<1, Int>,
    /// Vote distributions `[batch, classes]` when training on soft targets.
    pub soft: Option<Tensor<2>>,
}

/// One modality's input for a batch: what its trained encoder reads, or a stream that needs
/// no encoder (a frozen encoder's cached output, or a pre-extracted corpus feature).
#[derive(Debug, Clone)]
pub enum StreamBatch {
    /// `[batch, max_len]` right-padded token ids and the real tokens per row.
    Tokens {
        ids: Tensor<2, Int>,
        lengths: Vec<usize>,
    },
    /// Log-mel frames or waveforms for the audio encoder.
    Audio(AudioInput),
    /// Vectors or sequences that go to the fusion as they are.
    Features(CachedBatch),
}

/// Vectors or sequences for a batch.
#[derive(Debug, Clone)]
pub enum CachedBatch {
    /// One vector per utterance, `[batch, dim]`.
    Pooled(Tensor<2>),
    /// Sequences zero-padded to the longest, `[batch, time, dim]`, with their lengths.
    Sequence {
        values: Tensor<3>,
        lengths: Vec<usize>,
    },
}

/// Where a fold's stream of one modality comes from, for every example.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// Token ids from the fold's tokenizer.
    Tokens(&'a [Encoded]),
    /// Log-mel frames with the fold's normalisation.
    LogMel(&'a [LogMel], &'a FeatureStats),
    /// Raw clips, for wav2vec2.
    Waveform(&'a [Vec<f32>]),
    /// A frozen encoder's output, or the corpus' pre-extracted feature, per example.
    Features(&'a [CachedFeature]),
}

/// A fold's inputs for every example of the corpus.
pub struct FoldInputs<'a> {
    pub labels: &'a [usize],
    /// Each example's vote distribution (`multi_label = "soft_votes"`).
    pub soft: Option<&'a [Vec<f32>]>,
    pub sources: BTreeMap<Modality, Source<'a>>,
}

impl FoldInputs<'_> {
    pub fn batch(&self, indices: &[usize], device: &Device) -> Batch {
        let streams = self
            .sources
            .iter()
            .map(|(&modality, &source)| (modality, stream_batch(source, indices, device)))
            .collect();
        let labels: Vec<i64> = indices.iter().map(|&i| self.labels[i] as i64).collect();
        let soft = self.soft.map(|soft| {
            let classes = soft[indices[0]].len();
            let values: Vec<f32> = indices
                .iter()
                .flat_map(|&i| soft[i].iter().copied())
                .collect();
            Tensor::from_data(TensorData::new(values, [indices.len(), classes]), device)
        });
        Batch {
            indices: indices.to_vec(),
            streams,
            labels: Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
            soft,
        }
    }
}

fn stream_batch(source: Source<'_>, indices: &[usize], device: &Device) -> StreamBatch {
    match source {
        Source::Tokens(encoded) => {
            let (ids, lengths) = text_arrays(encoded, indices);
            StreamBatch::Tokens {
                ids: Tensor::from_data(ids, device),
                lengths,
            }
        }
        Source::LogMel(features, stats) => {
            let (data, lengths) = audio_array(features, stats, indices);
            StreamBatch::Audio(AudioInput::LogMel {
                frames: Tensor::from_data(data, device),
                lengths,
            })
        }
        Source::Waveform(clips) => {
            let (data, lengths) = waveform_array(clips, indices);
            StreamBatch::Audio(AudioInput::Waveform {
                samples: Tensor::from_data(data, device),
                lengths,
            })
        }
        Source::Features(features) => {
            StreamBatch::Features(cached_batch(features, indices, device))
        }
    }
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

/// Clips zero-padded on the right to the longest in the batch, as wav2vec2's feature extractor
/// pads them.
fn waveform_array(clips: &[Vec<f32>], indices: &[usize]) -> (TensorData, Vec<usize>) {
    let lengths: Vec<usize> = indices.iter().map(|&i| clips[i].len()).collect();
    let longest = lengths.iter().copied().max().unwrap_or(1).max(1);
    let mut data = vec![0f32; indices.len() * longest];
    for (row, &i) in indices.iter().enumerate() {
        data[row * longest..][..clips[i].len()].copy_from_slice(&clips[i]);
    }
    (TensorData::new(data, [indices.len(), longest]), lengths)
}

/// Cached outputs as one tensor: vectors stacked, or sequences zero-padded to the longest.
fn cached_batch(features: &[CachedFeature], indices: &[usize], device: &Device) -> CachedBatch {
    let first = &features[indices[0]];
    match first.shape.as_slice() {
        [dim] => {
            let values: Vec<f32> = indices
                .iter()
                .flat_map(|&i| features[i].values.iter().copied())
                .collect();
            CachedBatch::Pooled(Tensor::from_data(
                TensorData::new(values, [indices.len(), *dim]),
                device,
            ))
        }
        [_, dim] => {
            let lengths: Vec<usize> = indices.iter().map(|&i| features[i].shape[0]).collect();
            let longest = lengths.iter().copied().max().unwrap_or(1).max(1);
            let mut values = vec![0f32; indices.len() * longest * dim];
            for (row, &i) in indices.iter().enumerate() {
                values[row * longest * dim..][..features[i].values.len()]
                    .copy_from_slice(&features[i].values);
            }
            CachedBatch::Sequence {
                values: Tensor::from_data(
                    TensorData::new(values, [indices.len(), longest, *dim]),
                    device,
                ),
                lengths,
            }
        }
        shape => panic!("a cached feature of shape {shape:?}; expected [dim] or [time, dim]"),
    }
}
