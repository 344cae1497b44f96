//! `lf_rnn`: seed 001's LF-LSTM baseline (`src/models/baselines/lf_rnn.py`;
//! docs/methods/seed-001-mme2e.md). One bidirectional one-layer LSTM per modality, its hidden
//! width the stream's own (300, 144, 35 on IEMOCAP), then a class head per modality
//! (`Linear(2d, d) → ReLU → Linear(d, C)`) and the learned weighting of the three logits.
//!
//! Nothing is packed, as in the seed (`padding = "seed"`): every LSTM runs over the batch's zero
//! padding. Audio and visual read the final states `h_n` of both directions (the backward one
//! after stepping back over the padding to the first frame); text reads the output at the last
//! padded step, whose backward half has seen only that step. `padding = "masked"` reads every
//! modality's `h_n` at each row's real ends instead. The seed's `-dr -nl -hs -bi --gru` flags
//! are never read by its model and have no counterpart here.

use burn::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::lf_heads::{LateHeads, NEEDS, PaddingChoice, stream_widths};
use crate::fusion::registry::Method;
use crate::fusion::torch_lstm::{TorchLstm, TorchLstmConfig};
use crate::fusion::{FusionInputs, FusionSpec};
use crate::modality::{Form, Modality};
use crate::params::ModuleParams;
use crate::pooling::padding_mask;

/// The `[fusion]` keys of `lf_rnn`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LfRnnKeys {
    /// How the batch's zero padding is treated: `seed` (lf_rnn's LSTMs run over it, its text
    /// reading the output at the last padded step; lf_transformer's text attends to it) or
    /// `masked` (each sequence ends at its own length: packed LSTMs, text's padding masked).
    pub padding: PaddingChoice,
}

/// `nn.LSTM(d, d, bidirectional=True)`: a forward and a reverse direction, PyTorch's layout
/// (`weight_ih_l0` and `weight_ih_l0_reverse`) each.
#[derive(Module, Debug)]
pub struct BiLstm {
    forward: TorchLstm,
    reverse: TorchLstm,
}

impl BiLstm {
    pub fn new(width: usize, device: &Device) -> Self {
        let config = TorchLstmConfig::new(width, width);
        Self {
            forward: config.init(device),
            reverse: config.init(device),
        }
    }

    /// `h_n` of both directions over every step of `x` `[batch, steps, d]`, `[batch, 2d]`.
    pub fn final_states(&self, x: Tensor<3>) -> Tensor<2> {
        let backward = self.reverse.forward(x.clone().flip([1]));
        Tensor::cat(vec![self.forward.forward(x), backward], 1)
    }

    /// `h_n` of packed sequences: the forward direction stopped at each row's last real step,
    /// the reverse one started there.
    pub fn final_states_at(&self, x: Tensor<3>, lengths: &[usize]) -> Tensor<2> {
        let [_, steps, _] = x.dims();
        // 1 on each row's real steps, 0 on its padding.
        let valid = padding_mask(lengths, steps, &x.device()).bool_not().float();
        let backward = self
            .reverse
            .forward_masked(x.clone().flip([1]), valid.clone().flip([1]));
        Tensor::cat(vec![self.forward.forward_masked(x, valid), backward], 1)
    }

    /// The output at the last step, `output[-1]`: the forward state after every step beside
    /// the reverse direction's state after the last step alone.
    pub fn last_output(&self, x: Tensor<3>) -> Tensor<2> {
        let steps = x.dims()[1];
        let last = x.clone().narrow(1, steps - 1, 1);
        Tensor::cat(vec![self.forward.forward(x), self.reverse.forward(last)], 1)
    }
}

#[derive(Module, Debug)]
pub struct LfRnn {
    text: BiLstm,
    audio: BiLstm,
    visual: BiLstm,
    heads: LateHeads,
    #[module(skip)]
    masked: bool,
}

impl LfRnn {
    pub fn new(keys: &LfRnnKeys, spec: &FusionSpec, device: &Device) -> Self {
        let widths = stream_widths(spec);
        Self {
            text: BiLstm::new(widths[0], device),
            audio: BiLstm::new(widths[1], device),
            visual: BiLstm::new(widths[2], device),
            heads: LateHeads::new(widths.map(|d| 2 * d), widths, spec.n_classes, device),
            masked: keys.padding == PaddingChoice::Masked,
        }
    }

    pub fn forward(&self, x: &FusionInputs) -> Tensor<2> {
        let (text, text_lengths) = x.sequence(Modality::Text);
        let (audio, audio_lengths) = x.sequence(Modality::Audio);
        let (visual, visual_lengths) = x.sequence(Modality::Visual);
        if self.masked {
            return self.heads.forward(
                self.text.final_states_at(text, &text_lengths),
                self.audio.final_states_at(audio, &audio_lengths),
                self.visual.final_states_at(visual, &visual_lengths),
            );
        }
        self.heads.forward(
            self.text.last_output(text),
            self.audio.final_states(audio),
            self.visual.final_states(visual),
        )
    }
}

