//! Seed 001's `IEMOCAP_HCF_FEATURES`: per phase three pickles (`.pt` by name only), each a dict
//! by utterance id:
//! * `{phase}_text_features.pt`: the words' 300-d vectors (a `[words, 300]` array or a list of
//!   rows; empty for a transcript without words);
//! * `{phase}_audio_features.pt`: `{"L": [columns, frames], "R": ...}`, one array per channel,
//!   the speaker's side read (seed 001's `use_left`), transposed to frames and cut to the
//!   selected columns (its `HCFDataLoader`);
//! * `{phase}_video_features.pt`: `{"image_L_<i>": [values], "image_R_<i>": ...}` per frame, the
//!   speaker's side for `i` in `0 .. len / 2` (the seed's `sample_by_interval(full=True)`, which
//!   skips missing keys), each cut to its last 35 values (the action units).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_pickle::Value;

use super::{HcfRecord, HcfTable, PHASES};
use crate::config::dataset_options::hcf_layout::{IEMOCAP_AUDIO_MIN_COLUMNS, TEXT_DIM, VISUAL_DIM};
use crate::data::DataError;
use crate::data::feature::CachedFeature;
use crate::data::iemocap::seed_speaker_on_left;
use crate::data::pickle::{dict_entries, matrix_of, read_pickle, vector_of};
use crate::data::raw::DropReason;

/// The records of `ids` that the nine files hold (ids of other corpora's utterances there are
/// not decoded), with `columns` of the audio vectors. One file is held at a time: each is
/// decoded into its stream's features, cut to what is kept, before the next is read.
pub fn read_table(root: &Path, ids: &[&str], columns: &[usize]) -> Result<HcfTable, DataError> {
    let wanted: HashSet<&str> = ids.iter().copied().collect();
    let mut table = HcfTable::new();
    for phase in PHASES {
        let path = |stream: &str| root.join(format!("{phase}_{stream}_features.pt"));
        tracing::info!(folder = %root.display(), phase, "reading hand-crafted features");
        let text = stream_of(&path("text"), &wanted, text_steps)?;
        let mut audio = stream_of(&path("audio"), &wanted, |id, value| {
            audio_frames(id, value, seed_speaker_on_left(id), columns)
        })?;
        let mut video = stream_of(&path("video"), &wanted, |id, value| {
            video_frames(id, value, seed_speaker_on_left(id))
        })?;
        for (id, text) in text {
            let missing = |stream: &str| DropReason {
                path: Some(path(stream)),
                reason: format!("in {phase}_text_features.pt but not in this file"),
            };
            let record = match (audio.remove(&id), video.remove(&id)) {
                (None, _) => Err(missing("audio")),
                (_, None) => Err(missing("video")),
                (Some(audio), Some(visual)) => Ok(HcfRecord {
                    text,
                    audio,
                    visual,
                }),
            };
            table.insert(id, record);
        }
        for id in audio.into_keys().chain(video.into_keys()) {
            table.entry(id).or_insert_with(|| {
                Err(DropReason {
                    path: Some(path("text")),
                    reason: format!("in {phase}'s audio or video features but not in this file"),
                })
            });
        }
    }
    Ok(table)
}

/// The wanted ids' entries of the dict in the file at `path`, each decoded by `decode`; a
/// malformed entry is an error naming the file.
fn stream_of(
    path: &Path,
    wanted: &HashSet<&str>,
    decode: impl Fn(&str, &Value) -> Result<CachedFeature, String>,
) -> Result<HashMap<String, CachedFeature>, DataError> {
    let root = read_pickle(path)?;
    dict_entries(&root)
        .map_err(|e| DataError::format(path, e))?
        .into_iter()
        .filter(|(id, _)| wanted.contains(id.as_str()))
        .map(|(id, value)| {
            let feature = decode(&id, value).map_err(|e| DataError::format(path, e))?;
            Ok((id, feature))
        })
        .collect()
}

/// The words' vectors `[words, 300]`; no words is `[0, 300]`.
fn text_steps(id: &str, value: &Value) -> Result<CachedFeature, String> {
    let words = matrix_of(value).map_err(|e| format!("{id}: text: {e}"))?;
    let [count, width] = [words.shape[0], words.shape[1]];
    if count > 0 && width != TEXT_DIM {
        return Err(format!(
            "{id}: the word vectors have {width} values, expected {TEXT_DIM}"
        ));
    }
    Ok(CachedFeature::new(vec![count, TEXT_DIM], words.values))
}

/// The side's `[columns, frames]` array as `[frames, selected columns]`.
fn audio_frames(
    id: &str,
    value: &Value,
    left: bool,
    columns: &[usize],
) -> Result<CachedFeature, String> {
    let side = if left { "L" } else { "R" };
    let channel = dict_entries(value)
        .map_err(|e| format!("{id}: audio: {e}"))?
        .into_iter()
        .find(|(key, _)| key == side)
        .map(|(_, v)| v)
        .ok_or_else(|| format!("{id}: audio has no {side:?} channel (the speaker's side)"))?;
    let array = matrix_of(channel).map_err(|e| format!("{id}: audio {side}: {e}"))?;
    let [rows, frames] = [array.shape[0], array.shape[1]];
    if frames == 0 {
        return Ok(CachedFeature::new(vec![0, columns.len()], Vec::new()));
    }
    if rows < IEMOCAP_AUDIO_MIN_COLUMNS {
        return Err(format!(
            "{id}: audio {side} has {rows} feature rows (stored [features, frames]), expected at least {IEMOCAP_AUDIO_MIN_COLUMNS}"
        ));
    }
    let mut values = Vec::with_capacity(frames * columns.len());
    for frame in 0..frames {
        values.extend(columns.iter().map(|&c| array.values[c * frames + frame]));
    }
    Ok(CachedFeature::new(vec![frames, columns.len()], values))
}

/// The side's frames `image_<side>_<i>`, `i < len / 2`, missing ones skipped, each cut to its
/// last 35 values.
fn video_frames(id: &str, value: &Value, left: bool) -> Result<CachedFeature, String> {
    let prefix = if left { "image_L_" } else { "image_R_" };
    let entries: HashMap<String, &Value> = dict_entries(value)
        .map_err(|e| format!("{id}: video: {e}"))?
        .into_iter()
        .collect();
    let mut values = Vec::new();
    let mut frames = 0;
    for i in 0..entries.len() / 2 {
        let key = format!("{prefix}{i}");
        let Some(frame) = entries.get(&key) else {
            continue;
        };
        let vector = vector_of(frame).map_err(|e| format!("{id}: video {key}: {e}"))?;
        if vector.len() < VISUAL_DIM {
            return Err(format!(
                "{id}: video {key} has {} values, expected at least {VISUAL_DIM} (the last {VISUAL_DIM} are the action units)",
                vector.len()
            ));
        }
        values.extend_from_slice(&vector[vector.len() - VISUAL_DIM..]);
        frames += 1;
    }
    Ok(CachedFeature::new(vec![frames, VISUAL_DIM], values))
}
