//! Seed 001's `VggBasicBlock` (`src/models/vgg_block.py`): two 3×3 convolutions, each followed by
//! BatchNorm and ReLU, and no residual connection.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

#[derive(Config, Debug)]
pub struct VggBlockConfig {
    pub in_channels: usize,
    pub out_channels: usize,
}

#[derive(Module, Debug)]
pub struct VggBlock {
    /// 3×3, padding 1, with bias (PyTorch's default, which the seed keeps).
    conv1: Conv2d,
    /// eps 1e-5, momentum 0.1 (PyTorch's defaults, and burn's).
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    activation: Relu,
}

/// A 3×3 convolution with one pixel of zero padding on every side (the output keeps the size).
pub fn conv3x3(in_channels: usize, out_channels: usize, bias: bool, device: &Device) -> Conv2d {
    Conv2dConfig::new([in_channels, out_channels], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(bias)
        .init(device)
}

impl VggBlockConfig {
    pub fn init(&self, device: &Device) -> VggBlock {
        let (i, o) = (self.in_channels, self.out_channels);
        VggBlock {
            conv1: conv3x3(i, o, true, device),
            bn1: BatchNormConfig::new(o).init(device),
            conv2: conv3x3(o, o, true, device),
            bn2: BatchNormConfig::new(o).init(device),
            activation: Relu::new(),
        }
    }
}

impl VggBlock {
    /// `[n, in, h, w] → [n, out, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self
            .activation
            .forward(self.bn1.forward(self.conv1.forward(x)));
        self.activation
            .forward(self.bn2.forward(self.conv2.forward(x)))
    }
}
