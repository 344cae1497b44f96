//! `cross_modal`: MulT's crossmodal transformer as Multi-Still uses it (seed 003 B.4 and B.7;
//! docs/methods/seed-003-multi-still.md).
//!
//! ```text
//! a = Conv1d(A, d, kernel 1, no bias)(audio [B, frames, A])   d = the text stream's width
//! both:       h = cat[mean_t(enc_a2t(Q=a, K=V=t)), enc_t2a(Q=t, K=V=a)[:, 0]]        [B, 2d]
//! text_only:  h = mean_t(enc_a2t(Q=t, K=V=t))                                        [B, d]
//! audio_only: h = enc_t2a(Q=a, K=V=a)[:, 0]                                          [B, d]
//! logits = Lin(head_hidden, C)(Drop(GELU(Lin(., head_hidden)(Drop(h)))))      raw, no softmax
//! ```
//!
//! The audio sequence is zero-padded or truncated to `frames` first (B.3). The text sequence
//! is taken as it comes (`encoders.text.max_len` tokens from a frozen encoder). Nothing is
//! masked unless `key_padding_mask` is on: padded frames and pad tokens are attended to.

pub mod attention;
pub mod encoder;
pub mod positions;

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::heads::{positive, probability};
use super::registry::{Method, TaskShape};
use super::{FusionInputs, FusionSpec};
use crate::kernels::dropout;
use crate::kernels::gelu::gelu;
use crate::modality::{Form, Modality};
use crate::params::ModuleParams;
use crate::pooling::padding_mask;
use encoder::{CrossModalEncoder, EncoderShape};

/// Which crossmodal encoders run (B.4, "Unimodal variants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CrossModalVariant {
    /// Both encoders: audio queries over text (time mean) and text queries over audio
    /// (step 0), concatenated: the teacher and the multimodal student.
    #[default]
    Both,
    /// Only the audio-to-text encoder, run on text as queries, keys and values (time mean).
    /// The audio Conv1d is still built and counted, as in the seed (`--text_only`).
    TextOnly,
    /// Only the text-to-audio encoder, run on audio as queries, keys and values (frame 0).
    AudioOnly,
}

/// Keys of cross_modal. The defaults are seed 003's teacher (`config.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CrossModalKeys {
    /// Layers of each crossmodal encoder (teacher 3, students 1).
    pub layers: usize,
    /// Attention heads; must divide the model width d (the text stream's width: 768 gives
    /// head_dim 96 at 8 heads).
    pub heads: usize,
    /// Width of each layer's feed-forward block (fc1: d -> ffn, fc2: ffn -> d).
    pub ffn: usize,
    /// Audio frames the encoders see: the audio sequence is zero-padded or truncated to this
    /// many (seed 003: 512, about 10.24 s of wav2vec2 frames).
    pub frames: usize,
    /// Text steps the encoders see: each row's text sequence zero-padded (past its length) or
    /// truncated to this many, as the seed's tokenizer pads to `max_length` (128). 0 takes it
    /// as it comes, padded to the batch's longest, which makes an unmasked row's output depend
    /// on its batch.
    pub tokens: usize,
    /// Which encoders run: "both", "text_only" or "audio_only" (the seed's unimodal models).
    pub variant: CrossModalVariant,
    /// Mask padded keys (text tokens past each row's length, audio frames past its real
    /// frames) out of the attention. Off in the seed, which attends to padding.
    pub key_padding_mask: bool,
    /// Dropout on the attention weights (seed 0).
    pub attn_dropout: f64,
    /// Dropout after the feed-forward ReLU (seed 0).
    pub relu_dropout: f64,
    /// Dropout on each residual branch (seed 0).
    pub res_dropout: f64,
    /// Dropout after `√d·x + PE`, on queries, keys and values (seed 0).
    pub embed_dropout: f64,
    /// Dropout before each of the classifier's two Linear layers (seed 0.1).
    pub head_dropout: f64,
    /// Hidden width of the classifier (seed 512).
    pub head_hidden: usize,
}

