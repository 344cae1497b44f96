//! CMU-MOSEI as seed 001 reorganised it (docs/DATASETS.md, CMU-MOSEI), under the seed's `--datapath`:
//!
//! * `MOSEI_RAW_PROCESSED/meta.pkl`: a Python pickle `{clip_id: {'text': str, 'label': [6]}}`,
//!   the labels being the MTurk annotations summed per clip in the order anger, disgust, fear,
//!   happiness, sadness, surprise.
//! * `MOSEI_RAW_PROCESSED/<video>_<clip>/audio.wav` (16 kHz, cut from `Audio/WAV_16000`) and
//!   `image_{i}.jpg` frames, which `[dataset.faces]` reads (`data::frames`).
//! * `MOSEI_SPLIT/{train,valid,test}_split.txt`: the video-disjoint standard folds restricted to
//!   clips with raw data (docs/DATASETS.md, CMU-MOSEI), read by [`mosei_splits`].
//!
//! The task is multi-label: `emotions` holds every emotion whose summed annotation exceeds the
//! threshold, and clips with none are kept (with empty `emotions`) as the seed does.

pub use crate::config::dataset_options::MoseiOptions;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_pickle::{HashableValue, Value};

use super::error::DataError;
use super::pickle::kind_of;
pub use super::raw::{DroppedRow, RawCorpus, RawUtterance};

/// The six emotions in the order of the meta labels, named as the other loaders name them.
pub const MOSEI_EMOTIONS: [&str; 6] = ["angry", "disgust", "fear", "happy", "sad", "surprise"];

/// The folder of clips and `meta.pkl`, under the data root.
pub const RAW_DIR: &str = "MOSEI_RAW_PROCESSED";
/// The folder of split lists, under the data root.
pub const SPLIT_DIR: &str = "MOSEI_SPLIT";
const META_FILE: &str = "meta.pkl";

/// Read `<root>/MOSEI_RAW_PROCESSED/meta.pkl` and the clips it lists, in clip-id order. `root`
/// is the seed's `--datapath` (the folder holding `MOSEI_RAW_PROCESSED/` and `MOSEI_SPLIT/`).
pub fn load_mosei(root: &Path, opts: &MoseiOptions) -> Result<RawCorpus, DataError> {
    let raw_dir = root.join(RAW_DIR);
    let meta_path = raw_dir.join(META_FILE);
    let meta = read_meta(&meta_path)?;
    let mut corpus = RawCorpus::default();
    let mut seen = HashSet::new();
    for (key, entry) in meta {
        let result = clip_id(&key)
            .ok_or_else(|| DroppedRow {
                id: format!("{key:?}"),
                path: Some(meta_path.clone()),
                reason: "malformed row: the meta key is not a string clip id".into(),
            })
            .and_then(|id| clip(&raw_dir, &meta_path, id, entry, opts));
        match result {
            // Python dict keys are unique, but a `str` and a `bytes` key can spell the same id.
            Ok(u) if !seen.insert(u.id.clone()) => corpus.dropped.push(DroppedRow {
                id: u.id,
                path: Some(meta_path.clone()),
                reason: "duplicate clip id in meta.pkl".into(),
            }),
            Ok(u) => corpus.utterances.push(u),
            Err(dropped) => corpus.dropped.push(dropped),
        }
    }
    Ok(corpus)
}

/// Split name → clip ids, from `<root>/MOSEI_SPLIT/*_split.txt`.
pub fn mosei_splits(root: &Path) -> Result<BTreeMap<String, Vec<String>>, DataError> {
    super::split_files::read_split_dir(&root.join(SPLIT_DIR))
}

/// The meta dict. Numpy objects inside it (an `ndarray` label, a `numpy.int64`) cannot be
/// rebuilt without numpy; they are read as `None` so that only the affected clips drop.
fn read_meta(path: &Path) -> Result<BTreeMap<HashableValue, Value>, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let options = serde_pickle::DeOptions::new()
        .replace_unresolved_globals()
        .decode_strings();
    let value = serde_pickle::value_from_reader(std::io::BufReader::new(file), options)
        .map_err(|e| DataError::format(path, format!("not a readable pickle: {e}")))?;
    match value {
        Value::Dict(entries) => Ok(entries),
        other => Err(DataError::format(
            path,
            format!(
                "expected a dict {{clip_id: {{'text', 'label'}}}}, found {}",
                kind_of(&other)
            ),
        )),
    }
}

fn clip_id(key: &HashableValue) -> Option<&str> {
    match key {
        HashableValue::String(s) => Some(s),
        HashableValue::Bytes(b) => std::str::from_utf8(b).ok(),
        _ => None,
    }
}

