//! A deterministic synthetic corpus in the exact layout of LMF's `iemocap.pkl`, so that the
//! real loader (`load_cmu_pickle`) reads it and CI can train LMF/TFN-style models without the
//! licensed features.
//!
//! Every utterance draws three latents, `u_a`, `u_v`, `u_t` ~ N(0, 1), one per stream, and each
//! stream carries its own latent under noise: covarep is `0.5·noise + u_a·d_a`, facet
//! `0.5·noise + u_v·d_v`, and each of the 20 GloVe steps `0.05·noise + u_t·d_t`, where the
//! `d` are fixed random directions of length 2 drawn from the seed (so a mean over the steps
//! and an LSTM both recover `u_t`). Each emotion is decided by a *different* mix of the latents:
//!
//! | emotion | label carried by      |
//! |---------|-----------------------|
//! | happy   | audio + text          |
//! | sad     | visual + text         |
//! | angry   | audio + visual + text |
//! | neutral | audio + visual        |
//!
//! The utterance is positive (label column 1) when the sum of its mix's latents exceeds a fixed
//! normal quantile, about a third of the rows. A stream outside the mix still carries its
//! latent, which is then irrelevant; so no single stream decides any emotion, and a model that
//! fuses all three beats every single-stream model clearly.
//!
//! The GloVe noise is small on purpose. At 0.3 per entry, 20 steps × 300 entries of independent
//! noise make every utterance unique to the text LSTM, which then memorises the 1,200 training
//! rows (training accuracy near 1.0, validation at one stream's level) before LMF's product of
//! modality factors has learnt the second stream of a mix: early stopping then keeps a
//! one-stream model, which tied or trailed text alone on happy and sad. At 0.05 the steps are
//! dominated by the latent, the text path generalises, and LMF learns both streams of every mix
//! (docs/METHODS.md, "Seed 002 on the synthetic CMU pickle"). Text alone is as good either way:
//! the mean of the steps recovers `u_t` almost exactly at both levels. Covarep and facet keep
//! 0.5; with 74 and 35 entries they offer far less noise to memorise.
//!
//! As in the real pickle, covarep and facet hold a few NaNs (the loader zeroes them); GloVe
//! holds none, since the loader keeps GloVe NaNs and training on them would diverge.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{AUDIO_DIM, LABEL_COLUMNS, TEXT_DIM, TEXT_STEPS, VISUAL_DIM};
pub use crate::config::dataset_options::SynthConfig;
use crate::data::error::DataError;
use crate::data::pickle::write::{F32Array, Node, write_pickle};

/// A stream whose latent decides an emotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Audio,
    Visual,
    Text,
}

/// The emotions in the key order of the original pickle (angry, sad, neutral, happy), each
/// with the streams that carry its label.
const EMOTIONS: [(&str, &[Stream]); 4] = [
    ("angry", &[Stream::Audio, Stream::Visual, Stream::Text]),
    ("sad", &[Stream::Visual, Stream::Text]),
    ("neutral", &[Stream::Audio, Stream::Visual]),
    ("happy", &[Stream::Audio, Stream::Text]),
];
const SPLITS: [&str; 3] = ["train", "valid", "test"];
/// Positive when the mix's latent sum, divided by its standard deviation, exceeds this:
/// Φ⁻¹(0.67), so about 33% positives whatever the data (a fixed quantile, not a data one).
const POSITIVE_Z: f64 = 0.44;
const AUDIO_NOISE: f32 = 0.5;
const VISUAL_NOISE: f32 = 0.5;
/// Per GloVe entry: small, so that the LSTM cannot memorise the training rows by their noise
/// before a fusion model has learnt every stream of a mix (see the module doc).
const TEXT_NOISE: f32 = 0.05;
/// Length of each stream's latent direction. Against the per-dimension noise this gives the
/// latent a signal-to-noise ratio of 4 along its direction in covarep and facet (40 in each
/// GloVe step), enough for a model to find the direction from the default 240 training rows;
/// each entry stays small (2/√74 ≈ 0.23 per unit of latent in covarep), so values stay mostly
/// within ±3.
const SIGNAL: f32 = 2.0;
/// Share of covarep and facet entries that are NaN.
const NAN_SHARE: f64 = 0.005;
const MARKER_SUFFIX: &str = ".synthetic.json";

