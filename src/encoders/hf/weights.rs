//! Loading a Hugging Face checkpoint into the encoder modules.
//!
//! The modules use Hugging Face's own names, so a checkpoint key becomes a module path by:
//! - dropping the head prefix (`bert.`, `roberta.`, `electra.`, `albert.`) of a checkpoint
//!   saved from a task class (`BertForSequenceClassification`, `ElectraForPreTraining`, …);
//! - renaming the two segments Rust cannot spell: `LayerNorm` → `layer_norm`, and
//!   `attention.self` → `attention.self_attention` (`self` is a keyword);
//! - keeping only the base model's tensors (`embeddings.`, `embeddings_project.`, `encoder.`,
//!   `pooler.`), so heads, LM decoders and the `position_ids`/`token_type_ids` buffers are ignored.
//!
//! burn-store's `PyTorchToBurnAdapter` then transposes Linear weights (`[out, in]` → burn's
//! `[in, out]`) and matches LayerNorm `weight`/`bias` to burn's `gamma`/`beta`; old checkpoints
//! that still say `gamma`/`beta` match directly.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::prelude::*;
use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{
    FloatCastAdapter, ModuleAdapter, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter,
    PytorchStore, SafetensorsStore,
};
use burn::tensor::DType;

use super::{HfTextConfig, HfTextModel};

/// Prefixes under which Hugging Face task classes save their base model.
const HEAD_PREFIXES: [&str; 4] = ["bert.", "roberta.", "electra.", "albert."];

/// Top-level parts of the base model; anything else in a checkpoint belongs to a head.
const BASE_PARTS: [&str; 4] = ["embeddings.", "embeddings_project.", "encoder.", "pooler."];

/// Non-trainable buffers some checkpoints carry next to the weights.
const BUFFERS: [&str; 2] = ["embeddings.position_ids", "embeddings.token_type_ids"];

/// The head prefix of a checkpoint, if its base model sits under one. A checkpoint that has
/// both prefixed and bare base-model keys keeps the prefixed ones, as `transformers` does when it
/// loads the base model out of a task class.
pub fn head_prefix<'a>(keys: impl IntoIterator<Item = &'a str> + Clone) -> Option<&'static str> {
    HEAD_PREFIXES.into_iter().find(|prefix| {
        keys.clone()
            .into_iter()
            .any(|k| k.strip_prefix(prefix).is_some_and(is_base_key))
    })
}

fn is_base_key(key: &str) -> bool {
    BASE_PARTS.iter().any(|part| key.starts_with(part)) && !BUFFERS.contains(&key)
}

/// The module path for checkpoint key `key`, or `None` when the key is not part of the base
/// model (a head, a buffer, or a bare key in a checkpoint whose base model is under `prefix`).
pub fn module_path(key: &str, prefix: Option<&str>) -> Option<String> {
    let key = match prefix {
        Some(prefix) => key.strip_prefix(prefix)?,
        None => key,
    };
    if !is_base_key(key) {
        return None;
    }
    let renamed: Vec<&str> = key
        .split('.')
        .map(|segment| match segment {
            "LayerNorm" => "layer_norm",
            "self" => "self_attention",
            other => other,
        })
        .collect();
    Some(renamed.join("."))
}

/// The checkpoint file of `dir`: `model.safetensors`, else `pytorch_model.bin` (sharded
/// checkpoints are not supported).
pub fn checkpoint_file(dir: &Path) -> anyhow::Result<PathBuf> {
    crate::encoders::folder::weights_file(dir)
}

/// Every tensor of the checkpoint, under its checkpoint key. Data stays on disk until applied.
fn read_tensors(path: &Path) -> anyhow::Result<Vec<PackTensor>> {
    let tensors = if path.extension().is_some_and(|e| e == "safetensors") {
        all_tensors(&mut SafetensorsStore::from_file(path))
    } else {
        all_tensors(&mut PytorchStore::from_file(path))
    };
    tensors.with_context(|| format!("cannot read the checkpoint {}", path.display()))
}

/// The tensors of either store, which share burn-store's `ModuleStore` interface.
fn all_tensors(store: &mut impl ModuleStore) -> anyhow::Result<Vec<PackTensor>> {
    Ok(store
        .get_all_tensors()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .values()
        .cloned()
        .collect())
}

