//! From a corpus on disk to labelled examples: generate the synthetic corpus if asked, read the
//! rows, apply the label policy, and count every row that does not become an example.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::DataError;
use super::feature::CachedFeature;
use super::kemdy20::{DroppedRow, RawCorpus, load_kemdy20};
use super::synth::{SynthConfig, write_kemdy20};
use crate::config::{DatasetConfig, DatasetKind, Modality, MultiLabelPolicy};

/// One utterance with its targets as indices into `Corpus::classes`.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub id: String,
    pub session: u32,
    pub speaker: String,
    pub text: String,
    pub wav_path: PathBuf,
    /// The single label: metrics, stratification and the class counts use it.
    pub label: usize,
    /// Every label the row carries (`multi_label = "all"`); `[label]` otherwise.
    pub labels: Vec<usize>,
    /// The evaluators' vote distribution over the classes (`multi_label = "soft_votes"`).
    pub soft: Option<Vec<f32>>,
    pub valence: Option<f32>,
    pub arousal: Option<f32>,
    /// Added by `label_transform`: trained on in every fold, never validated or tested.
    pub train_only: bool,
}

#[cfg(test)]
impl Example {
    /// A test example: id `u{i:03}`, session `i / 20 + 1`, speaker `s{i % 3}`, no text or audio.
    pub(crate) fn for_test(i: usize, label: usize) -> Self {
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
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Corpus {
    pub classes: Vec<String>,
    pub examples: Vec<Example>,
    /// Every annotation row that did not become an example, with its reason.
    pub dropped: Vec<DroppedRow>,
    /// Annotation rows read, kept or not.
    pub rows_read: usize,
    /// Streams the corpus delivers pre-extracted, one array per example, by modality (empty
    /// for corpora of transcripts and waveforms).
    #[serde(skip)]
    pub features: BTreeMap<Modality, Vec<CachedFeature>>,
    /// Splits the corpus itself defines (`split.protocol = "per_emotion"`), in fold order.
    #[serde(skip)]
    pub given_splits: Vec<GivenSplit>,
}

/// A named train/valid/test split stored with the corpus (indices into `examples`).
#[derive(Debug, Clone, Default)]
pub struct GivenSplit {
    pub name: String,
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
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

    /// Keep the examples whose outcome is `Ok`, with their pre-extracted features, and return
    /// the kept values in order beside the rows of the others (not yet added to `dropped`).
    pub fn keep_usable<T>(
        &mut self,
        outcomes: Vec<Result<T, super::raw::DropReason>>,
    ) -> (Vec<T>, Vec<DroppedRow>) {
        debug_assert_eq!(outcomes.len(), self.examples.len());
        let usable: Vec<bool> = outcomes.iter().map(Result::is_ok).collect();
        for stream in self.features.values_mut() {
            let all = std::mem::take(stream);
            *stream = all
                .into_iter()
                .zip(&usable)
                .filter_map(|(feature, &keep)| keep.then_some(feature))
                .collect();
        }
        let mut kept_examples = Vec::with_capacity(outcomes.len());
        let mut kept = Vec::with_capacity(outcomes.len());
        let mut failures = Vec::new();
        for (example, outcome) in std::mem::take(&mut self.examples).into_iter().zip(outcomes) {
            match outcome {
                Ok(value) => {
                    kept_examples.push(example);
                    kept.push(value);
                }
                Err(why) => failures.push(DroppedRow {
                    path: why.path.or(Some(example.wav_path)),
                    id: example.id,
                    reason: why.reason,
                }),
            }
        }
        self.examples = kept_examples;
        (kept, failures)
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
    if ds.kind == DatasetKind::IemocapCmuPickle {
        return pickle_corpus(ds);
    }
    if let Some(synth) = &ds.synthetic {
        ensure_synthetic(&ds.root, synth)?;
    }
    let raw = read_raw(ds)?;
    let corpus = apply_label_policy(raw, &ds.classes, ds.multi_label, ds.label_transform);
    if ds.strict && !corpus.dropped.is_empty() {
        return Err(DataError::Format {
            path: ds.root.clone(),
            reason: format!(
                "dataset.strict is set and {} rows were dropped:\n{}",
                corpus.dropped.len(),
                super::raw::strict_listing(&corpus.dropped, super::raw::STRICT_LISTED)
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

/// LMF's feature pickle (generated first under `[dataset.synthetic]`): one example per row of
/// every emotion's splits, nothing dropped (the file is one precomputed table; a malformed one
/// is an error naming the path).
fn pickle_corpus(ds: &DatasetConfig) -> Result<Corpus, DataError> {
    if let Some(synth) = &ds.synthetic {
        ensure_synthetic_pickle(&ds.root, synth)?;
    }
    let (pickle, summary) = super::cmu_pickle::load_cmu_pickle(&ds.root)?;
    tracing::debug!(?summary, "read the CMU feature pickle");
    Ok(super::cmu_pickle::examples::pickle_corpus(
        pickle,
        &ds.classes,
    ))
}

/// The loader of `dataset.kind`.
fn read_raw(ds: &DatasetConfig) -> Result<RawCorpus, DataError> {
    let mut raw = read_one(ds)?;
    for extra in &ds.also {
        let more = read_one(&ds.with_corpus(extra))?;
        join_corpus(
            &mut raw,
            more,
            &format!("{:?}", extra.kind).to_lowercase(),
            &extra.root,
        )?;
    }
    Ok(raw)
}

/// Append `more` (read at `root`) to `raw`: its sessions numbered after `raw`'s last, its
/// speakers prefixed with `kind`, so that session and speaker groups stay within one corpus.
/// A repeated utterance id is an error: the folds, the predictions and the teacher's logits
/// are keyed by id.
fn join_corpus(
    raw: &mut RawCorpus,
    more: RawCorpus,
    kind: &str,
    root: &Path,
) -> Result<(), DataError> {
    let ids: std::collections::HashSet<&str> =
        raw.utterances.iter().map(|u| u.id.as_str()).collect();
    let repeated: Vec<&str> = more
        .utterances
        .iter()
        .map(|u| u.id.as_str())
        .filter(|id| ids.contains(id))
        .take(5)
        .collect();
    if !repeated.is_empty() {
        return Err(DataError::format(
            root,
            format!(
                "dataset.also: utterance ids of this corpus repeat those of dataset.root (e.g. {}); ids must be unique across the joined corpora",
                repeated.join(", ")
            ),
        ));
    }
    let offset = raw.utterances.iter().map(|u| u.session).max().unwrap_or(0);
    raw.utterances
        .extend(more.utterances.into_iter().map(|mut u| {
            u.session += offset;
            u.speaker = format!("{kind}/{}", u.speaker);
            u
        }));
    raw.dropped.extend(more.dropped);
    Ok(())
}

fn read_one(ds: &DatasetConfig) -> Result<RawCorpus, DataError> {
    match ds.kind {
        DatasetKind::Kemdy20 => load_kemdy20(&ds.root, ds.text_read, ds.strip_tags),
        DatasetKind::Iemocap => super::iemocap::load_iemocap(&ds.root, &ds.iemocap),
        DatasetKind::Mosei => super::mosei::load_mosei(&ds.root, &ds.mosei),
        DatasetKind::Kemdy19 => {
            let opts = super::kemdy19::Kemdy19Options {
                strip_tags: ds.strip_tags,
                ..ds.kemdy19.clone()
            };
            super::kemdy19::load_kemdy19(&ds.root, &opts)
        }
        DatasetKind::Manifest => super::manifest::load_manifest(&ds.root, &ds.manifest),
        DatasetKind::IemocapCmuPickle => Err(DataError::format(
            &ds.root,
            "the CMU pickle is read by its own loader, not as transcripts and clips",
        )),
    }
}

/// What is missing at `dataset.root` for its kind, as a sentence, or `None` when the layout's
/// entry point is there (the loader checks the rest and lists what it cannot use).
pub fn layout_problem(ds: &DatasetConfig) -> Option<String> {
    let root = &ds.root;
    let (ok, expected) = match ds.kind {
        DatasetKind::Kemdy20 => (
            root.join("annotation").is_dir(),
            "a KEMDy20 root (annotation/SessNN_eval.csv, wav/SessionNN/)",
        ),
        DatasetKind::Iemocap => (
            (1..=5).any(|n| root.join(format!("Session{n}")).is_dir()),
            "IEMOCAP_full_release (Session1..Session5/dialog, sentences/wav)",
        ),
        DatasetKind::Mosei => (
            root.join(super::mosei::RAW_DIR).join("meta.pkl").is_file(),
            "seed 001's data folder (MOSEI_RAW_PROCESSED/meta.pkl)",
        ),
        DatasetKind::Kemdy19 => (
            root.join("annotation").is_dir(),
            "a KEMDy19 root (annotation/SessionNN_{F,M}_res.csv, wav/SessionNN/)",
        ),
        DatasetKind::Manifest => (root.is_file(), "a manifest file (.csv or .jsonl)"),
        DatasetKind::IemocapCmuPickle => (root.is_file(), "LMF's iemocap.pkl"),
    };
    (!ok).then(|| format!("{} does not hold {expected}", root.display()))
}

/// Before a run: the corpus problem as a message that says which key, which folder, what is
/// missing in it, and where the corpus comes from, or `None` when the layout's entry point is
/// there. Where to obtain each corpus is documented once, in docs/DATASETS.md; the message
/// names the corpus and its distributor and points there.
pub fn missing_corpus(ds: &DatasetConfig) -> Option<String> {
    let problem = layout_problem(ds)?;
    let root = &ds.root;
    let what = if !root.exists() {
        "there is no such path".to_string()
    } else {
        match ds.kind {
            DatasetKind::Kemdy20 | DatasetKind::Kemdy19 => {
                "the folder has no annotation/ subfolder".to_string()
            }
            DatasetKind::Iemocap => "the folder has no Session1..Session5".to_string(),
            DatasetKind::Mosei => format!("{}/meta.pkl is missing", super::mosei::RAW_DIR),
            DatasetKind::Manifest | DatasetKind::IemocapCmuPickle => "it is not a file".to_string(),
        }
    };
    let source = match ds.kind {
        DatasetKind::Kemdy20 => {
            "KEMDy20 is licensed by ETRI: request it on ETRI's data-sharing site \
             (nanum.etri.re.kr, KEMDy20) and unpack it there"
        }
        DatasetKind::Kemdy19 => {
            "KEMDy19 is licensed by ETRI: request it on ETRI's data-sharing site \
             (nanum.etri.re.kr, KEMDy19) and unpack it there"
        }
        DatasetKind::Iemocap => {
            "IEMOCAP is licensed by USC's SAIL lab: request IEMOCAP_full_release with its \
             release form and point dataset.root at it"
        }
        DatasetKind::Mosei => {
            "CMU-MOSEI comes from CMU's MultiComp lab; seed 001's preprocessing turns it into \
             this layout"
        }
        DatasetKind::IemocapCmuPickle => {
            "LMF's iemocap.pkl is the IEMOCAP feature pickle that LMF's authors distribute; \
             IEMOCAP's own licence applies"
        }
        DatasetKind::Manifest => "a manifest lists your own clips and transcripts",
    };
    let synthetic = match ds.kind {
        DatasetKind::IemocapCmuPickle => "a synthetic pickle of the same layout there",
        _ => "a corpus of the KEMDy20 layout (kind = \"kemdy20\")",
    };
    Some(format!(
        "dataset.root: {problem}: {what}. {source}; docs/DATASETS.md says how to obtain it \
         (\"Obtaining the corpora\"). To try the pipeline without it, add [dataset.synthetic] \
         to generate {synthetic}"
    ))
}

/// Generate the synthetic KEMDy20 corpus unless a complete one with the same settings is there.
fn ensure_synthetic(root: &Path, cfg: &SynthConfig) -> Result<(), DataError> {
    ensure_generated(
        root,
        cfg,
        || super::synth::existing_config(root),
        "KEMDy20 corpus",
        "folder",
        || write_kemdy20(root, cfg),
    )
}

/// Generate the synthetic pickle unless our own, with the same settings, is there.
fn ensure_synthetic_pickle(path: &Path, cfg: &SynthConfig) -> Result<(), DataError> {
    use super::cmu_pickle::{existing_synthetic_config, write_synthetic_cmu_pickle};
    ensure_generated(
        path,
        cfg,
        || existing_synthetic_config(path),
        "CMU feature pickle",
        "file and its .synthetic.json",
        || write_synthetic_cmu_pickle(path, cfg),
    )
}

/// The rule both generators follow: keep a synthetic corpus made with `cfg`, refuse one made
/// with other settings, write one where there is none.
///
/// The look and the write happen under a lock beside `path`: cells of a grid that start
/// together on an empty root (a Slurm array, say) generate the corpus once, and the others wait
/// for it instead of reading or overwriting a half-written one.
fn ensure_generated<S: std::fmt::Debug>(
    path: &Path,
    cfg: &SynthConfig,
    existing: impl FnOnce() -> Result<Option<SynthConfig>, DataError>,
    what: &str,
    delete: &str,
    write: impl FnOnce() -> Result<S, DataError>,
) -> Result<(), DataError> {
    let lock_path = crate::lock::sibling_lock_path(path);
    let _lock = crate::lock::FileLock::acquire(
        &lock_path,
        &format!("to finish writing the synthetic {what}"),
    )
    .map_err(|e| DataError::format(&lock_path, format!("{e:#}")))?;
    match existing()? {
        Some(existing) if &existing == cfg => Ok(()),
        Some(existing) => Err(DataError::Format {
            path: path.to_path_buf(),
            reason: format!(
                "holds a synthetic {what} made with other settings ({existing:?}); expected {cfg:?}. Point dataset.root elsewhere or delete the {delete}"
            ),
        }),
        None => {
            tracing::info!(path = %path.display(), "generating the synthetic {what}");
            let summary = write()?;
            tracing::info!(?summary, "synthetic {what} written");
            Ok(())
        }
    }
}

/// Map each row's labels to class indices under the multi-label policy; with `label_transform`,
/// neutral-plus-one ties that the policy would drop become training-only examples.
pub fn apply_label_policy(
    raw: RawCorpus,
    classes: &[String],
    policy: MultiLabelPolicy,
    label_transform: bool,
) -> Corpus {
    let index: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let class_of = |label: &str| {
        index
            .get(label)
            .copied()
            .ok_or_else(|| format!("unknown label: {label} (not in dataset.classes)"))
    };
    let rows_read = raw.utterances.len() + raw.dropped.len();
    let mut dropped = raw.dropped;
    let mut examples = Vec::with_capacity(raw.utterances.len());
    for u in raw.utterances {
        let targets =
            targets_of(&u.emotions, &u.votes, policy, &class_of, classes.len()).or_else(|reason| {
                match neutral_pair_other(&u.emotions) {
                    Some(other) if label_transform => class_of(other).map(|label| Targets {
                        labels: vec![label],
                        // Under soft votes every example needs a distribution: the row's
                        // votes did not give one, so its one label is its target.
                        soft: (policy == MultiLabelPolicy::SoftVotes)
                            .then(|| one_hot(label, classes.len())),
                        train_only: true,
                    }),
                    _ => Err(reason),
                }
            });
        match targets {
            Ok(t) => examples.push(Example {
                id: u.id,
                session: u.session,
                speaker: u.speaker,
                text: u.text,
                wav_path: u.wav_path,
                label: t.labels[0],
                labels: t.labels,
                soft: t.soft,
                valence: u.valence,
                arousal: u.arousal,
                train_only: t.train_only,
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
        ..Default::default()
    }
}

struct Targets {
    /// Non-empty; the first is the example's single label.
    labels: Vec<usize>,
    soft: Option<Vec<f32>>,
    train_only: bool,
}

fn targets_of(
    emotions: &[String],
    votes: &[String],
    policy: MultiLabelPolicy,
    class_of: &impl Fn(&str) -> Result<usize, String>,
    n_classes: usize,
) -> Result<Targets, String> {
    let single = |labels: Vec<usize>| Targets {
        labels,
        soft: None,
        train_only: false,
    };
    match (emotions, policy) {
        ([], _) => Err("empty label".to_string()),
        (_, MultiLabelPolicy::SoftVotes) => {
            let soft = vote_distribution(votes, class_of, n_classes)?;
            Ok(Targets {
                labels: vec![class_of(&emotions[0])?],
                soft: Some(soft),
                train_only: false,
            })
        }
        ([one], _) => Ok(single(vec![class_of(one)?])),
        (many, MultiLabelPolicy::Drop) => Err(format!(
            "multi-label: {} (multi_label = \"drop\")",
            many.join(";")
        )),
        ([first, ..], MultiLabelPolicy::First) => Ok(single(vec![class_of(first)?])),
        (many, MultiLabelPolicy::All) => many
            .iter()
            .map(|l| class_of(l))
            .collect::<Result<Vec<_>, _>>()
            .map(single),
    }
}

/// Share of the evaluators' votes per class; votes outside the classes are not counted.
fn vote_distribution(
    votes: &[String],
    class_of: &impl Fn(&str) -> Result<usize, String>,
    n_classes: usize,
) -> Result<Vec<f32>, String> {
    let mut counts = vec![0f32; n_classes];
    for vote in votes {
        if let Ok(c) = class_of(vote) {
            counts[c] += 1.0;
        }
    }
    let total: f32 = counts.iter().sum();
    if total == 0.0 {
        return Err(format!(
            "no evaluator vote among dataset.classes (votes: {:?}; multi_label = \"soft_votes\")",
            votes
        ));
    }
    Ok(counts.into_iter().map(|c| c / total).collect())
}

fn one_hot(label: usize, n_classes: usize) -> Vec<f32> {
    let mut v = vec![0.0; n_classes];
    v[label] = 1.0;
    v
}

/// Seed 000's label transform: of a two-label tie with `neutral`, the other label.
fn neutral_pair_other(emotions: &[String]) -> Option<&str> {
    match emotions {
        [a, b] if a == "neutral" && b != "neutral" => Some(b),
        [a, b] if b == "neutral" && a != "neutral" => Some(a),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AlsoCorpus;

    /// A small synthetic KEMDy20 corpus at `dir`.
    fn synthetic(dir: &Path) -> DatasetConfig {
        let cfg = SynthConfig {
            sessions: 2,
            utterances_per_session: 6,
            ..Default::default()
        };
        write_kemdy20(dir, &cfg).unwrap();
        DatasetConfig {
            kind: DatasetKind::Kemdy20,
            root: dir.to_path_buf(),
            multi_label: MultiLabelPolicy::First,
            ..Default::default()
        }
    }

    #[test]
    fn also_joins_a_second_corpus_in_sessions_and_speakers_of_its_own() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut ds = synthetic(a.path());
        let alone = prepare_corpus(&ds).unwrap();
        crate::data::kemdy19::tests::write_fixture(b.path());
        let kemdy19 = prepare_corpus(&DatasetConfig {
            kind: DatasetKind::Kemdy19,
            root: b.path().to_path_buf(),
            ..ds.clone()
        })
        .unwrap();
        ds.also = vec![AlsoCorpus {
            kind: DatasetKind::Kemdy19,
            root: b.path().to_path_buf(),
        }];
        let joined = prepare_corpus(&ds).unwrap();
        let n = alone.examples.len();
        assert_eq!(joined.examples.len(), n + kemdy19.examples.len());
        assert_eq!(
            joined.dropped.len(),
            alone.dropped.len() + kemdy19.dropped.len()
        );
        let last_session = alone.examples.iter().map(|e| e.session).max().unwrap();
        for (e, k) in joined.examples[n..].iter().zip(&kemdy19.examples) {
            assert_eq!(e.id, k.id);
            assert_eq!(e.session, k.session + last_session);
            assert_eq!(e.speaker, format!("kemdy19/{}", k.speaker));
        }
    }

    #[test]
    fn also_refuses_repeated_utterance_ids() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut ds = synthetic(a.path());
        synthetic(b.path());
        ds.also = vec![AlsoCorpus {
            kind: DatasetKind::Kemdy20,
            root: b.path().to_path_buf(),
        }];
        let err = prepare_corpus(&ds).unwrap_err().to_string();
        assert!(err.contains("repeat those of dataset.root"), "{err}");
        assert!(err.contains(&b.path().display().to_string()), "{err}");
    }

    #[test]
    fn a_missing_pickle_says_what_the_synthetic_table_would_generate() {
        let ds = DatasetConfig {
            kind: DatasetKind::IemocapCmuPickle,
            root: "/nonexistent/iemocap.pkl".into(),
            ..Default::default()
        };
        let message = missing_corpus(&ds).expect("the pickle is missing");
        assert!(message.contains("LMF's iemocap.pkl"), "{message}");
        assert!(
            message.contains("a synthetic pickle of the same layout"),
            "{message}"
        );
        assert!(!message.contains("KEMDy20"), "{message}");
    }

    use crate::data::RawUtterance;

    fn classes() -> Vec<String> {
        ["neutral", "happy", "sad"].map(String::from).to_vec()
    }

    fn row(id: &str, emotions: &[&str], votes: &[&str]) -> RawUtterance {
        RawUtterance {
            id: id.into(),
            emotions: emotions.iter().map(|s| s.to_string()).collect(),
            votes: votes.iter().map(|s| s.to_string()).collect(),
            valence: Some(3.5),
            ..Default::default()
        }
    }

    fn raw() -> RawCorpus {
        RawCorpus {
            utterances: vec![
                row("a", &["happy"], &["happy", "happy", "neutral", "angry"]),
                row("b", &["neutral", "sad"], &["neutral", "sad"]),
                row("c", &["happy", "sad"], &["happy", "sad"]),
                row(
                    "d",
                    &["sad", "neutral", "happy"],
                    &["sad", "neutral", "happy"],
                ),
                row("e", &["angry"], &["angry"]),
            ],
            dropped: vec![],
        }
    }

    fn ids(corpus: &Corpus) -> Vec<&str> {
        corpus.examples.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn drop_keeps_single_labels_and_counts_every_other_row() {
        let c = apply_label_policy(raw(), &classes(), MultiLabelPolicy::Drop, false);
        assert_eq!(ids(&c), ["a"]);
        assert_eq!(c.rows_read, 5);
        assert_eq!(c.dropped.len(), 4);
        assert!(c.dropped[3].reason.starts_with("unknown label: angry"));
        assert_eq!(c.examples[0].valence, Some(3.5));
    }

    #[test]
    fn first_and_all_keep_ties() {
        let c = apply_label_policy(raw(), &classes(), MultiLabelPolicy::First, false);
        assert_eq!(ids(&c), ["a", "b", "c", "d"]);
        assert_eq!(c.examples[3].label, 2);
        let c = apply_label_policy(raw(), &classes(), MultiLabelPolicy::All, false);
        assert_eq!(c.examples[3].labels, [2, 0, 1]);
        assert_eq!(c.examples[1].labels, [0, 2]);
    }

    /// Seed 000: only two-label ties with neutral come back, as the other label, train-only.
    #[test]
    fn label_transform_adds_neutral_pairs_for_training_only() {
        let c = apply_label_policy(raw(), &classes(), MultiLabelPolicy::Drop, true);
        assert_eq!(ids(&c), ["a", "b"]);
        let b = &c.examples[1];
        assert_eq!((b.label, b.train_only), (2, true));
        assert!(!c.examples[0].train_only);
        assert_eq!(
            c.dropped.len(),
            3,
            "c (two non-neutral), d (three labels), e (angry)"
        );
    }

    /// A label-transform row without usable votes gets its one label as an explicit
    /// distribution, so soft-vote training never falls back to hard targets for the run.
    #[test]
    fn label_transform_rows_under_soft_votes_get_one_hot_targets() {
        let mut raw = raw();
        raw.utterances
            .push(row("f", &["neutral", "happy"], &["angry", "angry"]));
        let c = apply_label_policy(raw, &classes(), MultiLabelPolicy::SoftVotes, true);
        assert!(c.examples.iter().all(|e| e.soft.is_some()));
        let f = c.examples.iter().find(|e| e.id == "f").unwrap();
        assert!(f.train_only);
        assert_eq!(f.soft.as_deref(), Some(&[0.0, 1.0, 0.0][..]));
    }

    #[test]
    fn soft_votes_are_the_vote_shares_within_the_classes() {
        let c = apply_label_policy(raw(), &classes(), MultiLabelPolicy::SoftVotes, false);
        assert_eq!(ids(&c), ["a", "b", "c", "d"]);
        // a: happy, happy, neutral (angry is not a class).
        let soft = c.examples[0].soft.as_ref().unwrap();
        assert_eq!(soft, &[1.0 / 3.0, 2.0 / 3.0, 0.0]);
        assert_eq!(c.examples[0].label, 1);
        assert!(c.dropped[0].reason.starts_with("no evaluator vote"));
    }
}
