//! The data fingerprint of a run's identity: what the corpus holds, not where it lies.
//!
//! A cluster node that mounts the corpus under another path resumes the same run, and a corpus
//! that changed (a relabelled row, a new utterance, other folds) is a new run. Audio files count
//! by their path under the dataset root and their size, not their bytes: reading every WAV of
//! a corpus of many gigabytes each time a grid is planned would cost minutes, and a re-encoded
//! file changes its size.

use std::path::Path;

use super::Corpus;
use super::plan::DataPlan;

/// Hex digest of the corpus content and its folds.
pub fn data_fingerprint(plan: &DataPlan, roots: &[&Path]) -> String {
    let mut hasher = blake3::Hasher::new();
    hash_corpus(&mut hasher, &plan.corpus, roots);
    hasher.update(plan.fingerprint().as_bytes());
    hasher.finalize().to_hex().to_string()
}

fn hash_corpus(hasher: &mut blake3::Hasher, corpus: &Corpus, roots: &[&Path]) {
    let line = |hasher: &mut blake3::Hasher, text: String| {
        hasher.update(text.as_bytes());
        hasher.update(b"\n");
    };
    line(hasher, format!("classes {:?}", corpus.classes));
    for e in &corpus.examples {
        line(
            hasher,
            format!(
                "{:?} {} {:?} {:?} {:?} {} {:?} {:?} {:?} {:?} {}",
                e.id,
                e.session,
                e.speaker,
                e.text,
                relative_to_roots(&e.wav_path, roots),
                file_size(&e.wav_path),
                e.label,
                e.labels,
                e.soft,
                (e.valence, e.arousal),
                e.train_only,
            ),
        );
    }
    for (modality, features) in &corpus.features {
        line(hasher, format!("features {modality:?} {}", features.len()));
        for f in features {
            line(hasher, format!("{:?}", f.shape));
            for v in &f.values {
                hasher.update(&v.to_le_bytes());
            }
        }
    }
}

/// `path` under the first of the corpus roots that holds it, with that root's position (the
/// joined corpora of `dataset.also`); the path as given when none does.
fn relative_to_roots(path: &Path, roots: &[&Path]) -> (usize, std::path::PathBuf) {
    roots
        .iter()
        .enumerate()
        .map(|(k, root)| (k, relative_path(path, root)))
        .find(|(_, p)| *p != path)
        .map_or((0, path.to_path_buf()), |(k, p)| (k, p.to_path_buf()))
}

/// `path` under the dataset root (or under the folder holding a root that is a file, such as
/// a manifest); the path as given when it lies elsewhere.
fn relative_path<'p>(path: &'p Path, root: &Path) -> &'p Path {
    let folder = if root.is_file() {
        root.parent().unwrap_or(root)
    } else {
        root
    };
    path.strip_prefix(folder)
        .or_else(|_| path.strip_prefix(root))
        .unwrap_or(path)
}

/// The size of a file, or -1 when it cannot be read (the corpus loader reports such files).
fn file_size(path: &Path) -> i128 {
    std::fs::metadata(path).map_or(-1, |m| i128::from(m.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Example, Fold};

    fn plan(root: &Path, label: usize) -> DataPlan {
        let examples: Vec<Example> = (0..4)
            .map(|i| {
                let mut e = Example::for_test(i, if i == 0 { label } else { i % 2 });
                e.wav_path = root.join(format!("wav/{i}.wav"));
                e
            })
            .collect();
        let corpus = Corpus {
            classes: vec!["a".into(), "b".into()],
            examples,
            ..Default::default()
        };
        let fold = Fold {
            index: 0,
            name: "fold-0".into(),
            train: vec![0, 1],
            valid: vec![],
            test: vec![2, 3],
        };
        DataPlan {
            corpus,
            folds: vec![fold],
        }
    }

    #[test]
    fn a_moved_corpus_keeps_its_fingerprint_and_a_changed_one_does_not() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for dir in [a.path(), b.path()] {
            std::fs::create_dir_all(dir.join("wav")).unwrap();
            for i in 0..4 {
                std::fs::write(dir.join(format!("wav/{i}.wav")), [0u8; 10]).unwrap();
            }
        }
        let here = data_fingerprint(&plan(a.path(), 0), &[a.path()]);
        assert_eq!(here, data_fingerprint(&plan(b.path(), 0), &[b.path()]));
        assert_ne!(here, data_fingerprint(&plan(a.path(), 1), &[a.path()]));
        std::fs::write(b.path().join("wav/3.wav"), [0u8; 11]).unwrap();
        assert_ne!(here, data_fingerprint(&plan(b.path(), 0), &[b.path()]));
    }
}
