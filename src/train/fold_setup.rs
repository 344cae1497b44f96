//! What one fold's model is built from and reads, shared by training ([`super::fold`]) and by
//! inference from a finished run (`run::saved`, `emo-run predict` / `eval`): the fold's
//! tokenizer and feature statistics, the source of each stream the method takes, the model
//! spec and the objective. One copy of this code is what makes a reloaded fold's model the
//! very model that training built and scored.

use std::collections::BTreeMap;
use std::path::Path;

use burn::prelude::*;
use tokenizers::Tokenizer;

use super::objective::{Objective, class_weights, positive_weights};
use crate::batch::Source;
use crate::config::{Experiment, Modality};
use crate::data::features::{AudioData, FeatureStats};
use crate::data::plan::positive_counts;
use crate::data::tokenize::{self, Encoded};
use crate::data::{Corpus, Fold};
use crate::encoders::cache::CachedFeature;
use crate::encoders::{AudioEncoderSpec, TextEncoderSpec};
use crate::fusion::FusionSpec;
use crate::model::ModelSpec;
use crate::task::{TaskSpec, TaskTargets};

/// The tokenizer a fold trains for the small text transformer, in the fold's folder.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The log-mel normalisation a fold fits on its training split, in the fold's folder.
pub const FEATURE_STATS_FILE: &str = "feature_stats.json";

/// A pretrained text encoder's own tokenizer, from its folder (nothing is trained per fold);
/// `None` for the small transformer, whose tokenizer belongs to the fold.
pub fn folder_tokenizer(exp: &Experiment) -> anyhow::Result<Option<Tokenizer>> {
    let cfg = &exp.encoders.text;
    if !cfg.kind.is_pretrained() {
        return Ok(None);
    }
    let dir = cfg
        .path
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("encoders.text.path is required for {:?}", cfg.kind))?;
    crate::encoders::hf::load_tokenizer(dir, cfg.max_len).map(Some)
}

/// The tokenizer a fold saved in `dir`, `None` when there is none.
pub fn saved_tokenizer(dir: &Path) -> anyhow::Result<Option<Tokenizer>> {
    let path = dir.join(TOKENIZER_FILE);
    if !path.exists() {
        return Ok(None);
    }
    Tokenizer::from_file(&path)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("loading {}: {e}", path.display()))
}

/// The feature statistics a fold saved in `dir`.
pub fn saved_feature_stats(dir: &Path) -> anyhow::Result<FeatureStats> {
    let path = dir.join(FEATURE_STATS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "reading {}: {e}; expected the fold's log-mel statistics, written when the fold trained",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; expected {{\"mean\": [...], \"std\": [...]}}",
            path.display()
        )
    })
}

/// Token ids of every text, and the tokenizer's vocabulary size (which sizes the small
/// transformer's embedding).
pub fn encode_texts<'a>(
    tokenizer: &Tokenizer,
    texts: impl Iterator<Item = &'a str>,
) -> anyhow::Result<(Vec<Encoded>, usize)> {
    let encoded = texts
        .map(|text| tokenize::encode(tokenizer, text))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((encoded, tokenizer.get_vocab_size(true)))
}

/// What a fold's streams are made of, one entry per utterance (of the corpus, or of new
/// utterances to score).
#[derive(Clone, Default)]
pub struct StreamInputs<'a> {
    /// Streams that need no trained encoder: a frozen encoder's output, or a corpus'
    /// pre-extracted feature.
    pub features: BTreeMap<Modality, &'a [CachedFeature]>,
    /// Token ids for a trained text encoder.
    pub tokens: Option<&'a [Encoded]>,
    /// Log-mel frames or waveforms for a trained audio encoder.
    pub audio: Option<&'a AudioData>,
    /// The fold's log-mel normalisation (log-mel input only).
    pub stats: Option<&'a FeatureStats>,
}

impl<'a> StreamInputs<'a> {
    /// The source of every stream the method takes; an error names the stream that has none.
    pub fn sources(&self, exp: &Experiment) -> anyhow::Result<BTreeMap<Modality, Source<'a>>> {
        let method = exp.fusion.method();
        let mut sources = BTreeMap::new();
        for &(modality, _) in method.needs() {
            let source = match (self.features.get(&modality), modality, self.audio) {
                (Some(features), _, _) => Source::Features(features),
                (None, Modality::Text, _) if self.tokens.is_some() => {
                    Source::Tokens(self.tokens.expect("checked"))
                }
                (None, Modality::Audio, Some(AudioData::LogMel(frames))) => {
                    let stats = self.stats.ok_or_else(|| {
                        anyhow::anyhow!("log-mel input without the fold's feature statistics")
                    })?;
                    Source::LogMel(frames, stats)
                }
                (None, Modality::Audio, Some(AudioData::Waveform(clips))) => {
                    Source::Waveform(clips)
                }
                (None, modality, _) => anyhow::bail!(
                    "no input for the {modality} stream that {} takes",
                    method.name()
                ),
            };
            sources.insert(modality, source);
        }
        Ok(sources)
    }
}

