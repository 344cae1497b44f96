//! Fold protocols. Each fold tests on one part of the corpus and carves a validation set out of
//! the rest; the test part is never used for model selection.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use super::{Corpus, DataError};
use crate::config::{SplitConfig, SplitFiles, SplitProtocol};

/// Indices into the corpus' examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fold {
    /// 0-based fold number.
    pub index: usize,
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

/// Split the corpus into folds under `split`, deterministically from `seed`. Training-only
/// examples (`label_transform`) are added to every fold's training part and never tested.
pub fn make_folds(corpus: &Corpus, split: &SplitConfig, seed: u64) -> Result<Vec<Fold>, DataError> {
    let labels = corpus.labels();
    let eligible: Vec<usize> = (0..labels.len())
        .filter(|&i| !corpus.examples[i].train_only)
        .collect();
    let train_only: Vec<usize> = (0..labels.len())
        .filter(|&i| corpus.examples[i].train_only)
        .collect();
    let parts = match split.protocol {
        SplitProtocol::KfoldContiguous => contiguous_blocks(&eligible, split.folds),
        SplitProtocol::KfoldStratified => stratified_parts(&labels, &eligible, split.folds, seed),
        SplitProtocol::Random => random_parts(&eligible, split.folds, seed),
        SplitProtocol::StratifiedHoldout => {
            vec![stratified_holdout(
                &labels,
                &eligible,
                split.test_ratio,
                seed,
            )]
        }
        SplitProtocol::LeaveSessionOut => grouped_parts(&eligible, |i| corpus.examples[i].session),
        SplitProtocol::LeaveSpeakerOut => {
            grouped_parts(&eligible, |i| corpus.examples[i].speaker.clone())
        }
        SplitProtocol::Files => {
            let files = split.files.as_ref().ok_or_else(|| {
                DataError::format(
                    Path::new("split.files"),
                    "protocol = \"files\" needs split.files",
                )
            })?;
            return Ok(vec![files_fold(
                corpus,
                files,
                &labels,
                split.valid_ratio,
                seed,
            )?]);
        }
    };
    if parts.len() < 2 && split.protocol != SplitProtocol::StratifiedHoldout {
        return Err(DataError::format(
            Path::new("split.protocol"),
            format!(
                "{:?} found {} group(s) in the corpus; a fold needs something left to train on",
                split.protocol,
                parts.len()
            ),
        ));
    }
    Ok(parts
        .into_iter()
        .enumerate()
        .map(|(index, test)| {
            let mut in_test = vec![false; labels.len()];
            test.iter().for_each(|&i| in_test[i] = true);
            let rest: Vec<usize> = eligible.iter().copied().filter(|&i| !in_test[i]).collect();
            let fold_seed = seed.wrapping_add(1 + index as u64);
            let (mut train, valid) = carve_validation(&rest, &labels, split.valid_ratio, fold_seed);
            add_train_only(&mut train, &train_only);
            Fold {
                index,
                train,
                valid,
                test,
            }
        })
        .collect())
}

fn add_train_only(train: &mut Vec<usize>, train_only: &[usize]) {
    train.extend_from_slice(train_only);
    train.sort_unstable();
}

/// Seed 001's protocol: the utterance ids listed in each split file. Listed ids that the corpus
/// lacks (dropped rows) and corpus rows that no list names are logged with their counts.
fn files_fold(
    corpus: &Corpus,
    files: &SplitFiles,
    labels: &[usize],
    valid_ratio: f64,
    seed: u64,
) -> Result<Fold, DataError> {
    let index: HashMap<&str, usize> = corpus
        .examples
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    let mut listed = vec![false; corpus.examples.len()];
    let mut read = |path: &Path| -> Result<Vec<usize>, DataError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        let ids: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let found: Vec<usize> = ids.iter().filter_map(|id| index.get(id).copied()).collect();
        if found.len() < ids.len() {
            tracing::warn!(
                file = %path.display(),
                listed = ids.len(),
                missing = ids.len() - found.len(),
                "split list names utterances the corpus does not hold (dropped rows?)"
            );
        }
        found.iter().for_each(|&i| listed[i] = true);
        Ok(found)
    };
    let mut train = read(&files.train)?;
    let test = read(&files.test)?;
    let valid = match &files.valid {
        Some(path) => read(path)?,
        None => {
            let (kept, valid) = carve_validation(&train, labels, valid_ratio, seed);
            train = kept;
            valid
        }
    };
    let unlisted = listed.iter().filter(|&&l| !l).count();
    if unlisted > 0 {
        tracing::warn!(unlisted, "corpus utterances in no split list are not used");
    }
    if train.is_empty() || test.is_empty() {
        return Err(DataError::format(
            &files.train,
            "the train or test list names no utterance of the corpus; check that the ids match the loader's ids",
        ));
    }
    let sorted = |mut v: Vec<usize>| {
        v.sort_unstable();
        v
    };
    Ok(Fold {
        index: 0,
        train: sorted(train),
        valid: sorted(valid),
        test: sorted(test),
    })
}

