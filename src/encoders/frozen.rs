//! Frozen encoders (`train = "frozen"`): each utterance's output is computed once, stored in the
//! feature cache, and handed to every fold, epoch and later run as a tensor, so the encoder
//! never runs inside the training loop.
//!
//! The cache key of an encoder covers everything that changes its output (emo-run's version,
//! the encoder table, the merged config.json, a hash of the weight file or the seed of a random
//! init, the tokenizer, sequence or pooled output); the key of an utterance is a hash of the
//! exact model input (token ids, or the processed samples).
//!
//! Audio is encoded one clip at a time: without an attention mask wav2vec2's output for a clip
//! depends on the padding its batch-mates force on it, and a cached value must not.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::audio::{AudioBackboneSpec, AudioEncoderSpec, AudioInput};
use super::cache::{CachedFeature, FeatureCache};
use super::folder;
use super::pooling::{Pooling, pool};
use super::text::{TextBackboneSpec, TextEncoderSpec};
use crate::config::EncoderInit;
use crate::data::tokenize::Encoded;
use crate::data::tokenize::text_arrays;

/// Where and how frozen features are computed.
#[derive(Debug, Clone)]
pub struct Extraction<'a> {
    pub cache_root: &'a Path,
    pub device: Device,
    /// Utterances per forward pass for text.
    pub batch_size: usize,
    /// Seed of a randomly initialised frozen encoder (part of its cache key).
    pub seed: u64,
    /// The backend that computes the features (`DeviceChoice::backend_name`), part of the cache
    /// key: backends round differently, and a cached value must be the one this run computes.
    pub backend: &'static str,
    pub quiet: bool,
}

/// The frozen text encoder's output for each of `encoded`: `[hidden]` pooled, or the whole
/// `[max_len, hidden]` sequence when `sequences` (token-level fusion).
///
/// A pooled feature is pooled from the sequence (every pooling but the model's own pooler), so
/// the sequence form of the same encoder serves both: where its cache folder exists (another
/// experiment stored it, or a grid announced that one of its cells needs it), missing pooled
/// features are pooled from stored sequences, and newly computed sequences are stored there too.
/// A grid that wants both forms then runs the encoder once.
pub fn text_features(
    spec: &TextEncoderSpec,
    encoded: &[Encoded],
    sequences: bool,
    ex: &Extraction<'_>,
) -> anyhow::Result<Vec<CachedFeature>> {
    let pooling = spec.config.pooling;
    let form_keys = text_keys(spec, ex.seed, ex.backend)?;
    let cache = FeatureCache::open(ex.cache_root, form_keys.form(sequences))?;
    let shared = if sequences || pooling == Pooling::Pooler {
        None
    } else {
        FeatureCache::existing(ex.cache_root, &form_keys.sequence)
    };
    let keys: Vec<blake3::Hash> = encoded.iter().map(|e| ids_key(&e.ids)).collect();
    let length = |i: usize| text_arrays(encoded, &[i]).1[0];
    let from_sequence = |i: usize| -> Option<CachedFeature> {
        let stored = shared.as_ref()?.get(&keys[i])?;
        Some(pool_stored(stored, length(i), pooling, &ex.device))
    };
    let mut encoder = None;
    let compute = |chunk: &[usize]| -> anyhow::Result<Vec<CachedFeature>> {
        let encoder = built(&mut encoder, ex, |device| spec.init(device))?;
        let (ids, lengths) = text_arrays(encoded, chunk);
        let ids = Tensor::<2, Int>::from_data(ids, &ex.device);
        if !sequences && shared.is_none() {
            return Ok(split_rows2(encoder.forward(ids, &lengths)));
        }
        let hidden = encoder.forward_sequence(ids, &lengths);
        if sequences {
            return Ok(split_rows3(hidden, None));
        }
        let rows = split_rows3(hidden.clone(), None);
        store(shared.as_ref(), &keys, chunk, &rows)?;
        Ok(split_rows2(pool(hidden, &lengths, pooling)))
    };
    let model = model_label(spec.config.path.as_deref());
    let what = ("text", model.as_str());
    through_cache(
        what,
        &cache,
        &keys,
        ex.batch_size,
        ex.quiet,
        from_sequence,
        compute,
    )
}

