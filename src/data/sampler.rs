//! Training orders of an epoch: a seeded shuffle, or seed 000's class-balanced sampler.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Training order for one epoch: a seeded shuffle, so a resumed epoch sees the same batches.
pub fn shuffled(indices: &[usize], seed: u64) -> Vec<usize> {
    let mut order = indices.to_vec();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order
}

/// Seed 000's weighted sampler: `indices.len()` draws with replacement, each example weighted by
/// 1 / the count of its class among `indices` (PyTorch's `WeightedRandomSampler`), seeded.
pub fn class_balanced(indices: &[usize], labels: &[usize], seed: u64) -> Vec<usize> {
    if indices.is_empty() {
        return Vec::new();
    }
    let mut counts: HashMap<usize, usize> = HashMap::new();
    indices
        .iter()
        .for_each(|&i| *counts.entry(labels[i]).or_default() += 1);
    let weights = indices.iter().map(|&i| 1.0 / counts[&labels[i]] as f64);
    let dist = WeightedIndex::new(weights).expect("positive weights");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..indices.len())
        .map(|_| indices[dist.sample(&mut rng)])
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn class_balanced_draws_each_class_about_equally() {
        // 90 examples of class 0, 10 of class 1: a plain shuffle would show class 1 10% of the
        // time; the balanced sampler about half.
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 90)).collect();
        let indices: Vec<usize> = (0..100).collect();
        let mut ones = 0;
        for seed in 0..20 {
            let order = super::class_balanced(&indices, &labels, seed);
            assert_eq!(order.len(), 100);
            ones += order.iter().filter(|&&i| labels[i] == 1).count();
        }
        let share = ones as f64 / 2000.0;
        assert!(
            (share - 0.5).abs() < 0.05,
            "class 1 drawn {share:.3} of the time"
        );
        assert_eq!(
            super::class_balanced(&indices, &labels, 3),
            super::class_balanced(&indices, &labels, 3)
        );
    }
}