/// Seed 004's protocol: block `j` is `[floor(n*j/k), floor(n*(j+1)/k))` in file order.
fn contiguous_blocks(pool: &[usize], k: usize) -> Vec<Vec<usize>> {
    let n = pool.len();
    (0..k)
        .map(|j| pool[n * j / k..n * (j + 1) / k].to_vec())
        .collect()
}

/// A seeded shuffle cut into `k` contiguous parts.
fn random_parts(pool: &[usize], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut order = pool.to_vec();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut parts = contiguous_blocks(&order, k);
    parts.iter_mut().for_each(|p| p.sort_unstable());
    parts
}

/// Seed 000: `round(ratio * n_c)` of each shuffled class are tested. The seed plays the part of
/// scikit-learn's `random_state`; the same seed does not give scikit-learn's exact rows.
fn stratified_holdout(labels: &[usize], pool: &[usize], ratio: f64, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut test = Vec::new();
    for mut members in members_by_class(labels, pool) {
        members.shuffle(&mut rng);
        let n_test = (ratio * members.len() as f64).round() as usize;
        test.extend_from_slice(&members[..n_test]);
    }
    test.sort_unstable();
    test
}

/// One part per distinct key (session or speaker), in key order.
fn grouped_parts<K: Ord>(pool: &[usize], key: impl Fn(usize) -> K) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for &i in pool {
        groups.entry(key(i)).or_default().push(i);
    }
    groups.into_values().collect()
}