/// What was written for one split.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmuSynthSplit {
    pub utterances: usize,
    /// Rows labelled "is this emotion" (label column 1).
    pub positives: usize,
    /// NaNs planted in covarep plus facet (the loader zeroes them).
    pub nan_planted: usize,
}

/// What was written for one emotion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmuSynthEmotion {
    /// The streams whose latents decide the label (`audio`, `visual`, `text`).
    pub label_streams: Vec<String>,
    /// Per split (`train`, `valid`, `test`).
    pub splits: BTreeMap<String, CmuSynthSplit>,
}

/// What was written, per emotion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmuSynthSummary {
    pub emotions: BTreeMap<String, CmuSynthEmotion>,
}

/// Version of the generator's rule (noise levels, mixes, label rule). A pickle written by
/// another version holds other data for the same settings, so it is refused rather than reused.
/// Version 1 (no field in the marker) had GloVe noise 0.3; version 2 has 0.05.
const GENERATOR_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Marker {
    config: SynthConfig,
    summary: CmuSynthSummary,
    #[serde(default = "first_version")]
    generator: u32,
}

fn first_version() -> u32 {
    1
}

/// The sidecar that says emo-run wrote the pickle at `path`: `<path>.synthetic.json`.
pub fn marker_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(MARKER_SUFFIX);
    PathBuf::from(name)
}

/// The settings of the synthetic pickle at `path`, `None` if there is no pickle (a marker left
/// by an interrupted write is ignored). A pickle without our marker is an error: generation
/// never overwrites data it did not write.
pub fn existing_synthetic_config(path: &Path) -> Result<Option<SynthConfig>, DataError> {
    if !path.exists() {
        return Ok(None);
    }
    let marker = marker_path(path);
    if !marker.is_file() {
        return Err(DataError::format(
            path,
            "holds a pickle that emo-run did not generate; refusing to overwrite it with a \
             synthetic corpus (remove [dataset.synthetic] to read it, or choose another root)",
        ));
    }
    let text = std::fs::read_to_string(&marker).map_err(|e| DataError::io(&marker, e))?;
    let parsed: Marker = serde_json::from_str(&text).map_err(|e| {
        DataError::format(&marker, format!("unreadable synthetic-corpus marker: {e}"))
    })?;
    if parsed.generator != GENERATOR_VERSION {
        return Err(DataError::format(
            path,
            format!(
                "holds a synthetic CMU pickle from generator version {} (an older emo-run); this build generates version {GENERATOR_VERSION}, whose data differ for the same settings. Delete the file and its {} to regenerate it",
                parsed.generator,
                marker.display()
            ),
        ));
    }
    Ok(Some(parsed.config))
}

/// Write the synthetic pickle at `path` (its folder is created if needed) and its marker.
///
/// The marker goes first and the pickle is renamed into place last: a crash at any point
/// leaves either no pickle (regenerated next time, the stale marker ignored) or a complete
/// pickle with its marker, never a pickle without one, which would be refused as foreign.
pub fn write_synthetic_cmu_pickle(
    path: &Path,
    cfg: &SynthConfig,
) -> Result<CmuSynthSummary, DataError> {
    let sizes = split_sizes(cfg)?;
    let ours = existing_synthetic_config(path)?.is_some();
    let (root, summary) = synthesize(cfg, sizes);
    if ours {
        // Remove our old pickle before its marker is replaced, so that no marker ever
        // describes a pickle made with other settings.
        std::fs::remove_file(path).map_err(|e| DataError::io(path, e))?;
    }
    let marker = marker_path(path);
    crate::atomic::write_json_atomic(
        &marker,
        &Marker {
            config: cfg.clone(),
            summary: summary.clone(),
            generator: GENERATOR_VERSION,
        },
    )
    .map_err(|e| DataError::format(&marker, format!("{e:#}")))?;
    crate::atomic::write_with(path, |tmp| {
        let file = std::fs::File::create(tmp)?;
        let mut out = std::io::BufWriter::new(file);
        write_pickle(&mut out, &root)?;
        out.flush()?;
        Ok(())
    })
    .map_err(|e| DataError::format(path, format!("{e:#}")))?;
    tracing::info!(path = %path.display(), ?summary, "synthetic CMU pickle written");
    Ok(summary)
}

