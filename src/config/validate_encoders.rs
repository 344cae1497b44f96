//! Checks of the `[encoders.*]` tables that need the model folder: it exists and its
//! `config.json` agrees with `kind`, `layer` and `max_len`. A typo in a path or a wrong folder
//! fails here, before any corpus is read. Weights and tokenizer are checked when a run starts
//! (`encoders::folder::check_run_files`): `validate` and `inspect` need only config.json.

use std::path::Path;

use super::modality::Form;
use crate::fusion::FusionMethod;

use super::experiment::{
    AudioEncoderConfig, AudioFeatures, EncoderTraining, Pooling, TextEncoderConfig, TextEncoderKind,
};

/// What validation needs from a folder's `config.json`.
struct FolderConfig {
    model_type: String,
    layers: Option<u64>,
    max_positions: Option<u64>,
}

/// Read `<dir>/config.json`, reporting a missing folder or file and malformed JSON under `key`.
fn read_folder_config(
    key: &str,
    dir: &Path,
    fail: &mut impl FnMut(&str, String),
) -> Option<FolderConfig> {
    if !dir.is_dir() {
        fail(
            key,
            format!(
                "folder {} does not exist; expected a Hugging Face model folder (relative paths \
                 are from the working directory)",
                dir.display()
            ),
        );
        return None;
    }
    let file = dir.join("config.json");
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => {
            fail(key, format!("cannot read {}: {e}", file.display()));
            return None;
        }
    };
    let json: serde_json::Value = match serde_json::from_str(&text) {
        Ok(json) => json,
        Err(e) => {
            fail(key, format!("{} is not valid JSON: {e}", file.display()));
            return None;
        }
    };
    Some(FolderConfig {
        model_type: json["model_type"].as_str().unwrap_or("").to_string(),
        layers: json["num_hidden_layers"].as_u64(),
        max_positions: json["max_position_embeddings"].as_u64(),
    })
}

/// `layer` indexes Hugging Face's `hidden_states`: `0..=layers`, or negative from the end.
fn check_layer(key: &str, layer: i64, layers: Option<u64>, fail: &mut impl FnMut(&str, String)) {
    let Some(layers) = layers else { return };
    let states = layers as i64 + 1;
    if layer >= states || layer < -states {
        fail(
            key,
            format!(
                "found {layer}, but the model has {layers} layers; expected 0..={layers} \
                 (0 = embeddings) or -{states}..=-1 from the end"
            ),
        );
    }
}

fn check_top_layers(
    key: &str,
    train: EncoderTraining,
    layers: Option<u64>,
    fail: &mut impl FnMut(&str, String),
) {
    if let (EncoderTraining::Top(n), Some(layers)) = (train, layers)
        && n as u64 > layers
    {
        fail(
            key,
            format!("found \"top:{n}\", but the model has only {layers} layers"),
        );
    }
}

/// `kind = "bert" | "roberta" | "xlm_roberta" | "electra" | "albert"`.
pub fn check_pretrained_text(text: &TextEncoderConfig, fail: &mut impl FnMut(&str, String)) {
    let Some(dir) = text.path.as_deref() else {
        fail(
            "encoders.text.path",
            format!(
                "missing; kind = {:?} needs a Hugging Face model folder (config.json, \
                 tokenizer.json and, unless init = \"random\", the weights)",
                text.kind.model_type().unwrap_or_default()
            ),
        );
        return;
    };
    let Some(folder) = read_folder_config("encoders.text.path", dir, fail) else {
        return;
    };
    let expected = text.kind.model_type().unwrap_or_default();
    if folder.model_type != expected {
        fail(
            "encoders.text.kind",
            format!(
                "found {expected:?}, but {} says model_type = {:?}",
                dir.join("config.json").display(),
                folder.model_type
            ),
        );
    }
    check_layer("encoders.text.layer", text.layer, folder.layers, fail);
    check_top_layers("encoders.text.train", text.train, folder.layers, fail);
    if text.mask_swap && text.kind != TextEncoderKind::Bert {
        fail(
            "encoders.text.mask_swap",
            format!(
                "found true with kind = {:?}; the swap feeds the padding mask as token types 0/1, \
                 which needs BERT's two token types (kind = \"bert\")",
                text.kind.model_type().unwrap_or_default()
            ),
        );
    }
    if let Some(max) = folder.max_positions
        && (text.max_len as u64 > max || text.max_len < 3)
    {
        fail(
            "encoders.text.max_len",
            format!(
                "found {}, expected 3..={max} (config.json max_position_embeddings)",
                text.max_len
            ),
        );
    }
}