/// `lf_rnn`: LF-LSTM.
pub struct LfRnnMethod;

impl Method for LfRnnMethod {
    const SUMMARY: &'static str = "Seed 001's LF-LSTM baseline: a bidirectional LSTM per modality over its hand-crafted feature sequence (hidden width = the stream's), a class head per modality and one learned weight per modality's logits. Reads [dataset.hcf]; the LSTMs run over the batch's padding, as the seed's.";
    const NEEDS: &'static [(Modality, Form)] = NEEDS;
    type Keys = LfRnnKeys;
    type Module = LfRnn;

    fn init(keys: &LfRnnKeys, spec: &FusionSpec, device: &Device) -> LfRnn {
        LfRnn::new(keys, spec, device)
    }

    fn forward(module: &LfRnn, inputs: &FusionInputs) -> Tensor<2> {
        module.forward(inputs)
    }

    fn parameter_parts(module: &LfRnn) -> Vec<ModuleParams> {
        vec![
            ModuleParams::of("text_lstm", &module.text),
            ModuleParams::of("audio_lstm", &module.audio),
            ModuleParams::of("visual_lstm", &module.visual),
            ModuleParams::of("heads_and_fusion", &module.heads),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;

    #[test]
    fn the_iemocap_model_has_pytorchs_count() {
        // Per LSTM 2 · 4(d·d + d·d + 2d); per head 2d·d + d + d·6 + 6; the fusion's 3.
        let lstm = |d: usize| 2 * 4 * (2 * d * d + 2 * d);
        let head = |d: usize| 2 * d * d + d + d * 6 + 6;
        let spec = super::super::lf_heads::iemocap_spec(crate::fusion::FusionMethod::LfRnn);
        let model = LfRnn::new(&LfRnnKeys::default(), &spec, &Device::default().autodiff());
        let expected: usize = [300, 144, 35]
            .iter()
            .map(|&d| lstm(d) + head(d))
            .sum::<usize>()
            + 3;
        assert_eq!(ModuleParams::of("lf_rnn", &model).trainable, expected);
        assert_eq!(expected, 2_026_336);
    }

    #[test]
    fn the_last_output_reads_the_reverse_direction_after_one_step() {
        // With the forward weights zero and the reverse direction's input gate shut by its bias,
        // only the last step's input can move the reverse half.
        let device = Device::default();
        let mut lstm = BiLstm::new(1, &device);
        for direction in [&mut lstm.forward, &mut lstm.reverse] {
            direction.weight_ih_l0 = Param::from_tensor(Tensor::ones([4, 1], &device));
            direction.weight_hh_l0 = Param::from_tensor(Tensor::zeros([4, 1], &device));
            direction.bias_ih_l0 = Param::from_tensor(Tensor::zeros([4], &device));
            direction.bias_hh_l0 = Param::from_tensor(Tensor::zeros([4], &device));
        }
        let x = Tensor::<1>::from_floats([5.0, 0.0, 0.0], &device).reshape([1, 3, 1]);
        let out: Vec<f32> = lstm
            .last_output(x.clone())
            .into_data()
            .try_to_vec()
            .unwrap();
        let h_n: Vec<f32> = lstm.final_states(x).into_data().try_to_vec().unwrap();
        // The reverse half after the last step (input 0, zero state) is 0; after stepping back to
        // the first step (input 5) it is not.
        assert_eq!(out[1], 0.0);
        assert!(h_n[1] > 0.5, "{h_n:?}");
        // The forward halves agree: both ran over every step.
        assert_eq!(out[0], h_n[0]);
    }

    #[test]
    fn masked_states_of_a_padded_row_are_those_of_the_row_alone() {
        let device = Device::default();
        let lstm = BiLstm::new(3, &device);
        let short = Tensor::<3>::random([1, 2, 3], burn::tensor::Distribution::Default, &device);
        let long = Tensor::<3>::random([1, 4, 3], burn::tensor::Distribution::Default, &device);
        let padded = Tensor::cat(vec![short.clone(), Tensor::zeros([1, 2, 3], &device)], 1);
        let batch = Tensor::cat(vec![padded, long.clone()], 0);
        let masked: Vec<f32> = lstm
            .final_states_at(batch.clone(), &[2, 4])
            .into_data()
            .try_to_vec()
            .unwrap();
        let alone =
            |x: Tensor<3>| -> Vec<f32> { lstm.final_states(x).into_data().try_to_vec().unwrap() };
        let expected = [alone(short), alone(long)].concat();
        for (got, want) in masked.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-6, "{masked:?} vs {expected:?}");
        }
        // The seed's unpacked states of the padded row differ: its LSTMs ran over the zeros.
        let seed: Vec<f32> = lstm.final_states(batch).into_data().try_to_vec().unwrap();
        assert!(
            seed[..6]
                .iter()
                .zip(&expected[..6])
                .any(|(a, b)| (a - b).abs() > 1e-4)
        );
    }
}
