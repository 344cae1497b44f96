//! Seed 001's audio input (docs/methods/seed-001-mme2e.md): torchaudio's `MelSpectrogram` with
//! its defaults, raw power (no log, no normalisation), cut into pieces 32 frames wide.
//!
//! At 16 kHz: n_fft = window = 400 samples (25 ms), hop 200 (12.5 ms), 128 HTK mel bands without
//! filter normalisation from 0 Hz to Nyquist, a periodic Hann window, and `center=True`: the clip
//! is reflect-padded by n_fft / 2 on both sides, so a clip of n samples has 1 + n / hop frames.
//! At 128 bands over 201 frequency bins the lowest bands hold no bin and stay 0, as in
//! torchaudio (which warns about it). Each piece is `[128, 32]`: 32 × 12.5 ms = 0.4 s; the last
//! is zero-padded on the right.

use std::sync::Arc;

use super::feature::CachedFeature;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use super::features::{hann, mel_filters, push_mel_energies};

/// The seed's mel bands and piece width.
pub const SEED_MELS: usize = 128;
pub const PIECE_FRAMES: usize = 32;
/// Values per piece: `SEED_MELS` bands × `PIECE_FRAMES` frames.
pub const PIECE_VALUES: usize = SEED_MELS * PIECE_FRAMES;

/// A power mel spectrogram, mel-major `[n_mels, frames]` as torchaudio returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct MelSpectrogram {
    pub n_mels: usize,
    pub frames: usize,
    pub values: Vec<f32>,
}

/// A clip too short for the reflect padding (torchaudio refuses it too).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{samples} samples is too short for the mel spectrogram: reflect padding by {pad} needs at least {needed}"
)]
pub struct ClipTooShort {
    pub samples: usize,
    pub pad: usize,
    pub needed: usize,
}

/// Reusable plan, window and filterbank.
pub struct MelSpectrogramExtractor {
    n_fft: usize,
    hop: usize,
    n_mels: usize,
    window: Vec<f32>,
    filters: Vec<Vec<(usize, f32)>>,
    fft: Arc<dyn Fft<f32>>,
}

impl MelSpectrogramExtractor {
    /// The seed's setting at `sample_rate`: window `sr / 16000 · 400` samples, n_fft the same,
    /// hop half of it, 128 bands.
    pub fn seed001(sample_rate: u32) -> Self {
        let win = (sample_rate as f64 / 16_000.0 * 400.0) as usize;
        Self::new(sample_rate, win, win / 2, SEED_MELS)
    }

    pub fn new(sample_rate: u32, n_fft: usize, hop: usize, n_mels: usize) -> Self {
        Self {
            n_fft,
            hop,
            n_mels,
            window: hann(n_fft),
            filters: mel_filters(sample_rate, n_fft, n_mels),
            fft: FftPlanner::new().plan_fft_forward(n_fft),
        }
    }

    /// Frames of a clip of `samples` samples (`center=True`).
    pub fn frames_for(&self, samples: usize) -> usize {
        1 + samples / self.hop
    }

    pub fn compute(&self, samples: &[f32]) -> Result<MelSpectrogram, ClipTooShort> {
        let pad = self.n_fft / 2;
        if samples.len() <= pad {
            return Err(ClipTooShort {
                samples: samples.len(),
                pad,
                needed: pad + 1,
            });
        }
        let padded = reflect_pad(samples, pad);
        let frames = self.frames_for(samples.len());
        let mut by_frame = Vec::with_capacity(frames * self.n_mels);
        let mut buffer = vec![Complex32::default(); self.n_fft];
        let mut power = vec![0f32; self.n_fft / 2 + 1];
        for f in 0..frames {
            let start = f * self.hop;
            for ((b, &s), &w) in buffer
                .iter_mut()
                .zip(&padded[start..start + self.n_fft])
                .zip(&self.window)
            {
                *b = Complex32::new(s * w, 0.0);
            }
            push_mel_energies(
                self.fft.as_ref(),
                &mut buffer,
                &mut power,
                &self.filters,
                &mut by_frame,
            );
        }
        // Frame-major to mel-major.
        let mut values = vec![0f32; frames * self.n_mels];
        for f in 0..frames {
            for m in 0..self.n_mels {
                values[m * frames + f] = by_frame[f * self.n_mels + m];
            }
        }
        Ok(MelSpectrogram {
            n_mels: self.n_mels,
            frames,
            values,
        })
    }
}

