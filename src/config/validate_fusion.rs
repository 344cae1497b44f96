//! Checks of the fusion method against the corpus: the streams it consumes must be ones the
//! corpus provides, in a form that can feed it; the per-emotion protocol goes with the CMU
//! pickle. (Each method checks its own keys against the task: `FusionConfig::problems`.)

use super::experiment::{DatasetKind, Experiment, SplitProtocol};
use super::modality::list;
use super::names::serde_name;

/// Every stream the method needs is in the corpus, in a form it can take.
pub fn check_streams(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let method = exp.fusion.method();
    let kind = exp.dataset.kind;
    let streams = exp.dataset.streams();
    for &(modality, form) in method.needs() {
        match streams.get(&modality) {
            None => fail(
                "fusion.method",
                format!(
                    "{} needs the {modality} modality, which dataset.kind = {} does not provide (it provides {}){}; choose a method over those streams (`emo-run methods` lists each method's modalities)",
                    method.name(),
                    serde_name(&kind),
                    list(streams.keys().copied()),
                    if modality == super::modality::Modality::Visual {
                        " without [dataset.faces] or [dataset.hcf]"
                    } else {
                        ""
                    }
                ),
            ),
            Some(arrival) if !arrival.gives(form) => fail(
                "fusion.method",
                format!(
                    "{} takes the {modality} stream as a {}, but dataset.kind = {} provides it as a {}",
                    method.name(),
                    form.name(),
                    serde_name(&kind),
                    arrival.describe()
                ),
            ),
            Some(_) => {}
        }
    }
}

/// The per-emotion protocol and the CMU pickle belong together.
pub fn check_per_emotion(exp: &Experiment, fail: &mut impl FnMut(&str, String)) {
    let pickle = exp.dataset.kind == DatasetKind::IemocapCmuPickle;
    let per_emotion = exp.split.protocol == SplitProtocol::PerEmotion;
    if pickle && !per_emotion {
        fail(
            "split.protocol",
            "dataset.kind = \"iemocap_cmu_pickle\" stores one train/valid/test split per emotion; expected protocol = \"per_emotion\"".into(),
        );
    }
    if per_emotion && !pickle {
        fail(
            "split.protocol",
            format!(
                "\"per_emotion\" uses the per-emotion splits of dataset.kind = \"iemocap_cmu_pickle\", but the dataset is {}",
                serde_name(&exp.dataset.kind)
            ),
        );
    }
    if pickle && exp.dataset.classes.len() != 2 {
        fail(
            "dataset.classes",
            format!(
                "found {} classes; each emotion of iemocap_cmu_pickle is a binary task with a 2-column one-hot label: expected two names, for column 0 and column 1 (e.g. [\"column_0\", \"column_1\"])",
                exp.dataset.classes.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::{FusionConfig, FusionMethod};

    fn problems(exp: &Experiment) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut fail = |k: &str, m: String| out.push((k.to_string(), m));
        check_streams(exp, &mut fail);
        check_per_emotion(exp, &mut fail);
        out
    }

    #[test]
    fn a_method_whose_modality_the_corpus_lacks_is_refused_naming_both() {
        let exp = Experiment {
            fusion: FusionConfig::of(FusionMethod::Lmf),
            ..Default::default()
        };
        let found = problems(&exp);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "fusion.method");
        assert!(
            found[0].1.contains("lmf needs the visual modality"),
            "{}",
            found[0].1
        );
        assert!(found[0].1.contains("kemdy20"), "{}", found[0].1);
    }

    #[test]
    fn the_pickle_feeds_lmf_but_not_a_sequence_method_over_its_vectors() {
        let mut exp = Experiment::default();
        exp.dataset.kind = DatasetKind::IemocapCmuPickle;
        exp.dataset.classes = vec!["column_0".into(), "column_1".into()];
        exp.split.protocol = SplitProtocol::PerEmotion;
        exp.fusion = FusionConfig::of(FusionMethod::Lmf);
        assert!(problems(&exp).is_empty(), "{:?}", problems(&exp));
        exp.fusion = FusionConfig::of(FusionMethod::MlpMixer);
        let found = problems(&exp);
        assert!(
            found
                .iter()
                .any(|(_, m)| m.contains("audio stream as a sequence")),
            "{found:?}"
        );
        exp.fusion = FusionConfig::of(FusionMethod::VisualOnly);
        assert!(problems(&exp).is_empty());
    }

    #[test]
    fn the_pickle_needs_the_per_emotion_protocol_and_two_classes() {
        let mut exp = Experiment::default();
        exp.dataset.kind = DatasetKind::IemocapCmuPickle;
        exp.fusion = FusionConfig::of(FusionMethod::Tfn);
        let keys: Vec<String> = problems(&exp).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["split.protocol", "dataset.classes"]);
    }
}
