//! The model's random decisions in training (SpecAugment spans, LayerDrop), drawn from burn's
//! RNG on the model's device so that `Device::seed` makes a run reproducible.

use burn::prelude::*;
use burn::tensor::Distribution;

/// `n` numbers uniform in [0, 1), read back to the host (the decisions are made there, as in
/// transformers, which draws them with numpy and torch on the CPU).
pub fn uniforms(n: usize, device: &Device) -> Vec<f32> {
    if n == 0 {
        return Vec::new();
    }
    Tensor::<1>::random([n], Distribution::Uniform(0.0, 1.0), device)
        .into_data()
        .try_to_vec_as::<f32>()
        .expect("uniform floats read back as f32")
}

/// LayerDrop: which of `layers` layers to skip, each with probability `p` (transformers draws
/// `torch.rand([]) < layerdrop` per layer).
pub fn layers_to_skip(layers: usize, p: f64, device: &Device) -> Vec<bool> {
    if p <= 0.0 {
        return vec![false; layers];
    }
    uniforms(layers, device)
        .into_iter()
        .map(|u| (u as f64) < p)
        .collect()
}
