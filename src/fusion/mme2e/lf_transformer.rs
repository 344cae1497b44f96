//! `lf_transformer`: seed 001's LF-TRANS baseline (`src/models/baselines/lf_transformer.py`;
//! docs/methods/seed-001-mme2e.md). One `WrappedTransformerEncoder` per modality at the stream's
//! own width (a learned CLS, post-LN layers, FFN 2048, no positional encoding), its encoded CLS
//! through a class head (`Linear(d, d/2) → ReLU → Linear(d/2, C)`), and the learned weighting of
//! the three logits.
//!
//! As in the seed, audio and visual mask their padding and text does not: the seed calls the
//! text transformer without lengths, so its CLS attends to the batch's zero padding too
//! (`padding = "seed"`; `"masked"` masks text's padding as well). The
//! seed's `--trans-dim` and `--trans-nheads` are not read by this model; its head counts are
//! fixed per modality (4, 2, 5 at widths 300, 144, 35) and are keys here.

use burn::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::lf_heads::{LateHeads, NEEDS, PaddingChoice, stream_widths};
use super::transformer::{WrappedTransformer, WrappedTransformerConfig};
use crate::fusion::heads::{positive, probability};
use crate::fusion::registry::{Method, TaskShape};
use crate::fusion::{FusionInputs, FusionSpec};
use crate::modality::{Form, Modality};
use crate::params::ModuleParams;

/// The `[fusion]` keys of `lf_transformer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LfTransformerKeys {
    /// Layers of each transformer (`--trans-nlayers`; the README's LF runs keep its default 2).
    pub trans_layers: usize,
    /// Attention heads of the text transformer; must divide the text width (300).
    pub text_heads: usize,
    /// Attention heads of the audio transformer; must divide the audio width (144 with the
    /// seed's `all` columns, 74 on MOSEI).
    pub audio_heads: usize,
    /// Attention heads of the visual transformer; must divide the visual width (35).
    pub visual_heads: usize,
    /// Width of the feed-forward layers (PyTorch's default, which the seed keeps).
    pub trans_ffn: usize,
    /// Dropout inside the transformers (PyTorch's default).
    pub dropout: f64,
    /// How the batch's zero padding is treated: `seed` (lf_rnn's LSTMs run over it, its text
    /// reading the output at the last padded step; lf_transformer's text attends to it) or
    /// `masked` (each sequence ends at its own length: packed LSTMs, text's padding masked).
    pub padding: PaddingChoice,
}

impl Default for LfTransformerKeys {
    fn default() -> Self {
        Self {
            trans_layers: 2,
            text_heads: 4,
            audio_heads: 2,
            visual_heads: 5,
            trans_ffn: 2048,
            dropout: 0.1,
            padding: PaddingChoice::Seed,
        }
    }
}

impl LfTransformerKeys {
    fn heads(&self) -> [usize; 3] {
        [self.text_heads, self.audio_heads, self.visual_heads]
    }
}

#[derive(Module, Debug)]
pub struct LfTransformer {
    text: WrappedTransformer,
    audio: WrappedTransformer,
    visual: WrappedTransformer,
    heads: LateHeads,
    #[module(skip)]
    mask_text: bool,
}

impl LfTransformer {
    pub fn new(keys: &LfTransformerKeys, spec: &FusionSpec, device: &Device) -> Self {
        let widths = stream_widths(spec);
        let heads = keys.heads();
        let transformer = |i: usize| {
            WrappedTransformerConfig::new(widths[i], heads[i], keys.trans_layers)
                .with_d_ff(keys.trans_ffn)
                .with_dropout(keys.dropout)
                .init(device)
        };
        Self {
            text: transformer(0),
            audio: transformer(1),
            visual: transformer(2),
            heads: LateHeads::new(widths, widths.map(|d| d / 2), spec.n_classes, device),
            mask_text: keys.padding == PaddingChoice::Masked,
        }
    }