/// `kind = "wav2vec2"`.
pub fn check_wav2vec2(audio: &AudioEncoderConfig, fail: &mut impl FnMut(&str, String)) {
    let Some(dir) = audio.path.as_deref() else {
        fail(
            "encoders.audio.path",
            "missing; kind = \"wav2vec2\" needs a Hugging Face model folder (config.json and, \
             unless init = \"random\", the weights)"
                .into(),
        );
        return;
    };
    let Some(folder) = read_folder_config("encoders.audio.path", dir, fail) else {
        return;
    };
    if folder.model_type != "wav2vec2" {
        fail(
            "encoders.audio.kind",
            format!(
                "found \"wav2vec2\", but {} says model_type = {:?}",
                dir.join("config.json").display(),
                folder.model_type
            ),
        );
    }
    if audio.features == AudioFeatures::HiddenStates {
        check_layer("encoders.audio.layer", audio.layer, folder.layers, fail);
    }
    check_top_layers("encoders.audio.train", audio.train, folder.layers, fail);
}

/// The small random-init encoders have no folder and always train.
pub fn check_small_encoder_keys(
    table: &str,
    path: Option<&Path>,
    train: EncoderTraining,
    fail: &mut impl FnMut(&str, String),
) {
    if let Some(path) = path {
        fail(
            &format!("{table}.path"),
            format!(
                "found {}, but this kind is built from the sizes in [{table}]; a model folder \
                 needs a pretrained kind",
                path.display()
            ),
        );
    }
    if train != EncoderTraining::Full {
        fail(
            &format!("{table}.train"),
            format!(
                "found \"{train}\", but only pretrained kinds can be frozen; expected \"full\""
            ),
        );
    }
}

/// `pooler` exists only where the architecture has one; `none` (whole sequences) only feeds a
/// token-level fusion.
pub fn check_pooling(
    table: &str,
    pooling: Pooling,
    kind: TextEncoderKind,
    method: FusionMethod,
    fail: &mut impl FnMut(&str, String),
) {
    let key = format!("{table}.pooling");
    if pooling == Pooling::Pooler
        && !matches!(kind, TextEncoderKind::Bert | TextEncoderKind::Albert)
    {
        fail(
            &key,
            format!(
                "found \"pooler\", but {kind:?} has no pooler; expected mean, mean_unmasked, cls, first, last or last_padded"
            ),
        );
    }
    check_sequence_pooling(&key, pooling, method, fail);
}

/// `last_padded` reads the batch's padding, which a frozen encoder's per-utterance feature
/// cache does not keep.
pub fn check_batch_dependent_pooling(
    table: &str,
    pooling: Pooling,
    train: EncoderTraining,
    fail: &mut impl FnMut(&str, String),
) {
    if pooling == Pooling::LastPadded && train.is_frozen() {
        fail(
            &format!("{table}.pooling"),
            format!(
                "found \"last_padded\" with {table}.train = \"frozen\"; the last frame of a padded \
                 batch depends on the other clips in the batch, which cached per-utterance \
                 features cannot reproduce; use train = \"full\" or \"top:N\", or pooling = \"last\""
            ),
        );
    }
}

pub fn check_audio_pooling(
    audio: &AudioEncoderConfig,
    method: FusionMethod,
    fail: &mut impl FnMut(&str, String),
) {
    if audio.pooling == Pooling::Pooler {
        fail(
            "encoders.audio.pooling",
            "found \"pooler\", but audio encoders have no pooler; expected mean, mean_unmasked, \
             first, last or last_padded"
                .into(),
        );
    }
    check_sequence_pooling("encoders.audio.pooling", audio.pooling, method, fail);
}

fn check_sequence_pooling(
    key: &str,
    pooling: Pooling,
    method: FusionMethod,
    fail: &mut impl FnMut(&str, String),
) {
    let takes_sequences = method.needs().iter().any(|(_, f)| *f == Form::Sequence);
    if pooling == Pooling::None && !takes_sequences {
        fail(
            key,
            format!(
                "found \"none\" (whole sequences), but fusion.method = {method:?} takes one \
                 vector per utterance; \"none\" is for token-level methods (mlp_mixer)"
            ),
        );
    }
}
