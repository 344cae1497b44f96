//! The pickle's per-emotion sub-datasets as one [`Corpus`]: every utterance of every emotion
//! and split becomes an example (id `<emotion>/<split>/<row>`), its three streams go to
//! `Corpus::features`, and each emotion's own train/valid/test becomes a named split, so
//! `split.protocol = "per_emotion"` trains one independent binary model per emotion.

use super::{CmuPickleCorpus, CmuUtterance, TEXT_DIM, TEXT_STEPS};
use crate::config::Modality;
use crate::data::corpus::{Corpus, Example, GivenSplit};
use crate::data::feature::CachedFeature;

/// The seed's order of the four IEMOCAP emotions; any other emotion follows, by name.
const SEED_ORDER: [&str; 4] = ["happy", "sad", "angry", "neutral"];

/// Emotions in fold order.
fn emotion_order(corpus: &CmuPickleCorpus) -> Vec<&str> {
    let mut names: Vec<&str> = SEED_ORDER
        .into_iter()
        .filter(|e| corpus.emotions.contains_key(*e))
        .collect();
    names.extend(
        corpus
            .emotions
            .keys()
            .map(String::as_str)
            .filter(|e| !SEED_ORDER.contains(e)),
    );
    names
}

/// One corpus with a named split per emotion. `classes` names the label columns 0 and 1.
pub fn pickle_corpus(pickle: CmuPickleCorpus, classes: &[String]) -> Corpus {
    let mut corpus = Corpus {
        classes: classes.to_vec(),
        ..Default::default()
    };
    for modality in [Modality::Audio, Modality::Visual, Modality::Text] {
        corpus.features.insert(modality, Vec::new());
    }
    for emotion in emotion_order(&pickle) {
        let splits = &pickle.emotions[emotion];
        let mut given = GivenSplit {
            name: emotion.to_string(),
            ..Default::default()
        };
        for (split, rows, out) in [
            ("train", &splits.train, &mut given.train),
            ("valid", &splits.valid, &mut given.valid),
            ("test", &splits.test, &mut given.test),
        ] {
            for (row, u) in rows.iter().enumerate() {
                out.push(corpus.examples.len());
                push_example(&mut corpus, format!("{emotion}/{split}/{row:05}"), u);
            }
        }
        corpus.given_splits.push(given);
    }
    corpus.rows_read = corpus.examples.len();
    corpus
}

fn push_example(corpus: &mut Corpus, id: String, u: &CmuUtterance) {
    corpus.examples.push(Example {
        id,
        session: 0,
        speaker: String::new(),
        text: String::new(),
        wav_path: Default::default(),
        label: u.label,
        labels: vec![u.label],
        soft: None,
        valence: None,
        arousal: None,
        train_only: false,
    });
    let features = &mut corpus.features;
    let mut push = |m: Modality, f: CachedFeature| features.get_mut(&m).expect("inserted").push(f);
    push(
        Modality::Audio,
        CachedFeature::new(vec![u.audio.len()], u.audio.clone()),
    );
    push(
        Modality::Visual,
        CachedFeature::new(vec![u.visual.len()], u.visual.clone()),
    );
    push(
        Modality::Text,
        CachedFeature::new(vec![TEXT_STEPS, TEXT_DIM], u.text.clone()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::cmu_pickle::load_cmu_pickle;

    #[test]
    fn every_emotion_becomes_a_named_split_of_its_own_rows() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cmu_pickle/iemocap_tiny.pkl");
        let (pickle, _) = load_cmu_pickle(&path).unwrap();
        let sizes: Vec<(String, usize)> = pickle
            .emotions
            .iter()
            .map(|(e, s)| (e.clone(), s.train.len() + s.valid.len() + s.test.len()))
            .collect();
        let corpus = pickle_corpus(pickle, &["column_0".into(), "column_1".into()]);
        let total: usize = sizes.iter().map(|(_, n)| n).sum();
        assert_eq!(corpus.examples.len(), total);
        assert_eq!(corpus.features[&Modality::Text].len(), total);
        assert_eq!(corpus.features[&Modality::Text][0].shape, [20, 300]);
        let names: Vec<&str> = corpus
            .given_splits
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let expected: Vec<&str> = SEED_ORDER
            .into_iter()
            .filter(|e| sizes.iter().any(|(n, _)| n == e))
            .collect();
        assert_eq!(names, expected);
        for split in &corpus.given_splits {
            for &i in split.train.iter().chain(&split.valid).chain(&split.test) {
                assert!(
                    corpus.examples[i]
                        .id
                        .starts_with(&format!("{}/", split.name))
                );
            }
        }
    }
}
