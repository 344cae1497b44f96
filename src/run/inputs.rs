//! Every utterance's model inputs that do not depend on the fold, prepared once before the
//! folds: the audio (log-mel frames, or the samples for wav2vec2), the spectrogram pieces of
//! `encoders.audio.kind = "mel_pieces"`, and the outputs of frozen encoders, through the
//! feature cache. A run prepares them for its corpus; `emo-run eval` for
//! the corpus of a finished run, and `emo-run predict` for new utterances, by the same code.

use std::collections::BTreeMap;
use std::path::Path;

use burn::prelude::Device;

use crate::config::{AudioEncoderKind, Experiment, Modality};
use crate::data::features::AudioData;
use crate::encoders::audio::AudioBackboneSpec;
use crate::encoders::cache::CachedFeature;
use crate::encoders::frozen::{self, Extraction};
use crate::encoders::{AudioEncoderSpec, TextEncoderSpec};

/// Where the inputs are computed.
pub struct Preparation<'a> {
    pub device: &'a Device,
    /// `DeviceChoice::backend_name`, part of a frozen encoder's cache key.
    pub backend: &'static str,
    /// Root of the feature cache of frozen encoders.
    pub cache_dir: &'a Path,
    pub quiet: bool,
}

/// The utterances' prepared inputs, in their order.
#[derive(Default)]
pub struct PreparedInputs {
    /// Clips for a trained audio encoder (none when the audio encoder is frozen or the audio is
    /// `mel_pieces`, whose pieces are in `frozen`).
    pub audio: Option<AudioData>,
    /// Frozen encoders' outputs, and the spectrogram pieces of `mel_pieces`, by modality: the
    /// streams that reach the model as features rather than through a trained encoder.
    pub frozen: BTreeMap<Modality, Vec<CachedFeature>>,
}

impl PreparedInputs {
    /// The streams that reach the fusion without a trained encoder: `given` (a corpus'
    /// pre-extracted streams), then the frozen encoders' outputs.
    pub fn features<'a>(
        &'a self,
        given: &'a BTreeMap<Modality, Vec<CachedFeature>>,
    ) -> BTreeMap<Modality, &'a [CachedFeature]> {
        given
            .iter()
            .chain(&self.frozen)
            .map(|(&m, f)| (m, f.as_slice()))
            .collect()
    }
}

/// Tell the feature cache under `cache_dir` which frozen encoders `exp` (or one of its stages)
/// takes as whole sequences, so that the experiments that pool the same encoders (the other
/// cells of a grid, whatever their order) store the sequences they compute and the encoder runs
/// once for both forms (`frozen::text_features`). `backend` as in [`Preparation`].
pub fn announce_sequences(
    exp: &Experiment,
    cache_dir: &Path,
    backend: &'static str,
) -> anyhow::Result<()> {
    let stages = exp.stage_experiments().map_err(anyhow::Error::msg)?;
    for exp in &stages {
        let frozen_sequence = |m, frozen: bool| exp.encodes(m) && frozen && exp.takes_sequence(m);
        let text = &exp.encoders.text;
        if frozen_sequence(Modality::Text, text.train.is_frozen()) {
            let spec = TextEncoderSpec::from_folder(text)?;
            frozen::announce_text_sequences(&spec, cache_dir, exp.seed, backend)?;
        }
        let audio = &exp.encoders.audio;
        if frozen_sequence(Modality::Audio, audio.train.is_frozen()) {
            let spec = AudioEncoderSpec::for_experiment(audio)?;
            if matches!(spec.backbone, AudioBackboneSpec::Wav2vec2 { .. }) {
                frozen::announce_audio_sequences(&spec, cache_dir, exp.seed, backend)?;
            }
        }
    }
    Ok(())
}

/// Prepare the inputs of every example of a screened corpus, in its order.
pub fn prepare_corpus(
    exp: &Experiment,
    corpus: &crate::data::Corpus,
    how: &Preparation<'_>,
) -> anyhow::Result<PreparedInputs> {
    let texts: Vec<&str> = corpus.examples.iter().map(|e| e.text.as_str()).collect();
    let wavs: Vec<&Path> = corpus
        .examples
        .iter()
        .map(|e| e.wav_path.as_path())
        .collect();
    prepare(exp, &texts, &wavs, false, how)
}

/// Prepare the inputs of utterances given by their transcripts and WAV files (in the same
/// order). `new_audio` says the files come from the user rather than a screened corpus, which
/// changes only the wording of an error.
pub fn prepare(
    exp: &Experiment,
    texts: &[&str],
    wavs: &[&Path],
    new_audio: bool,
    how: &Preparation<'_>,
) -> anyhow::Result<PreparedInputs> {
    let audio_cfg = &exp.encoders.audio;
    let audio = if exp.encodes(Modality::Audio) {
        let prepared = if new_audio {
            crate::data::features::extract_new(wavs, audio_cfg, how.quiet)?
        } else {
            crate::data::features::extract_screened(wavs, audio_cfg, how.quiet)?
        };
        Some(prepared)
    } else {
        None
    };
    let extraction = Extraction {
        cache_root: how.cache_dir,
        device: how.device.clone(),
        batch_size: exp.train.eval_batch_size.unwrap_or(exp.train.batch_size),
        seed: exp.seed,
        backend: how.backend,
        quiet: how.quiet,
    };
    let mut frozen = BTreeMap::new();
    let text_cfg = &exp.encoders.text;
    if exp.encodes(Modality::Text) && text_cfg.train.is_frozen() {
        let spec = TextEncoderSpec::from_folder(text_cfg)?;
        let dir = spec
            .folder()
            .ok_or_else(|| anyhow::anyhow!("a frozen text encoder needs encoders.text.path"))?;
        let tokenizer = crate::encoders::hf::load_tokenizer(dir, text_cfg.max_len)?;
        let encoded = texts
            .iter()
            .map(|text| crate::data::tokenize::encode(&tokenizer, text))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let sequences = exp.takes_sequence(Modality::Text);
        let features = frozen::text_features(&spec, &encoded, sequences, &extraction)?;
        frozen.insert(Modality::Text, features);
    }
    if let Some(AudioData::Waveform(clips)) = &audio
        && audio_cfg.kind == AudioEncoderKind::MelPieces
    {
        let pieces = crate::data::mel_pieces::clip_pieces(clips, audio_cfg.sample_rate, how.quiet)
            .map_err(|failures| {
                let listing: Vec<String> = failures
                    .iter()
                    .take(20)
                    .map(|(i, reason)| format!("  {}: {reason}", wavs[*i].display()))
                    .collect();
                anyhow::anyhow!(
                    "{} clips are too short for seed 001's spectrogram:\n{}",
                    failures.len(),
                    listing.join("\n")
                )
            })?;
        frozen.insert(Modality::Audio, pieces);
    } else if let Some(AudioData::Waveform(clips)) = &audio
        && audio_cfg.train.is_frozen()
    {
        let spec = AudioEncoderSpec::for_experiment(audio_cfg)?;
        let sequences = exp.takes_sequence(Modality::Audio);
        let features = frozen::audio_features(&spec, clips, sequences, &extraction)?;
        frozen.insert(Modality::Audio, features);
    }
    // A frozen audio encoder's clips are not needed once its features exist.
    let audio = audio.filter(|_| !frozen.contains_key(&Modality::Audio));
    Ok(PreparedInputs { audio, frozen })
}
