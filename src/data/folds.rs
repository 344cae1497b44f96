//! Fold protocols. Each fold tests on one part of the corpus and carves a validation set out of
//! the rest; the test part is never used for model selection.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;

use super::split_files::{read_id_list, shared_ids};
use super::{Corpus, DataError};
use crate::config::{SplitConfig, SplitFiles, SplitProtocol};

/// Indices into the corpus' examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fold {
    /// 0-based fold number.
    pub index: usize,
    /// What `[fold.<name>]` and the summary call it: the 1-based number, or the emotion under
    /// `per_emotion`.
    pub name: String,
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

/// Split the corpus into folds under `split`, deterministically from `seed`.
///
/// Training-only examples (`label_transform`) are never validated or tested. One joins a
/// fold's training part only when nothing of its own is held out there: under
/// `leave_session_out` / `leave_speaker_out` its session / speaker must not be the fold's test
/// group, and under `files` its id must not be listed for valid or test. Otherwise the model
/// would train on an utterance of the very session or speaker it is scored on.
pub fn make_folds(corpus: &Corpus, split: &SplitConfig, seed: u64) -> Result<Vec<Fold>, DataError> {
    let labels = corpus.labels();
    let eligible: Vec<usize> = (0..labels.len())
        .filter(|&i| !corpus.examples[i].train_only)
        .collect();
    check_fold_count(corpus, split, &labels, &eligible)?;
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
        SplitProtocol::PerEmotion => return given_folds(corpus),
        SplitProtocol::Files => {
            let files = split.files.as_ref().ok_or_else(|| {
                DataError::key("split.files", "protocol = \"files\" needs split.files")
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
        return Err(DataError::key(
            "split.protocol",
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
            let held_out = HeldOut::of_test(corpus, split.protocol, &test);
            add_train_only(&mut train, corpus, |i| !held_out.holds(corpus, i));
            Fold {
                index,
                name: (index + 1).to_string(),
                train,
                valid,
                test,
            }
        })
        .collect())
}

/// The corpus' own named splits (`per_emotion`: one per emotion of the CMU pickle).
fn given_folds(corpus: &Corpus) -> Result<Vec<Fold>, DataError> {
    if corpus.given_splits.is_empty() {
        return Err(DataError::key(
            "split.protocol",
            "\"per_emotion\" needs a corpus that stores its own per-emotion splits (dataset.kind = \"iemocap_cmu_pickle\")",
        ));
    }
    Ok(corpus
        .given_splits
        .iter()
        .enumerate()
        .map(|(index, s)| Fold {
            index,
            name: s.name.clone(),
            train: s.train.clone(),
            valid: s.valid.clone(),
            test: s.test.clone(),
        })
        .collect())
}

/// Refuse a fold count that leaves some fold without test examples: more folds than usable
/// utterances, or, for the stratified protocol, than the utterances of some class.
fn check_fold_count(
    corpus: &Corpus,
    split: &SplitConfig,
    labels: &[usize],
    eligible: &[usize],
) -> Result<(), DataError> {
    let k = split.folds;
    let kfold = matches!(
        split.protocol,
        SplitProtocol::KfoldContiguous | SplitProtocol::KfoldStratified | SplitProtocol::Random
    );
    if !kfold {
        return Ok(());
    }
    if k > eligible.len() {
        return Err(DataError::key(
            "split.folds",
            format!(
                "found {k}, but the corpus has {} usable utterances that can be tested; expected at most {}",
                eligible.len(),
                eligible.len()
            ),
        ));
    }
    if split.protocol == SplitProtocol::KfoldStratified {
        for members in members_by_class(labels, eligible) {
            if members.len() < k {
                let class = &corpus.classes[labels[members[0]]];
                return Err(DataError::key(
                    "split.folds",
                    format!(
                        "found {k}, but class {class:?} has only {} usable utterance(s), so some stratified folds would test none of it; expected at most {} folds, or drop the class from dataset.classes",
                        members.len(),
                        members.len()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The session or speaker a grouped protocol holds out in one fold.
enum HeldOut {
    Nothing,
    Sessions(BTreeSet<u32>),
    Speakers(BTreeSet<String>),
}

impl HeldOut {
    fn of_test(corpus: &Corpus, protocol: SplitProtocol, test: &[usize]) -> Self {
        let examples = test.iter().map(|&i| &corpus.examples[i]);
        match protocol {
            SplitProtocol::LeaveSessionOut => Self::Sessions(examples.map(|e| e.session).collect()),
            SplitProtocol::LeaveSpeakerOut => {
                Self::Speakers(examples.map(|e| e.speaker.clone()).collect())
            }
            _ => Self::Nothing,
        }
    }

    fn holds(&self, corpus: &Corpus, i: usize) -> bool {
        let e = &corpus.examples[i];
        match self {
            Self::Nothing => false,
            Self::Sessions(s) => s.contains(&e.session),
            Self::Speakers(s) => s.contains(&e.speaker),
        }
    }
}

/// Append the corpus' training-only examples that `allowed` admits to `train`.
fn add_train_only(train: &mut Vec<usize>, corpus: &Corpus, allowed: impl Fn(usize) -> bool) {
    train.extend(
        (0..corpus.examples.len()).filter(|&i| corpus.examples[i].train_only && allowed(i)),
    );
    train.sort_unstable();
}

/// Seed 001's protocol: the utterance ids listed in each split file. Listed ids that the corpus
/// lacks (dropped rows) and corpus rows that no list names are logged with their counts; an id
/// listed twice is refused. Training-only examples follow `make_folds`' rule: never validated
/// or tested, trained on unless their id is listed for valid or test.
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
    let mut lists: Vec<(&Path, Vec<String>)> = vec![(&files.train, read_id_list(&files.train)?)];
    if let Some(valid) = &files.valid {
        lists.push((valid, read_id_list(valid)?));
    }
    lists.push((&files.test, read_id_list(&files.test)?));
    refuse_overlaps(&lists)?;
    let resolve = |path: &Path, ids: &[String]| -> Vec<usize> {
        let found: Vec<usize> = ids
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .collect();
        if found.len() < ids.len() {
            tracing::warn!(
                file = %path.display(),
                listed = ids.len(),
                missing = ids.len() - found.len(),
                "split list names utterances the corpus does not hold (dropped rows?)"
            );
        }
        found
    };
    let resolved: Vec<Vec<usize>> = lists.iter().map(|(p, ids)| resolve(p, ids)).collect();
    // Training-only rows are never validated or tested.
    let scored = |v: &[usize]| -> Vec<usize> {
        v.iter()
            .copied()
            .filter(|&i| !corpus.examples[i].train_only)
            .collect()
    };
    let listed_train = &resolved[0];
    let mut test = scored(resolved.last().expect("train and test lists"));
    let (mut train, mut valid) = match &files.valid {
        Some(_) => (scored(listed_train), scored(&resolved[1])),
        None => carve_validation(&scored(listed_train), labels, valid_ratio, seed),
    };
    let flags = |lists: &[Vec<usize>]| {
        let mut on = vec![false; corpus.examples.len()];
        lists.iter().flatten().for_each(|&i| on[i] = true);
        on
    };
    let held_out = flags(&resolved[1..]);
    add_train_only(&mut train, corpus, |i| !held_out[i]);
    let listed = flags(&resolved);
    let unlisted = (0..listed.len())
        .filter(|&i| !listed[i] && !corpus.examples[i].train_only)
        .count();
    if unlisted > 0 {
        tracing::warn!(unlisted, "corpus utterances in no split list are not used");
    }
    if train.is_empty() || test.is_empty() {
        return Err(DataError::format(
            &files.train,
            "the train or test list names no utterance of the corpus; check that the ids match the loader's ids",
        ));
    }
    test.sort_unstable();
    valid.sort_unstable();
    Ok(Fold {
        index: 0,
        name: "1".to_string(),
        train,
        valid,
        test,
    })
}

/// An id in two split lists would be trained and scored at once.
fn refuse_overlaps(lists: &[(&Path, Vec<String>)]) -> Result<(), DataError> {
    let clashes: Vec<String> = shared_ids(lists.iter().map(|(path, ids)| (*path, ids.as_slice())))
        .into_iter()
        .map(|(id, first, second)| format!("{id} ({} and {})", first.display(), second.display()))
        .collect();
    if clashes.is_empty() {
        return Ok(());
    }
    let shown = clashes
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    Err(DataError::key(
        "split.files",
        format!(
            "{} utterance id(s) are listed in more than one split list: {shown}{}; expected every id in one list only",
            clashes.len(),
            if clashes.len() > 10 { ", ..." } else { "" }
        ),
    ))
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

    fn corpus(n: usize) -> Corpus {
        Corpus {
            classes: ["a", "b", "c", "d"].map(String::from).to_vec(),
            examples: labels(n)
                .into_iter()
                .enumerate()
                .map(|(i, y)| Example::for_test(i, y))
                .collect(),
            dropped: vec![],
            rows_read: n,
            ..Default::default()
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

    /// A training-only row of the held-out session or speaker must not be trained on: that
    /// would train on the very group the fold scores.
    #[test]
    fn train_only_rows_of_the_held_out_group_are_not_trained_on() {
        let mut c = corpus(100); // sessions 1..=5 of 20 rows, speakers s0, s1, s2
        for i in [5, 25, 45, 65, 85, 86] {
            c.examples[i].train_only = true;
        }
        let folds = make_folds(&c, &split(SplitProtocol::LeaveSessionOut, 0, 0.1), 1).unwrap();
        for f in &folds {
            let held: u32 = c.examples[f.test[0]].session;
            for i in [5, 25, 45, 65, 85, 86] {
                let same_session = c.examples[i].session == held;
                assert_eq!(
                    f.train.contains(&i),
                    !same_session,
                    "fold {} (session {held}) and train-only row {i}",
                    f.index
                );
            }
            assert_covers_once_except_tests(f, &c);
        }
        let folds = make_folds(&c, &split(SplitProtocol::LeaveSpeakerOut, 0, 0.1), 1).unwrap();
        for f in &folds {
            let held = &c.examples[f.test[0]].speaker;
            for &i in &f.train {
                assert!(
                    !(c.examples[i].train_only && &c.examples[i].speaker == held),
                    "fold {} trains on train-only row {i} of held-out speaker {held}",
                    f.index
                );
            }
        }
    }

    #[test]
    fn too_many_folds_are_refused_with_the_key() {
        let c = corpus(36);
        let err = make_folds(&c, &split(SplitProtocol::Random, 100_000, 0.1), 1).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("split.folds") && msg.contains("100000") && msg.contains("36"),
            "{msg}"
        );
        let err = make_folds(&c, &split(SplitProtocol::KfoldStratified, 12, 0.1), 1).unwrap_err();
        assert!(err.to_string().contains("class"), "{err}");
        assert!(make_folds(&c, &split(SplitProtocol::KfoldStratified, 5, 0.1), 1).is_ok());
    }

    #[test]
    fn split_files_refuse_overlaps_and_keep_train_only_rows_out_of_scoring() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, ids: &[usize]| {
            let path = dir.path().join(name);
            let text: String = ids.iter().map(|i| format!("u{i:03}\n")).collect();
            std::fs::write(&path, text).unwrap();
            path
        };
        let mut c = corpus(50);
        for i in [2, 35, 45, 49] {
            c.examples[i].train_only = true;
        }
        let mut cfg = split(SplitProtocol::Files, 0, 0.25);
        cfg.files = Some(SplitFiles {
            train: write("train.txt", &(0..30).collect::<Vec<_>>()),
            valid: Some(write("valid.txt", &(30..40).collect::<Vec<_>>())),
            test: write("test.txt", &(40..48).collect::<Vec<_>>()),
        });
        let f = &make_folds(&c, &cfg, 1).unwrap()[0];
        assert!(f.train.contains(&2), "listed for training");
        assert!(f.train.contains(&49), "unlisted train-only rows train");
        assert!(
            !f.train.contains(&35) && !f.valid.contains(&35),
            "listed for valid: held out"
        );
        assert!(
            !f.train.contains(&45) && !f.test.contains(&45),
            "listed for test: held out"
        );
        assert_covers_once_except_tests(f, &c);

        cfg.files.as_mut().unwrap().test = write("test.txt", &[40, 41, 12, 33]);
        let msg = make_folds(&c, &cfg, 1).unwrap_err().to_string();
        assert!(
            msg.contains("split.files") && msg.contains("u012") && msg.contains("u033"),
            "{msg}"
        );
        assert!(msg.contains("2 utterance id(s)"), "{msg}");
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
            std::fs::write(&path, text + &format!("missing_{name}\n")).unwrap();
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