/// The model an experiment builds: its encoders (a pretrained one reads its folder's
/// config.json; `vocab_size` sizes the small transformer) and the fusion head over their
/// widths, with `output_width` outputs (the task's: class logits, then regression values).
pub fn model_spec(
    exp: &Experiment,
    vocab_size: usize,
    output_width: usize,
) -> anyhow::Result<ModelSpec> {
    let text = exp
        .encodes(Modality::Text)
        .then(|| TextEncoderSpec::for_experiment(&exp.encoders.text, vocab_size))
        .transpose()?;
    let audio = exp
        .encodes(Modality::Audio)
        .then(|| AudioEncoderSpec::for_experiment(&exp.encoders.audio))
        .transpose()?;
    let streams = exp.dataset.streams();
    let dims = exp
        .fusion
        .method()
        .needs()
        .iter()
        .map(|&(modality, _)| {
            let encoded = match modality {
                Modality::Text => text.as_ref().map(TextEncoderSpec::output_dim),
                Modality::Audio => audio.as_ref().map(AudioEncoderSpec::output_dim),
                Modality::Visual => None,
            };
            let width = encoded.or_else(|| streams.get(&modality).and_then(|a| a.width()));
            (modality, width.unwrap_or(0))
        })
        .collect();
    let fusion = FusionSpec {
        config: exp.fusion.clone(),
        dims,
        text_tokens: exp.encoders.text.max_len,
        n_classes: output_width,
    };
    fusion.check_widths()?;
    Ok(ModelSpec {
        fusion,
        text,
        audio,
    })
}

/// The fold's model spec: the head's output width is the task's (class logits, then
/// regression values, task/mod.rs); `vocab_size` sizes the small transformer.
pub fn fold_model_spec(exp: &Experiment, vocab_size: usize) -> anyhow::Result<ModelSpec> {
    let width = TaskSpec::from_experiment(exp).output_width();
    model_spec(exp, vocab_size, width)
}

/// Every example's vote distribution under `multi_label = "soft_votes"`, `None` otherwise. One
/// missing distribution is an error: it must never switch soft targets off for the whole run.
pub fn soft_targets(exp: &Experiment, corpus: &Corpus) -> anyhow::Result<Option<Vec<Vec<f32>>>> {
    if !TaskSpec::from_experiment(exp).soft_votes {
        return Ok(None);
    }
    corpus
        .examples
        .iter()
        .map(|e| {
            e.soft.clone().ok_or_else(|| {
                anyhow::anyhow!(
                    "utterance {} has no vote distribution under dataset.multi_label = \"soft_votes\"",
                    e.id
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map(Some)
}

/// The fold's loss: the task's, with class weights from the fold's training split.
pub fn fold_objective(
    exp: &Experiment,
    corpus: &Corpus,
    fold: &Fold,
    targets: &TaskTargets,
    device: &Device,
) -> Objective {
    let labels = corpus.labels();
    let train_labels: Vec<usize> = fold.train.iter().map(|&i| labels[i]).collect();
    let weights = class_weights(&exp.task.class_weights, &train_labels, corpus.classes.len());
    let positive = positive_weights(&exp.task.class_weights, fold.train.len(), || {
        positive_counts(corpus, &fold.train)
    });
    let task = TaskSpec::from_experiment(exp);
    Objective::new(task, targets.clone(), weights, device).with_positive_weights(positive, device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_statistics_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = saved_feature_stats(dir.path()).unwrap_err().to_string();
        assert!(err.contains("feature_stats.json"), "{err}");
        std::fs::write(dir.path().join(FEATURE_STATS_FILE), "{}").unwrap();
        let err = saved_feature_stats(dir.path()).unwrap_err().to_string();
        assert!(err.contains("expected {\"mean\""), "{err}");
        assert!(saved_tokenizer(dir.path()).unwrap().is_none());
    }

    #[test]
    fn a_stream_without_input_is_named() {
        // The default experiment's early fusion takes text and audio; nothing is given.
        let exp = Experiment::default();
        let err = StreamInputs::default()
            .sources(&exp)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("no input for the") && err.contains("stream"),
            "{err}"
        );
        let features = [CachedFeature::new(vec![2], vec![0.0, 1.0])];
        let given = StreamInputs {
            features: [
                (Modality::Text, &features[..]),
                (Modality::Audio, &features[..]),
            ]
            .into(),
            ..Default::default()
        };
        let sources = given.sources(&exp).unwrap();
        assert!(matches!(sources[&Modality::Audio], Source::Features(_)));
    }
}
