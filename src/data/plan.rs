//! The data a run trains and scores on, settled before any run directory exists: the usable
//! corpus, its folds, and the checks that refuse a corpus and config that do not fit together.
//!
//! Everything here depends on the dataset, the split table and the split seed only, never on
//! the method or the encoders, so every method of a comparison sees the same corpus and folds;
//! [`DataPlan::fingerprint`] lets a user (and the report) check that two runs share them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::audio::screen::drop_unusable_audio;
use super::{Corpus, DataError, Fold, make_folds, prepare_corpus};
use crate::config::{
    Arrival, ClassWeightRule, ClassWeights, DatasetConfig, Experiment, Modality, TaskKind,
};

pub struct DataPlan {
    pub corpus: Corpus,
    pub folds: Vec<Fold>,
}

/// One row of `folds.parquet`: which split of which fold an utterance is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoldMember {
    pub fold: u32,
    pub split: &'static str,
    pub utterance_id: String,
    pub train_only: bool,
}

/// Read the corpus at `dataset` (generating a synthetic one on first use) and keep the
/// utterances whose audio decodes (when the corpus delivers audio as clips), under
/// `[dataset.faces]` that have a usable video frame, and under `[dataset.hcf]` that the
/// feature files hold.
pub fn usable_corpus(dataset: &DatasetConfig, quiet: bool) -> anyhow::Result<Corpus> {
    let mut corpus = prepare_corpus(dataset)?;
    if dataset.streams().get(&Modality::Audio) == Some(&Arrival::Raw) {
        drop_unusable_audio(&mut corpus, quiet, dataset.strict)?;
    }
    if let Some(faces) = &dataset.faces {
        super::frames::attach_faces(&mut corpus, dataset, faces, quiet)?;
    }
    if let Some(hcf) = &dataset.hcf {
        super::hcf::attach_hcf(&mut corpus, dataset, hcf)?;
    }
    Ok(corpus)
}

/// Split a usable corpus under `exp.split` and refuse a degenerate outcome.
pub fn plan_folds(exp: &Experiment, corpus: Corpus) -> anyhow::Result<DataPlan> {
    let plan = DataPlan::split(exp, corpus)?;
    plan.check(exp)?;
    Ok(plan)
}

/// [`usable_corpus`] then [`plan_folds`].
pub fn plan_data(
    exp: &Experiment,
    dataset: &DatasetConfig,
    quiet: bool,
) -> anyhow::Result<DataPlan> {
    plan_folds(exp, usable_corpus(dataset, quiet)?)
}

impl DataPlan {
    /// The folds of `corpus` under `exp.split`, without the checks of [`DataPlan::check`]
    /// (`inspect` shows a degenerate plan and names its problem; a run refuses it).
    pub fn split(exp: &Experiment, corpus: Corpus) -> Result<Self, DataError> {
        let split_seed = exp.split.seed.unwrap_or(exp.seed);
        let folds = make_folds(&corpus, &exp.split, split_seed)?;
        Ok(Self { corpus, folds })
    }

    /// Refuse a plan that cannot give a meaningful result: a class no utterance carries, an
    /// empty split in some fold, "balanced" weights for a class missing from a fold.
    pub fn check(&self, exp: &Experiment) -> Result<(), DataError> {
        check_classes_present(exp, &self.corpus)?;
        check_fold_overrides(exp, &self.folds)?;
        check_folds(exp, &self.corpus, &self.folds)
    }

    /// Every utterance's place in every fold, folds in order, splits train/valid/test.
    pub fn members(&self) -> Vec<FoldMember> {
        let mut rows = Vec::new();
        for fold in &self.folds {
            for (split, indices) in [
                ("train", &fold.train),
                ("valid", &fold.valid),
                ("test", &fold.test),
            ] {
                rows.extend(indices.iter().map(|&i| FoldMember {
                    fold: fold.index as u32,
                    split,
                    utterance_id: self.corpus.examples[i].id.clone(),
                    train_only: self.corpus.examples[i].train_only,
                }));
            }
        }
        rows
    }

    /// blake3 of the fold membership (`fold, split, utterance_id, train_only` per row, in the
    /// order of [`DataPlan::members`]): equal for two runs exactly when they share their folds.
    pub fn fingerprint(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for m in self.members() {
            hasher.update(
                format!(
                    "{}\t{}\t{}\t{}\n",
                    m.fold, m.split, m.utterance_id, m.train_only
                )
                .as_bytes(),
            );
        }
        hasher.finalize().to_hex().to_string()
    }
}

/// `[fold.<name>]` must name a fold of this run: a misspelt emotion would otherwise train that
/// emotion with the file's settings while the table looks tuned.
fn check_fold_overrides(exp: &Experiment, folds: &[Fold]) -> Result<(), DataError> {
    let names: Vec<&str> = folds.iter().map(|f| f.name.as_str()).collect();
    match exp.fold.keys().find(|k| !names.contains(&k.as_str())) {
        None => Ok(()),
        Some(name) => Err(DataError::key(
            &format!("fold.{name}"),
            format!(
                "no fold of this run is named {name:?}; its folds are {} (split.protocol = {:?})",
                names.join(", "),
                exp.split.protocol
            ),
        )),
    }
}

/// Whether the task reads the class labels at all (pure regression does not).
fn uses_classes(exp: &Experiment) -> bool {
    exp.task.kind != TaskKind::Regression
}

