//! Seed 001's top-p (nucleus) site selection, `to_sparse_by_cdf`, for one frame's attention
//! weights over its sites (seed spec §2.3):
//!
//! 1. sort the weights in descending order and take their cumulative sum `c`;
//! 2. `mask = c < p`, then `mask[sum(mask)] = True`: sites join in order of attention until the
//!    mass first reaches `p`, the site that crosses `p` included, and at least one site always;
//! 3. the kept sites form a hard mask (the selection runs on detached weights).
//!
//! What PyTorch does where the source is silent, and what this follows:
//! - ties: `torch.sort` on the CPU is stable, so among equal weights the earlier site comes
//!   first;
//! - the cumulative sum of float32 weights accumulates in double on the CPU and is stored as
//!   float32, and `c < p` compares in float32 (`p` rounded to it);
//! - where every cumulative sum stays below `p` (p at or above the total mass, 1.0 under
//!   rounding), the seed's `mask[sum(mask)]` indexes past the end and raises; here every site
//!   is kept, which is what the selection means there.

/// Which of a frame's sites the top-p selection keeps, in site order. `weights` are one frame's
/// attention weights (a softmax: finite and non-negative); an empty frame keeps nothing.
pub fn top_p_keep(weights: &[f32], p: f64) -> Vec<bool> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Stable: equal weights keep their site order.
    order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
    let threshold = p as f32;
    let mut sum = 0f64;
    let below = order
        .iter()
        .take_while(|&&site| {
            sum += f64::from(weights[site]);
            (sum as f32) < threshold
        })
        .count();
    let kept = (below + 1).min(weights.len());
    let mut keep = vec![false; weights.len()];
    order[..kept].iter().for_each(|&site| keep[site] = true);
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(weights: &[f32], p: f64) -> Vec<usize> {
        let keep = top_p_keep(weights, p);
        (0..keep.len()).filter(|&i| keep[i]).collect()
    }

    #[test]
    fn sites_join_by_weight_until_the_mass_crosses_p_and_the_crossing_site_stays() {
        let w = [0.1, 0.4, 0.2, 0.3];
        // Sorted 0.4, 0.3, 0.2, 0.1 → c = 0.4, 0.7, 0.9, 1.0.
        assert_eq!(kept(&w, 0.35), vec![1]); // 0.4 crosses at once
        assert_eq!(kept(&w, 0.5), vec![1, 3]); // 0.4 < 0.5, 0.7 crosses
        assert_eq!(kept(&w, 0.8), vec![1, 2, 3]); // 0.4, 0.7 < 0.8; 0.9 crosses
        assert_eq!(kept(&w, 0.95), vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_cumulative_sum_equal_to_p_is_not_below_it() {
        // c = 0.5, 1.0: with p = 0.5 the first site already reaches p (0.5 < 0.5 is false).
        assert_eq!(kept(&[0.5, 0.5], 0.5), vec![0]);
        assert_eq!(kept(&[0.25, 0.25, 0.5], 0.75), vec![0, 2]);
    }

    #[test]
    fn ties_keep_the_earlier_site_first() {
        assert_eq!(kept(&[0.25, 0.25, 0.25, 0.25], 0.3), vec![0, 1]);
        assert_eq!(kept(&[0.2, 0.3, 0.2, 0.3], 0.4), vec![1, 3]);
        assert_eq!(kept(&[0.2, 0.3, 0.2, 0.3], 0.65), vec![0, 1, 3]);
    }

    #[test]
    fn at_least_one_site_and_at_most_all() {
        assert_eq!(kept(&[0.1, 0.9], 0.0), vec![1]);
        assert_eq!(kept(&[0.1, 0.9], -1.0), vec![1]);
        assert_eq!(kept(&[0.1, 0.9], 1.0), vec![0, 1]);
        // The mass never reaches p: the seed would index past the end; every site is kept.
        assert_eq!(kept(&[0.1, 0.8], 1.0), vec![0, 1]);
        assert_eq!(kept(&[1.0], 0.7), vec![0]);
        assert!(top_p_keep(&[], 0.7).is_empty());
    }

    #[test]
    fn a_smaller_p_never_keeps_more() {
        let w: Vec<f32> = (1..=50)
            .map(|i| ((i * 37) % 17 + 1) as f32 / 500.0)
            .collect();
        let counts: Vec<usize> = [0.5, 0.7, 0.8, 0.9]
            .iter()
            .map(|&p| kept(&w, p).len())
            .collect();
        assert!(counts.windows(2).all(|c| c[0] <= c[1]), "{counts:?}");
        assert!(counts[0] < counts[3]);
    }
}
