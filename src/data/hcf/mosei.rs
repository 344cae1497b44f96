//! Seed 001's `MOSEI_HCF_FEATURES/mosei_senti_hcf_{phase}.pkl`: one dict per phase with the
//! clip ids and three zero-padded arrays, CMU's unaligned GloVe, COVAREP and FACET:
//! `{"id": [N], "text": [N, 50, 300], "audio": [N, 500, 74], "vision": [N, 500, 35]}`. Its
//! `labels` are not read (the seed takes labels from `meta.pkl`, as the corpus does). As in
//! the seed's collate, every step is kept, padding included: the stored length is the length.

use std::path::Path;

use serde_pickle::Value;

use super::{HcfRecord, HcfTable, PHASES};
use crate::config::dataset_options::hcf_layout::{MOSEI_AUDIO_DIM, TEXT_DIM, VISUAL_DIM};
use crate::data::DataError;
use crate::data::feature::CachedFeature;
use crate::data::pickle::{NdArray, decode_ndarray, lookup, read_pickle, strings_of};

pub fn read_table(root: &Path) -> Result<HcfTable, DataError> {
    let mut table = HcfTable::new();
    for phase in PHASES {
        let path = root.join(format!("mosei_senti_hcf_{phase}.pkl"));
        tracing::info!(path = %path.display(), "reading hand-crafted features");
        let value = read_pickle(&path)?;
        for (id, record) in phase_records(&value).map_err(|e| DataError::format(&path, e))? {
            table.entry(id).or_insert(Ok(record));
        }
    }
    Ok(table)
}

fn phase_records(value: &Value) -> Result<Vec<(String, HcfRecord)>, String> {
    let ids = strings_of(lookup(value, "id")?).map_err(|e| format!("id: {e}"))?;
    let array = |key: &str, width: usize| -> Result<NdArray, String> {
        let array = decode_ndarray(lookup(value, key)?).map_err(|e| format!("{key}: {e}"))?;
        match array.shape.as_slice() {
            [n, _, w] if *n == ids.len() && *w == width => Ok(array),
            shape => Err(format!(
                "{key} has shape {shape:?}, expected [{}, steps, {width}] (one row per id)",
                ids.len()
            )),
        }
    };
    let text = array("text", TEXT_DIM)?;
    let audio = array("audio", MOSEI_AUDIO_DIM)?;
    let vision = array("vision", VISUAL_DIM)?;
    Ok(ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let record = HcfRecord {
                text: row(&text, i),
                audio: row(&audio, i),
                visual: row(&vision, i),
            };
            (id, record)
        })
        .collect())
}

/// Row `i` of a `[N, steps, width]` array (its shape checked by `phase_records`) as
/// `[steps, width]`.
fn row(array: &NdArray, i: usize) -> CachedFeature {
    let (steps, width) = (array.shape[1], array.shape[2]);
    let values = array.values[i * steps * width..][..steps * width].to_vec();
    CachedFeature::new(vec![steps, width], values)
}
