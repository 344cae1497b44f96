//! Single-thread throughput of the audio input path, as a real-time factor per core (seconds of
//! audio processed per wall-clock second). Not a test: it asserts nothing, it prints figures.
//!
//! `CARGO_TARGET_DIR=... cargo bench --profile dev --bench audio_decode` (dev profile: the
//! dependencies are built at opt-level 3, this crate at 1), or plain `cargo bench` for release.
//! Environment: `AUDIO_BENCH_SECONDS` (clip length, default 60), `AUDIO_BENCH_REPS` (default 5).

use std::path::{Path, PathBuf};
use std::time::Instant;

use emo_run::data::audio::{
    AudioInputOptions, TruncateMode, decode_wav, load_clip, resample, to_mono,
};

fn main() {
    let seconds = env_or("AUDIO_BENCH_SECONDS", 60);
    let reps = env_or("AUDIO_BENCH_REPS", 5);
    let dir = tempfile::tempdir().expect("temp dir");
    let keep_all = AudioInputOptions {
        truncate: TruncateMode::None,
        ..Default::default()
    };
    println!("{seconds} s clips, {reps} repetitions, median, one thread");
    println!("| case | median wall | real-time factor |");
    println!("|---|---|---|");
    for (rate, channels) in [(16_000, 1), (44_100, 1), (44_100, 2)] {
        let path = write_pcm16(dir.path(), rate, channels, seconds);
        let audio_s = seconds as f64;
        let decode = median_seconds(reps, || {
            let wav = decode_wav(&path).expect("decode");
            to_mono(wav.interleaved, wav.channels, keep_all.channel).expect("mono")
        });
        report(
            &format!("decode {rate} Hz x{channels} PCM16"),
            decode,
            audio_s,
        );
        if rate != 16_000 {
            let wav = decode_wav(&path).expect("decode");
            let mono = to_mono(wav.interleaved, wav.channels, keep_all.channel).expect("mono");
            let alone = median_seconds(reps, || resample(mono.clone(), rate, 16_000).expect("rs"));
            report(
                &format!("resample only {rate} Hz -> 16 kHz"),
                alone,
                audio_s,
            );
            let full = median_seconds(reps, || {
                load_clip(&path, &keep_all, 16_000, usize::MAX).expect("load")
            });
            report(
                &format!("decode + resample {rate} Hz x{channels} -> 16 kHz"),
                full,
                audio_s,
            );
        }
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A chirp plus a little deterministic noise, so neither decoder nor resampler sees silence.
fn write_pcm16(dir: &Path, rate: u32, channels: u16, seconds: usize) -> PathBuf {
    let path = dir.join(format!("{rate}_{channels}.wav"));
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).expect("create wav");
    let mut noise = 12_345u32;
    for i in 0..rate as usize * seconds {
        let t = i as f64 / f64::from(rate);
        let tone = (std::f64::consts::TAU * (200.0 + 50.0 * t) * t).sin();
        for _ in 0..channels {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let x = 0.5 * tone + 0.01 * (f64::from(noise >> 16) / 65_536.0 - 0.5);
            w.write_sample((x * 32_767.0) as i16).expect("write sample");
        }
    }
    w.finalize().expect("finalize wav");
    path
}

/// Median wall time of `reps` runs of `work`, after one warm-up run (file cache, FFT plans).
fn median_seconds<T>(reps: usize, mut work: impl FnMut() -> T) -> f64 {
    std::hint::black_box(work());
    let mut times: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(work());
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn report(case: &str, seconds: f64, audio_seconds: f64) {
    println!(
        "| {case} | {:.1} ms | {:.0}x |",
        seconds * 1e3,
        audio_seconds / seconds
    );
}
