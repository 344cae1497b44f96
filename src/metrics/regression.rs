//! Regression metrics per target: Pearson's r, Lin's concordance correlation coefficient, MAE
//! and MSE.
//!
//! CCC is Lin's, with population moments: `2 cov / (var_x + var_y + (mean_x - mean_y)^2)`.
//! Seed 004's audtorch `concordance_cc` uses torch's unbiased `std` (n - 1) for the variances
//! while the mean term stays as is, which differs by O(1/n): 0.1% at n = 1000.
//! A correlation whose variance is zero is undefined (scipy returns NaN); it is 0 here, so that
//! a constant prediction scores as uninformative instead of poisoning every average.

pub use crate::config::names::REGRESSION_METRICS;
use serde::{Deserialize, Serialize};

/// Metrics of one regression target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetStats {
    pub target: String,
    pub pearson: f64,
    pub ccc: f64,
    pub mae: f64,
    pub mse: f64,
}

/// Every target's metrics and their means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    pub per_target: Vec<TargetStats>,
    pub pearson: f64,
    pub ccc: f64,
    pub mae: f64,
    pub mse: f64,
}

/// `truth[k]` and `predicted[k]` hold target `names[k]` over the same utterances.
///
/// # Panics
/// When the lists disagree in length (a caller bug).
pub fn regression_report(
    names: &[&str],
    truth: &[Vec<f32>],
    predicted: &[Vec<f32>],
) -> RegressionReport {
    assert!(names.len() == truth.len() && truth.len() == predicted.len());
    let per_target: Vec<TargetStats> = names
        .iter()
        .zip(truth.iter().zip(predicted))
        .map(|(name, (y, p))| target_stats(name, y, p))
        .collect();
    let mean = |f: fn(&TargetStats) -> f64| {
        if per_target.is_empty() {
            0.0
        } else {
            per_target.iter().map(f).sum::<f64>() / per_target.len() as f64
        }
    };
    RegressionReport {
        pearson: mean(|s| s.pearson),
        ccc: mean(|s| s.ccc),
        mae: mean(|s| s.mae),
        mse: mean(|s| s.mse),
        per_target,
    }
}

fn target_stats(name: &str, y: &[f32], p: &[f32]) -> TargetStats {
    assert_eq!(y.len(), p.len(), "regression_report: {name} lengths differ");
    let m = Moments::of(y, p);
    TargetStats {
        target: name.to_string(),
        pearson: pearson(&m),
        ccc: ccc(&m),
        mae: mean(y.iter().zip(p).map(|(a, b)| (*a as f64 - *b as f64).abs())),
        mse: mean(
            y.iter()
                .zip(p)
                .map(|(a, b)| (*a as f64 - *b as f64).powi(2)),
        ),
    }
}

/// Population means, variances and covariance of (truth, prediction).
struct Moments {
    mean_y: f64,
    mean_p: f64,
    var_y: f64,
    var_p: f64,
    cov: f64,
}

impl Moments {
    fn of(y: &[f32], p: &[f32]) -> Self {
        let mean_y = mean(y.iter().map(|&v| v as f64));
        let mean_p = mean(p.iter().map(|&v| v as f64));
        let dy = || y.iter().map(move |&v| v as f64 - mean_y);
        let dp = || p.iter().map(move |&v| v as f64 - mean_p);
        Self {
            mean_y,
            mean_p,
            var_y: mean(dy().map(|d| d * d)),
            var_p: mean(dp().map(|d| d * d)),
            cov: mean(dy().zip(dp()).map(|(a, b)| a * b)),
        }
    }
}

fn pearson(m: &Moments) -> f64 {
    let den = (m.var_y * m.var_p).sqrt();
    if den > 0.0 { m.cov / den } else { 0.0 }
}

fn ccc(m: &Moments) -> f64 {
    let den = m.var_y + m.var_p + (m.mean_y - m.mean_p).powi(2);
    if den > 0.0 { 2.0 * m.cov / den } else { 0.0 }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u64), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

impl RegressionReport {
    /// `pearson`, `ccc`, `mae`, `mse` (means over targets), then `<metric>/<target>`.
    pub fn named_values(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = REGRESSION_METRICS
            .iter()
            .zip([self.pearson, self.ccc, self.mae, self.mse])
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        for s in &self.per_target {
            for (metric, value) in REGRESSION_METRICS
                .iter()
                .zip([s.pearson, s.ccc, s.mae, s.mse])
            {
                out.push((format!("{metric}/{}", s.target), value));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y = [1, 2, 3, 4], p = [2, 2, 4, 4] by hand: means 2.5 and 3; population variances 1.25
    /// and 1; covariance (1.5*1 + 0.5*1 + 0.5*1 + 1.5*1)/4 = 1.
    /// Pearson 1 / sqrt(1.25) ; CCC 2 / (1.25 + 1 + 0.25) = 0.8 ; MAE 0.5 ; MSE 0.5.
    #[test]
    fn matches_hand_arithmetic() {
        let r = regression_report(
            &["valence"],
            &[vec![1.0, 2.0, 3.0, 4.0]],
            &[vec![2.0, 2.0, 4.0, 4.0]],
        );
        let s = &r.per_target[0];
        assert!(
            (s.pearson - 1.0 / 1.25f64.sqrt()).abs() < 1e-12,
            "{}",
            s.pearson
        );
        assert!((s.ccc - 0.8).abs() < 1e-12, "{}", s.ccc);
        assert!((s.mae - 0.5).abs() < 1e-12);
        assert!((s.mse - 0.5).abs() < 1e-12);
    }

    /// A shifted copy correlates perfectly but is not concordant: Pearson 1, CCC below 1.
    /// y = [1,2,3], p = y + 1: variances 2/3, covariance 2/3, CCC (4/3) / (4/3 + 1) = 4/7.
    #[test]
    fn ccc_penalises_bias_that_pearson_ignores_and_means_average_targets() {
        let r = regression_report(
            &["valence", "arousal"],
            &[vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0]],
            &[vec![2.0, 3.0, 4.0], vec![1.0, 2.0, 3.0]],
        );
        assert!((r.per_target[0].pearson - 1.0).abs() < 1e-12);
        assert!((r.per_target[0].ccc - 4.0 / 7.0).abs() < 1e-12);
        assert!((r.per_target[1].ccc - 1.0).abs() < 1e-12);
        assert!((r.ccc - (4.0 / 7.0 + 1.0) / 2.0).abs() < 1e-12);
        assert!((r.mae - 0.5).abs() < 1e-12);
        let names: Vec<String> = r.named_values().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"ccc/arousal".to_string()));
    }

    #[test]
    fn constant_prediction_has_zero_correlation() {
        let r = regression_report(&["arousal"], &[vec![1.0, 3.0]], &[vec![2.0, 2.0]]);
        assert_eq!((r.pearson, r.ccc), (0.0, 0.0));
    }
}
