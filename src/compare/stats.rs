//! The report's two intervals: a paired t-interval of per-fold differences (two runs scored on
//! the same folds) and a percentile bootstrap interval of one run's metric over its pooled test
//! utterances.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::report::summary::mean_std;

/// Resamples of the bootstrap.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// One fixed seed for every run's bootstrap, so that a report is byte-identical when rerun.
pub const BOOTSTRAP_SEED: u64 = 20_240_814;

/// The confidence level of both intervals.
pub const LEVEL: f64 = 0.95;

/// A mean over `n` values with the ends of its 95% interval (`None` when `n` is too small to
/// give one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub estimate: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub n: usize,
}

/// The mean of `differences` (one per fold) and its two-sided 95% Student t-interval with
/// n - 1 degrees of freedom. With a single fold there is no spread to estimate: no interval.
pub fn paired_t_interval(differences: &[f64]) -> Interval {
    let n = differences.len();
    let (mean, sd) = mean_std(differences);
    if n < 2 {
        return Interval {
            estimate: mean,
            low: None,
            high: None,
            n,
        };
    }
    let half = student_t_quantile(0.5 + LEVEL / 2.0, (n - 1) as f64) * sd / (n as f64).sqrt();
    Interval {
        estimate: mean,
        low: Some(mean - half),
        high: Some(mean + half),
        n,
    }
}

/// The percentile bootstrap interval of `metric` over `n` items: `metric` gets the indices of
/// one resample (drawn with replacement) and returns its value, `None` if it cannot be
/// computed (those resamples are left out). The estimate is the metric of all items.
pub fn bootstrap_interval(n: usize, metric: impl Fn(&[usize]) -> Option<f64>) -> Interval {
    let all: Vec<usize> = (0..n).collect();
    let estimate = metric(&all).unwrap_or(f64::NAN);
    if n == 0 {
        return Interval {
            estimate,
            low: None,
            high: None,
            n,
        };
    }
    let mut rng = ChaCha8Rng::seed_from_u64(BOOTSTRAP_SEED);
    let mut sample = vec![0usize; n];
    let mut values = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        for slot in sample.iter_mut() {
            *slot = rng.random_range(0..n);
        }
        if let Some(v) = metric(&sample).filter(|v| v.is_finite()) {
            values.push(v);
        }
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - LEVEL) / 2.0;
    Interval {
        estimate,
        low: percentile(&values, tail),
        high: percentile(&values, 1.0 - tail),
        n,
    }
}

/// The `q` quantile of sorted `values`, interpolated linearly between neighbours (numpy's
/// default), `None` for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let at = q.clamp(0.0, 1.0) * last as f64;
    let (below, frac) = (at.floor() as usize, at.fract());
    let above = (below + 1).min(last);
    Some(sorted[below] + frac * (sorted[above] - sorted[below]))
}

/// The `p` quantile of Student's t distribution with `df` degrees of freedom, found by
/// bisection on the distribution function (50 halvings of a bracket reach f64's precision for
/// the quantiles a report needs).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    while student_t_cdf(high, df) < p {
        high *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if student_t_cdf(mid, df) < p {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-15 * high {
            break;
        }
    }
    0.5 * (low + high)
}

/// P(T <= t) for Student's t with `df` degrees of freedom, through the regularised incomplete
/// beta function: P(|T| > t) = I_x(df/2, 1/2) with x = df / (df + t^2).
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * regularized_incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// I_x(a, b) by its continued fraction (Numerical Recipes' `betai`), using the symmetry
/// I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges faster.
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = log_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

/// Lentz's evaluation of the incomplete beta continued fraction.
fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        for coefficient in [
            even,
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ] {
            d = 1.0 + coefficient * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// t(0.975, df): closed forms for 1, 2 and 4 degrees of freedom, published values
    /// (scipy.stats.t.ppf) for the others.
    #[test]
    fn t_quantiles_match_scipy() {
        for (df, expected) in [
            (1.0, 12.706_204_736_174_7),
            (2.0, 4.302_652_729_749_464),
            (4.0, 2.776_445_105_197_793),
            (9.0, 2.262_157_162_740_991_5),
            (30.0, 2.042_272_456_301_238),
            (1000.0, 1.962_339_080_826_407_6),
        ] {
            let q = student_t_quantile(0.975, df);
            assert!((q - expected).abs() < 1e-9, "df {df}: {q} vs {expected}");
        }
        assert!((student_t_quantile(0.025, 4.0) + 2.776_445_105_197_793).abs() < 1e-9);
        assert!((student_t_cdf(0.0, 3.0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn the_paired_interval_is_mean_plus_minus_t_times_standard_error() {
        let interval = paired_t_interval(&[0.01, 0.03, 0.02, 0.04, 0.00]);
        // mean 0.02, sd 0.0158114, se 0.00707107, t(0.975, 4) 2.7764451.
        assert!((interval.estimate - 0.02).abs() < 1e-12);
        let half = 2.776_445_105_197_793 * 0.015_811_388_300_841_9 / 5f64.sqrt();
        assert!((interval.low.unwrap() - (0.02 - half)).abs() < 1e-10);
        assert!((interval.high.unwrap() - (0.02 + half)).abs() < 1e-10);
        assert_eq!(interval.n, 5);
        let single = paired_t_interval(&[0.5]);
        assert_eq!((single.low, single.high), (None, None));
    }

    #[test]
    fn the_bootstrap_is_deterministic_and_brackets_the_estimate() {
        let values: Vec<f64> = (0..200).map(|i| ((i * 37) % 100) as f64 / 100.0).collect();
        let mean =
            |idx: &[usize]| Some(idx.iter().map(|&i| values[i]).sum::<f64>() / idx.len() as f64);
        let first = bootstrap_interval(values.len(), mean);
        let second = bootstrap_interval(values.len(), mean);
        assert_eq!(first, second);
        let (low, high) = (first.low.unwrap(), first.high.unwrap());
        assert!(low < first.estimate && first.estimate < high, "{first:?}");
        // The standard error of a mean of 200 uniform-ish values is about 0.02.
        assert!(high - low > 0.05 && high - low < 0.2, "{first:?}");
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&sorted, 0.5), Some(2.5));
        assert_eq!(percentile(&sorted, 0.0), Some(1.0));
        assert_eq!(percentile(&sorted, 1.0), Some(4.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
