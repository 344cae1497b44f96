//! A Hugging Face model folder as the experiment sees it: its `config.json` with the
//! experiment's overrides merged in (what `from_pretrained(path, **kwargs)` does), and a
//! fingerprint of its weights for the feature cache.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::de::DeserializeOwned;

/// Weight files, in the order Hugging Face prefers them.
pub const WEIGHT_FILES: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];

/// `<dir>/config.json` as JSON, with `dropout` (written to each of `dropout_keys`) and then
/// `overrides` merged over it.
pub fn merged_config_json(
    dir: &Path,
    dropout: Option<f64>,
    dropout_keys: &[&str],
    overrides: &BTreeMap<String, serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let file = dir.join("config.json");
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", file.display()))?;
    let object = json
        .as_object_mut()
        .with_context(|| format!("{} is not a JSON object", file.display()))?;
    if let Some(p) = dropout {
        for key in dropout_keys {
            object.insert((*key).to_string(), serde_json::json!(p));
        }
    }
    for (key, value) in overrides {
        object.insert(key.clone(), value.clone());
    }
    Ok(json)
}

/// Parse a merged config into an architecture's config type, naming the folder on failure.
pub fn parse_config<T: DeserializeOwned>(dir: &Path, json: serde_json::Value) -> anyhow::Result<T> {
    serde_json::from_value(json).with_context(|| {
        format!(
            "{} (with the experiment's overrides) does not describe this architecture",
            dir.join("config.json").display()
        )
    })
}

/// The weight file a pretrained encoder loads.
pub fn weights_file(dir: &Path) -> anyhow::Result<PathBuf> {
    WEIGHT_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .with_context(|| {
            format!(
                "{} has neither {}; expected the model's weights",
                dir.display(),
                WEIGHT_FILES.join(" nor ")
            )
        })
}

/// blake3 of a file's bytes, streamed (weight files run to gigabytes).
pub fn hash_file(path: &Path) -> anyhow::Result<blake3::Hash> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize())
}

/// Before a run starts: every model folder the experiment uses holds what training reads (the
/// weights unless `init = "random"`, and a text encoder's tokenizer.json). `validate` and
/// `inspect` need only config.json, so these are checked here instead.
pub fn check_run_files(exp: &crate::config::Experiment) -> anyhow::Result<()> {
    use crate::config::EncoderInit;
    let method = exp.fusion.method;
    let text = &exp.encoders.text;
    let mut problems = Vec::new();

    if method.uses_text()
        && let Some(dir) = text.path.as_deref().filter(|_| text.kind.is_pretrained())
    {
        if !dir.join("tokenizer.json").is_file() {
            problems.push(format!(
                "encoders.text.path: {} has no tokenizer.json; the pretrained text encoders \
                 tokenize with the folder's own tokenizer",
                dir.display()
            ));
        }
        if text.init == EncoderInit::Pretrained && weights_file(dir).is_err() {
            problems.push(missing_weights("encoders.text.path", dir));
        }
    }
    let audio = &exp.encoders.audio;
    if method.uses_audio()
        && audio.init == EncoderInit::Pretrained
        && let Some(dir) = audio.path.as_deref()
        && weights_file(dir).is_err()
    {
        problems.push(missing_weights("encoders.audio.path", dir));
    }
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

fn missing_weights(key: &str, dir: &Path) -> String {
    format!(
        "{key}: {} has neither {}; download the model's weights into it, or set init = \
         \"random\" to train from scratch",
        dir.display(),
        WEIGHT_FILES.join(" nor ")
    )
}

/// Resolve a Hugging Face `hidden_states` index: `0..=layers`, or negative from the end.
pub fn resolve_layer(layer: i64, layers: usize) -> anyhow::Result<usize> {
    let states = layers as i64 + 1;
    let index = if layer < 0 { states + layer } else { layer };
    anyhow::ensure!(
        (0..states).contains(&index),
        "layer {layer} is out of range for a model with {layers} layers"
    );
    Ok(index as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_dropout_win_over_config_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "layerdrop": 0.05}"#,
        )
        .unwrap();
        let overrides = BTreeMap::from([("layerdrop".to_string(), serde_json::json!(0.2))]);
        let json = merged_config_json(
            dir.path(),
            Some(0.3),
            &["hidden_dropout_prob", "attention_probs_dropout_prob"],
            &overrides,
        )
        .unwrap();
        assert_eq!(json["hidden_dropout_prob"], 0.3);
        assert_eq!(json["attention_probs_dropout_prob"], 0.3);
        assert_eq!(json["layerdrop"], 0.2);
    }

    #[test]
    fn a_missing_config_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = merged_config_json(dir.path(), None, &[], &BTreeMap::new()).unwrap_err();
        assert!(format!("{err:#}").contains("config.json"), "{err:#}");
        let err = weights_file(dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains("model.safetensors"), "{err:#}");
    }

    #[test]
    fn layers_resolve_like_python_indices() {
        assert_eq!(resolve_layer(-1, 12).unwrap(), 12);
        assert_eq!(resolve_layer(0, 12).unwrap(), 0);
        assert_eq!(resolve_layer(-13, 12).unwrap(), 0);
        assert!(resolve_layer(13, 12).is_err());
        assert!(resolve_layer(-14, 12).is_err());
    }
}