impl Default for CrossModalKeys {
    fn default() -> Self {
        Self {
            layers: 3,
            heads: 8,
            ffn: 3072,
            frames: 512,
            tokens: 0,
            variant: CrossModalVariant::Both,
            key_padding_mask: false,
            attn_dropout: 0.0,
            relu_dropout: 0.0,
            res_dropout: 0.0,
            embed_dropout: 0.0,
            head_dropout: 0.1,
            head_hidden: 512,
        }
    }
}

impl CrossModalKeys {
    fn encoder_shape(&self, dim: usize) -> EncoderShape {
        EncoderShape {
            dim,
            heads: self.heads,
            ffn: self.ffn,
            layers: self.layers,
            attn_dropout: self.attn_dropout,
            relu_dropout: self.relu_dropout,
            res_dropout: self.res_dropout,
            embed_dropout: self.embed_dropout,
        }
    }
}

#[derive(Module, Debug)]
pub struct CrossModal {
    /// `Conv1d(A, d, 1, bias=False)`: a per-frame linear map, so zero frames stay zero.
    pub proj_audio: Conv1d,
    /// Audio queries over text keys and values (text-only: text over text).
    pub audio2text: Option<CrossModalEncoder>,
    /// Text queries over audio keys and values (audio-only: audio over audio).
    pub text2audio: Option<CrossModalEncoder>,
    pub classifier_hidden: Linear,
    pub classifier_output: Linear,
    head_dropout: Dropout,
    #[module(skip)]
    frames: usize,
    #[module(skip)]
    tokens: usize,
    #[module(skip)]
    key_padding_mask: bool,
}

impl CrossModal {
    pub fn new(keys: &CrossModalKeys, spec: &FusionSpec, device: &Device) -> Self {
        let dim = spec.dim(Modality::Text);
        let shape = keys.encoder_shape(dim);
        let encoder = |used: bool| used.then(|| CrossModalEncoder::new(&shape, device));
        let (a2t, t2a) = match keys.variant {
            CrossModalVariant::Both => (true, true),
            CrossModalVariant::TextOnly => (true, false),
            CrossModalVariant::AudioOnly => (false, true),
        };
        let pooled_width = if a2t && t2a { 2 * dim } else { dim };
        Self {
            proj_audio: Conv1dConfig::new(spec.dim(Modality::Audio), dim, 1)
                .with_bias(false)
                .init(device),
            audio2text: encoder(a2t),
            text2audio: encoder(t2a),
            classifier_hidden: LinearConfig::new(pooled_width, keys.head_hidden).init(device),
            classifier_output: LinearConfig::new(keys.head_hidden, spec.n_classes).init(device),
            head_dropout: DropoutConfig::new(keys.head_dropout).init(),
            frames: keys.frames,
            tokens: keys.tokens,
            key_padding_mask: keys.key_padding_mask,
        }
    }

    /// Logits `[B, C]` from text `[B, L, d]` and audio `[B, T, A]` with their real lengths.
    pub fn forward(
        &self,
        text: Tensor<3>,
        text_lengths: &[usize],
        audio: Tensor<3>,
        audio_lengths: &[usize],
    ) -> Tensor<2> {
        let pooled = self.pooled(text, text_lengths, audio, audio_lengths);
        // B.4: cat([h_a2t, h_t2a]), audio-to-text first.
        let parts: Vec<Tensor<2>> = [pooled.a2t, pooled.t2a].into_iter().flatten().collect();
        self.classify(Tensor::cat(parts, 1))
    }