    pub fn forward(&self, x: &FusionInputs) -> Tensor<2> {
        let (text, text_lengths) = x.sequence(Modality::Text);
        let (audio, audio_lengths) = x.sequence(Modality::Audio);
        let (visual, visual_lengths) = x.sequence(Modality::Visual);
        let text_lengths = self.mask_text.then_some(text_lengths.as_slice());
        self.heads.forward(
            self.text.forward(text, text_lengths),
            self.audio.forward(audio, Some(&audio_lengths)),
            self.visual.forward(visual, Some(&visual_lengths)),
        )
    }
}

/// `lf_transformer`: LF-TRANS.
pub struct LfTransformerMethod;

impl Method for LfTransformerMethod {
    const SUMMARY: &'static str = "Seed 001's LF-TRANS baseline: a transformer encoder with a learned CLS per modality over its hand-crafted feature sequence (at the stream's own width; audio and visual padding masked, text not, as the seed), a class head per modality and one learned weight per modality's logits. Reads [dataset.hcf].";
    const NEEDS: &'static [(Modality, Form)] = NEEDS;
    type Keys = LfTransformerKeys;
    type Module = LfTransformer;

    fn init(keys: &LfTransformerKeys, spec: &FusionSpec, device: &Device) -> LfTransformer {
        LfTransformer::new(keys, spec, device)
    }

    fn forward(module: &LfTransformer, inputs: &FusionInputs) -> Tensor<2> {
        module.forward(inputs)
    }

    fn problems(keys: &LfTransformerKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
        [
            positive("trans_layers", keys.trans_layers),
            positive("trans_ffn", keys.trans_ffn),
            probability("dropout", keys.dropout),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn width_problems(keys: &LfTransformerKeys, spec: &FusionSpec) -> Vec<(&'static str, String)> {
        let names = ["text_heads", "audio_heads", "visual_heads"];
        let widths = stream_widths(spec);
        names
            .into_iter()
            .zip(keys.heads())
            .zip(widths)
            .filter(|&((_, heads), width)| heads == 0 || !width.is_multiple_of(heads.max(1)))
            .map(|((name, heads), width)| {
                (
                    name,
                    format!("found {heads}, expected a divisor of the stream's width {width}"),
                )
            })
            .collect()
    }

    fn parameter_parts(module: &LfTransformer) -> Vec<ModuleParams> {
        vec![
            ModuleParams::of("text_transformer", &module.text),
            ModuleParams::of("audio_transformer", &module.audio),
            ModuleParams::of("visual_transformer", &module.visual),
            ModuleParams::of("heads_and_fusion", &module.heads),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::FusionMethod;

    #[test]
    fn the_iemocap_model_has_pytorchs_count() {
        // Per layer: attention 4(d² + d), FFN d·2048 + 2048 + 2048·d + d, two LayerNorms 4d;
        // two layers and the CLS's d per transformer; heads d·(d/2) + d/2 + (d/2)·6 + 6.
        let layer = |d: usize| 4 * (d * d + d) + 2 * 2048 * d + 2048 + d + 4 * d;
        let head = |d: usize| d * (d / 2) + d / 2 + (d / 2) * 6 + 6;
        let spec = super::super::lf_heads::iemocap_spec(FusionMethod::LfTransformer);
        let model = LfTransformer::new(
            &LfTransformerKeys::default(),
            &spec,
            &Device::default().autodiff(),
        );
        let expected: usize = [300, 144, 35]
            .iter()
            .map(|&d| 2 * layer(d) + d + head(d))
            .sum::<usize>()
            + 3;
        assert_eq!(
            ModuleParams::of("lf_transformer", &model).trainable,
            expected
        );
    }

    #[test]
    fn heads_must_divide_their_stream() {
        let mut spec = super::super::lf_heads::iemocap_spec(FusionMethod::LfTransformer);
        spec.dims.insert(Modality::Audio, 74);
        let keys = LfTransformerKeys {
            audio_heads: 4,
            ..Default::default()
        };
        let problems = LfTransformerMethod::width_problems(&keys, &spec);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "audio_heads");
        assert!(problems[0].1.contains("74"));
        assert!(LfTransformerMethod::width_problems(&Default::default(), &spec).is_empty());
    }
}
