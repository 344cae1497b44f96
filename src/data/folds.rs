//! Fold protocols. Each fold tests on one part of the corpus and carves a validation set out of
//! the rest; the test part is never used for model selection.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::config::SplitProtocol;

/// Indices into the corpus' examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fold {
    /// 0-based fold number.
    pub index: usize,
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

/// Split `labels.len()` examples into `k` folds under `protocol`, deterministically from `seed`.
pub fn make_folds(
    labels: &[usize],
    protocol: SplitProtocol,
    k: usize,
    valid_ratio: f64,
    seed: u64,
) -> Vec<Fold> {
    let test_parts = match protocol {
        SplitProtocol::KfoldContiguous => contiguous_blocks(labels.len(), k),
        SplitProtocol::KfoldStratified => stratified_parts(labels, k, seed),
    };
    test_parts
        .into_iter()
        .enumerate()
        .map(|(index, test)| {
            let mut in_test = vec![false; labels.len()];
            test.iter().for_each(|&i| in_test[i] = true);
            let rest: Vec<usize> = (0..labels.len()).filter(|&i| !in_test[i]).collect();
            let fold_seed = seed.wrapping_add(1 + index as u64);
            let (train, valid) = carve_validation(&rest, labels, valid_ratio, fold_seed);
            Fold {
                index,
                train,
                valid,
                test,
            }
        })
        .collect()
}

/// Seed 004's protocol: block `j` is `[floor(n*j/k), floor(n*(j+1)/k))` in file order.
fn contiguous_blocks(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0..k)
        .map(|j| (n * j / k..n * (j + 1) / k).collect())
        .collect()
}

/// Shuffle each class, then deal its members round-robin over the folds, continuing where the
/// previous class stopped, so fold sizes differ by at most one and class shares match.
fn stratified_parts(labels: &[usize], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut parts = vec![Vec::new(); k];
    let mut next = 0;
    for members in members_by_class(labels, &(0..labels.len()).collect::<Vec<_>>()) {
        let mut members = members;
        members.shuffle(&mut rng);
        for i in members {
            parts[next % k].push(i);
            next += 1;
        }
    }
    parts.iter_mut().for_each(|p| p.sort_unstable());
    parts
}

/// Stratified random carve-out: `round(ratio * n_c)` of each class go to validation (at least
/// one when the class has two or more training examples).
fn carve_validation(
    pool: &[usize],
    labels: &[usize],
    ratio: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for mut members in members_by_class(labels, pool) {
        members.shuffle(&mut rng);
        let mut n_valid = (ratio * members.len() as f64).round() as usize;
        if n_valid == 0 && members.len() >= 2 {
            n_valid = 1;
        }
        valid.extend_from_slice(&members[..n_valid]);
        train.extend_from_slice(&members[n_valid..]);
    }
    train.sort_unstable();
    valid.sort_unstable();
    (train, valid)
}

/// Members of `pool` grouped by label, classes in ascending order, members in pool order.
fn members_by_class(labels: &[usize], pool: &[usize]) -> Vec<Vec<usize>> {
    let n_classes = pool.iter().map(|&i| labels[i] + 1).max().unwrap_or(0);
    let mut groups = vec![Vec::new(); n_classes];
    for &i in pool {
        groups[labels[i]].push(i);
    }
    groups.into_iter().filter(|g| !g.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<usize> {
        (0..n)
            .map(|i| if i % 10 < 4 { 0 } else { 1 + i % 3 })
            .collect()
    }

    fn assert_partition(folds: &[Fold], n: usize) {
        let mut tested: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
        tested.sort_unstable();
        assert_eq!(
            tested,
            (0..n).collect::<Vec<_>>(),
            "each example is tested exactly once"
        );
        for f in folds {
            let mut all: Vec<usize> = f
                .train
                .iter()
                .chain(&f.valid)
                .chain(&f.test)
                .copied()
                .collect();
            all.sort_unstable();
            assert_eq!(
                all,
                (0..n).collect::<Vec<_>>(),
                "fold {} covers every example once",
                f.index
            );
        }
    }

    #[test]
    fn contiguous_blocks_match_seed_004_sizes() {
        // KEMDy20: 13,462 rows give test sizes 2692, 2692, 2693, 2692, 2693 (seed 004 §B.3).
        let sizes: Vec<usize> = contiguous_blocks(13_462, 5).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![2692, 2692, 2693, 2692, 2693]);
        let sizes: Vec<usize> = contiguous_blocks(20_554, 5).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![4110, 4111, 4111, 4111, 4111]);
    }

    #[test]
    fn contiguous_folds_partition_in_file_order() {
        let y = labels(103);
        let folds = make_folds(&y, SplitProtocol::KfoldContiguous, 5, 0.1, 7);
        assert_partition(&folds, y.len());
        assert_eq!(folds[0].test, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn stratified_folds_keep_class_shares_and_are_deterministic() {
        let y = labels(200);
        let folds = make_folds(&y, SplitProtocol::KfoldStratified, 5, 0.2, 3);
        assert_partition(&folds, y.len());
        for f in &folds {
            assert_eq!(f.test.len(), 40);
            let zeros = f.test.iter().filter(|&&i| y[i] == 0).count();
            assert_eq!(zeros, 16, "class 0 is 40% of every test fold");
            let valid_share = f.valid.len() as f64 / (f.valid.len() + f.train.len()) as f64;
            assert!(
                (valid_share - 0.2).abs() < 0.02,
                "valid share {valid_share}"
            );
        }
        assert_eq!(
            folds,
            make_folds(&y, SplitProtocol::KfoldStratified, 5, 0.2, 3)
        );
        assert_ne!(
            folds,
            make_folds(&y, SplitProtocol::KfoldStratified, 5, 0.2, 4)
        );
    }
}