    /// What the encoders give the classifier: audio-to-text averaged over time, text-to-audio
    /// at step 0, each present when its encoder is.
    pub fn pooled(
        &self,
        text: Tensor<3>,
        text_lengths: &[usize],
        audio: Tensor<3>,
        audio_lengths: &[usize],
    ) -> Pooled {
        let (text, text_lengths) = self.fit_tokens(text, text_lengths);
        let text_lengths = text_lengths.as_slice();
        let (audio, audio_lengths) =
            self.fit_frames(zero_padding(audio, audio_lengths), audio_lengths);
        let audio = self.project_audio(audio);
        let text_padding = self.padded_keys(text_lengths, &text);
        let audio_padding = self.padded_keys(&audio_lengths, &audio);
        let both = self.audio2text.is_some() && self.text2audio.is_some();
        let a2t = self.audio2text.as_ref().map(|encoder| {
            // text_only runs this encoder on text as queries, keys and values.
            let query = if both { audio.clone() } else { text.clone() };
            time_mean(encoder.forward(query, text.clone(), text_padding.clone()))
        });
        let t2a = self.text2audio.as_ref().map(|encoder| {
            // audio_only runs this encoder on audio as queries, keys and values.
            let query = if both { text.clone() } else { audio.clone() };
            first_step(encoder.forward(query, audio.clone(), audio_padding.clone()))
        });
        Pooled { a2t, t2a }
    }

    /// The audio zero-padded or truncated to `frames` (B.3: the cached states are padded with
    /// exact zeros, which the Conv1d keeps at zero), and its lengths capped to match.
    pub fn fit_frames(&self, audio: Tensor<3>, lengths: &[usize]) -> (Tensor<3>, Vec<usize>) {
        fit_steps(audio, lengths, self.frames)
    }

    /// With `tokens` set, each row's text cut to its length and zero-padded (or truncated) to
    /// `tokens`; otherwise the text as it comes, pad steps included (the parity fixtures give
    /// the seed's non-zero `[PAD]` states there).
    fn fit_tokens(&self, text: Tensor<3>, lengths: &[usize]) -> (Tensor<3>, Vec<usize>) {
        if self.tokens == 0 {
            return (text, lengths.to_vec());
        }
        fit_steps(zero_padding(text, lengths), lengths, self.tokens)
    }

    /// `[B, T, A]` -> `[B, T, d]` through the kernel-1 Conv1d.
    fn project_audio(&self, audio: Tensor<3>) -> Tensor<3> {
        self.proj_audio
            .forward(audio.swap_dims(1, 2))
            .swap_dims(1, 2)
    }

    /// The padded steps of `x` `[B, S, d]` as a key mask, when `key_padding_mask` is on.
    fn padded_keys(&self, lengths: &[usize], x: &Tensor<3>) -> Option<Tensor<2, Bool>> {
        let [_, steps, _] = x.dims();
        self.key_padding_mask
            .then(|| padding_mask(lengths, steps, &x.device()))
    }

    /// `Drop -> Lin(., head_hidden) -> GELU -> Drop -> Lin(head_hidden, C)`.
    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        let h = self
            .classifier_hidden
            .forward(dropout::apply(&self.head_dropout, pooled));
        let h = dropout::apply(&self.head_dropout, gelu(h));
        self.classifier_output.forward(h)
    }

    /// The parts seed 003 counts on their own (B.4, "Trainable parameters").
    fn parts(&self) -> Vec<ModuleParams> {
        let mut parts = vec![ModuleParams::of("proj_audio", &self.proj_audio)];
        if let Some(a2t) = &self.audio2text {
            parts.push(ModuleParams::of("audio2text", a2t));
        }
        if let Some(t2a) = &self.text2audio {
            parts.push(ModuleParams::of("text2audio", t2a));
        }
        parts.push(ModuleParams::sum(
            "classifier",
            &[
                ModuleParams::of("hidden", &self.classifier_hidden),
                ModuleParams::of("output", &self.classifier_output),
            ],
        ));
        parts
    }
}

/// `x` `[B, T, W]` zero-padded or truncated to `steps`, and its lengths capped to match.
fn fit_steps(x: Tensor<3>, lengths: &[usize], steps: usize) -> (Tensor<3>, Vec<usize>) {
    let [batch, time, width] = x.dims();
    let lengths = lengths.iter().map(|&l| l.min(steps)).collect();
    let x = if time >= steps {
        x.narrow(1, 0, steps)
    } else {
        let zeros = Tensor::zeros([batch, steps - time, width], &x.device());
        Tensor::cat(vec![x, zeros], 1)
    };
    (x, lengths)
}

