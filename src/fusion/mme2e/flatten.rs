//! Seed 001's `v_flatten` / `a_flatten`: a CNN's flattened map to the transformer's width,
//! `Linear(in, 1024) → ReLU → Linear(1024, trans_dim)` (4608 in for a face's 512×3×3, 8192 for a
//! spectrogram piece's 512×8×2).

use burn::nn::{Linear, LinearConfig, Relu};
use burn::prelude::*;

#[derive(Config, Debug)]
pub struct FlattenMlpConfig {
    pub input: usize,
    pub output: usize,
    /// The hidden width the seed hard-codes.
    #[config(default = 1024)]
    pub hidden: usize,
}

#[derive(Module, Debug)]
pub struct FlattenMlp {
    inner: Linear,
    outer: Linear,
    activation: Relu,
}

impl FlattenMlpConfig {
    pub fn init(&self, device: &Device) -> FlattenMlp {
        FlattenMlp {
            inner: LinearConfig::new(self.input, self.hidden).init(device),
            outer: LinearConfig::new(self.hidden, self.output).init(device),
            activation: Relu::new(),
        }
    }
}

impl FlattenMlp {
    /// `[n, c, h, w]` CNN maps (one per frame or piece) → `[n, output]`.
    pub fn forward(&self, maps: Tensor<4>) -> Tensor<2> {
        let x: Tensor<2> = maps.flatten(1, 3);
        self.outer
            .forward(self.activation.forward(self.inner.forward(x)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ModuleParams;

    fn trainable(input: usize) -> usize {
        let mlp = FlattenMlpConfig::new(input, 64).init(&Device::default().autodiff());
        ModuleParams::of("flatten", &mlp).trainable
    }

    #[test]
    fn the_flatten_mlps_have_the_seeds_counts() {
        assert_eq!(trainable(512 * 3 * 3), 4_785_216, "v_flatten");
        assert_eq!(trainable(512 * 8 * 2), 8_455_232, "a_flatten");
    }

    #[test]
    fn a_map_is_flattened_channel_first() {
        let device = Device::default();
        let mlp = FlattenMlpConfig::new(12, 3).with_hidden(5).init(&device);
        let maps = Tensor::<1>::from_floats([1.0; 24], &device).reshape([2, 3, 2, 2]);
        assert_eq!(mlp.forward(maps).dims(), [2, 3]);
    }
}
