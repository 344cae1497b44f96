//! What MME2E and MESM share after their CNNs (seed spec §1.3–1.6): each utterance's face and
//! piece maps through the flatten MLPs, the visual and audio transformers (their CLS outputs),
//! one linear layer of class logits per modality (text from ALBERT's [CLS]), and the learned
//! weighting of the three logits, in the seed's order text, visual, audio.

use burn::module::ParamGroup;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use super::flatten::{FlattenMlp, FlattenMlpConfig};
use super::keys::Mme2eKeys;
use super::logit_fusion::WeightedLogitFusion;
use super::transformer::{WrappedTransformer, WrappedTransformerConfig, split_and_pad};
use super::vgg::plan::{OUT_CHANNELS, output_size};
use super::{FACE, PIECE};
use crate::params::ModuleParams;

#[derive(Module, Debug)]
pub struct Branches {
    v_flatten: FlattenMlp,
    a_flatten: FlattenMlp,
    v_transformer: WrappedTransformer,
    a_transformer: WrappedTransformer,
    t_out: Linear,
    v_out: Linear,
    a_out: Linear,
    weighted_fusion: WeightedLogitFusion,
}

/// Values of a CNN's output map for an input of `[channels, height, width]`.
fn map_values(input: [usize; 3]) -> usize {
    let (h, w) = output_size(input[1], input[2]);
    OUT_CHANNELS * h * w
}

impl Branches {
    pub fn new(keys: &Mme2eKeys, text_dim: usize, n_classes: usize, device: &Device) -> Self {
        let transformer = || {
            WrappedTransformerConfig::new(keys.trans_dim, keys.trans_heads, keys.trans_layers)
                .with_d_ff(keys.trans_ffn)
                .with_dropout(keys.dropout)
                .init(device)
        };
        let out = |input| LinearConfig::new(input, n_classes).init(device);
        Self {
            v_flatten: FlattenMlpConfig::new(map_values(FACE), keys.trans_dim).init(device),
            a_flatten: FlattenMlpConfig::new(map_values(PIECE), keys.trans_dim).init(device),
            v_transformer: transformer(),
            a_transformer: transformer(),
            t_out: out(text_dim),
            v_out: out(keys.trans_dim),
            a_out: out(keys.trans_dim),
            weighted_fusion: WeightedLogitFusion::new(3, device),
        }
    }

    /// Class logits from the text vectors `[batch, text_dim]` and the CNN maps of every real
    /// frame and piece (`[Σ frames, 512, 3, 3]`, `[Σ pieces, 512, 8, 2]`, utterance after
    /// utterance, with the counts per utterance).
    pub fn forward(
        &self,
        text: Tensor<2>,
        faces: Tensor<4>,
        frames: &[usize],
        pieces: Tensor<4>,
        piece_counts: &[usize],
    ) -> Tensor<2> {
        let visual = split_and_pad(self.v_flatten.forward(faces), frames);
        let audio = split_and_pad(self.a_flatten.forward(pieces), piece_counts);
        let visual = self.v_transformer.forward(visual, Some(frames));
        let audio = self.a_transformer.forward(audio, Some(piece_counts));
        self.weighted_fusion.forward(vec![
            self.t_out.forward(text),
            self.v_out.forward(visual),
            self.a_out.forward(audio),
        ])
    }

    /// The counts of the parts seed 001's sizes name.
    pub fn parts(&self) -> Vec<ModuleParams> {
        let heads = ModuleParams::of(
            "heads_and_fusion",
            &(
                self.t_out.clone(),
                self.v_out.clone(),
                self.a_out.clone(),
                self.weighted_fusion.clone(),
            ),
        );
        vec![
            ModuleParams::of("v_flatten", &self.v_flatten),
            ModuleParams::of("a_flatten", &self.a_flatten),
            ModuleParams::of("v_transformer", &self.v_transformer),
            ModuleParams::of("a_transformer", &self.a_transformer),
            heads,
        ]
    }

    /// The text logits layer (`fusion.text_head`), which the seed trains at ALBERT's rate.
    pub fn text_head(&self) -> ParamGroup {
        ParamGroup::ids_from_module(self.t_out.clone())
    }
}

/// The real rows of a padded `[batch, len, values]` stream as `[Σ lengths, c, h, w]` inputs of a
/// CNN (`shape` = `[c, h, w]`), utterance after utterance.
pub fn real_inputs(padded: Tensor<3>, lengths: &[usize], shape: [usize; 3]) -> Tensor<4> {
    let [batch, len, values] = padded.dims();
    let rows: Vec<i64> = lengths
        .iter()
        .enumerate()
        .flat_map(|(b, &n)| (0..n).map(move |i| (b * len + i) as i64))
        .collect();
    let device = padded.device();
    let index = Tensor::<1, Int>::from_data(TensorData::new(rows.clone(), [rows.len()]), &device);
    padded
        .reshape([batch * len, values])
        .select(0, index)
        .reshape([rows.len(), shape[0], shape[1], shape[2]])
}

/// For each real row of [`real_inputs`], the index of its utterance.
pub fn owners(lengths: &[usize]) -> Vec<usize> {
    lengths
        .iter()
        .enumerate()
        .flat_map(|(b, &n)| std::iter::repeat_n(b, n))
        .collect()
}
