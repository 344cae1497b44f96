//! The audio input path, from a WAV file to the samples the front end sees.
//!
//! [`load_clip`] runs every step for one file, in this order:
//! 1. [`decode_wav`]: PCM 8/16/24/32-bit or 32-bit float, scaled to [-1, 1) as soundfile does;
//! 2. [`to_mono`]: mean of the channels or one chosen channel;
//! 3. [`resample`]: to the encoder's sample rate (bit-exact passthrough when it already matches);
//! 4. [`shape_clip`]: truncate to `max_samples`, normalise, pad.

mod channels;
mod decode;
mod resample;
pub mod screen;
mod shape;

use std::path::Path;

pub use crate::config::audio_input::{
    AudioInputOptions, ChannelMix, ChannelSelect, PadMode, TruncateMode,
};
pub use channels::to_mono;
pub use decode::{DecodedWav, decode_wav};
pub use resample::{resample, resampled_len};
pub use shape::{pad, shape_clip, truncate, zero_mean_unit_var};

use super::error::DataError;

/// Decode `path`, reduce it to one channel, resample it to `target_rate` and shape it to
/// `max_samples` as `options` say. Every error names the file.
pub fn load_clip(
    path: &Path,
    options: &AudioInputOptions,
    target_rate: u32,
    max_samples: usize,
) -> Result<Vec<f32>, DataError> {
    let wav = decode_wav(path)?;
    let mono = to_mono(wav.interleaved, wav.channels, options.channel)
        .map_err(|reason| DataError::format(path, reason))?;
    let at_rate = resample(mono, wav.sample_rate, target_rate)
        .map_err(|reason| DataError::format(path, reason))?;
    Ok(shape_clip(at_rate, options, max_samples))
}

/// A short valid mono 16 kHz PCM-16 clip (a sawtooth) at `path`, for test corpora.
#[cfg(test)]
pub(crate) fn write_test_wav(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("a file path")).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..320 {
        writer.write_sample(((i % 32) * 50) as i16).unwrap();
    }
    writer.finalize().unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pcm16(path: &Path, rate: u32, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        samples.iter().for_each(|&s| w.write_sample(s).unwrap());
        w.finalize().unwrap();
    }

    #[test]
    fn matching_rate_is_a_bit_exact_passthrough() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let raw: Vec<i16> = (0..1000)
            .map(|i| (i * 37 % 65_536 - 32_768) as i16)
            .collect();
        write_pcm16(&path, 16_000, &raw);
        let options = AudioInputOptions {
            truncate: TruncateMode::None,
            ..Default::default()
        };
        let clip = load_clip(&path, &options, 16_000, 400).unwrap();
        let expected: Vec<f32> = raw.iter().map(|&s| s as f32 / 32_768.0).collect();
        assert_eq!(clip, expected);
    }

    #[test]
    fn other_rates_are_resampled_then_shaped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("8k.wav");
        write_pcm16(&path, 8_000, &vec![1000; 8_000]);
        let options = AudioInputOptions::default();
        assert_eq!(
            load_clip(&path, &options, 16_000, 40_000).unwrap().len(),
            16_000
        );
        assert_eq!(
            load_clip(&path, &options, 16_000, 10_000).unwrap().len(),
            10_000
        );
        let padded = AudioInputOptions {
            pad: PadMode::Zeros,
            ..Default::default()
        };
        assert_eq!(
            load_clip(&path, &padded, 16_000, 40_000).unwrap().len(),
            40_000
        );
    }

    #[test]
    fn a_bad_channel_index_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mono.wav");
        write_pcm16(&path, 16_000, &[0; 10]);
        let options = AudioInputOptions {
            channel: ChannelSelect::Index(1),
            ..Default::default()
        };
        let err = load_clip(&path, &options, 16_000, 100)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mono.wav") && err.contains("channel 1") && err.contains("1 channel"),
            "{err}"
        );
    }
}
