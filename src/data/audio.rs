//! WAV decoding with hound: PCM 16/24/32-bit integers and 32-bit float, mixed down to mono.

use std::path::Path;

use super::error::DataError;

/// Samples in [-1, 1] (channels averaged) and the sample rate.
pub fn read_wav_mono_f32(path: &Path) -> Result<(Vec<f32>, u32), DataError> {
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(io) => DataError::io(path, io),
        other => DataError::format(path, format!("not a readable WAV file: {other}")),
    })?;
    let spec = reader.spec();
    let channels = spec.channels.max(1) as usize;
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(corrupt(path))?,
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(corrupt(path))?
        }
        (format, bits) => {
            return Err(DataError::format(
                path,
                format!("unsupported WAV sample format {format:?} with {bits} bits"),
            ));
        }
    };
    let mono = if channels == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect()
    };
    Ok((mono, spec.sample_rate))
}

fn corrupt(path: &Path) -> impl Fn(hound::Error) -> DataError + '_ {
    move |e| DataError::format(path, format!("corrupt WAV data: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, spec: hound::WavSpec, samples: &[i32]) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn reads_pcm16_stereo_as_mono() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        write(&path, spec, &[16384, 0, -32768, -32768]);
        let (samples, rate) = read_wav_mono_f32(&path).unwrap();
        assert_eq!(rate, 16_000);
        assert_eq!(samples, vec![0.25, -1.0]);
    }

    #[test]
    fn missing_and_corrupt_files_name_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.wav");
        let err = read_wav_mono_f32(&missing).unwrap_err().to_string();
        assert!(err.contains("missing.wav"), "{err}");
        let corrupt = dir.path().join("corrupt.wav");
        std::fs::write(&corrupt, b"RIFF\x00\x00not a wave").unwrap();
        let err = read_wav_mono_f32(&corrupt).unwrap_err().to_string();
        assert!(err.contains("corrupt.wav") && err.contains("WAV"), "{err}");
    }
}
