//! LMF's IEMOCAP feature pickle, `iemocap.pkl` (docs/methods/seed-002-lmf.md): one independent
//! binary sub-dataset per emotion, `{emotion: {train|valid|test: {covarep [N,74], facet [N,35],
//! glove [N,20,300], label [N,2]}}}`, written by Python 2 (every key a byte string) with numpy
//! arrays as values. The features are already per utterance (time-averaged audio and video,
//! 20 GloVe vectors of text), so this is not a `RawCorpus` of files: it returns its own type.
//!
//! As LMF's loader does, NaNs in covarep and facet become 0 and GloVe is left as it is (the
//! summary counts the NaNs it keeps). The label is the argmax of the 2-column one-hot row;
//! which column means "is this emotion" is not recorded anywhere (docs/methods/seed-002-lmf.md), and the binary metrics
//! do not depend on it. A malformed pickle is a fatal error: the file is one precomputed
//! table, there are no rows to drop one by one.

pub mod examples;
pub mod synth;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_pickle::Value;

pub use self::synth::{CmuSynthSummary, existing_synthetic_config, write_synthetic_cmu_pickle};
use super::error::DataError;
use super::pickle::{NdArray, decode_ndarray, dict_entries, lookup, read_pickle};

pub use crate::config::dataset_options::cmu_pickle_layout::*;
const SPLITS: [&str; 3] = ["train", "valid", "test"];

/// One utterance's features; the pickle stores no utterance ids, only the row order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CmuUtterance {
    /// COVAREP, time-averaged, [`AUDIO_DIM`] values, NaN replaced by 0.
    pub audio: Vec<f32>,
    /// FACET, time-averaged, [`VISUAL_DIM`] values, NaN replaced by 0.
    pub visual: Vec<f32>,
    /// GloVe vectors, [`TEXT_STEPS`] × [`TEXT_DIM`] row-major, as stored.
    pub text: Vec<f32>,
    /// The one-hot row as stored.
    pub label_one_hot: [f32; LABEL_COLUMNS],
    /// `argmax(label_one_hot)`, the first column on a tie (numpy's rule).
    pub label: usize,
}

/// One emotion's binary sub-dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EmotionSplits {
    pub train: Vec<CmuUtterance>,
    pub valid: Vec<CmuUtterance>,
    pub test: Vec<CmuUtterance>,
}

/// Every emotion in the pickle, by name (`happy`, `sad`, `angry`, `neutral` in `iemocap.pkl`;
/// `happy` and `sad` in `sample_data.pkl`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CmuPickleCorpus {
    pub emotions: BTreeMap<String, EmotionSplits>,
}

/// What the conversion did to one split.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SplitSummary {
    pub utterances: usize,
    /// Utterances per label index (argmax column).
    pub per_label: [usize; LABEL_COLUMNS],
    /// Label rows that are not exactly one 1 and one 0.
    pub not_one_hot: usize,
    /// NaNs replaced by 0 in covarep and facet.
    pub nan_zeroed: usize,
    /// NaNs left in GloVe (LMF's loader does not touch them).
    pub nan_in_text: usize,
}

/// Per emotion, per split (`train`, `valid`, `test`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CmuPickleSummary {
    pub splits: BTreeMap<String, BTreeMap<String, SplitSummary>>,
}

/// Read the pickle at `path`.
pub fn load_cmu_pickle(path: &Path) -> Result<(CmuPickleCorpus, CmuPickleSummary), DataError> {
    let root = read_pickle(path)?;
    let bad = |reason: String| DataError::format(path, reason);
    let mut corpus = CmuPickleCorpus::default();
    let mut summary = CmuPickleSummary::default();
    for (emotion, splits) in dict_entries(&root).map_err(|e| bad(format!("top level: {e}")))? {
        let mut emotion_splits = EmotionSplits::default();
        let mut emotion_summary = BTreeMap::new();
        for split in SPLITS {
            let context = format!("{emotion}/{split}");
            let table = lookup(splits, split).map_err(|e| bad(format!("{emotion}: {e}")))?;
            let (utterances, split_summary) =
                read_split(table).map_err(|e| bad(format!("{context}: {e}")))?;
            *split_field(&mut emotion_splits, split) = utterances;
            emotion_summary.insert(split.to_string(), split_summary);
        }
        corpus.emotions.insert(emotion.clone(), emotion_splits);
        summary.splits.insert(emotion, emotion_summary);
    }
    if corpus.emotions.is_empty() {
        return Err(bad("the pickle holds no emotion".into()));
    }
    Ok((corpus, summary))
}

