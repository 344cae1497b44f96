//! Seed 001's CNN `V` (faces, 3 channels) and `A` (spectrogram pieces, 1 channel): the stem and
//! the blocks of `plan`, dense, as FE2E trains them.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

use super::block::{VggBlock, VggBlockConfig};
use super::plan::{BLOCKS, STEM_CHANNELS, STEM_KERNEL};

#[derive(Config, Debug)]
pub struct VggCnnConfig {
    /// 3 for RGB faces (`V`), 1 for mel-spectrogram pieces (`A`).
    pub in_channels: usize,
}

#[derive(Module, Debug)]
pub struct VggCnn {
    stem: Conv2d,
    stem_norm: BatchNorm,
    blocks: Vec<VggBlock>,
    pool: MaxPool2d,
    activation: Relu,
}

/// The stem's 5×5 convolution with "same" padding, `in_channels` → 64.
pub fn stem_conv(in_channels: usize, device: &Device) -> Conv2d {
    let pad = STEM_KERNEL / 2;
    Conv2dConfig::new([in_channels, STEM_CHANNELS], [STEM_KERNEL; 2])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .init(device)
}

/// The 2×2, stride-2 max-pool between stages.
pub fn pool2() -> MaxPool2d {
    MaxPool2dConfig::new([2, 2]).init()
}

impl VggCnnConfig {
    pub fn init(&self, device: &Device) -> VggCnn {
        VggCnn {
            stem: stem_conv(self.in_channels, device),
            stem_norm: BatchNormConfig::new(STEM_CHANNELS).init(device),
            blocks: BLOCKS
                .iter()
                .map(|b| VggBlockConfig::new(b.in_channels, b.out_channels).init(device))
                .collect(),
            pool: pool2(),
            activation: Relu::new(),
        }
    }
}

impl VggCnn {
    /// `[n, in_channels, h, w] → [n, 512, h/16, w/16]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.stem_norm.forward(self.stem.forward(x));
        let mut x = self.pool.forward(self.activation.forward(x));
        for (block, plan) in self.blocks.iter().zip(BLOCKS) {
            x = block.forward(x);
            if plan.pool_after {
                x = self.pool.forward(x);
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ModuleParams;
    use burn::tensor::Distribution;

    fn trainable(in_channels: usize) -> usize {
        let device = Device::default().autodiff();
        ModuleParams::of("cnn", &VggCnnConfig::new(in_channels).init(&device)).trainable
    }

    #[test]
    fn parameter_counts_are_the_seeds() {
        // Computed in PyTorch from seed 001's layer lists (the figures).
        assert_eq!(trainable(3), 4_803_456, "V-CNN");
        assert_eq!(trainable(1), 4_800_256, "A-CNN");
    }

    #[test]
    fn faces_and_pieces_come_out_at_the_flatten_widths() {
        let device = Device::default();
        let cnn = VggCnnConfig::new(3).init(&device);
        let faces = cnn.forward(Tensor::random(
            [2, 3, 48, 48],
            Distribution::Default,
            &device,
        ));
        assert_eq!(faces.dims(), [2, 512, 3, 3]);
        let cnn = VggCnnConfig::new(1).init(&device);
        let pieces = cnn.forward(Tensor::random(
            [1, 1, 128, 32],
            Distribution::Default,
            &device,
        ));
        assert_eq!(pieces.dims(), [1, 512, 8, 2]);
    }
}
