//! Weights from a Hugging Face folder: `model.safetensors`, else `pytorch_model.bin`.
//!
//! Module fields carry transformers' names, so loading is burn-store's PyTorch adapter
//! (Linear weights transposed, norm `weight`/`bias` to `gamma`/`beta`) plus three key rewrites:
//! the `wav2vec2.` prefix of *ForCTC / *ForSequenceClassification / *ForPreTraining checkpoints
//! is dropped, and the positional conv's weight norm, saved as `weight_g`/`weight_v` before
//! torch 2.1 and as `parametrizations.weight.original0/1` since, maps to `weight_g`/`weight_v`.
//! Head weights (`lm_head.*`, `quantizer.*`, `project_*`, classifiers) match nothing and are
//! left unused.

use std::path::Path;

use anyhow::{Context, bail};
use burn::prelude::*;
use burn::store::{
    ApplyResult, KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};

use super::config::Wav2Vec2Config;
use super::model::Wav2Vec2Model;

/// `(pattern, replacement)` from checkpoint keys to the module's paths.
const KEY_REWRITES: [(&str, &str); 3] = [
    (r"^wav2vec2\.", ""),
    (r"\.parametrizations\.weight\.original0$", ".weight_g"),
    (r"\.parametrizations\.weight\.original1$", ".weight_v"),
];

/// Parameters a checkpoint may lack: transformers leaves `masked_spec_embed` out of
/// fine-tuned checkpoints saved without SpecAugment and initialises it `uniform_(0, 1)` on
/// load, which `Wav2Vec2Config::init` already did.
const OPTIONAL: [&str; 1] = ["masked_spec_embed"];

pub fn key_remapper() -> KeyRemapper {
    KeyRemapper::from_patterns(KEY_REWRITES.to_vec()).expect("valid key patterns")
}

/// A model built from `config` with the weights in `dir`. Missing weights are an error that
/// names the folder and the keys (in transformers' spelling).
pub fn load_pretrained(
    dir: &Path,
    config: &Wav2Vec2Config,
    device: &Device,
) -> anyhow::Result<Wav2Vec2Model> {
    let mut model = config.init(device);
    let safetensors = dir.join("model.safetensors");
    let bin = dir.join("pytorch_model.bin");
    let result = if safetensors.exists() {
        let mut store = SafetensorsStore::from_file(&safetensors)
            .with_from_adapter(PyTorchToBurnAdapter)
            .remap(key_remapper())
            .skip_enum_variants(true)
            .allow_partial(true);
        model
            .load_from(&mut store)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("loading {}", safetensors.display()))?
    } else if bin.exists() {
        // The PyTorch store always applies the PyTorch adapter.
        let mut store = PytorchStore::from_file(&bin)
            .remap(key_remapper())
            .skip_enum_variants(true)
            .map_indices_contiguous(false)
            .allow_partial(true);
        model
            .load_from(&mut store)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("loading {}", bin.display()))?
    } else {
        bail!(
            "{} has no model.safetensors or pytorch_model.bin",
            dir.display()
        );
    };
    check_complete(&result, dir)?;
    Ok(model)
}

fn check_complete(result: &ApplyResult, dir: &Path) -> anyhow::Result<()> {
    let missing: Vec<String> = result
        .missing
        .iter()
        .map(|(path, _)| hf_key(path))
        .filter(|key| !OPTIONAL.contains(&key.as_str()))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: the checkpoint lacks {} wav2vec2 weight(s): {}",
            dir.display(),
            missing.len(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// A module path in transformers' spelling: without enum variants (`encoder.PostLn.layers…`),
/// with norm parameters called `weight` and `bias`.
pub fn hf_key(path: &str) -> String {
    let mut segments: Vec<&str> = path
        .split('.')
        .filter(|s| !s.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    if let Some(last) = segments.last_mut() {
        *last = match *last {
            "gamma" => "weight",
            "beta" => "bias",
            other => other,
        };
    }
    segments.join(".")
}
