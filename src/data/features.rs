//! Log-mel filterbank features, computed once per utterance on the CPU.
//!
//! The front end has no learned parameters, so it runs once before training and its output is
//! reused by every fold and epoch instead of being recomputed on the device each step. The mel
//! filterbank is a dozen lines (HTK mel scale, triangular filters on the power spectrum, as
//! torchaudio's `melscale_fbanks(norm=None, mel_scale="htk")`); rustfft does the transform.

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Frames of one utterance, row-major `[frames, n_mels]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMel {
    pub frames: usize,
    pub n_mels: usize,
    pub values: Vec<f32>,
}

/// Reusable STFT plan, window and filterbank for one setting.
pub struct LogMelExtractor {
    win: usize,
    hop: usize,
    n_fft: usize,
    n_mels: usize,
    window: Vec<f32>,
    filters: Vec<Vec<(usize, f32)>>,
    fft: Arc<dyn Fft<f32>>,
}

impl LogMelExtractor {
    pub fn new(sample_rate: u32, win_ms: f32, hop_ms: f32, n_mels: usize) -> Self {
        let win = ((sample_rate as f32 * win_ms / 1000.0).round() as usize).max(2);
        let hop = ((sample_rate as f32 * hop_ms / 1000.0).round() as usize).max(1);
        let n_fft = win.next_power_of_two();
        let window = hann(win);
        let filters = mel_filters(sample_rate, n_fft, n_mels);
        let fft = FftPlanner::new().plan_fft_forward(n_fft);
        Self {
            win,
            hop,
            n_fft,
            n_mels,
            window,
            filters,
            fft,
        }
    }

    /// Frames the extractor produces for `samples` input samples (at least one).
    pub fn frames_for(&self, samples: usize) -> usize {
        if samples <= self.win {
            1
        } else {
            1 + (samples - self.win) / self.hop
        }
    }

    /// `log(mel power + 1e-6)` per frame; a clip shorter than one window is zero-padded.
    pub fn compute(&self, samples: &[f32]) -> LogMel {
        let frames = self.frames_for(samples.len());
        let mut values = Vec::with_capacity(frames * self.n_mels);
        let mut buffer = vec![Complex32::default(); self.n_fft];
        let mut power = vec![0f32; self.n_fft / 2 + 1];
        for f in 0..frames {
            let start = f * self.hop;
            buffer.iter_mut().for_each(|c| *c = Complex32::default());
            for (i, w) in self.window.iter().enumerate() {
                let s = samples.get(start + i).copied().unwrap_or(0.0);
                buffer[i] = Complex32::new(s * w, 0.0);
            }
            let first = values.len();
            push_mel_energies(
                self.fft.as_ref(),
                &mut buffer,
                &mut power,
                &self.filters,
                &mut values,
            );
            values[first..]
                .iter_mut()
                .for_each(|e| *e = (*e + 1e-6).ln());
        }
        LogMel {
            frames,
            n_mels: self.n_mels,
            values,
        }
    }
}

/// The mel energies of one windowed frame (in `buffer`, transformed in place), appended to
/// `out`: the power spectrum (`power`: n_fft / 2 + 1 bins) through the triangular filters.
pub(crate) fn push_mel_energies(
    fft: &dyn Fft<f32>,
    buffer: &mut [Complex32],
    power: &mut [f32],
    filters: &[Vec<(usize, f32)>],
    out: &mut Vec<f32>,
) {
    fft.process(buffer);
    for (p, c) in power.iter_mut().zip(buffer.iter()) {
        *p = c.norm_sqr();
    }
    out.extend(filters.iter().map(|filter| {
        filter
            .iter()
            .map(|&(bin, weight)| power[bin] * weight)
            .sum::<f32>()
    }));
}

/// Symmetric-periodic Hann window, as torch.hann_window(periodic=True).
pub(crate) fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
        .collect()
}

fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (10f32.powf(mel / 2595.0) - 1.0)
}

/// Triangular filters between 0 Hz and Nyquist, stored sparsely as (bin, weight).
pub(crate) fn mel_filters(sample_rate: u32, n_fft: usize, n_mels: usize) -> Vec<Vec<(usize, f32)>> {
    let n_bins = n_fft / 2 + 1;
    let nyquist = sample_rate as f32 / 2.0;
    let top = hz_to_mel(nyquist);
    let edges: Vec<f32> = (0..n_mels + 2)
        .map(|i| mel_to_hz(top * i as f32 / (n_mels + 1) as f32))
        .collect();
    let bin_hz = |b: usize| b as f32 * nyquist / (n_bins - 1) as f32;
    (0..n_mels)
        .map(|m| {
            let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
            (0..n_bins)
                .filter_map(|b| {
                    let hz = bin_hz(b);
                    let w = ((hz - lo) / (mid - lo)).min((hi - hz) / (hi - mid));
                    (w > 0.0).then_some((b, w))
                })
                .collect()
        })
        .collect()
}

/// Per-mel-bin mean and standard deviation over a fold's training frames; applied to every
/// split of that fold so that no statistic leaks from valid or test.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureStats {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl FeatureStats {
    pub fn fit<'a>(features: impl IntoIterator<Item = &'a LogMel>, n_mels: usize) -> Self {
        let (mut sum, mut sq, mut n) = (vec![0f64; n_mels], vec![0f64; n_mels], 0usize);
        for feat in features {
            for frame in feat.values.chunks_exact(n_mels) {
                for (m, &v) in frame.iter().enumerate() {
                    sum[m] += v as f64;
                    sq[m] += (v as f64) * (v as f64);
                }
                n += 1;
            }
        }
        let n = n.max(1) as f64;
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, &m)| ((q / n - (m as f64) * (m as f64)).max(1e-8).sqrt()) as f32)
            .collect();
        Self { mean, std }
    }

    pub fn normalise(&self, value: f32, mel: usize) -> f32 {
        (value - self.mean[mel]) / self.std[mel]
    }
}

/// Read every example's audio and compute its log-mel frames (or keep its samples, for
/// wav2vec2). Clips at another sample rate are resampled, then shaped to `max_samples` (see
/// `data::audio`) before the transform.
///
/// Which clips are usable was settled before, for every method alike
/// (`data::audio::screen`), so a clip that fails here is an error, never a silent drop: a drop
/// here would give this method another corpus than the others.
pub fn extract_all(
    corpus: &crate::data::Corpus,
    cfg: &crate::config::AudioEncoderConfig,
    quiet: bool,
) -> anyhow::Result<AudioData> {
    let paths: Vec<&std::path::Path> = corpus
        .examples
        .iter()
        .map(|e| e.wav_path.as_path())
        .collect();
    extract_screened(&paths, cfg, quiet)
}

/// [`extract_all`] of the clips at `paths`, which the corpus screening kept.
pub fn extract_screened(
    paths: &[&std::path::Path],
    cfg: &crate::config::AudioEncoderConfig,
    quiet: bool,
) -> anyhow::Result<AudioData> {
    extract_clips(paths, cfg, quiet).map_err(|failures| {
        anyhow::anyhow!(
            "{} clip(s) decode but cannot be prepared as [encoders.audio] asks (sample_rate, input.channel, max_samples):\n{}",
            failures.len(),
            listing(&failures)
        )
    })
}

/// The audio of new utterances (`emo-run predict`), through the same path as a corpus' clips.
/// Nothing screened these files, so an error lists each one that does not decode too.
pub fn extract_new(
    paths: &[&std::path::Path],
    cfg: &crate::config::AudioEncoderConfig,
    quiet: bool,
) -> anyhow::Result<AudioData> {
    extract_clips(paths, cfg, quiet).map_err(|failures| {
        anyhow::anyhow!(
            "{} WAV file(s) cannot be prepared as the run's [encoders.audio] asks (sample_rate, input.channel, max_samples):\n{}",
            failures.len(),
            listing(&failures)
        )
    })
}

/// Every clip of `paths` in order, or `path: reason` of each that failed.
fn extract_clips(
    paths: &[&std::path::Path],
    cfg: &crate::config::AudioEncoderConfig,
    quiet: bool,
) -> Result<AudioData, Vec<String>> {
    let extractor = LogMelExtractor::new(cfg.sample_rate, cfg.win_ms, cfg.hop_ms, cfg.n_mels);
    // wav2vec2 reads the samples, and so does the spectrogram-pieces front end.
    let waveforms = matches!(
        cfg.kind,
        crate::config::AudioEncoderKind::Wav2vec2 | crate::config::AudioEncoderKind::MelPieces
    );
    let bar = super::parallel::progress(paths.len(), "reading audio", quiet);
    let results = super::parallel::map_in_order(paths, &bar, |path| {
        clip_features(&extractor, path, cfg, waveforms)
    });
    let failures: Vec<String> = paths
        .iter()
        .zip(&results)
        .filter_map(|(path, r)| {
            r.as_ref()
                .err()
                .map(|reason| format!("{}: {reason}", path.display()))
        })
        .collect();
    if !failures.is_empty() {
        return Err(failures);
    }
    let clips = results
        .into_iter()
        .map(|r| r.expect("failures were reported"));
    Ok(if waveforms {
        AudioData::Waveform(
            clips
                .map(|clip| match clip {
                    Clip::Waveform(w) => w,
                    Clip::LogMel(_) => unreachable!("every clip was read as a waveform"),
                })
                .collect(),
        )
    } else {
        AudioData::LogMel(
            clips
                .map(|clip| match clip {
                    Clip::LogMel(m) => m,
                    Clip::Waveform(_) => unreachable!("every clip was turned into log-mel"),
                })
                .collect(),
        )
    })
}

/// The first 20 failures, one indented line each.
fn listing(failures: &[String]) -> String {
    failures
        .iter()
        .take(20)
        .map(|f| format!("  {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every kept example's audio, in corpus order, in the form its encoder reads.
#[derive(Debug, Clone)]
pub enum AudioData {
    /// Log-mel frames (`kind = "logmel_conv"`).
    LogMel(Vec<LogMel>),
    /// The clip's samples at the encoder's rate, shaped by `[encoders.audio.input]` (wav2vec2).
    Waveform(Vec<Vec<f32>>),
}

enum Clip {
    LogMel(LogMel),
    Waveform(Vec<f32>),
}

fn clip_features(
    extractor: &LogMelExtractor,
    path: &std::path::Path,
    cfg: &crate::config::AudioEncoderConfig,
    waveform: bool,
) -> Result<Clip, String> {
    let samples = super::audio::load_clip(path, &cfg.input, cfg.sample_rate, cfg.max_samples)
        .map_err(|e| format!("unreadable audio: {e}"))?;
    if samples.is_empty() {
        return Err("empty audio: no samples".into());
    }
    Ok(if waveform {
        Clip::Waveform(samples)
    } else {
        Clip::LogMel(extractor.compute(&samples))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, seconds: f32, amplitude: f32) -> Vec<f32> {
        let n = (16_000.0 * seconds) as usize;
        (0..n)
            .map(|i| amplitude * (2.0 * std::f32::consts::PI * hz * i as f32 / 16_000.0).sin())
            .collect()
    }

    fn peak_bin(mel: &LogMel) -> usize {
        let frame = &mel.values[mel.n_mels * (mel.frames / 2)..][..mel.n_mels];
        (0..mel.n_mels)
            .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
            .unwrap()
    }

    #[test]
    fn a_clip_at_another_rate_is_resampled_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("8k.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        (0..8_000).for_each(|i| w.write_sample(((i % 40) * 500) as i16).unwrap());
        w.finalize().unwrap();
        let cfg = crate::config::AudioEncoderConfig::default();
        let x = LogMelExtractor::new(cfg.sample_rate, cfg.win_ms, cfg.hop_ms, cfg.n_mels);
        let Ok(Clip::LogMel(feat)) = clip_features(&x, &path, &cfg, false) else {
            panic!("expected log-mel frames");
        };
        assert_eq!(feat.frames, x.frames_for(16_000));
        let Ok(Clip::Waveform(samples)) = clip_features(&x, &path, &cfg, true) else {
            panic!("expected a waveform");
        };
        assert_eq!(samples.len(), 16_000);
        let Err(err) = clip_features(&x, &dir.path().join("gone.wav"), &cfg, false) else {
            panic!("a missing file must fail");
        };
        assert!(err.contains("gone.wav"), "{err}");
    }

    #[test]
    fn frame_count_follows_window_and_hop() {
        let x = LogMelExtractor::new(16_000, 25.0, 10.0, 40);
        assert_eq!(x.frames_for(400), 1);
        assert_eq!(x.frames_for(16_000), 98);
        assert_eq!(x.compute(&tone(440.0, 1.0, 0.5)).frames, 98);
    }

    #[test]
    fn higher_pitch_lands_in_a_higher_mel_band_and_louder_is_larger() {
        let x = LogMelExtractor::new(16_000, 25.0, 10.0, 40);
        let low = x.compute(&tone(200.0, 0.5, 0.5));
        let high = x.compute(&tone(2000.0, 0.5, 0.5));
        assert!(peak_bin(&high) > peak_bin(&low) + 5);
        let quiet = x.compute(&tone(200.0, 0.5, 0.05));
        let b = peak_bin(&low);
        let mid = low.frames / 2 * 40 + b;
        assert!(
            low.values[mid] > quiet.values[mid] + 3.0,
            "20 dB louder is about 4.6 nats more"
        );
    }

    #[test]
    fn stats_normalise_to_zero_mean() {
        let x = LogMelExtractor::new(16_000, 25.0, 10.0, 16);
        let feats = [
            x.compute(&tone(300.0, 0.3, 0.2)),
            x.compute(&tone(900.0, 0.3, 0.4)),
        ];
        let stats = FeatureStats::fit(feats.iter(), 16);
        let mut total = 0.0;
        let mut count = 0.0;
        for f in &feats {
            for (i, v) in f.values.iter().enumerate() {
                total += stats.normalise(*v, i % 16);
                count += 1.0;
            }
        }
        assert!((total / count as f32).abs() < 1e-3);
    }
}