/// A class of `dataset.classes` that no usable utterance carries can never be learned or
/// scored; it is nearly always a misspelling or the wrong corpus.
fn check_classes_present(exp: &Experiment, corpus: &Corpus) -> Result<(), DataError> {
    if !uses_classes(exp) {
        return Ok(());
    }
    let mut counts = vec![0usize; corpus.classes.len()];
    corpus
        .examples
        .iter()
        .flat_map(|e| &e.labels)
        .for_each(|&c| counts[c] += 1);
    let absent: Vec<&str> = corpus
        .classes
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n == 0)
        .map(|(c, _)| c.as_str())
        .collect();
    if absent.is_empty() {
        return Ok(());
    }
    let dropped: BTreeMap<String, usize> = corpus.dropped_by_reason();
    Err(DataError::key(
        "dataset.classes",
        format!(
            "{absent:?} occur(s) in none of the {} usable utterances of {}; expected classes the corpus contains (check the spelling, or remove them). Rows dropped: {dropped:?}",
            corpus.examples.len(),
            exp.dataset.root.display(),
        ),
    ))
}

/// Every fold needs a non-empty train, valid and test split, and "balanced" class weights need
/// every class in every fold's training split.
fn check_folds(exp: &Experiment, corpus: &Corpus, folds: &[Fold]) -> Result<(), DataError> {
    for fold in folds {
        for (split, indices, key) in [
            ("train", &fold.train, "split.protocol"),
            ("valid", &fold.valid, "split.valid_ratio"),
            ("test", &fold.test, "split.protocol"),
        ] {
            if indices.is_empty() {
                return Err(DataError::key(
                    key,
                    format!(
                        "fold {} of {} has an empty {split} split ({} usable utterances, split.protocol = {:?}); expected every fold to train, validate and test on at least one utterance",
                        fold.name,
                        folds.len(),
                        corpus.examples.len(),
                        exp.split.protocol,
                    ),
                ));
            }
        }
    }
    if exp.task.class_weights == ClassWeights::Named(ClassWeightRule::Balanced) {
        check_balanced_weights(corpus, folds)?;
    }
    if exp.task.class_weights == ClassWeights::Named(ClassWeightRule::PositiveRatio) {
        check_positive_ratio_weights(corpus, folds)?;
    }
    Ok(())
}

/// The positive weight `(n - positives) / positives` is undefined for a class that no training
/// utterance carries (PyTorch would train with an infinite weight); say which class and fold.
fn check_positive_ratio_weights(corpus: &Corpus, folds: &[Fold]) -> Result<(), DataError> {
    for fold in folds {
        let positives = positive_counts(corpus, &fold.train);
        if let Some(c) = positives.iter().position(|&n| n == 0) {
            return Err(DataError::key(
                "task.class_weights",
                format!(
                    "found \"positive_ratio\", but no training utterance of fold {} of {} carries {:?}, so its weight (n - positives) / positives is undefined; expected \"none\", or dataset.classes without {:?}",
                    fold.name,
                    folds.len(),
                    corpus.classes[c],
                    corpus.classes[c]
                ),
            ));
        }
    }
    Ok(())
}

/// How many of `indices` carry each class among their labels (every label of a multi-hot row).
pub fn positive_counts(corpus: &Corpus, indices: &[usize]) -> Vec<usize> {
    let mut counts = vec![0usize; corpus.classes.len()];
    for &i in indices {
        corpus.examples[i]
            .labels
            .iter()
            .for_each(|&c| counts[c] += 1);
    }
    counts
}

/// scikit-learn's "balanced" weight `n / (k * n_c)` is undefined for a class with no training
/// example (scikit-learn refuses it too); say which class and fold.
fn check_balanced_weights(corpus: &Corpus, folds: &[Fold]) -> Result<(), DataError> {
    for fold in folds {
        let counts = corpus.class_counts(fold.train.iter().copied());
        if let Some((class, _)) = counts.iter().find(|(_, n)| **n == 0) {
            return Err(DataError::key(
                "task.class_weights",
                format!(
                    "found \"balanced\", but class {class:?} has no training example in fold {} of {}, so its weight n / (classes * count) is undefined; expected explicit weights, \"none\", or dataset.classes without {class:?}",
                    fold.name,
                    folds.len()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Example;

    fn corpus() -> Corpus {
        Corpus {
            classes: vec!["a".into(), "b".into()],
            examples: (0..6).map(|i| Example::for_test(i, i % 2)).collect(),
            dropped: vec![],
            rows_read: 6,
            ..Default::default()
        }
    }

    /// An empty validation split must be refused: selecting on it would silently keep epoch 1.
    #[test]
    fn an_empty_split_in_any_fold_is_refused_with_the_fold_named() {
        let exp = Experiment::default();
        let fold = |valid: Vec<usize>| Fold {
            index: 1,
            name: "2".into(),
            train: vec![0, 1],
            valid,
            test: vec![4, 5],
        };
        let plan = DataPlan {
            corpus: corpus(),
            folds: vec![fold(vec![2, 3]), fold(vec![])],
        };
        let err = plan.check(&exp).unwrap_err().to_string();
        assert!(
            err.contains("split.valid_ratio")
                && err.contains("fold 2 of 2")
                && err.contains("empty valid"),
            "{err}"
        );
        let plan = DataPlan {
            corpus: corpus(),
            folds: vec![fold(vec![2, 3])],
        };
        assert!(plan.check(&exp).is_ok());
    }

    /// The fingerprint changes when one utterance moves to another split.
    #[test]
    fn the_fingerprint_follows_the_membership() {
        let plan = |valid: Vec<usize>, train: Vec<usize>| DataPlan {
            corpus: corpus(),
            folds: vec![Fold {
                index: 0,
                name: "1".into(),
                train,
                valid,
                test: vec![4, 5],
            }],
        };
        let a = plan(vec![2, 3], vec![0, 1]).fingerprint();
        assert_eq!(a, plan(vec![2, 3], vec![0, 1]).fingerprint());
        assert_ne!(a, plan(vec![1, 3], vec![0, 2]).fingerprint());
    }
}