/// numpy/torch `reflect` padding: the edge sample is not repeated.
fn reflect_pad(samples: &[f32], pad: usize) -> Vec<f32> {
    let n = samples.len();
    let mut out = Vec::with_capacity(n + 2 * pad);
    out.extend((1..=pad).rev().map(|i| samples[i]));
    out.extend_from_slice(samples);
    out.extend((0..pad).map(|i| samples[n - 2 - i]));
    out
}

/// The seed's `cutSpecToPieces`: `⌈frames / width⌉` pieces, each `[n_mels, width]` row-major,
/// one after another; the last zero-padded on the right.
pub fn cut_into_pieces(mel: &MelSpectrogram, width: usize) -> (usize, Vec<f32>) {
    let pieces = mel.frames.div_ceil(width);
    let mut out = vec![0f32; pieces * mel.n_mels * width];
    for p in 0..pieces {
        let first = p * width;
        let count = width.min(mel.frames - first);
        for m in 0..mel.n_mels {
            let from = m * mel.frames + first;
            let to = (p * mel.n_mels + m) * width;
            out[to..to + count].copy_from_slice(&mel.values[from..from + count]);
        }
    }
    (pieces, out)
}

/// Every clip's pieces as one `[pieces, 4096]` array each (`encoders.audio.kind =
/// "mel_pieces"`), or `index: reason` of each clip that is too short for the spectrogram.
pub fn clip_pieces(
    clips: &[Vec<f32>],
    sample_rate: u32,
    quiet: bool,
) -> Result<Vec<CachedFeature>, Vec<(usize, String)>> {
    let extractor = MelSpectrogramExtractor::seed001(sample_rate);
    let bar = super::parallel::progress(clips.len(), "spectrogram pieces", quiet);
    let results = super::parallel::map_in_order(clips, &bar, |clip| {
        extractor.compute(clip).map(|mel| {
            let (pieces, values) = cut_into_pieces(&mel, PIECE_FRAMES);
            CachedFeature::new(vec![pieces, PIECE_VALUES], values)
        })
    });
    let failures: Vec<(usize, String)> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e.to_string())))
        .collect();
    if failures.is_empty() {
        Ok(results
            .into_iter()
            .map(|r| r.expect("no failure"))
            .collect())
    } else {
        Err(failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_padding_does_not_repeat_the_edge() {
        assert_eq!(
            reflect_pad(&[1.0, 2.0, 3.0, 4.0], 2),
            [3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]
        );
    }

    #[test]
    fn the_seed_setting_at_16_khz() {
        let e = MelSpectrogramExtractor::seed001(16_000);
        assert_eq!((e.n_fft, e.hop, e.n_mels), (400, 200, 128));
        assert_eq!(e.frames_for(16_000), 81);
    }

    #[test]
    fn a_clip_shorter_than_the_padding_is_an_error() {
        let e = MelSpectrogramExtractor::seed001(16_000);
        assert!(e.compute(&[0.1; 200]).is_err());
        assert_eq!(e.compute(&[0.1; 201]).unwrap().frames, 2);
    }

    #[test]
    fn pieces_are_32_frames_and_the_last_is_zero_padded() {
        let mel = MelSpectrogram {
            n_mels: 2,
            frames: 3,
            values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        };
        let (pieces, values) = cut_into_pieces(&mel, 2);
        assert_eq!(pieces, 2);
        assert_eq!(values, [1.0, 2.0, 4.0, 5.0, 3.0, 0.0, 6.0, 0.0]);
    }
}
