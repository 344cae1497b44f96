//! WAV decoding with hound: PCM 8/16/24/32-bit integers and 32-bit float, scaled to f32.

use std::path::Path;

use crate::data::error::DataError;

/// What [`decode_wav`] expects, quoted in its errors.
const EXPECTED: &str =
    "expected a RIFF/WAVE file of PCM 8/16/24/32-bit integer or 32-bit float samples";

/// A decoded file: interleaved samples in [-1, 1), as many per frame as `channels`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedWav {
    pub interleaved: Vec<f32>,
    pub channels: usize,
    pub sample_rate: u32,
}

/// Decode a whole WAV file. Integers are divided by 2^(bits-1) after unsigned 8-bit is centred
/// (`(x - 128) / 128`), as soundfile and torchaudio do, so the result lies in [-1, 1); floats are
/// kept as they are.
pub fn decode_wav(path: &Path) -> Result<DecodedWav, DataError> {
    let reader = hound::WavReader::open(path).map_err(|e| open_error(path, e))?;
    let spec = reader.spec();
    let announced = reader.len() as usize;
    let interleaved = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => {
            collect_samples(reader.into_samples::<f32>(), |x| x, path, announced)?
        }
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = int_scale(bits);
            // hound already centres unsigned 8-bit PCM to -128..=127.
            collect_samples(
                reader.into_samples::<i32>(),
                |x| x as f32 * scale,
                path,
                announced,
            )?
        }
        (format, bits) => {
            return Err(DataError::format(
                path,
                format!("unsupported WAV sample format {format:?} with {bits} bits; {EXPECTED}"),
            ));
        }
    };
    Ok(DecodedWav {
        interleaved,
        channels: usize::from(spec.channels.max(1)),
        sample_rate: spec.sample_rate,
    })
}

/// 2^-(bits-1): a power of two, so `x as f32 * scale` rounds exactly once, like
/// `(x / 2^(bits-1)) as f32` in double precision.
fn int_scale(bits: u16) -> f32 {
    (-f32::from(bits - 1)).exp2()
}

fn open_error(path: &Path, error: hound::Error) -> DataError {
    match error {
        hound::Error::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DataError::format(path, format!("WAV header cut short ({io}); {EXPECTED}"))
        }
        hound::Error::IoError(io) => {
            DataError::format(path, format!("cannot open ({io}); {EXPECTED}"))
        }
        other => DataError::format(
            path,
            format!("not a readable WAV file ({other}); {EXPECTED}"),
        ),
    }
}