/// Utterances per split: `sessions × utterances_per_session` per emotion, 60/20/20, each split
/// at least one.
fn split_sizes(cfg: &SynthConfig) -> Result<[usize; 3], DataError> {
    let n = cfg.sessions as usize * cfg.utterances_per_session as usize;
    if n < 3 {
        return Err(DataError::key(
            "dataset.synthetic",
            format!(
                "sessions × utterances_per_session is {n}; the CMU pickle layout needs at least \
                 3 utterances per emotion (one each for train, valid and test)"
            ),
        ));
    }
    let fifth = ((n as f64 * 0.2).round() as usize).max(1);
    Ok([n - 2 * fifth, fifth, fifth])
}

/// The fixed directions along which each stream carries its latent.
struct Directions {
    audio: Vec<f32>,
    visual: Vec<f32>,
    text: Vec<f32>,
}

impl Directions {
    /// From stream 0 of the seed; each emotion draws from its own stream, so that one emotion
    /// can be generated without the others (the tests do).
    fn from_seed(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0);
        Directions {
            audio: direction(AUDIO_DIM, &mut rng),
            visual: direction(VISUAL_DIM, &mut rng),
            text: direction(TEXT_DIM, &mut rng),
        }
    }
}

/// A random direction of length [`SIGNAL`].
fn direction(dim: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut v = vec![0.0; dim];
    fill_normal(&mut v, 1.0, rng);
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x *= SIGNAL / norm);
    v
}

/// Standard normals scaled by `std`, by Box–Muller (rand_distr is not a dependency).
fn fill_normal(out: &mut [f32], std: f32, rng: &mut ChaCha8Rng) {
    for pair in out.chunks_mut(2) {
        // 1 - U lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - rng.random::<f64>()).ln()).sqrt();
        let angle = std::f64::consts::TAU * rng.random::<f64>();
        pair[0] = (radius * angle.cos()) as f32 * std;
        if let Some(second) = pair.get_mut(1) {
            *second = (radius * angle.sin()) as f32 * std;
        }
    }
}

pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let mut x = [0.0];
    fill_normal(&mut x, 1.0, rng);
    x[0]
}

/// The whole pickle tree and its summary.
fn synthesize(cfg: &SynthConfig, sizes: [usize; 3]) -> (Node, CmuSynthSummary) {
    let directions = Directions::from_seed(cfg.seed);
    let mut summary = CmuSynthSummary::default();
    let mut root = Vec::new();
    for (index, (emotion, streams)) in EMOTIONS.iter().enumerate() {
        let splits = synthesize_emotion(cfg.seed, index, sizes, &directions);
        let mut emotion_summary = CmuSynthEmotion {
            label_streams: streams.iter().map(|s| stream_name(*s).into()).collect(),
            splits: BTreeMap::new(),
        };
        let mut nodes = Vec::new();
        for (name, (tables, split_summary)) in SPLITS.iter().zip(splits) {
            emotion_summary
                .splits
                .insert(name.to_string(), split_summary);
            nodes.push((name.as_bytes().to_vec(), tables.into_node()));
        }
        summary
            .emotions
            .insert(emotion.to_string(), emotion_summary);
        root.push((emotion.as_bytes().to_vec(), Node::Dict(nodes)));
    }
    (Node::Dict(root), summary)
}

fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Audio => "audio",
        Stream::Visual => "visual",
        Stream::Text => "text",
    }
}

/// One split's four arrays.
struct SplitTables {
    covarep: F32Array,
    facet: F32Array,
    glove: F32Array,
    label: F32Array,
}

impl SplitTables {
    fn with_capacity(n: usize) -> Self {
        let table = |dims: &[usize]| F32Array {
            shape: [&[n][..], dims].concat(),
            values: Vec::with_capacity(n * dims.iter().product::<usize>()),
        };
        SplitTables {
            covarep: table(&[AUDIO_DIM]),
            facet: table(&[VISUAL_DIM]),
            glove: table(&[TEXT_STEPS, TEXT_DIM]),
            label: table(&[LABEL_COLUMNS]),
        }
    }

