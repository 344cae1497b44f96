//! `emo-run embed`: one encoder's hidden states for one input, written as `.npy`, so a user can
//! check a downloaded model against its reference. It builds the encoder through the same
//! `TextEncoderSpec` / `AudioEncoderSpec` as training and feature extraction, so the numbers are
//! the ones a run would use.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::*;

use crate::config::{
    AttentionMaskMode, AudioEncoderConfig, AudioEncoderKind, EncoderInit, Pooling,
    TextEncoderConfig, TextEncoderKind,
};
use crate::data::audio::AudioInputOptions;
use crate::encoders::cache::CachedFeature;
use crate::encoders::wav2vec2::Wav2Vec2Preprocessor;
use crate::encoders::{AudioEncoderSpec, AudioInput, TextEncoderSpec};

/// What `embed` reads and how it reduces the output.
#[derive(Debug, Clone)]
pub struct EmbedRequest {
    pub model_dir: PathBuf,
    pub input: EmbedInput,
    /// Index into Hugging Face's `hidden_states` (negative from the end).
    pub layer: i64,
    /// `None` (or `Pooling::None`): the whole sequence, `[tokens_or_frames, hidden]`.
    pub pooling: Option<Pooling>,
    /// Tokens at most (text), special tokens included.
    pub max_len: usize,
}

#[derive(Debug, Clone)]
pub enum EmbedInput {
    Text(String),
    Wav(PathBuf),
}

/// The encoder output for the request: `[tokens_or_frames, hidden]` (real tokens or frames
/// only), or `[hidden]` when pooled.
pub fn embed(request: &EmbedRequest, device: &Device) -> anyhow::Result<CachedFeature> {
    let model_type = model_type(&request.model_dir)?;
    let pooling = request.pooling.filter(|p| *p != Pooling::None);
    match (&request.input, model_type.as_str()) {
        (EmbedInput::Wav(wav), "wav2vec2") => embed_wav(request, wav, pooling, device),
        (EmbedInput::Text(text), other) => {
            let kind = text_kind(other).with_context(|| {
                format!(
                    "{} is a {other:?} model, not a text encoder (bert, roberta, xlm-roberta, \
                     electra, albert); give it --wav instead",
                    request.model_dir.display()
                )
            })?;
            embed_text(request, kind, text, pooling, device)
        }
        (EmbedInput::Wav(_), other) => anyhow::bail!(
            "{} is a {other:?} model; --wav needs a wav2vec2 folder",
            request.model_dir.display()
        ),
    }
}

/// The `model_type` of `<dir>/config.json`.
fn model_type(dir: &Path) -> anyhow::Result<String> {
    let file = dir.join("config.json");
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    json["model_type"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{} has no model_type", file.display()))
}

fn text_kind(model_type: &str) -> Option<TextEncoderKind> {
    [
        TextEncoderKind::Bert,
        TextEncoderKind::Roberta,
        TextEncoderKind::XlmRoberta,
        TextEncoderKind::Electra,
        TextEncoderKind::Albert,
    ]
    .into_iter()
    .find(|k| k.model_type() == Some(model_type))
}

fn embed_text(
    request: &EmbedRequest,
    kind: TextEncoderKind,
    text: &str,
    pooling: Option<Pooling>,
    device: &Device,
) -> anyhow::Result<CachedFeature> {
    let config = TextEncoderConfig {
        kind,
        path: Some(request.model_dir.clone()),
        init: EncoderInit::Pretrained,
        layer: request.layer,
        max_len: request.max_len,
        pooling: pooling.unwrap_or(Pooling::Mean),
        ..Default::default()
    };
    let spec = TextEncoderSpec::from_folder(&config)?;
    let tokenizer = spec.folder_tokenizer().expect("a pretrained spec")?;
    let encoded = crate::data::tokenize::encode(&tokenizer, text)?;
    let real = encoded.mask.iter().filter(|&&m| m).count();
    let ids: Vec<i64> = encoded.ids.iter().map(|&id| i64::from(id)).collect();
    let len = ids.len();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [1, len]), device);
    let encoder = spec.init(device)?;
    Ok(match pooling {
        Some(_) => row(encoder.forward(ids, &[real])),
        None => sequence(encoder.forward_sequence(ids, &[real]), real),
    })
}

fn embed_wav(
    request: &EmbedRequest,
    wav: &Path,
    pooling: Option<Pooling>,
    device: &Device,
) -> anyhow::Result<CachedFeature> {
    let dir = &request.model_dir;
    let pre = Wav2Vec2Preprocessor::read(dir)?.unwrap_or_default();
    // What the folder's feature extractor does: its rate, its normalisation, no truncation.
    let input = AudioInputOptions {
        normalize: pre.do_normalize,
        ..Default::default()
    };
    let config = AudioEncoderConfig {
        kind: AudioEncoderKind::Wav2vec2,
        path: Some(dir.clone()),
        init: EncoderInit::Pretrained,
        layer: request.layer,
        attention_mask: AttentionMaskMode::Auto,
        sample_rate: pre.sampling_rate,
        max_samples: usize::MAX,
        input: input.clone(),
        pooling: pooling.unwrap_or(Pooling::Mean),
        ..Default::default()
    };
    let samples = crate::data::audio::load_clip(wav, &input, pre.sampling_rate, usize::MAX)
        .with_context(|| format!("reading {}", wav.display()))?;
    anyhow::ensure!(!samples.is_empty(), "{} has no samples", wav.display());
    let spec = AudioEncoderSpec::for_experiment(&config)?;
    let encoder = spec.init(device)?;
    let input = AudioInput::Waveform {
        samples: Tensor::from_data(TensorData::new(samples.clone(), [1, samples.len()]), device),
        lengths: vec![samples.len()],
    };
    Ok(match pooling {
        Some(_) => row(encoder.forward(input)),
        None => {
            let (h, lengths) = encoder.forward_sequence(input);
            sequence(h, lengths[0])
        }
    })
}

fn row(t: Tensor<2>) -> CachedFeature {
    let [_, dim] = t.dims();
    CachedFeature::new(vec![dim], t.into_data().try_to_vec().expect("f32 output"))
}

/// The first `keep` positions of a one-row `[1, time, dim]` output.
fn sequence(t: Tensor<3>, keep: usize) -> CachedFeature {
    let [_, time, dim] = t.dims();
    let keep = keep.min(time);
    let values: Vec<f32> = t.into_data().try_to_vec().expect("f32 output");
    CachedFeature::new(vec![keep, dim], values[..keep * dim].to_vec())
}

/// Write `feature` as a float32 `.npy`.
pub fn write_npy(feature: &CachedFeature, out: &Path) -> anyhow::Result<()> {
    crate::atomic::write_atomic(
        out,
        &crate::report::npy::f32_npy(&feature.values, &feature.shape),
    )
}