/// The frozen audio encoder's output for each clip: `[dim]` pooled, or `[frames, dim]`; pooled
/// features come from stored sequences where they exist, as for text.
pub fn audio_features(
    spec: &AudioEncoderSpec,
    clips: &[Vec<f32>],
    sequences: bool,
    ex: &Extraction<'_>,
) -> anyhow::Result<Vec<CachedFeature>> {
    let pooling = spec.config.pooling;
    let form_keys = audio_keys(spec, ex.seed, ex.backend)?;
    let cache = FeatureCache::open(ex.cache_root, form_keys.form(sequences))?;
    let shared = if sequences {
        None
    } else {
        FeatureCache::existing(ex.cache_root, &form_keys.sequence)
    };
    let keys: Vec<blake3::Hash> = clips.iter().map(|c| samples_key(c)).collect();
    // One clip at a time (no padding): a stored sequence is the clip's whole output.
    let from_sequence = |i: usize| -> Option<CachedFeature> {
        let stored = shared.as_ref()?.get(&keys[i])?;
        let frames = stored.shape[0];
        Some(pool_stored(stored, frames, pooling, &ex.device))
    };
    let mut encoder = None;
    let compute = |chunk: &[usize]| -> anyhow::Result<Vec<CachedFeature>> {
        let encoder = built(&mut encoder, ex, |device| spec.init(device))?;
        let clip = &clips[chunk[0]];
        let input = AudioInput::Waveform {
            samples: Tensor::from_data(TensorData::new(clip.clone(), [1, clip.len()]), &ex.device),
            lengths: vec![clip.len()],
        };
        if !sequences && shared.is_none() {
            return Ok(split_rows2(encoder.forward(input)));
        }
        let (hidden, lengths) = encoder.forward_sequence(input);
        let rows = split_rows3(hidden.clone(), Some(&lengths));
        if sequences {
            return Ok(rows);
        }
        store(shared.as_ref(), &keys, chunk, &rows)?;
        Ok(split_rows2(pool(hidden, &lengths, pooling)))
    };
    let model = model_label(spec.config.path.as_deref());
    let what = ("audio", model.as_str());
    through_cache(what, &cache, &keys, 1, ex.quiet, from_sequence, compute)
}

/// Create the sequence form's cache folder of a frozen text encoder under `root`, so that
/// experiments that pool the same encoder store their sequences for it (see `text_features`).
/// `seed` and `backend` as in [`Extraction`].
pub fn announce_text_sequences(
    spec: &TextEncoderSpec,
    root: &Path,
    seed: u64,
    backend: &'static str,
) -> anyhow::Result<()> {
    FeatureCache::open(root, &text_keys(spec, seed, backend)?.sequence).map(drop)
}

/// The same for a frozen audio encoder.
pub fn announce_audio_sequences(
    spec: &AudioEncoderSpec,
    root: &Path,
    seed: u64,
    backend: &'static str,
) -> anyhow::Result<()> {
    FeatureCache::open(root, &audio_keys(spec, seed, backend)?.sequence).map(drop)
}

/// A stored `[time, dim]` sequence pooled as the encoder pools it, by the same `pool` on a batch
/// of one: pooling works row by row, so the value equals the one pooled in a batch.
fn pool_stored(
    stored: CachedFeature,
    length: usize,
    pooling: Pooling,
    device: &Device,
) -> CachedFeature {
    let shape = [1, stored.shape[0], stored.shape[1]];
    let hidden = Tensor::<3>::from_data(TensorData::new(stored.values, shape), device);
    split_rows2(pool(hidden, &[length], pooling)).remove(0)
}

/// Store the sequences `rows` of `chunk`'s utterances in `shared`, when there is one.
fn store(
    shared: Option<&FeatureCache>,
    keys: &[blake3::Hash],
    chunk: &[usize],
    rows: &[CachedFeature],
) -> anyhow::Result<()> {
    if let Some(shared) = shared {
        for (&i, row) in chunk.iter().zip(rows) {
            shared.put(&keys[i], row)?;
        }
    }
    Ok(())
}