/// Every sample the header announces, or an error saying where the data stopped.
fn collect_samples<S>(
    samples: impl Iterator<Item = Result<S, hound::Error>>,
    to_f32: impl Fn(S) -> f32,
    path: &Path,
    announced: usize,
) -> Result<Vec<f32>, DataError> {
    let mut out = Vec::with_capacity(announced);
    for sample in samples {
        match sample {
            Ok(x) => out.push(to_f32(x)),
            Err(e) => {
                return Err(DataError::format(
                    path,
                    format!(
                        "corrupt WAV data after {} of the {announced} samples its header announces ({e})",
                        out.len()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(bits: u16, format: hound::SampleFormat, channels: u16) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: 22_050,
            bits_per_sample: bits,
            sample_format: format,
        }
    }

    /// Write `samples` with hound in a fresh temp dir and decode them back.
    fn roundtrip<S: hound::Sample + Copy>(spec: hound::WavSpec, samples: &[S]) -> DecodedWav {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        samples.iter().for_each(|&s| w.write_sample(s).unwrap());
        w.finalize().unwrap();
        decode_wav(&path).unwrap()
    }

    #[test]
    fn pcm8_is_centred_and_divided_by_128() {
        // hound writes signed i8 as unsigned bytes x + 128, the on-disk 8-bit WAV format.
        let wav = roundtrip(spec(8, hound::SampleFormat::Int, 1), &[-128i8, 0, 64, 127]);
        assert_eq!(wav.interleaved, vec![-1.0, 0.0, 0.5, 127.0 / 128.0]);
        assert_eq!((wav.channels, wav.sample_rate), (1, 22_050));
    }

    #[test]
    fn pcm16_is_divided_by_32768() {
        let wav = roundtrip(
            spec(16, hound::SampleFormat::Int, 1),
            &[i16::MIN, -1, 0, 16_384, i16::MAX],
        );
        assert_eq!(
            wav.interleaved,
            vec![-1.0, -1.0 / 32_768.0, 0.0, 0.5, 32_767.0 / 32_768.0]
        );
    }

    #[test]
    fn pcm24_is_divided_by_8388608() {
        let wav = roundtrip(
            spec(24, hound::SampleFormat::Int, 1),
            &[-8_388_608i32, -4_194_304, 1, 8_388_607],
        );
        assert_eq!(
            wav.interleaved,
            vec![-1.0, -0.5, 1.0 / 8_388_608.0, 8_388_607.0 / 8_388_608.0]
        );
    }

    #[test]
    fn pcm32_is_divided_by_2147483648() {
        let wav = roundtrip(
            spec(32, hound::SampleFormat::Int, 1),
            &[i32::MIN, -(1 << 30), 1 << 8, i32::MAX],
        );
        // i32::MAX / 2^31 = 1 - 2^-31 rounds to 1.0 in f32, as soundfile's float32 output does.
        assert_eq!(wav.interleaved, vec![-1.0, -0.5, 2f32.powi(-23), 1.0]);
    }

    #[test]
    fn float32_is_kept_bit_for_bit() {
        let values = [-1.0f32, -0.123_456_79, 0.0, 0.5, 0.999_999_9];
        let wav = roundtrip(spec(32, hound::SampleFormat::Float, 1), &values);
        assert_eq!(wav.interleaved, values.to_vec());
    }

    #[test]
    fn stereo_stays_interleaved() {
        let wav = roundtrip(
            spec(16, hound::SampleFormat::Int, 2),
            &[16_384i16, -16_384, 0, 8_192],
        );
        assert_eq!(wav.channels, 2);
        assert_eq!(wav.interleaved, vec![0.5, -0.5, 0.0, 0.25]);
    }

    #[test]
    fn a_missing_file_names_its_path_and_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let err = decode_wav(&dir.path().join("missing.wav"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing.wav") && err.contains("cannot open") && err.contains("RIFF/WAVE"),
            "{err}"
        );
    }

    #[test]
    fn a_text_file_named_wav_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.wav");
        std::fs::write(&path, "this is a transcript, not audio\n").unwrap();
        let err = decode_wav(&path).unwrap_err().to_string();
        assert!(
            err.contains("notes.wav")
                && err.contains("not a readable WAV")
                && err.contains("RIFF/WAVE"),
            "{err}"
        );
    }

    #[test]
    fn a_file_cut_inside_its_data_says_how_far_it_got() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.wav");
        let mut w = hound::WavWriter::create(&path, spec(16, hound::SampleFormat::Int, 1)).unwrap();
        (0..100).for_each(|i| w.write_sample(i as i16).unwrap());
        w.finalize().unwrap();
        // 44-byte header + 200 data bytes; keep the header and 20 samples.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..44 + 40]).unwrap();
        let err = decode_wav(&path).unwrap_err().to_string();
        assert!(
            err.contains("cut.wav") && err.contains("corrupt WAV data after 20 of the 100 samples"),
            "{err}"
        );
    }

    #[test]
    fn a_file_cut_inside_its_header_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stub.wav");
        std::fs::write(&path, b"RIFF\x24\x00\x00\x00WAVEfmt ").unwrap();
        let err = decode_wav(&path).unwrap_err().to_string();
        assert!(
            err.contains("stub.wav") && err.contains("RIFF/WAVE"),
            "{err}"
        );
    }
}