/// The base model's tensors renamed to module paths; the rest dropped.
fn remap(tensors: Vec<PackTensor>) -> Vec<PackTensor> {
    let prefix = head_prefix(tensors.iter().map(|t| t.name.as_str()));
    tensors
        .into_iter()
        .filter_map(|mut t| {
            t.name = module_path(&t.name, prefix)?;
            Some(t)
        })
        .collect()
}

/// See [`super::load_pretrained`].
pub fn load(dir: &Path, config: &HfTextConfig, device: &Device) -> anyhow::Result<HfTextModel> {
    let path = checkpoint_file(dir)?;
    let tensors = remap(read_tensors(&path)?);
    if tensors.is_empty() {
        bail!(
            "{} holds no {} encoder weights (no embeddings./encoder. keys, bare or under {})",
            path.display(),
            config.family().model_type(),
            HEAD_PREFIXES.join(", ")
        );
    }
    // Task classes such as BertForMaskedLM save no pooler; the output then has none either,
    // rather than a random one.
    let has_pooler = tensors.iter().any(|t| t.name.starts_with("pooler."));
    if config.family().has_pooler() && !has_pooler {
        tracing::info!(checkpoint = %path.display(), "no pooler weights; the encoder outputs no pooler");
    }
    let mut model = HfTextModel::build(config, has_pooler, device);
    // Checkpoints saved in half precision are widened to the modules' f32 on the way in.
    let adapter = PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32));
    let result = model.apply(tensors, None, Some(Box::new(adapter)), true);
    if !result.errors.is_empty() {
        let errors: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
        bail!(
            "{} does not fit the config in {}:\n  {}",
            path.display(),
            dir.display(),
            errors.join("\n  ")
        );
    }
    if !result.missing.is_empty() {
        let missing: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        bail!(
            "{} lacks {} encoder weights (module paths; the checkpoint may add a head prefix and say LayerNorm, attention.self): {}",
            path.display(),
            missing.len(),
            missing.join(", ")
        );
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_module_paths() {
        let cases = [
            (
                "encoder.layer.3.attention.self.query.weight",
                Some("encoder.layer.3.attention.self_attention.query.weight"),
            ),
            (
                "embeddings.LayerNorm.gamma",
                Some("embeddings.layer_norm.gamma"),
            ),
            (
                "encoder.albert_layer_groups.0.albert_layers.1.attention.LayerNorm.bias",
                Some("encoder.albert_layer_groups.0.albert_layers.1.attention.layer_norm.bias"),
            ),
            (
                "embeddings_project.weight",
                Some("embeddings_project.weight"),
            ),
            ("pooler.dense.bias", Some("pooler.dense.bias")),
            ("embeddings.position_ids", None),
            ("cls.predictions.transform.LayerNorm.weight", None),
            ("lm_head.dense.weight", None),
        ];
        for (key, want) in cases {
            assert_eq!(module_path(key, None).as_deref(), want, "{key}");
        }
    }

    #[test]
    fn head_prefixes_are_stripped_and_their_heads_dropped() {
        let keys = [
            "electra.embeddings.word_embeddings.weight",
            "electra.encoder.layer.0.output.LayerNorm.weight",
            "discriminator_predictions.dense.weight",
        ];
        let prefix = head_prefix(keys);
        assert_eq!(prefix, Some("electra."));
        let mapped: Vec<Option<String>> = keys.iter().map(|k| module_path(k, prefix)).collect();
        assert_eq!(
            mapped,
            vec![
                Some("embeddings.word_embeddings.weight".to_string()),
                Some("encoder.layer.0.output.layer_norm.weight".to_string()),
                None
            ]
        );
    }

    #[test]
    fn prefixed_base_model_wins_over_bare_keys() {
        // A task class that is itself a base model and also holds `roberta` (seed 000's
        // xlm_RoBertaBase): the bare copy is unused, the prefixed one is loaded.
        let keys = [
            "embeddings.word_embeddings.weight",
            "roberta.embeddings.word_embeddings.weight",
        ];
        let prefix = head_prefix(keys);
        assert_eq!(prefix, Some("roberta."));
        assert_eq!(module_path(keys[0], prefix), None);
        assert!(module_path(keys[1], prefix).is_some());
        assert_eq!(
            head_prefix(["embeddings.word_embeddings.weight", "bert_head.x"]),
            None
        );
    }

    #[test]
    fn a_folder_without_weights_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = checkpoint_file(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(err.contains("model.safetensors"), "{err}");
    }
}
