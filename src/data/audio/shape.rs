//! A clip at the encoder's rate cut, normalised and padded to `max_samples`.

use crate::config::audio_input::{AudioInputOptions, PadMode, TruncateMode};

/// Truncate, then normalise the kept samples, then pad: the order of Hugging Face's
/// Wav2Vec2FeatureExtractor, whose statistics cover only the unpadded part. With
/// `normalize_before_truncate` the whole clip is normalised first (seed 000's order).
pub fn shape_clip(
    mut samples: Vec<f32>,
    options: &AudioInputOptions,
    max_samples: usize,
) -> Vec<f32> {
    let early = options.normalize && options.normalize_before_truncate;
    if early {
        zero_mean_unit_var(&mut samples);
    }
    let mut kept = truncate(samples, options.truncate, max_samples);
    if options.normalize && !early {
        zero_mean_unit_var(&mut kept);
    }
    pad(kept, options.pad, max_samples)
}

/// At most `max_samples` samples, chosen by `mode` (`None` keeps all).
pub fn truncate(mut samples: Vec<f32>, mode: TruncateMode, max_samples: usize) -> Vec<f32> {
    if samples.len() <= max_samples {
        return samples;
    }
    match mode {
        TruncateMode::Head => samples.truncate(max_samples),
        TruncateMode::Center => {
            let start = (samples.len() - max_samples) / 2;
            samples.drain(..start);
            samples.truncate(max_samples);
        }
        TruncateMode::None => {}
    }
    samples
}

/// `(x - mean) / sqrt(var + 1e-7)` over the whole slice with the population variance, as HF's
/// `zero_mean_unit_var_norm`. The statistics are summed in f64, so the result can differ from
/// numpy's float32 arithmetic in the last bit or two.
pub fn zero_mean_unit_var(samples: &mut [f32]) {
    if samples.is_empty() {
        return;
    }
    let n = samples.len() as f64;
    let mean = samples.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = samples
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    let std = (var + 1e-7).sqrt();
    for x in samples.iter_mut() {
        *x = ((f64::from(*x) - mean) / std) as f32;
    }
}

/// At least `max_samples` samples, lengthened by `mode`. An empty clip stays empty: there is
/// nothing to repeat, and silence alone is no clip.
pub fn pad(mut samples: Vec<f32>, mode: PadMode, max_samples: usize) -> Vec<f32> {
    if samples.is_empty() || samples.len() >= max_samples {
        return samples;
    }
    match mode {
        PadMode::None => {}
        PadMode::Zeros => samples.resize(max_samples, 0.0),
        PadMode::Repeat => {
            let period = samples.len();
            samples.reserve(max_samples - period);
            while samples.len() < max_samples {
                let take = (max_samples - samples.len()).min(period);
                samples.extend_from_within(..take);
            }
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32).collect()
    }

    #[test]
    fn truncate_keeps_the_head_the_centre_or_everything() {
        assert_eq!(
            truncate(ramp(10), TruncateMode::Head, 4),
            vec![0.0, 1.0, 2.0, 3.0]
        );
        // (10 - 4) / 2 = 3: samples 3..7.
        assert_eq!(
            truncate(ramp(10), TruncateMode::Center, 4),
            vec![3.0, 4.0, 5.0, 6.0]
        );
        // (9 - 4) / 2 = 2 (rounded down): the odd sample left over is cut from the end.
        assert_eq!(
            truncate(ramp(9), TruncateMode::Center, 4),
            vec![2.0, 3.0, 4.0, 5.0]
        );
        assert_eq!(truncate(ramp(10), TruncateMode::None, 4), ramp(10));
        assert_eq!(truncate(ramp(3), TruncateMode::Head, 4), ramp(3));
    }

    #[test]
    fn pad_leaves_zeros_repeats_or_nothing() {
        assert_eq!(pad(ramp(3), PadMode::None, 5), ramp(3));
        assert_eq!(
            pad(ramp(3), PadMode::Zeros, 5),
            vec![0.0, 1.0, 2.0, 0.0, 0.0]
        );
        assert_eq!(
            pad(vec![1.0, 2.0, 3.0], PadMode::Repeat, 8),
            vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0]
        );
        assert_eq!(pad(ramp(6), PadMode::Zeros, 5), ramp(6));
        assert!(pad(Vec::new(), PadMode::Repeat, 5).is_empty());
    }

    #[test]
    fn normalisation_matches_hand_computed_values() {
        // [1, 2, 3, 4]: mean 2.5, population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25,
        // so x -> (x - 2.5) / sqrt(1.2500001).
        let mut x = vec![1.0f32, 2.0, 3.0, 4.0];
        zero_mean_unit_var(&mut x);
        let d = 1.250_000_1f64.sqrt();
        let expected = [-1.5 / d, -0.5 / d, 0.5 / d, 1.5 / d].map(|v| v as f32);
        assert_eq!(x, expected);
        assert!((x[0] - -1.341_640_7).abs() < 1e-6);
        // A constant clip has zero variance: every sample becomes 0, not NaN.
        let mut flat = vec![0.3f32; 5];
        zero_mean_unit_var(&mut flat);
        assert_eq!(flat, vec![0.0; 5]);
    }

    #[test]
    fn normalisation_covers_the_kept_samples_and_padding_stays_zero() {
        let options = AudioInputOptions {
            normalize: true,
            pad: PadMode::Zeros,
            ..Default::default()
        };
        // Head keeps [1, 2, 3, 4] of the 6 samples; the 5 and 6 play no part in the statistics.
        let cut = shape_clip(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &options, 4);
        let mut alone = vec![1.0f32, 2.0, 3.0, 4.0];
        zero_mean_unit_var(&mut alone);
        assert_eq!(cut, alone);
        // Padding is appended after normalising: the two zeros stay 0.0, as HF's padding_value.
        let padded = shape_clip(vec![1.0, 3.0], &options, 4);
        let d = (1.0f64 + 1e-7).sqrt();
        assert_eq!(padded, vec![(-1.0 / d) as f32, (1.0 / d) as f32, 0.0, 0.0]);
    }

    #[test]
    fn normalisation_before_truncation_uses_the_whole_clip() {
        let options = AudioInputOptions {
            normalize: true,
            normalize_before_truncate: true,
            ..Default::default()
        };
        // Seed 000: statistics over all six samples (mean 3.5), then the first four are kept.
        let cut = shape_clip(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &options, 4);
        let mut whole = vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        zero_mean_unit_var(&mut whole);
        assert_eq!(cut, whole[..4].to_vec());
        assert!(
            cut[2] < 0.0,
            "3 is below the whole clip's mean 3.5: {cut:?}"
        );
        // Without the flag the kept samples are normalised alone and 3 is above their mean 2.5.
        let late = AudioInputOptions {
            normalize_before_truncate: false,
            ..options
        };
        assert!(shape_clip(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &late, 4)[2] > 0.0);
    }
}