    fn into_node(self) -> Node {
        Node::Dict(vec![
            (b"covarep".to_vec(), Node::Array(self.covarep)),
            (b"facet".to_vec(), Node::Array(self.facet)),
            (b"glove".to_vec(), Node::Array(self.glove)),
            (b"label".to_vec(), Node::Array(self.label)),
        ])
    }
}

/// Train, valid and test of emotion `index`, from its own stream of the seed.
fn synthesize_emotion(
    seed: u64,
    index: usize,
    sizes: [usize; 3],
    directions: &Directions,
) -> [(SplitTables, CmuSynthSplit); 3] {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1 + index as u64);
    let streams = EMOTIONS[index].1;
    sizes.map(|n| {
        let mut tables = SplitTables::with_capacity(n);
        let mut summary = CmuSynthSplit {
            utterances: n,
            ..CmuSynthSplit::default()
        };
        for _ in 0..n {
            let positive = push_utterance(&mut tables, streams, directions, &mut rng, &mut summary);
            summary.positives += usize::from(positive);
        }
        (tables, summary)
    })
}

/// Append one utterance; returns whether it is labelled positive.
fn push_utterance(
    tables: &mut SplitTables,
    streams: &[Stream],
    directions: &Directions,
    rng: &mut ChaCha8Rng,
    summary: &mut CmuSynthSplit,
) -> bool {
    let latent = |s: Stream, u: [f32; 3]| match s {
        Stream::Audio => u[0],
        Stream::Visual => u[1],
        Stream::Text => u[2],
    };
    let u = [normal(rng), normal(rng), normal(rng)];
    let score: f64 = streams.iter().map(|&s| f64::from(latent(s, u))).sum();
    let positive = score > POSITIVE_Z * (streams.len() as f64).sqrt();
    summary.nan_planted += push_pooled(
        &mut tables.covarep,
        &directions.audio,
        u[0],
        AUDIO_NOISE,
        rng,
    );
    summary.nan_planted += push_pooled(
        &mut tables.facet,
        &directions.visual,
        u[1],
        VISUAL_NOISE,
        rng,
    );
    for _ in 0..TEXT_STEPS {
        push_step(&mut tables.glove, &directions.text, u[2], TEXT_NOISE, rng);
    }
    let one_hot = if positive { [0.0, 1.0] } else { [1.0, 0.0] };
    tables.label.values.extend_from_slice(&one_hot);
    positive
}

/// One row of a time-averaged stream, with about `NAN_SHARE` of its entries NaN; returns how
/// many NaNs it planted.
fn push_pooled(
    table: &mut F32Array,
    direction: &[f32],
    latent: f32,
    noise: f32,
    rng: &mut ChaCha8Rng,
) -> usize {
    let start = table.values.len();
    push_step(table, direction, latent, noise, rng);
    let mut planted = 0;
    for value in &mut table.values[start..] {
        if rng.random_bool(NAN_SHARE) {
            *value = f32::NAN;
            planted += 1;
        }
    }
    planted
}