fn clip(
    raw_dir: &Path,
    meta_path: &Path,
    id: &str,
    entry: Value,
    opts: &MoseiOptions,
) -> Result<RawUtterance, DroppedRow> {
    let drop = |path: &Path, reason: String| DroppedRow {
        id: id.to_string(),
        path: Some(path.to_path_buf()),
        reason,
    };
    let (text, label) = text_and_label(entry).map_err(|why| drop(meta_path, why))?;
    let scores = label_scores(&label).map_err(|why| drop(meta_path, why))?;
    let emotions = present_emotions(&scores, opts.threshold);
    if emotions.is_empty() && opts.drop_unlabelled {
        return Err(drop(
            meta_path,
            format!("no emotion above the threshold {}", opts.threshold),
        ));
    }
    let wav_path = raw_dir.join(id).join("audio.wav");
    if !wav_path.is_file() {
        return Err(drop(&wav_path, "missing audio: no such file".into()));
    }
    Ok(RawUtterance {
        id: id.to_string(),
        session: 0,
        speaker: video_of(id).to_string(),
        wav_path,
        txt_path: meta_path.to_path_buf(),
        text,
        emotions,
        valence: None,
        arousal: None,
        votes: Vec::new(),
    })
}

/// The `'text'` string and the `'label'` value of one meta entry.
fn text_and_label(entry: Value) -> Result<(String, Value), String> {
    let Value::Dict(mut fields) = entry else {
        return Err(format!(
            "malformed row: the meta entry is {}, expected a dict",
            kind_of(&entry)
        ));
    };
    let text = match fields.remove(&HashableValue::String("text".into())) {
        Some(Value::String(text)) => text,
        Some(other) => return Err(format!("malformed row: 'text' is {}", kind_of(&other))),
        None => return Err("malformed row: the meta entry has no 'text'".into()),
    };
    let label = fields
        .remove(&HashableValue::String("label".into()))
        .ok_or("malformed row: the meta entry has no 'label'")?;
    Ok((text.trim().to_string(), label))
}

/// Six summed annotations from a list or tuple of Python numbers.
fn label_scores(label: &Value) -> Result<[f64; 6], String> {
    let (Value::List(items) | Value::Tuple(items)) = label else {
        return Err(format!(
            "malformed row: 'label' is {}, expected a list of 6 numbers \
             (a numpy array reads as None: save plain lists)",
            kind_of(label)
        ));
    };
    if items.len() != MOSEI_EMOTIONS.len() {
        return Err(format!(
            "malformed row: 'label' has {} values, expected 6",
            items.len()
        ));
    }
    let mut scores = [0.0; 6];
    for (slot, item) in scores.iter_mut().zip(items) {
        *slot = number(item)
            .ok_or_else(|| format!("malformed row: 'label' holds {}", kind_of(item)))?;
    }
    Ok(scores)
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::I64(i) => Some(*i as f64),
        Value::F64(f) if f.is_finite() => Some(*f),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Int(big) => big.to_string().parse().ok(),
        _ => None,
    }
}