/// Steps past each row's length set to exactly zero: cached encoder states are zero there
/// already (B.3), and a trained encoder's outputs at pad positions would otherwise make a row's
/// result depend on how its batch was padded.
fn zero_padding(x: Tensor<3>, lengths: &[usize]) -> Tensor<3> {
    let [batch, steps, _] = x.dims();
    let keep: Vec<f32> = lengths
        .iter()
        .flat_map(|&l| (0..steps).map(move |t| if t < l { 1.0 } else { 0.0 }))
        .collect();
    let keep = Tensor::<3>::from_data(TensorData::new(keep, [batch, steps, 1]), &x.device());
    x * keep
}

/// The encoders' pooled outputs, `[B, d]` each.
pub struct Pooled {
    pub a2t: Option<Tensor<2>>,
    pub t2a: Option<Tensor<2>>,
}

/// AdaptiveAvgPool1d(1) over time, padding included (B.4): `[B, T, d]` -> `[B, d]`.
fn time_mean(x: Tensor<3>) -> Tensor<2> {
    let [batch, _, dim] = x.dims();
    x.mean_dim(1).reshape([batch, dim])
}

/// The step at index 0 (the [CLS] position for text): `[B, T, d]` -> `[B, d]`.
fn first_step(x: Tensor<3>) -> Tensor<2> {
    let [batch, _, dim] = x.dims();
    x.narrow(1, 0, 1).reshape([batch, dim])
}

/// `cross_modal`, registered.
pub struct CrossModalMethod;

impl Method for CrossModalMethod {
    const SUMMARY: &'static str = "Seed 003 (Multi-Still) / MulT crossmodal transformer: audio projected to the text width by a kernel-1 Conv1d, two pre-LN crossmodal encoders (audio over text, time mean; text over audio, step 0) with fixed keys and values, concatenated into a two-layer head; `variant` keeps one encoder for the unimodal models.";
    // Both sequences in every variant: the width d comes from the text stream and the Conv1d
    // (built even by text_only, as in the seed) from the audio stream.
    const NEEDS: &'static [(Modality, Form)] = &[
        (Modality::Text, Form::Sequence),
        (Modality::Audio, Form::Sequence),
    ];
    type Keys = CrossModalKeys;
    type Module = CrossModal;

    fn init(keys: &CrossModalKeys, spec: &FusionSpec, device: &Device) -> CrossModal {
        CrossModal::new(keys, spec, device)
    }

    fn forward(module: &CrossModal, x: &FusionInputs) -> Tensor<2> {
        let (text, text_lengths) = x.sequence(Modality::Text);
        let (audio, audio_lengths) = x.sequence(Modality::Audio);
        module.forward(text, &text_lengths, audio, &audio_lengths)
    }

    fn problems(keys: &CrossModalKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
        [
            positive("layers", keys.layers),
            positive("heads", keys.heads),
            positive("ffn", keys.ffn),
            positive("frames", keys.frames),
            positive("head_hidden", keys.head_hidden),
            probability("attn_dropout", keys.attn_dropout),
            probability("relu_dropout", keys.relu_dropout),
            probability("res_dropout", keys.res_dropout),
            probability("embed_dropout", keys.embed_dropout),
            probability("head_dropout", keys.head_dropout),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn width_problems(keys: &CrossModalKeys, spec: &FusionSpec) -> Vec<(&'static str, String)> {
        let dim = spec.dim(Modality::Text);
        if keys.heads == 0 || dim.is_multiple_of(keys.heads) {
            return Vec::new();
        }
        vec![(
            "heads",
            format!(
                "found {}, which does not divide the model width {dim} (the text stream's width); expected a divisor of {dim}",
                keys.heads
            ),
        )]
    }

    fn parameter_parts(module: &CrossModal) -> Vec<ModuleParams> {
        module.parts()
    }
}

#[cfg(test)]
mod tests;
