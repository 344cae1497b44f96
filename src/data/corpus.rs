//! From a corpus on disk to labelled examples: generate the synthetic corpus if asked, read the
//! rows, apply the label policy, and count every row that does not become an example.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::DataError;
use super::kemdy20::{DroppedRow, RawCorpus, load_kemdy20};
use super::synth::{SynthConfig, write_kemdy20};
use crate::config::{DatasetConfig, DatasetKind, MultiLabelPolicy};

/// One utterance with one label index into `Corpus::classes`.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub id: String,
    pub session: u32,
    pub speaker: String,
    pub text: String,
    pub wav_path: PathBuf,
    pub label: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Corpus {
    pub classes: Vec<String>,
    pub examples: Vec<Example>,
    /// Every annotation row that did not become an example, with its reason.
    pub dropped: Vec<DroppedRow>,
    /// Annotation rows read, kept or not.
    pub rows_read: usize,
}

impl Corpus {
    pub fn labels(&self) -> Vec<usize> {
        self.examples.iter().map(|e| e.label).collect()
    }

    /// Examples per class name among `indices`.
    pub fn class_counts(
        &self,
        indices: impl IntoIterator<Item = usize>,
    ) -> BTreeMap<String, usize> {
        let mut counts: BTreeMap<String, usize> =
            self.classes.iter().map(|c| (c.clone(), 0)).collect();
        for i in indices {
            *counts
                .get_mut(&self.classes[self.examples[i].label])
                .expect("label within classes") += 1;
        }
        counts
    }

    /// Dropped rows per reason, for the summary line.
    pub fn dropped_by_reason(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for row in &self.dropped {
            let reason = row
                .reason
                .split(':')
                .next()
                .unwrap_or(&row.reason)
                .to_string();
            *counts.entry(reason).or_insert(0) += 1;
        }
        counts
    }
}

/// Read (and if configured, first generate) the corpus and apply the label policy.
pub fn prepare_corpus(ds: &DatasetConfig) -> Result<Corpus, DataError> {
    if let Some(synth) = &ds.synthetic {
        ensure_synthetic(&ds.root, synth)?;
    }
    let raw = match ds.kind {
        DatasetKind::Kemdy20 => load_kemdy20(&ds.root, ds.text_read, ds.strip_tags)?,
    };
    let corpus = apply_label_policy(raw, &ds.classes, ds.multi_label);
    if ds.strict && !corpus.dropped.is_empty() {
        let listing: Vec<String> = corpus
            .dropped
            .iter()
            .take(20)
            .map(|d| {
                format!(
                    "  {} ({}): {}",
                    d.id,
                    d.path
                        .as_deref()
                        .map_or("-".into(), |p| p.display().to_string()),
                    d.reason
                )
            })
            .collect();
        return Err(DataError::Format {
            path: ds.root.clone(),
            reason: format!(
                "dataset.strict is set and {} rows were dropped:\n{}",
                corpus.dropped.len(),
                listing.join("\n")
            ),
        });
    }
    if corpus.examples.is_empty() {
        return Err(DataError::Format {
            path: ds.root.clone(),
            reason: format!(
                "no usable utterance among {} rows (dropped: {:?})",
                corpus.rows_read,
                corpus.dropped_by_reason()
            ),
        });
    }
    Ok(corpus)
}

/// Generate the synthetic corpus unless a complete one with the same settings is there.
fn ensure_synthetic(root: &Path, cfg: &SynthConfig) -> Result<(), DataError> {
    match super::synth::existing_config(root)? {
        Some(existing) if &existing == cfg => Ok(()),
        Some(existing) => Err(DataError::Format {
            path: root.to_path_buf(),
            reason: format!(
                "holds a synthetic corpus made with other settings ({existing:?}); expected {cfg:?}. Point dataset.root elsewhere or delete the folder"
            ),
        }),
        None => {
            tracing::info!(root = %root.display(), "generating the synthetic KEMDy20 corpus");
            let summary = write_kemdy20(root, cfg)?;
            tracing::info!(?summary, "synthetic corpus written");
            Ok(())
        }
    }
}

/// Map each row's Total-Evaluation labels to a class index under the multi-label policy.
pub fn apply_label_policy(raw: RawCorpus, classes: &[String], policy: MultiLabelPolicy) -> Corpus {
    let index: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let rows_read = raw.utterances.len() + raw.dropped.len();
    let mut dropped = raw.dropped;
    let mut examples = Vec::with_capacity(raw.utterances.len());
    for u in raw.utterances {
        let chosen = match (u.emotions.as_slice(), policy) {
            ([], _) => Err("empty label".to_string()),
            ([single], _) => Ok(single.clone()),
            (many, MultiLabelPolicy::Drop) => Err(format!(
                "multi-label: {} (multi_label = \"drop\")",
                many.join(";")
            )),
            ([first, ..], MultiLabelPolicy::First) => Ok(first.clone()),
        };
        match chosen.and_then(|label| {
            index
                .get(label.as_str())
                .copied()
                .ok_or(format!("unknown label: {label} (not in dataset.classes)"))
        }) {
            Ok(label) => examples.push(Example {
                id: u.id,
                session: u.session,
                speaker: u.speaker,
                text: u.text,
                wav_path: u.wav_path,
                label,
            }),
            Err(reason) => dropped.push(DroppedRow {
                id: u.id,
                path: Some(u.wav_path),
                reason,
            }),
        }
    }
    Corpus {
        classes: classes.to_vec(),
        examples,
        dropped,
        rows_read,
    }
}