fn present_emotions(scores: &[f64; 6], threshold: f32) -> Vec<String> {
    MOSEI_EMOTIONS
        .iter()
        .zip(scores)
        .filter(|(_, score)| **score > f64::from(threshold))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// `<video>_<clip>` → `<video>`; YouTube ids may themselves contain `_`, so split at the last one.
/// MOSEI has one speaker per video, so the video stands for the speaker.
fn video_of(id: &str) -> &str {
    id.rsplit_once('_').map_or(id, |(video, _)| video)
}

/// Paths of the clip's frames (`image_{i}.jpg`, in frame order); `[dataset.faces]` reads them
/// (`data::frames`).
pub fn clip_frames(root: &Path, id: &str) -> Vec<PathBuf> {
    super::frames::numbered_images(&root.join(RAW_DIR).join(id), "image_")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `meta.pkl` as CPython 3.7 (the seed's Python; pickle protocol 3) writes it:
    ///
    /// ```python
    /// meta = {
    ///     "vidA_1": {"text": "i love this movie", "label": [0, 0, 0, 3, 0, 0]},
    ///     "vidA_2": {"text": "it was loud and funny", "label": [1, 0, 0, 2, 0, 1]},
    ///     "vidB_0": {"text": "the plot is about a farm", "label": [0, 0, 0, 0, 0, 0]},
    ///     "a_b-c_3": {"text": "well that was grim",
    ///                 "label": [0.0, 0.6666667, 0.0, 0.0, 1.3333334, 0.0]},
    ///     "vidD_5": {"text": "no audio here", "label": [0, 0, 1, 0, 0, 0]},
    ///     "vidE_1": {"text": "five labels", "label": [0, 1, 0, 0, 0]},
    ///     "vidF_2": {"label": [0, 0, 0, 1, 0, 0]},
    /// }
    /// pickle.dumps(meta, protocol=3)
    /// ```
    const META_PKL: &[u8] =
        b"\x80\x03}q\x00(X\x06\x00\x00\x00vidA_1q\x01}q\x02(X\x04\x00\x00\x00textq\x03X\x11\x00\
      \x00\x00i love this movieq\x04X\x05\x00\x00\x00labelq\x05]q\x06(K\x00K\x00K\x00K\x03K\
      \x00K\x00euX\x06\x00\x00\x00vidA_2q\x07}q\x08(h\x03X\x15\x00\x00\x00it was loud and funn\
      yq\x09h\x05]q\x0a(K\x01K\x00K\x00K\x02K\x00K\x01euX\x06\x00\x00\x00vidB_0q\x0b}q\x0c(h\
      \x03X\x18\x00\x00\x00the plot is about a farmq\x0dh\x05]q\x0e(K\x00K\x00K\x00K\x00K\x00K\
      \x00euX\x07\x00\x00\x00a_b-c_3q\x0f}q\x10(h\x03X\x12\x00\x00\x00well that was grimq\x11h\
      \x05]q\x12(G\x00\x00\x00\x00\x00\x00\x00\x00G?\xe5UUg:\xa1\xbcG\x00\x00\x00\x00\x00\x00\
      \x00\x00G\x00\x00\x00\x00\x00\x00\x00\x00G?\xf5UUg:\xa1\xbcG\x00\x00\x00\x00\x00\x00\x00\
      \x00euX\x06\x00\x00\x00vidD_5q\x13}q\x14(h\x03X\x0d\x00\x00\x00no audio hereq\x15h\x05]q\
      \x16(K\x00K\x00K\x01K\x00K\x00K\x00euX\x06\x00\x00\x00vidE_1q\x17}q\x18(h\x03X\x0b\x00\
      \x00\x00five labelsq\x19h\x05]q\x1a(K\x00K\x01K\x00K\x00K\x00euX\x06\x00\x00\x00vidF_2q\
      \x1b}q\x1ch\x05]q\x1d(K\x00K\x00K\x00K\x01K\x00K\x00esu.";

    /// Seed 001's layout: the meta pickle, one folder per clip with `audio.wav` and frames
    /// (vidD_5's folder has frames but no audio), and the three split lists.
    pub(crate) fn write_fixture(root: &Path) {
        let raw = root.join(RAW_DIR);
        std::fs::create_dir_all(&raw).unwrap();
        std::fs::write(raw.join(META_FILE), META_PKL).unwrap();
        for id in [
            "vidA_1", "vidA_2", "vidB_0", "a_b-c_3", "vidD_5", "vidE_1", "vidF_2",
        ] {
            let clip = raw.join(id);
            std::fs::create_dir_all(&clip).unwrap();
            for i in [0, 1, 10, 2] {
                std::fs::write(clip.join(format!("image_{i}.jpg")), b"\xff\xd8\xff\xd9").unwrap();
            }
            if id != "vidD_5" {
                crate::data::audio::write_test_wav(&clip.join("audio.wav"));
            }
        }
        let split = root.join(SPLIT_DIR);
        std::fs::create_dir_all(&split).unwrap();
        std::fs::write(split.join("train_split.txt"), "vidA_1\nvidA_2\nvidE_1\n").unwrap();
        std::fs::write(split.join("valid_split.txt"), "vidB_0\n").unwrap();
        std::fs::write(split.join("test_split.txt"), "a_b-c_3\nvidD_5\nvidF_2\n").unwrap();
    }

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path());
        dir
    }

    fn emotion_sets(corpus: &RawCorpus) -> BTreeMap<&str, Vec<&str>> {
        corpus
            .utterances
            .iter()
            .map(|u| {
                (
                    u.id.as_str(),
                    u.emotions.iter().map(String::as_str).collect(),
                )
            })
            .collect()
    }

    fn reasons(corpus: &RawCorpus) -> BTreeMap<&str, &str> {
        corpus
            .dropped
            .iter()
            .map(|d| (d.id.as_str(), d.reason.as_str()))
            .collect()
    }

    #[test]
    fn multi_hot_sets_above_zero_and_all_zero_clips_kept() {
        let dir = fixture();
        let corpus = load_mosei(dir.path(), &MoseiOptions::default()).unwrap();
        assert_eq!(
            emotion_sets(&corpus),
            BTreeMap::from([
                ("a_b-c_3", vec!["disgust", "sad"]),
                ("vidA_1", vec!["happy"]),
                ("vidA_2", vec!["angry", "happy", "surprise"]),
                ("vidB_0", vec![]),
            ])
        );
        assert_eq!(
            reasons(&corpus),
            BTreeMap::from([
                ("vidD_5", "missing audio: no such file"),
                ("vidE_1", "malformed row: 'label' has 5 values, expected 6"),
                ("vidF_2", "malformed row: the meta entry has no 'text'"),
            ])
        );
        let missing = corpus.dropped.iter().find(|d| d.id == "vidD_5").unwrap();
        assert_eq!(
            missing.path.as_deref(),
            Some(
                dir.path()
                    .join("MOSEI_RAW_PROCESSED/vidD_5/audio.wav")
                    .as_path()
            )
        );
    }

    #[test]
    fn clip_fields_come_from_meta_and_the_clip_folder() {
        let dir = fixture();
        let corpus = load_mosei(dir.path(), &MoseiOptions::default()).unwrap();
        let clip = corpus
            .utterances
            .iter()
            .find(|u| u.id == "a_b-c_3")
            .unwrap();
        assert_eq!(clip.speaker, "a_b-c");
        assert_eq!(clip.session, 0);
        assert_eq!(clip.text, "well that was grim");
        assert_eq!(
            clip.wav_path,
            dir.path().join("MOSEI_RAW_PROCESSED/a_b-c_3/audio.wav")
        );
        assert_eq!(
            clip.txt_path,
            dir.path().join("MOSEI_RAW_PROCESSED/meta.pkl")
        );
        assert_eq!((clip.valence, clip.arousal), (None, None));
        assert!(clip.votes.is_empty());
        let speakers: Vec<&str> = corpus
            .utterances
            .iter()
            .map(|u| u.speaker.as_str())
            .collect();
        assert_eq!(speakers, vec!["a_b-c", "vidA", "vidA", "vidB"]);
    }

    #[test]
    fn threshold_and_drop_unlabelled() {
        let dir = fixture();
        let opts = MoseiOptions {
            threshold: 1.0,
            drop_unlabelled: true,
        };
        let corpus = load_mosei(dir.path(), &opts).unwrap();
        assert_eq!(
            emotion_sets(&corpus),
            BTreeMap::from([
                ("a_b-c_3", vec!["sad"]),
                ("vidA_1", vec!["happy"]),
                ("vidA_2", vec!["happy"])
            ])
        );
        let reasons = reasons(&corpus);
        assert_eq!(reasons.len(), 4);
        assert_eq!(reasons["vidB_0"], "no emotion above the threshold 1");
    }

    #[test]
    fn splits_are_the_committed_lists() {
        let dir = fixture();
        let splits = mosei_splits(dir.path()).unwrap();
        assert_eq!(splits.len(), 3);
        assert_eq!(splits["train"], vec!["vidA_1", "vidA_2", "vidE_1"]);
        assert_eq!(splits["valid"], vec!["vidB_0"]);
        assert_eq!(splits["test"], vec!["a_b-c_3", "vidD_5", "vidF_2"]);
    }

    #[test]
    fn frames_are_listed_in_frame_order() {
        let dir = fixture();
        let names: Vec<String> = clip_frames(dir.path(), "vidA_1")
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["image_0.jpg", "image_1.jpg", "image_2.jpg", "image_10.jpg"]
        );
        assert!(clip_frames(dir.path(), "nope").is_empty());
    }

    #[test]
    fn a_missing_or_unreadable_meta_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_mosei(dir.path(), &MoseiOptions::default()).is_err());
        let raw = dir.path().join(RAW_DIR);
        std::fs::create_dir_all(&raw).unwrap();
        std::fs::write(raw.join(META_FILE), b"not a pickle").unwrap();
        let err = load_mosei(dir.path(), &MoseiOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a readable pickle"), "{err}");
        // A pickled list instead of a dict.
        std::fs::write(raw.join(META_FILE), b"\x80\x03]q\x00.").unwrap();
        let err = load_mosei(dir.path(), &MoseiOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a dict"), "{err}");
    }

    #[test]
    fn options_read_from_toml() {
        let opts: MoseiOptions = toml::from_str("threshold = 0.5").unwrap();
        assert_eq!(
            opts,
            MoseiOptions {
                threshold: 0.5,
                drop_unlabelled: false
            }
        );
        assert!(toml::from_str::<MoseiOptions>("treshold = 0.5").is_err());
    }
}
