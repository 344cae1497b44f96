//! The unimodal subnetworks that seed 002's LMF and its TFN baseline put in front of the fusion
//! (the same code in both original repositories).
//!
//! ```text
//! SubNet(in, h, p):          x[B,in] → BatchNorm1d(in) → Dropout(p) → 3 × (Linear → ReLU) → [B,h]
//! TextSubNet(in, th, to, p): x[B,T,in] → LSTM(in→th) final h → Dropout(p) → Linear(th,to) → [B,to]
//! ```
//!
//! Field names are those of the PyTorch modules (`norm`, `drop`, `linear_1..3`; `rnn`,
//! `dropout`, `linear_1`), so a PyTorch `state_dict` loads with burn-store's
//! `PyTorchToBurnAdapter` and no key remapping.

use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::heads::{positive, probability};
use super::torch_lstm::{TorchLstm, TorchLstmConfig};
use crate::kernels::dropout;
use crate::modality::Modality;

#[derive(Config, Debug)]
pub struct SubNetConfig {
    pub in_size: usize,
    pub hidden_size: usize,
    pub dropout: f64,
}

/// The audio and visual subnetwork: three Linear layers, each followed by ReLU, the last one
/// included (the paper says "2-layer"; the code has three).
#[derive(Module, Debug)]
pub struct SubNet {
    /// eps 1e-5, momentum 0.1 (PyTorch's defaults, and burn's); running statistics in evaluation.
    norm: BatchNorm,
    drop: Dropout,
    linear_1: Linear,
    linear_2: Linear,
    linear_3: Linear,
    activation: Relu,
}

impl SubNetConfig {
    pub fn init(&self, device: &Device) -> SubNet {
        let (i, h) = (self.in_size, self.hidden_size);
        SubNet {
            norm: BatchNormConfig::new(i).init(device),
            drop: DropoutConfig::new(self.dropout).init(),
            linear_1: LinearConfig::new(i, h).init(device),
            linear_2: LinearConfig::new(h, h).init(device),
            linear_3: LinearConfig::new(h, h).init(device),
            activation: Relu::new(),
        }
    }
}

impl SubNet {
    /// `[batch, in] → [batch, hidden]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = dropout::apply(&self.drop, self.norm.forward(x));
        let x = self.activation.forward(self.linear_1.forward(x));
        let x = self.activation.forward(self.linear_2.forward(x));
        self.activation.forward(self.linear_3.forward(x))
    }
}

#[derive(Config, Debug)]
pub struct TextSubNetConfig {
    /// Word-vector width (300 for GloVe).
    pub in_size: usize,
    /// LSTM hidden width `th`.
    pub hidden_size: usize,
    /// Output width `to` (the seed always uses `th / 2`).
    pub out_size: usize,
    pub dropout: f64,
}

/// The text subnetwork. The LSTM's own `dropout=` argument is a no-op with one layer, so the
/// only dropout is the one on the final hidden state; the Linear has no activation after it.
#[derive(Module, Debug)]
pub struct TextSubNet {
    rnn: TorchLstm,
    dropout: Dropout,
    linear_1: Linear,
}

impl TextSubNetConfig {
    pub fn init(&self, device: &Device) -> TextSubNet {
        TextSubNet {
            rnn: TorchLstmConfig::new(self.in_size, self.hidden_size).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            linear_1: LinearConfig::new(self.hidden_size, self.out_size).init(device),
        }
    }
}

impl TextSubNet {
    /// `[batch, steps, in] → [batch, out]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let h_n = self.rnn.forward(x);
        self.linear_1.forward(dropout::apply(&self.dropout, h_n))
    }
}

/// The three subnetworks LMF and TFN share: audio and visual SubNets and the TextSubNet.
#[derive(Config, Debug)]
pub struct SubnetsConfig {
    pub audio_in: usize,
    pub video_in: usize,
    pub text_in: usize,
    pub audio_hidden: usize,
    pub video_hidden: usize,
    /// LSTM width `th`.
    pub text_hidden: usize,
    /// TextSubNet output `to`; the original scripts hard-code `th / 2`.
    pub text_out: usize,
    pub audio_dropout: f64,
    pub video_dropout: f64,
    pub text_dropout: f64,
}

impl SubnetsConfig {
    /// `(audio, visual, text)` subnetworks.
    pub fn init(&self, device: &Device) -> (SubNet, SubNet, TextSubNet) {
        (
            SubNetConfig::new(self.audio_in, self.audio_hidden, self.audio_dropout).init(device),
            SubNetConfig::new(self.video_in, self.video_hidden, self.video_dropout).init(device),
            TextSubNetConfig::new(
                self.text_in,
                self.text_hidden,
                self.text_out,
                self.text_dropout,
            )
            .init(device),
        )
    }
}