/// Shuffle each class, then deal its members round-robin over the folds, continuing where the
/// previous class stopped, so fold sizes differ by at most one and class shares match.
fn stratified_parts(labels: &[usize], pool: &[usize], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut parts = vec![Vec::new(); k];
    let mut next = 0;
    for members in members_by_class(labels, pool) {
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
    use crate::data::Example;

    fn labels(n: usize) -> Vec<usize> {
        (0..n)
            .map(|i| if i % 10 < 4 { 0 } else { 1 + i % 3 })
            .collect()
    }

    fn example(i: usize, label: usize) -> Example {
        Example {
            id: format!("u{i:03}"),
            session: (i / 20) as u32 + 1,
            speaker: format!("s{}", i % 3),
            text: String::new(),
            wav_path: Default::default(),
            label,
            labels: vec![label],
            soft: None,
            valence: None,
            arousal: None,
            train_only: false,
        }
    }

    fn corpus(n: usize) -> Corpus {
        Corpus {
            classes: ["a", "b", "c", "d"].map(String::from).to_vec(),
            examples: labels(n)
                .into_iter()
                .enumerate()
                .map(|(i, y)| example(i, y))
                .collect(),
            dropped: vec![],
            rows_read: n,
        }
    }

    fn split(protocol: SplitProtocol, folds: usize, valid_ratio: f64) -> SplitConfig {
        SplitConfig {
            protocol,
            folds,
            valid_ratio,
            ..Default::default()
        }
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
            assert_covers_once(f, n);
        }
    }

    fn assert_covers_once(f: &Fold, n: usize) {
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

    #[test]
    fn contiguous_blocks_match_seed_004_sizes() {
        // KEMDy20: 13,462 rows give test sizes 2692, 2692, 2693, 2692, 2693 (seed 004: docs/methods/seed-004-etri.md#data).
        let sizes = |n: usize| -> Vec<usize> {
            let pool: Vec<usize> = (0..n).collect();
            contiguous_blocks(&pool, 5).iter().map(Vec::len).collect()
        };
        assert_eq!(sizes(13_462), vec![2692, 2692, 2693, 2692, 2693]);
        assert_eq!(sizes(20_554), vec![4110, 4111, 4111, 4111, 4111]);
    }

    #[test]
    fn contiguous_folds_partition_in_file_order() {
        let folds = make_folds(
            &corpus(103),
            &split(SplitProtocol::KfoldContiguous, 5, 0.1),
            7,
        )
        .unwrap();
        assert_partition(&folds, 103);
        assert_eq!(folds[0].test, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn stratified_folds_keep_class_shares_and_are_deterministic() {
        let c = corpus(200);
        let y = c.labels();
        let cfg = split(SplitProtocol::KfoldStratified, 5, 0.2);
        let folds = make_folds(&c, &cfg, 3).unwrap();
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
        assert_eq!(folds, make_folds(&c, &cfg, 3).unwrap());
        assert_ne!(folds, make_folds(&c, &cfg, 4).unwrap());
    }

    #[test]
    fn random_folds_partition_and_depend_on_the_seed() {
        let c = corpus(101);
        let cfg = split(SplitProtocol::Random, 4, 0.1);
        let folds = make_folds(&c, &cfg, 1).unwrap();
        assert_partition(&folds, 101);
        let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
        assert_eq!(sizes, [25, 25, 25, 26]);
        assert_ne!(folds, make_folds(&c, &cfg, 2).unwrap());
    }

    /// Seed 000: 20% of every class tested, one fold.
    #[test]
    fn stratified_holdout_tests_the_ratio_of_each_class() {
        let c = corpus(200);
        let y = c.labels();
        let folds = make_folds(&c, &split(SplitProtocol::StratifiedHoldout, 5, 0.1), 42).unwrap();
        assert_eq!(folds.len(), 1);
        assert_covers_once(&folds[0], 200);
        for class in 0..4 {
            let n = y.iter().filter(|&&l| l == class).count();
            let tested = folds[0].test.iter().filter(|&&i| y[i] == class).count();
            assert_eq!(tested, (0.2 * n as f64).round() as usize, "class {class}");
        }
    }

    #[test]
    fn leave_session_and_speaker_out_test_each_group_whole() {
        let c = corpus(100); // sessions 1..=5 of 20, speakers s0, s1, s2
        let folds = make_folds(&c, &split(SplitProtocol::LeaveSessionOut, 0, 0.1), 1).unwrap();
        assert_eq!(folds.len(), 5);
        assert_partition(&folds, 100);
        assert_eq!(folds[2].test, (40..60).collect::<Vec<_>>());
        let folds = make_folds(&c, &split(SplitProtocol::LeaveSpeakerOut, 0, 0.1), 1).unwrap();
        assert_eq!(folds.len(), 3);
        assert_partition(&folds, 100);
        assert!(folds[1].test.iter().all(|&i| c.examples[i].speaker == "s1"));
        let one_session = Corpus {
            examples: corpus(10).examples,
            ..corpus(0)
        };
        let err = make_folds(
            &one_session,
            &split(SplitProtocol::LeaveSessionOut, 0, 0.1),
            1,
        );
        assert!(err.unwrap_err().to_string().contains("1 group"));
    }

    #[test]
    fn train_only_examples_join_every_training_part_and_nothing_else() {
        let mut c = corpus(60);
        for i in [3, 30, 59] {
            c.examples[i].train_only = true;
        }
        for protocol in [
            SplitProtocol::KfoldStratified,
            SplitProtocol::StratifiedHoldout,
        ] {
            let folds = make_folds(&c, &split(protocol, 3, 0.2), 5).unwrap();
            for f in &folds {
                assert_covers_once_except_tests(f, &c);
                for i in [3, 30, 59] {
                    assert!(
                        f.train.contains(&i),
                        "{protocol:?} fold {} trains on {i}",
                        f.index
                    );
                }
            }
        }
    }

    fn assert_covers_once_except_tests(f: &Fold, c: &Corpus) {
        assert!(
            f.valid
                .iter()
                .chain(&f.test)
                .all(|&i| !c.examples[i].train_only)
        );
    }

    #[test]
    fn split_files_pick_listed_ids_and_carve_valid_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, ids: &[usize]| {
            let path = dir.path().join(name);
            let text: String = ids.iter().map(|i| format!("u{i:03}\n")).collect();
            std::fs::write(&path, text + "missing_id\n").unwrap();
            path
        };
        let c = corpus(50);
        let mut cfg = split(SplitProtocol::Files, 0, 0.25);
        cfg.files = Some(SplitFiles {
            train: write("train.txt", &(0..30).collect::<Vec<_>>()),
            valid: Some(write("valid.txt", &(30..40).collect::<Vec<_>>())),
            test: write("test.txt", &(40..48).collect::<Vec<_>>()),
        });
        let folds = make_folds(&c, &cfg, 1).unwrap();
        assert_eq!(folds.len(), 1);
        assert_eq!(folds[0].train, (0..30).collect::<Vec<_>>());
        assert_eq!(folds[0].valid, (30..40).collect::<Vec<_>>());
        assert_eq!(
            folds[0].test,
            (40..48).collect::<Vec<_>>(),
            "48 and 49 are unlisted"
        );

        cfg.files.as_mut().unwrap().valid = None;
        let folds = make_folds(&c, &cfg, 1).unwrap();
        assert_eq!(folds[0].train.len() + folds[0].valid.len(), 30);
        assert!(!folds[0].valid.is_empty());
    }
}
