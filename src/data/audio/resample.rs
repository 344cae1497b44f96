//! Sample-rate conversion of a whole clip with rubato's FFT resampler.
//!
//! The FFT resampler is synchronous (a fixed rational ratio), which is what converting a file
//! between two fixed rates needs, and its anti-aliasing filter is a windowed sinc
//! (Blackman-Harris squared). rubato's `process_all` feeds the clip chunk by chunk, pads the end
//! with silence and trims the filter's delay from the start; this module then cuts the result to
//! `round(n * to / from)` samples.

use std::cell::RefCell;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

/// The input side of one FFT block is at least this long: a longer block puts the
/// anti-aliasing cutoff closer to the lower Nyquist frequency.
const MIN_BLOCK_IN: usize = 4096;
/// Blocks per `process` call: fewer calls, same filter.
const BLOCKS_PER_CHUNK: usize = 8;

/// A resampler with the `(from, to)` rates it was built for.
type RatedResampler = ((u32, u32), Fft<f32>);

thread_local! {
    /// The last resampler this thread built. A corpus usually has one source rate, and FFT
    /// planning costs more than resampling a short clip; `process_all` resets the state anyway.
    static CACHED: RefCell<Option<RatedResampler>> = const { RefCell::new(None) };
}

/// `samples` at `from` Hz converted to `to` Hz: `round(n * to / from)` samples, time-aligned with
/// the input (no leading delay). Unchanged, bit for bit, when the rates are equal.
pub fn resample(samples: Vec<f32>, from: u32, to: u32) -> Result<Vec<f32>, String> {
    if from == to || samples.is_empty() {
        return Ok(samples);
    }
    if from == 0 || to == 0 {
        return Err(format!(
            "cannot resample from {from} Hz to {to} Hz; expected rates above 0"
        ));
    }
    let input = InterleavedSlice::new(&samples, 1, samples.len())
        .map_err(|e| format!("resampler input: {e}"))?;
    let output = with_resampler(from, to, |r| r.process_all(&input, samples.len(), None))?
        .map_err(|e| format!("resampling {from} Hz to {to} Hz failed: {e}"))?;
    let mut out = output.take_data();
    // process_all yields ceil(n * to / from) samples, never fewer than the rounded length; the
    // resize only ever cuts the one extra sample.
    out.resize(resampled_len(samples.len(), from, to), 0.0);
    Ok(out)
}

/// `round(n * to / from)`, halves rounded up, in exact integer arithmetic.
pub fn resampled_len(n: usize, from: u32, to: u32) -> usize {
    let (n, from, to) = (n as u128, u128::from(from), u128::from(to));
    ((2 * n * to + from) / (2 * from)) as usize
}

/// Run `f` on this thread's resampler for `from -> to`, building it if the rates changed.
fn with_resampler<R>(from: u32, to: u32, f: impl FnOnce(&mut Fft<f32>) -> R) -> Result<R, String> {
    CACHED.with_borrow_mut(|cached| {
        if cached
            .as_ref()
            .is_none_or(|(rates, _)| *rates != (from, to))
        {
            let resampler = build_resampler(from, to)
                .map_err(|e| format!("cannot resample from {from} Hz to {to} Hz: {e}"))?;
            *cached = Some(((from, to), resampler));
        }
        let (_, resampler) = cached.as_mut().expect("just filled");
        Ok(f(resampler))
    })
}

fn build_resampler(from: u32, to: u32) -> Result<Fft<f32>, rubato::ResamplerConstructionError> {
    let block_in = block_len_in(from, to);
    Fft::new_custom(
        from as usize,
        to as usize,
        block_in * BLOCKS_PER_CHUNK,
        BLOCKS_PER_CHUNK,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
}

/// An even multiple of the smallest block `from / gcd` of at least `MIN_BLOCK_IN` samples.
/// Even, because rubato centres the filter on input sample `block / 2` and reports a delay of
/// `block_out / 2` output samples: both are the same instant only when the block is even.
fn block_len_in(from: u32, to: u32) -> usize {
    let smallest = (from / gcd(from, to)) as usize;
    MIN_BLOCK_IN.div_ceil(2 * smallest) * 2 * smallest
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    fn sine(hz: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (0.5 * (TAU * hz * i as f64 / rate as f64).sin()) as f32)
            .collect()
    }

    /// Largest difference from the ideal sine at the output rate, away from the clip's edges
    /// (where the zero padding beyond the clip enters the filter).
    fn worst_error(out: &[f32], hz: f64, rate: u32) -> f32 {
        let ideal = sine(hz, rate, out.len());
        let edge = rate as usize / 50;
        out[edge..out.len() - edge]
            .iter()
            .zip(&ideal[edge..])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn length_is_the_rounded_ratio() {
        assert_eq!(resampled_len(44_100, 44_100, 16_000), 16_000);
        // 44_101 * 16_000 / 44_100 = 16_000.36 and 44_130 -> 16_010.88.
        assert_eq!(resampled_len(44_101, 44_100, 16_000), 16_000);
        assert_eq!(resampled_len(44_130, 44_100, 16_000), 16_011);
        assert_eq!(resampled_len(3, 2, 1), 2);
        for n in [1, 100, 44_101, 44_130, 100_003] {
            let out = resample(vec![0.1; n], 44_100, 16_000).unwrap();
            assert_eq!(out.len(), resampled_len(n, 44_100, 16_000), "n = {n}");
        }
        assert_eq!(
            resample(vec![0.1; 8_001], 8_000, 16_000).unwrap().len(),
            16_002
        );
    }

    #[test]
    fn a_downsampled_sine_keeps_its_frequency_and_phase() {
        let out = resample(sine(1000.0, 44_100, 44_100), 44_100, 16_000).unwrap();
        assert_eq!(out.len(), 16_000);
        // One output sample of misalignment would be an error of about 0.2 here.
        let err = worst_error(&out, 1000.0, 16_000);
        assert!(err < 1e-3, "worst error {err}");
    }

    #[test]
    fn an_upsampled_sine_keeps_its_frequency_and_phase() {
        let out = resample(sine(440.0, 8_000, 8_000), 8_000, 16_000).unwrap();
        assert_eq!(out.len(), 16_000);
        let err = worst_error(&out, 440.0, 16_000);
        assert!(err < 1e-3, "worst error {err}");
    }

    #[test]
    fn content_above_the_new_nyquist_is_removed() {
        let out = resample(sine(12_000.0, 48_000, 48_000), 48_000, 16_000).unwrap();
        let rms = (out[800..15_200].iter().map(|x| x * x).sum::<f32>() / 14_400.0).sqrt();
        assert!(rms < 1e-3, "aliased rms {rms}");
    }

    #[test]
    fn equal_rates_pass_through_bit_for_bit() {
        let clip = sine(300.0, 16_000, 1234);
        assert_eq!(resample(clip.clone(), 16_000, 16_000).unwrap(), clip);
    }

    #[test]
    fn blocks_are_even_multiples_of_the_smallest_block() {
        assert_eq!(block_len_in(44_100, 16_000), 4_410);
        assert_eq!(block_len_in(8_000, 16_000), 4_096);
        assert_eq!(block_len_in(48_000, 16_000), 4_098);
    }
}
