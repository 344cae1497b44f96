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

/// What in a model folder changes a run's numbers, not where the folder lies: the content of
/// every file in it (config, tokenizer, preprocessor), the weights only with `pretrained`.
/// Hashed once per folder per process, since a grid asks for it once per cell.
pub fn folder_fingerprint(dir: &Path, with_weights: bool) -> anyhow::Result<String> {
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<BTreeMap<(PathBuf, bool), String>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    let key = (dir.to_path_buf(), with_weights);
    if let Some(found) = seen.lock().expect("never poisoned").get(&key) {
        return Ok(found.clone());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing the model folder {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            with_weights || !WEIGHT_FILES.contains(&name)
        })
        .collect();
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for file in &files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        hasher.update(format!("{name}\t{}\n", hash_file(file)?).as_bytes());
    }
    let digest = hasher.finalize().to_hex().to_string();
    seen.lock()
        .expect("never poisoned")
        .insert(key, digest.clone());
    Ok(digest)
}

/// blake3 of a file's bytes, streamed (weight files run to gigabytes). Remembered per process
/// by path, length and modification time: a run hashes a frozen encoder's weights for its
/// identity and again for the feature cache's key, and a grid does so once per cell.
pub fn hash_file(path: &Path) -> anyhow::Result<blake3::Hash> {
    use std::sync::{Mutex, OnceLock};
    type Stamp = (PathBuf, u64, Option<std::time::SystemTime>);
    static SEEN: OnceLock<Mutex<BTreeMap<Stamp, blake3::Hash>>> = OnceLock::new();
    let meta = std::fs::metadata(path).with_context(|| format!("opening {}", path.display()))?;
    let stamp = (path.to_path_buf(), meta.len(), meta.modified().ok());
    let seen = SEEN.get_or_init(Default::default);
    if let Some(found) = seen.lock().expect("never poisoned").get(&stamp) {
        return Ok(*found);
    }
    let digest = hash_bytes_of(path)?;
    seen.lock().expect("never poisoned").insert(stamp, digest);
    Ok(digest)
}

fn hash_bytes_of(path: &Path) -> anyhow::Result<blake3::Hash> {
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
    ensure_none_missing(run_file_problems(exp))
}

/// One error listing every problem, one per line, or `Ok` when there is none.
pub fn ensure_none_missing(problems: Vec<String>) -> anyhow::Result<()> {
    match problems.len() {
        0 => Ok(()),
        1 => anyhow::bail!("{} (nothing was written)", problems[0]),
        n => anyhow::bail!(
            "{n} inputs are missing (nothing was written):\n- {}",
            problems.join("\n- ")
        ),
    }
}

/// What [`check_run_files`] reports: one message per model folder that lacks a file the run
/// reads, naming the key, the folder, the missing files and how to download them.
pub fn run_file_problems(exp: &crate::config::Experiment) -> Vec<String> {
    use crate::config::EncoderInit;
    let text = &exp.encoders.text;
    let mut problems = Vec::new();

    if exp.encodes(crate::config::Modality::Text)
        && let Some(dir) = text.path.as_deref().filter(|_| text.kind.is_pretrained())
    {
        let mut missing = Vec::new();
        if !dir.join("tokenizer.json").is_file() {
            // The pretrained text encoders tokenize with the folder's own tokenizer.
            missing.push("tokenizer.json".to_string());
        }
        if text.init == EncoderInit::Pretrained && weights_file(dir).is_err() {
            missing.push(weights_wanted());
        }
        problems.extend(missing_in_folder("encoders.text.path", dir, &missing));
    }
    let audio = &exp.encoders.audio;
    if exp.encodes(crate::config::Modality::Audio)
        && audio.init == EncoderInit::Pretrained
        && let Some(dir) = audio.path.as_deref()
        && weights_file(dir).is_err()
    {
        problems.extend(missing_in_folder(
            "encoders.audio.path",
            dir,
            &[weights_wanted()],
        ));
    }
    problems
}

fn weights_wanted() -> String {
    format!("the weights ({})", WEIGHT_FILES.join(" or "))
}

/// `key: <dir> lacks ...; download ...`, or `None` when nothing is missing. The Hugging Face
/// id comes from the folder's config.json (`_name_or_path`, which the committed config.json
/// files of models/ carry and `save_pretrained` writes); without it the message points at
/// models/README.md, which lists the id of every folder.
fn missing_in_folder(key: &str, dir: &Path, missing: &[String]) -> Option<String> {
    if missing.is_empty() {
        return None;
    }
    let state = if !dir.exists() {
        "does not exist".to_string()
    } else if dir.join("config.json").is_file() && folder_holds_only_config(dir) {
        format!("holds only config.json; it lacks {}", missing.join(" and "))
    } else {
        format!("lacks {}", missing.join(" and "))
    };
    let download = match hub_id(dir) {
        Some(id) => format!(
            "it mirrors the Hugging Face model {id}: `huggingface-cli download {id} \
             --local-dir {}` fetches the full folder (models/README.md)",
            dir.display()
        ),
        None => "download the full Hugging Face model folder into it (models/README.md lists \
                 which model each folder of models/ mirrors)"
            .to_string(),
    };
    let random = if missing.iter().any(|m| m.starts_with("the weights")) {
        let table = key.trim_end_matches(".path");
        format!(", or set {table}.init = \"random\" to train without the weights")
    } else {
        String::new()
    };
    Some(format!(
        "{key}: {} {state}; {download}{random}",
        dir.display()
    ))
}

fn folder_holds_only_config(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .all(|e| e.file_name() == "config.json")
    })
}

/// `_name_or_path` of `<dir>/config.json` when it is a Hub id (`owner/name` or `name`), not a
/// local path.
fn hub_id(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let id = json.get("_name_or_path")?.as_str()?;
    let is_hub_id = !id.is_empty()
        && !id.starts_with(['/', '.', '~'])
        && id.split('/').count() <= 2
        && !id.contains('\\');
    is_hub_id.then(|| id.to_string())
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

    /// The remembered digest is the file's, and a rewritten file is hashed again.
    #[test]
    fn hash_file_follows_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weights.bin");
        std::fs::write(&path, b"first weights").unwrap();
        let first = hash_file(&path).unwrap();
        assert_eq!(first, blake3::hash(b"first weights"));
        assert_eq!(hash_file(&path).unwrap(), first);
        std::fs::write(&path, b"other weights, longer").unwrap();
        assert_eq!(
            hash_file(&path).unwrap(),
            blake3::hash(b"other weights, longer")
        );
        assert!(hash_file(&dir.path().join("missing.bin")).is_err());
    }

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