/// The subnetworks' keys, shared by lmf and tfn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SubnetKeys {
    /// Width of the audio subnet (BatchNorm -> Dropout -> 3 x Linear+ReLU).
    pub audio_hidden: usize,
    /// Width of the visual subnet.
    pub visual_hidden: usize,
    /// Width of the text LSTM.
    pub text_hidden: usize,
    /// Width of the Linear after the text LSTM; unset, `text_hidden / 2` (the seed's scripts
    /// hard-code that).
    pub text_out: Option<usize>,
    /// Dropout of the audio subnet (after its BatchNorm).
    pub audio_dropout: f64,
    /// Dropout of the visual subnet.
    pub visual_dropout: f64,
    /// Dropout on the text LSTM's last hidden state.
    pub text_dropout: f64,
}

impl Default for SubnetKeys {
    fn default() -> Self {
        Self {
            audio_hidden: 4,
            visual_hidden: 16,
            text_hidden: 128,
            text_out: None,
            audio_dropout: 0.3,
            visual_dropout: 0.3,
            text_dropout: 0.3,
        }
    }
}

impl SubnetKeys {
    /// `text_out`, or its default `text_hidden / 2`.
    pub fn text_out(&self) -> usize {
        self.text_out.unwrap_or(self.text_hidden / 2)
    }

    /// The subnetworks at the streams' widths of `spec`.
    pub fn config(&self, spec: &super::FusionSpec) -> SubnetsConfig {
        SubnetsConfig {
            audio_in: spec.dim(Modality::Audio),
            video_in: spec.dim(Modality::Visual),
            text_in: spec.dim(Modality::Text),
            audio_hidden: self.audio_hidden,
            video_hidden: self.visual_hidden,
            text_hidden: self.text_hidden,
            text_out: self.text_out(),
            audio_dropout: self.audio_dropout,
            video_dropout: self.visual_dropout,
            text_dropout: self.text_dropout,
        }
    }

    /// Zero widths and dropouts outside [0, 1).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        [
            positive("audio_hidden", self.audio_hidden),
            positive("visual_hidden", self.visual_hidden),
            positive("text_hidden", self.text_hidden),
            positive("text_out", self.text_out()),
            probability("audio_dropout", self.audio_dropout),
            probability("visual_dropout", self.visual_dropout),
            probability("text_dropout", self.text_dropout),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Parameter counting shared by the LMF and TFN tests.
#[cfg(test)]
pub(crate) mod test_support {
    use burn::prelude::*;

    use crate::params::ModuleParams;

    /// Trainable parameters, of a module built on `autodiff()`: BatchNorm's running statistics
    /// are buffers, which `num_params` counts too.
    pub fn trainable(module: &impl Module) -> usize {
        ModuleParams::of("", module).trainable
    }

    /// Parameters carry their trainable flag only on an autodiff device.
    pub fn autodiff() -> Device {
        Device::default().autodiff()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{autodiff, trainable};
    use super::*;
    use crate::fusion::blocks::linear_params;

    #[test]
    fn subnet_parameter_count() {
        // BatchNorm's affine pair (its running statistics are buffers) and three Linears.
        let net = SubNetConfig::new(74, 8, 0.0).init(&autodiff());
        let expected = 2 * 74 + linear_params(74, 8) + 2 * linear_params(8, 8);
        assert_eq!(trainable(&net), expected);
        // Plus the running mean and variance.
        assert_eq!(net.num_params(), expected + 2 * 74);
    }

    #[test]
    fn text_subnet_parameter_count() {
        let net = TextSubNetConfig::new(300, 64, 32, 0.0).init(&autodiff());
        let lstm = 4 * 64 * (300 + 64) + 8 * 64;
        assert_eq!(trainable(&net), lstm + linear_params(64, 32));
    }

    #[test]
    fn shapes() {
        let device = Device::default();
        let audio = SubNetConfig::new(5, 3, 0.1).init(&device);
        assert_eq!(audio.forward(Tensor::ones([4, 5], &device)).dims(), [4, 3]);
        let text = TextSubNetConfig::new(6, 4, 2, 0.1).init(&device);
        assert_eq!(
            text.forward(Tensor::ones([4, 3, 6], &device)).dims(),
            [4, 2]
        );
    }
}