fn split_field<'a>(splits: &'a mut EmotionSplits, name: &str) -> &'a mut Vec<CmuUtterance> {
    match name {
        "train" => &mut splits.train,
        "valid" => &mut splits.valid,
        _ => &mut splits.test,
    }
}

/// One split's four arrays, checked against the dimensions of docs/methods/seed-002-lmf.md, cut into utterances.
fn read_split(table: &Value) -> Result<(Vec<CmuUtterance>, SplitSummary), String> {
    let array = |key: &str, dims: &[usize]| -> Result<NdArray, String> {
        let array = decode_ndarray(lookup(table, key)?).map_err(|e| format!("{key}: {e}"))?;
        if array.shape.len() != dims.len() + 1 || array.shape[1..] != *dims {
            return Err(format!(
                "{key} has shape {:?}, expected [N, {}]",
                array.shape,
                dims.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(array)
    };
    let mut audio = array("covarep", &[AUDIO_DIM])?;
    let mut visual = array("facet", &[VISUAL_DIM])?;
    let text = array("glove", &[TEXT_STEPS, TEXT_DIM])?;
    let label = array("label", &[LABEL_COLUMNS])?;
    let n = audio.shape[0];
    if [&visual, &text, &label].iter().any(|a| a.shape[0] != n) {
        return Err(format!(
            "utterance counts differ: covarep {n}, facet {}, glove {}, label {}",
            visual.shape[0], text.shape[0], label.shape[0]
        ));
    }
    let mut summary = SplitSummary {
        utterances: n,
        nan_zeroed: zero_nans(&mut audio.values) + zero_nans(&mut visual.values),
        nan_in_text: text.values.iter().filter(|v| v.is_nan()).count(),
        ..SplitSummary::default()
    };
    let utterances: Vec<CmuUtterance> = (0..n)
        .map(|i| {
            let one_hot = [
                label.values[i * LABEL_COLUMNS],
                label.values[i * LABEL_COLUMNS + 1],
            ];
            CmuUtterance {
                audio: row(&audio, i),
                visual: row(&visual, i),
                text: row(&text, i),
                label_one_hot: one_hot,
                label: argmax(&one_hot),
            }
        })
        .collect();
    for u in &utterances {
        summary.per_label[u.label] += 1;
        summary.not_one_hot += usize::from(!is_one_hot(&u.label_one_hot));
    }
    Ok((utterances, summary))
}

fn row(array: &NdArray, i: usize) -> Vec<f32> {
    let width: usize = array.shape[1..].iter().product();
    array.values[i * width..(i + 1) * width].to_vec()
}

/// LMF's `x[x != x] = 0`; returns how many it replaced.
fn zero_nans(values: &mut [f32]) -> usize {
    values
        .iter_mut()
        .filter(|v| v.is_nan())
        .map(|v| *v = 0.0)
        .count()
}

/// numpy's argmax: the first maximum; a NaN counts as the maximum, as in numpy.
fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if values[best].is_nan() {
            break;
        }
        if v.is_nan() || *v > values[best] {
            best = i;
        }
    }
    best
}

fn is_one_hot(row: &[f32]) -> bool {
    row.iter().filter(|&&v| v == 1.0).count() == 1 && row.iter().all(|&v| v == 0.0 || v == 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cmu_pickle/iemocap_tiny.pkl"
    );

    /// The generator's values: `((k + offset) % 16) / 8 - 1` over the flattened array.
    fn generated(k: usize, offset: usize) -> f32 {
        ((k + offset) % 16) as f32 / 8.0 - 1.0
    }

    #[test]
    fn fixture_has_every_emotion_split_and_shape() {
        let (corpus, summary) = load_cmu_pickle(Path::new(FIXTURE)).unwrap();
        assert_eq!(
            corpus.emotions.keys().collect::<Vec<_>>(),
            vec!["happy", "sad"]
        );
        let counts = |e: &str| {
            let s = &corpus.emotions[e];
            (s.train.len(), s.valid.len(), s.test.len())
        };
        assert_eq!(counts("happy"), (1, 0, 0));
        assert_eq!(counts("sad"), (0, 0, 1));
        for u in [
            &corpus.emotions["happy"].train[0],
            &corpus.emotions["sad"].test[0],
        ] {
            assert_eq!(u.audio.len(), AUDIO_DIM);
            assert_eq!(u.visual.len(), VISUAL_DIM);
            assert_eq!(u.text.len(), TEXT_STEPS * TEXT_DIM);
        }
        let happy_train = &summary.splits["happy"]["train"];
        assert_eq!(
            happy_train,
            &SplitSummary {
                utterances: 1,
                per_label: [0, 1],
                not_one_hot: 0,
                nan_zeroed: 3,
                nan_in_text: 1,
            }
        );
        assert_eq!(summary.splits["sad"]["test"].per_label, [1, 0]);
        assert_eq!(summary.splits["sad"]["train"], SplitSummary::default());
        assert_eq!(summary.splits["happy"]["valid"], SplitSummary::default());
    }

    #[test]
    fn fixture_values_labels_and_nans() {
        let (corpus, _) = load_cmu_pickle(Path::new(FIXTURE)).unwrap();
        let happy = &corpus.emotions["happy"].train[0];
        assert_eq!((happy.label, happy.label_one_hot), (1, [0.0, 1.0]));
        // NaNs planted at covarep[3], covarep[70], facet[0] became 0; glove[19][299] kept.
        assert_eq!(
            (happy.audio[3], happy.audio[70], happy.visual[0]),
            (0.0, 0.0, 0.0)
        );
        assert!(happy.text[TEXT_STEPS * TEXT_DIM - 1].is_nan());
        assert_eq!(happy.audio[4], generated(4, 0));
        assert_eq!(happy.visual[34], generated(34, 0));
        assert_eq!(happy.text[301], generated(301, 0));
        let sad = &corpus.emotions["sad"].test[0];
        assert_eq!((sad.label, sad.label_one_hot), (0, [1.0, 0.0]));
        assert_eq!(sad.audio[0], generated(0, 5));
        assert_eq!(sad.text[5999], generated(5999, 5));
        assert!(sad.audio.iter().chain(&sad.text).all(|v| v.is_finite()));
    }

    #[test]
    fn argmax_follows_numpy() {
        assert_eq!(argmax(&[0.0, 1.0]), 1);
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(argmax(&[f32::NAN, 1.0]), 0);
        assert_eq!(argmax(&[0.0, f32::NAN]), 1);
        assert!(!is_one_hot(&[1.0, 1.0]) && !is_one_hot(&[0.0, 0.0]) && is_one_hot(&[0.0, 1.0]));
    }

    #[test]
    fn missing_and_malformed_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pkl");
        assert!(matches!(
            load_cmu_pickle(&missing),
            Err(DataError::Io { .. })
        ));
        let junk = dir.path().join("junk.pkl");
        std::fs::write(&junk, b"not a pickle").unwrap();
        let err = load_cmu_pickle(&junk).unwrap_err().to_string();
        assert!(err.contains("not a readable pickle"), "{err}");
        // A pickled empty dict (protocol 2): no emotion.
        let empty = dir.path().join("empty.pkl");
        std::fs::write(&empty, b"\x80\x02}q\x00.").unwrap();
        let err = load_cmu_pickle(&empty).unwrap_err().to_string();
        assert!(err.contains("no emotion"), "{err}");
    }
}