/// The encoder in `slot`, built (seeded, weights read) on first use only: a run whose features
/// are all cached never loads the model.
fn built<'s, T>(
    slot: &'s mut Option<T>,
    ex: &Extraction<'_>,
    init: impl FnOnce(&Device) -> anyhow::Result<T>,
) -> anyhow::Result<&'s T> {
    if slot.is_none() {
        ex.device.seed(ex.seed);
        *slot = Some(init(&ex.device)?);
    }
    Ok(slot.as_ref().expect("just built"))
}

/// The model folder as the extraction's log line names it.
fn model_label(path: Option<&Path>) -> String {
    path.map_or_else(|| "(none)".into(), |p| p.display().to_string())
}

/// Look every distinct key up once (a miss that `from_sequence` can pool from a stored sequence
/// is pooled and stored); compute the rest `batch` at a time, storing each as it comes (an
/// interrupted extraction resumes where it stopped); log hits, misses and the seconds spent
/// computing (bench/grid_cost.py reads them to price a grid's extractions).
///
/// Utterances with the same model input (the same sentence, say) share one key, so they are
/// looked up and computed once and get the same feature. Concurrent processes (the cells of a
/// grid) compute under the cache's lock, and look again once they hold it: two cells that need
/// the same features compute them once, the second reads what the first stored.
fn through_cache(
    (modality, model): (&str, &str),
    cache: &FeatureCache,
    keys: &[blake3::Hash],
    batch: usize,
    quiet: bool,
    from_sequence: impl Fn(usize) -> Option<CachedFeature>,
    mut compute: impl FnMut(&[usize]) -> anyhow::Result<Vec<CachedFeature>>,
) -> anyhow::Result<Vec<CachedFeature>> {
    let mut features: HashMap<blake3::Hash, CachedFeature> = HashMap::new();
    let mut seen = HashSet::new();
    let distinct: Vec<usize> = (0..keys.len()).filter(|&i| seen.insert(keys[i])).collect();
    let mut missing = look_up(cache, keys, &distinct, &mut features);
    let mut _lock = None;
    let mut pooled = 0;
    if !missing.is_empty() {
        _lock = Some(cache.lock(&format!("to finish computing {modality} features"))?);
        missing = look_up(cache, keys, &missing, &mut features);
        let before = missing.len();
        missing = pool_from_sequences(cache, keys, &missing, &mut features, from_sequence)?;
        pooled = before - missing.len();
    }
    let started = std::time::Instant::now();
    let bar = progress_bar(modality, missing.len(), quiet);
    for chunk in missing.chunks(batch.max(1)) {
        let outputs = compute(chunk)?;
        for (&i, feature) in chunk.iter().zip(outputs) {
            cache.put(&keys[i], &feature)?;
            features.insert(keys[i], feature);
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    tracing::info!(
        modality,
        model,
        utterances = keys.len(),
        computed = missing.len(),
        pooled_from_sequences = pooled,
        compute_s = started.elapsed().as_secs_f64(),
        unusable = cache.stats.corrupt(),
        cache = %cache.dir().display(),
        "frozen {modality} encoder: {} distinct inputs for {} utterances: {} from the feature cache, {} computed",
        features.len(),
        keys.len(),
        features.len() - missing.len(),
        missing.len()
    );
    Ok(keys.iter().map(|k| features[k].clone()).collect())
}

/// Pool what `from_sequence` can of `wanted` from stored sequences, storing each; the rest.
fn pool_from_sequences(
    cache: &FeatureCache,
    keys: &[blake3::Hash],
    wanted: &[usize],
    found: &mut HashMap<blake3::Hash, CachedFeature>,
    from_sequence: impl Fn(usize) -> Option<CachedFeature>,
) -> anyhow::Result<Vec<usize>> {
    let mut missing = Vec::new();
    for &i in wanted {
        match from_sequence(i) {
            Some(feature) => {
                cache.put(&keys[i], &feature)?;
                found.insert(keys[i], feature);
            }
            None => missing.push(i),
        }
    }
    Ok(missing)
}

/// Read the entries of `keys[i]` for each `i` of `wanted` into `found`; the indices not stored.
fn look_up(
    cache: &FeatureCache,
    keys: &[blake3::Hash],
    wanted: &[usize],
    found: &mut HashMap<blake3::Hash, CachedFeature>,
) -> Vec<usize> {
    let mut missing = Vec::new();
    for &i in wanted {
        match cache.get(&keys[i]) {
            Some(feature) => {
                found.insert(keys[i], feature);
            }
            None => missing.push(i),
        }
    }
    missing
}

fn progress_bar(modality: &str, len: usize, quiet: bool) -> ProgressBar {
    if quiet || len == 0 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{modality} features [{{bar:30}}] {{pos}}/{{len}} utterances {{elapsed}} (eta {{eta}})"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// `[batch, dim]` as one `[dim]` feature per row.
fn split_rows2(t: Tensor<2>) -> Vec<CachedFeature> {
    let [rows, dim] = t.dims();
    let values = t.into_data().try_to_vec::<f32>().expect("f32 features");
    (0..rows)
        .map(|r| CachedFeature::new(vec![dim], values[r * dim..(r + 1) * dim].to_vec()))
        .collect()
}

/// `[batch, time, dim]` as one `[time, dim]` feature per row, cut to `lengths` when given.
fn split_rows3(t: Tensor<3>, lengths: Option<&[usize]>) -> Vec<CachedFeature> {
    let [rows, time, dim] = t.dims();
    let values = t.into_data().try_to_vec::<f32>().expect("f32 features");
    (0..rows)
        .map(|r| {
            let keep = lengths.map_or(time, |l| l[r].min(time));
            let start = r * time * dim;
            CachedFeature::new(vec![keep, dim], values[start..start + keep * dim].to_vec())
        })
        .collect()
}

fn ids_key(ids: &[u32]) -> blake3::Hash {
    let bytes: Vec<u8> = ids.iter().flat_map(|id| id.to_le_bytes()).collect();
    blake3::hash(&bytes)
}

fn samples_key(samples: &[f32]) -> blake3::Hash {
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    blake3::hash(&bytes)
}

/// What identifies an encoder's outputs, hashed into its cache folder's name.
#[derive(Serialize)]
struct EncoderIdentity<C: Serialize, A: Serialize> {
    /// Digest of the encoder sources and Cargo.lock (build.rs).
    code: &'static str,
    backend: &'static str,
    modality: &'static str,
    table: C,
    architecture: A,
    weights: String,
    tokenizer: Option<String>,
    attention_mask: Option<bool>,
    sequences: bool,
}

fn identity_hash(identity: &impl Serialize) -> anyhow::Result<blake3::Hash> {
    Ok(blake3::hash(&serde_json::to_vec(identity)?))
}

fn weights_identity(dir: &Path, init: EncoderInit, seed: u64) -> anyhow::Result<String> {
    Ok(match init {
        EncoderInit::Pretrained => folder::hash_file(&folder::weights_file(dir)?)?
            .to_hex()
            .to_string(),
        EncoderInit::Random => format!("random init, seed {seed}"),
    })
}

/// Changes whenever the encoder code or the dependencies change (computed by build.rs).
const ENCODER_CODE: &str = env!("EMO_ENCODER_CODE");

/// The cache keys of an encoder's two output forms: pooled, and the whole sequence. The
/// sequence key leaves the pooling out, so one entry serves every experiment that pools it.
struct FormKeys {
    pooled: blake3::Hash,
    sequence: blake3::Hash,
}

impl FormKeys {
    /// Both keys of one identity (given with `sequences: false`), hashing the weights and the
    /// tokenizer once for the two.
    fn of<C: Serialize, A: Serialize>(
        mut identity: EncoderIdentity<C, A>,
        leave_pooling_out: impl FnOnce(&mut C),
    ) -> anyhow::Result<Self> {
        let pooled = identity_hash(&identity)?;
        identity.sequences = true;
        leave_pooling_out(&mut identity.table);
        Ok(Self {
            pooled,
            sequence: identity_hash(&identity)?,
        })
    }

    fn form(&self, sequences: bool) -> &blake3::Hash {
        if sequences {
            &self.sequence
        } else {
            &self.pooled
        }
    }
}

fn text_keys(spec: &TextEncoderSpec, seed: u64, backend: &'static str) -> anyhow::Result<FormKeys> {
    let TextBackboneSpec::Pretrained { dir, hf } = &spec.backbone else {
        anyhow::bail!("only pretrained text encoders can be frozen");
    };
    let tokenizer = folder::hash_file(&dir.join("tokenizer.json"))
        .with_context(|| format!("hashing the tokenizer of {}", dir.display()))?;
    let mut table = spec.config.clone();
    table.train = crate::config::EncoderTraining::Frozen;
    let identity = EncoderIdentity {
        code: ENCODER_CODE,
        backend,
        modality: "text",
        table,
        architecture: hf,
        weights: weights_identity(dir, spec.config.init, seed)?,
        tokenizer: Some(tokenizer.to_hex().to_string()),
        attention_mask: None,
        sequences: false,
    };
    FormKeys::of(identity, |table| table.pooling = Pooling::None)
}

fn audio_keys(
    spec: &AudioEncoderSpec,
    seed: u64,
    backend: &'static str,
) -> anyhow::Result<FormKeys> {
    let AudioBackboneSpec::Wav2vec2 {
        dir,
        w2v,
        attention_mask,
    } = &spec.backbone
    else {
        anyhow::bail!("only wav2vec2 audio encoders can be frozen");
    };
    let mut table = spec.config.clone();
    table.train = crate::config::EncoderTraining::Frozen;
    let identity = EncoderIdentity {
        code: ENCODER_CODE,
        backend,
        modality: "audio",
        table,
        architecture: w2v,
        weights: weights_identity(dir, spec.config.init, seed)?,
        tokenizer: None,
        attention_mask: Some(*attention_mask),
        sequences: false,
    };
    FormKeys::of(identity, |table| table.pooling = Pooling::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache key follows the code that computes the features and the backend that runs
    /// it; the crate version (0.1.0 across every fix) is not part of it.
    #[test]
    fn the_cache_key_changes_with_the_backend_and_carries_the_code_digest() {
        use crate::config::{EncoderInit, EncoderTraining, TextEncoderConfig, TextEncoderKind};
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf/roberta");
        let config = TextEncoderConfig {
            kind: TextEncoderKind::Roberta,
            path: Some(dir),
            init: EncoderInit::Pretrained,
            train: EncoderTraining::Frozen,
            max_len: 12,
            ..Default::default()
        };
        let spec = TextEncoderSpec::from_folder(&config).unwrap();
        let flex = text_keys(&spec, 1, "flex").unwrap().pooled;
        assert_eq!(flex, text_keys(&spec, 1, "flex").unwrap().pooled);
        assert_ne!(flex, text_keys(&spec, 1, "tch-cpu").unwrap().pooled);
        assert_eq!(ENCODER_CODE.len(), 64, "a blake3 digest from build.rs");
        assert_ne!(ENCODER_CODE, env!("CARGO_PKG_VERSION"));
    }

    /// A pooled extraction where the sequence form was announced stores the sequences, gives
    /// the very values of a plain pooled extraction, and a later extraction with another pooling
    /// pools the stored sequences instead of running the encoder.
    #[test]
    fn pooled_features_share_the_announced_sequences() {
        use crate::config::{EncoderInit, EncoderTraining, TextEncoderConfig, TextEncoderKind};
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf/roberta");
        let spec = |pooling| {
            let config = TextEncoderConfig {
                kind: TextEncoderKind::Roberta,
                path: Some(dir.clone()),
                init: EncoderInit::Pretrained,
                train: EncoderTraining::Frozen,
                max_len: 12,
                pooling,
                ..Default::default()
            };
            TextEncoderSpec::from_folder(&config).unwrap()
        };
        let tokenizer = crate::encoders::hf::load_tokenizer(&dir, 12).unwrap();
        let encoded: Vec<Encoded> = ["so happy today", "why", "a longer sentence than that"]
            .iter()
            .map(|t| crate::data::tokenize::encode(&tokenizer, t).unwrap())
            .collect();
        let (plain, shared) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let extraction = |root| Extraction {
            cache_root: root,
            device: Device::default(),
            batch_size: 2,
            seed: 1,
            backend: "flex",
            quiet: true,
        };
        let (plain, shared) = (extraction(plain.path()), extraction(shared.path()));
        let mean = text_features(&spec(Pooling::Mean), &encoded, false, &plain).unwrap();

        announce_text_sequences(&spec(Pooling::None), shared.cache_root, 1, "flex").unwrap();
        let pooled = text_features(&spec(Pooling::Mean), &encoded, false, &shared).unwrap();
        assert_eq!(pooled, mean, "pooling from the sequence changes nothing");
        let sequences = text_features(&spec(Pooling::None), &encoded, true, &shared).unwrap();
        assert_eq!(sequences[0].shape, [12, 24]);

        // Mark one stored sequence: a new pooling must read it rather than run the encoder.
        let key = text_keys(&spec(Pooling::None), 1, "flex").unwrap().sequence;
        let stored = FeatureCache::open(shared.cache_root, &key).unwrap();
        stored
            .put(
                &ids_key(&encoded[1].ids),
                &CachedFeature::new(vec![12, 24], vec![2.0; 288]),
            )
            .unwrap();
        let first = text_features(&spec(Pooling::MeanUnmasked), &encoded, false, &shared).unwrap();
        assert_eq!(first[1].values, vec![2.0; 24]);
        let direct = text_features(&spec(Pooling::MeanUnmasked), &encoded, false, &plain).unwrap();
        assert_eq!(first[0], direct[0]);
        assert_eq!(first[2], direct[2]);
    }

    fn feature(v: f32) -> CachedFeature {
        CachedFeature::new(vec![1], vec![v])
    }

    #[test]
    fn utterances_with_the_same_input_are_looked_up_and_computed_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::open(dir.path(), &blake3::hash(b"encoder")).unwrap();
        let (a, b) = (blake3::hash(b"a"), blake3::hash(b"b"));
        let keys = [a, b, a, a];
        let mut computed = Vec::new();
        let out = through_cache(
            ("text", "test"),
            &cache,
            &keys,
            8,
            true,
            |_| None,
            |chunk| {
                computed.extend_from_slice(chunk);
                Ok(chunk.iter().map(|&i| feature(i as f32)).collect())
            },
        )
        .unwrap();
        assert_eq!(computed, [0, 1]);
        assert_eq!(
            out,
            [feature(0.0), feature(1.0), feature(0.0), feature(0.0)]
        );

        // Once stored, nothing is computed and the duplicates are read once.
        let cache = FeatureCache::open(dir.path(), &blake3::hash(b"encoder")).unwrap();
        let again = through_cache(
            ("text", "test"),
            &cache,
            &keys,
            8,
            true,
            |_| None,
            |_| unreachable!(),
        )
        .unwrap();
        assert_eq!(again, out);
        assert_eq!(cache.stats.hits(), 2);
    }

    /// A second process that misses while the first computes waits for it, then reads what it
    /// stored instead of computing it again.
    #[test]
    fn a_process_that_waits_for_the_cache_lock_reads_instead_of_computing() {
        let dir = tempfile::tempdir().unwrap();
        let key = blake3::hash(b"encoder");
        let first = FeatureCache::open(dir.path(), &key).unwrap();
        let held = first.lock("testing").unwrap();
        let keys = [blake3::hash(b"a")];
        let waiter = {
            let root = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let cache = FeatureCache::open(&root, &key).unwrap();
                through_cache(
                    ("text", "test"),
                    &cache,
                    &keys,
                    8,
                    true,
                    |_| None,
                    |_| panic!("computed although the other process stored it"),
                )
                .unwrap()
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        first.put(&keys[0], &feature(7.0)).unwrap();
        drop(held);
        assert_eq!(waiter.join().unwrap(), [feature(7.0)]);
    }
}