/// `noise·N(0, 1) + latent·direction`, one value per dimension.
fn push_step(
    table: &mut F32Array,
    direction: &[f32],
    latent: f32,
    noise: f32,
    rng: &mut ChaCha8Rng,
) {
    let start = table.values.len();
    table.values.resize(start + direction.len(), 0.0);
    let row = &mut table.values[start..];
    fill_normal(row, noise, rng);
    for (value, d) in row.iter_mut().zip(direction) {
        *value += latent * d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::cmu_pickle::load_cmu_pickle;

    fn small(seed: u64) -> SynthConfig {
        SynthConfig {
            sessions: 2,
            utterances_per_session: 20,
            seed,
            ..SynthConfig::default()
        }
    }

    #[test]
    fn split_sizes_are_60_20_20_and_never_empty() {
        let sizes = |sessions, utterances_per_session| {
            split_sizes(&SynthConfig {
                sessions,
                utterances_per_session,
                ..SynthConfig::default()
            })
        };
        assert_eq!(sizes(10, 40).unwrap(), [240, 80, 80]);
        assert_eq!(sizes(1, 3).unwrap(), [1, 1, 1]);
        assert_eq!(sizes(1, 7).unwrap(), [5, 1, 1]);
        let err = sizes(1, 2).unwrap_err().to_string();
        assert!(err.contains("at least 3"), "{err}");
    }

    #[test]
    fn loader_reads_it_back_with_shapes_labels_and_nans() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iemocap.pkl");
        let written = write_synthetic_cmu_pickle(&path, &small(7)).unwrap();
        let (corpus, loaded) = load_cmu_pickle(&path).unwrap();
        assert_eq!(
            corpus.emotions.keys().collect::<Vec<_>>(),
            ["angry", "happy", "neutral", "sad"]
        );
        for (emotion, splits) in &corpus.emotions {
            let lists = [&splits.train, &splits.valid, &splits.test];
            assert_eq!(lists.map(Vec::len), [24, 8, 8], "{emotion}");
            for u in lists.iter().flat_map(|l| l.iter()) {
                assert_eq!(
                    (u.audio.len(), u.visual.len(), u.text.len()),
                    (AUDIO_DIM, VISUAL_DIM, TEXT_STEPS * TEXT_DIM)
                );
                assert_eq!(u.label_one_hot[u.label], 1.0);
                // Modest magnitudes: no encoder sees values far from the unit range.
                let all = || u.audio.iter().chain(&u.visual).chain(&u.text);
                assert!(all().all(|v| v.is_finite() && v.abs() < 5.0));
            }
            let mut nan_total = 0;
            for split in SPLITS {
                let got = &loaded.splits[emotion][split];
                let want = &written.emotions[emotion].splits[split];
                assert_eq!(got.not_one_hot, 0);
                assert_eq!(got.nan_in_text, 0, "GloVe must hold no NaN");
                assert_eq!(got.per_label[1], want.positives);
                assert_eq!(got.nan_zeroed, want.nan_planted);
                nan_total += got.nan_zeroed;
            }
            assert!(nan_total > 0, "{emotion}: covarep/facet NaNs planted");
            let positives: usize = written.emotions[emotion]
                .splits
                .values()
                .map(|s| s.positives)
                .sum();
            assert!((5..=24).contains(&positives), "{emotion}: {positives}/40");
        }
        assert_eq!(
            written.emotions["happy"].label_streams,
            vec!["audio", "text"]
        );
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_file() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, seed| {
            let path = dir.path().join(name);
            write_synthetic_cmu_pickle(&path, &small(seed)).unwrap();
            std::fs::read(path).unwrap()
        };
        let (a, b, c) = (write("a.pkl", 3), write("b.pkl", 3), write("c.pkl", 4));
        assert!(a == b, "same settings, same bytes");
        assert!(a != c && a.len() == c.len());
    }

    #[test]
    fn marker_says_whose_pickle_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iemocap.pkl");
        assert_eq!(existing_synthetic_config(&path).unwrap(), None);
        write_synthetic_cmu_pickle(&path, &small(1)).unwrap();
        assert_eq!(existing_synthetic_config(&path).unwrap(), Some(small(1)));
        // Our own file may be rewritten with other settings.
        write_synthetic_cmu_pickle(&path, &small(2)).unwrap();
        assert_eq!(existing_synthetic_config(&path).unwrap(), Some(small(2)));
        // A marker whose pickle is gone (an interrupted write) does not count.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(existing_synthetic_config(&path).unwrap(), None);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(leftovers, ["iemocap.pkl.synthetic.json"]);
    }

    #[test]
    fn refuses_a_pickle_of_another_generator_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.pkl");
        write_synthetic_cmu_pickle(&path, &small(1)).unwrap();
        let marker = marker_path(&path);
        let mut value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&marker).unwrap()).unwrap();
        value.as_object_mut().unwrap().remove("generator");
        std::fs::write(&marker, value.to_string()).unwrap();
        let err = existing_synthetic_config(&path).unwrap_err().to_string();
        assert!(err.contains("generator version 1"), "{err}");
    }

    #[test]
    fn refuses_to_overwrite_a_foreign_pickle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iemocap.pkl");
        std::fs::write(&path, b"real features").unwrap();
        let err = existing_synthetic_config(&path).unwrap_err().to_string();
        assert!(err.contains("did not generate"), "{err}");
        let err = write_synthetic_cmu_pickle(&path, &small(1)).unwrap_err();
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"real features");
        assert!(!marker_path(&path).exists());
    }

    /// Pooled features of one split as the fits below see them: covarep and facet with NaN
    /// zeroed (as the loader does) and the mean of the GloVe steps; plus the 0/1 labels.
    fn pooled(tables: &SplitTables) -> (Vec<[Vec<f64>; 3]>, Vec<f64>) {
        let n = tables.label.shape[0];
        let rows = (0..n)
            .map(|i| {
                let row = |a: &F32Array, width: usize| -> Vec<f64> {
                    a.values[i * width..(i + 1) * width]
                        .iter()
                        .map(|&v| if v.is_nan() { 0.0 } else { f64::from(v) })
                        .collect()
                };
                let steps = row(&tables.glove, TEXT_STEPS * TEXT_DIM);
                let mean = (0..TEXT_DIM)
                    .map(|d| {
                        (0..TEXT_STEPS)
                            .map(|s| steps[s * TEXT_DIM + d])
                            .sum::<f64>()
                    })
                    .map(|sum| sum / TEXT_STEPS as f64)
                    .collect();
                [
                    row(&tables.covarep, AUDIO_DIM),
                    row(&tables.facet, VISUAL_DIM),
                    mean,
                ]
            })
            .collect();
        let labels = (0..n)
            .map(|i| f64::from(tables.label.values[i * 2 + 1]))
            .collect();
        (rows, labels)
    }

    /// Ridge least squares on ±1 targets, features standardised on the train split; returns
    /// the test accuracy of `sign(x·w + b)`.
    fn ridge_accuracy(train: (&[Vec<f64>], &[f64]), test: (&[Vec<f64>], &[f64])) -> f64 {
        let dim = train.0[0].len();
        let n = train.0.len() as f64;
        let mean: Vec<f64> = (0..dim)
            .map(|j| train.0.iter().map(|x| x[j]).sum::<f64>() / n)
            .collect();
        let std: Vec<f64> = (0..dim)
            .map(|j| {
                let var = train
                    .0
                    .iter()
                    .map(|x| (x[j] - mean[j]).powi(2))
                    .sum::<f64>()
                    / n;
                var.sqrt().max(1e-9)
            })
            .collect();
        let features = |x: &Vec<f64>| -> Vec<f64> {
            let mut f: Vec<f64> = (0..dim).map(|j| (x[j] - mean[j]) / std[j]).collect();
            f.push(1.0);
            f
        };
        let xs: Vec<Vec<f64>> = train.0.iter().map(features).collect();
        let ys: Vec<f64> = train.1.iter().map(|&y| 2.0 * y - 1.0).collect();
        let w = solve_ridge(&xs, &ys, 3.0 * n);
        let correct = test
            .0
            .iter()
            .zip(test.1)
            .filter(|(x, y)| {
                let score: f64 = features(x).iter().zip(&w).map(|(a, b)| a * b).sum();
                (score > 0.0) == (**y > 0.5)
            })
            .count();
        correct as f64 / test.0.len() as f64
    }

    /// `(XᵀX + λI) w = Xᵀy` by Cholesky (the bias, last column, unpenalised).
    fn solve_ridge(xs: &[Vec<f64>], ys: &[f64], lambda: f64) -> Vec<f64> {
        let d = xs[0].len();
        let mut a = vec![vec![0.0; d]; d];
        let mut b = vec![0.0; d];
        for (x, y) in xs.iter().zip(ys) {
            for i in 0..d {
                b[i] += x[i] * y;
                for j in 0..=i {
                    a[i][j] += x[i] * x[j];
                }
            }
        }
        for (i, row) in a.iter_mut().enumerate().take(d - 1) {
            row[i] += lambda;
        }
        // Lower-triangular L with L Lᵀ = A, written over A.
        for j in 0..d {
            let diag = (a[j][j] - (0..j).map(|k| a[j][k] * a[j][k]).sum::<f64>()).sqrt();
            a[j][j] = diag;
            for i in j + 1..d {
                a[i][j] = (a[i][j] - (0..j).map(|k| a[i][k] * a[j][k]).sum::<f64>()) / diag;
            }
        }
        let mut z = vec![0.0; d];
        for i in 0..d {
            z[i] = (b[i] - (0..i).map(|k| a[i][k] * z[k]).sum::<f64>()) / a[i][i];
        }
        let mut w = vec![0.0; d];
        for i in (0..d).rev() {
            w[i] = (z[i] - (i + 1..d).map(|k| a[k][i] * w[k]).sum::<f64>()) / a[i][i];
        }
        w
    }

    /// For every emotion, fusing the three streams classifies clearly better than any single
    /// stream. 400 training rows (a little over the default 240, so that a linear fit on 410
    /// features finds the directions) and 1000 test rows (so that the accuracies are precise
    /// to about ±0.015).
    #[test]
    fn fusion_beats_every_single_stream() {
        let seed = SynthConfig::default().seed;
        let directions = Directions::from_seed(seed);
        for (index, (emotion, _)) in EMOTIONS.iter().enumerate() {
            let [train, _, test] = synthesize_emotion(seed, index, [400, 0, 1000], &directions);
            let (train_rows, train_y) = pooled(&train.0);
            let (test_rows, test_y) = pooled(&test.0);
            let accuracy = |pick: &dyn Fn(&[Vec<f64>; 3]) -> Vec<f64>| {
                let tr: Vec<Vec<f64>> = train_rows.iter().map(pick).collect();
                let te: Vec<Vec<f64>> = test_rows.iter().map(pick).collect();
                ridge_accuracy((&tr, &train_y), (&te, &test_y))
            };
            let fused = accuracy(&|r| r.concat());
            let singles: Vec<f64> = (0..3).map(|s| accuracy(&|r| r[s].clone())).collect();
            let best = singles.iter().cloned().fold(0.0, f64::max);
            assert!(
                fused > best + 0.05 && fused > 0.85,
                "{emotion}: fused {fused:.3}, audio/visual/text {singles:.3?}"
            );
        }
    }

    /// Dev-only, for scripts/dev/check_synthetic_cmu_pickle.py: writes a pickle into the folder
    /// `EMO_CMU_SYNTH_CHECK` names, and next to it what numpy must read from it (per array its
    /// shape, first row with NaN as null, and NaN-skipping sum), taken from the generator
    /// rather than from our reader.
    #[test]
    #[ignore = "dev-only: writes files for scripts/dev/check_synthetic_cmu_pickle.py"]
    fn write_files_for_the_python_check() {
        let out = PathBuf::from(std::env::var("EMO_CMU_SYNTH_CHECK").expect("a folder"));
        let cfg = small(11);
        write_synthetic_cmu_pickle(&out.join("iemocap_synth.pkl"), &cfg).unwrap();
        let sizes = split_sizes(&cfg).unwrap();
        let directions = Directions::from_seed(cfg.seed);
        let describe = |a: &F32Array| {
            let width: usize = a.shape[1..].iter().product();
            serde_json::json!({
                "shape": a.shape,
                "first_row": a.values[..width],
                "nansum": a.values.iter().filter(|v| !v.is_nan()).map(|&v| f64::from(v)).sum::<f64>(),
            })
        };
        let mut expected = serde_json::Map::new();
        for (index, (emotion, _)) in EMOTIONS.iter().enumerate() {
            let splits = synthesize_emotion(cfg.seed, index, sizes, &directions);
            let mut per_split = serde_json::Map::new();
            for (name, (t, _)) in SPLITS.iter().zip(&splits) {
                let arrays = serde_json::json!({
                    "covarep": describe(&t.covarep),
                    "facet": describe(&t.facet),
                    "glove": describe(&t.glove),
                    "label": describe(&t.label),
                });
                per_split.insert(name.to_string(), arrays);
            }
            expected.insert(emotion.to_string(), per_split.into());
        }
        let text = serde_json::to_string_pretty(&expected).unwrap();
        std::fs::write(out.join("expected.json"), text).unwrap();
    }
}
