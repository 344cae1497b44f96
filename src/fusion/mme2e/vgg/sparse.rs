//! MESM's sparse VGG blocks (seed spec §2.4, §2.7): SparseConvNet's
//! `SubmanifoldConvolution(3, bias=False) → BatchNormReLU → SubmanifoldConvolution →
//! BatchNormReLU → MaxPooling(2, 2)` emulated with a mask on dense tensors.
//!
//! A submanifold convolution has an output only at an active input site, and only active
//! neighbours contribute. With no bias and every inactive site zeroed, a dense 3×3 convolution
//! of `x ⊙ m` is exactly that at the active sites; the values it leaves at inactive sites are
//! masked away after the ReLU. BatchNorm takes its statistics over the active sites alone
//! (SparseConvNet's eps 1e-4, momentum 0.1, unbiased running variance). A max-pool output site
//! is active where any of its inputs is, and its value is the max of the active inputs and 0,
//! which is the dense max-pool of the masked map since the values are ReLU outputs.

use burn::module::{Param, RunningState};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2d;
use burn::nn::{Initializer, PaddingConfig2d, Relu};
use burn::prelude::*;

use super::cnn::pool2;

/// SparseConvNet's BatchNorm epsilon (PyTorch's is 1e-5).
pub const SPARSE_EPSILON: f64 = 1e-4;
const MOMENTUM: f64 = 0.1;

#[derive(Config, Debug)]
pub struct SparseVggBlockConfig {
    pub in_channels: usize,
    pub out_channels: usize,
}

/// BatchNorm over the active sites of a mask: `[n, c, h, w]` values, `[n, 1, h, w]` mask of 0/1.
#[derive(Module, Debug)]
pub struct MaskedBatchNorm {
    gamma: Param<Tensor<1>>,
    beta: Param<Tensor<1>>,
    running_mean: RunningState<Tensor<1>>,
    running_var: RunningState<Tensor<1>>,
}

#[derive(Module, Debug)]
pub struct SparseVggBlock {
    conv1: Conv2d,
    norm1: MaskedBatchNorm,
    conv2: Conv2d,
    norm2: MaskedBatchNorm,
    pool: MaxPool2d,
    activation: Relu,
}

/// A 3×3 convolution without bias, initialised as SparseConvNet's: N(0, √(2 / (9·c_in))).
fn submanifold_conv3x3(c_in: usize, c_out: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: (2.0 / (9 * c_in) as f64).sqrt(),
        })
        .init(device)
}

impl MaskedBatchNorm {
    pub fn new(channels: usize, device: &Device) -> Self {
        Self {
            gamma: Param::from_tensor(Tensor::ones([channels], device)),
            beta: Param::from_tensor(Tensor::zeros([channels], device)),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
        }
    }

    /// Normalised values (everywhere; only the active sites mean anything). Batch statistics
    /// of the active sites on a training device, the running ones otherwise.
    pub fn forward(&self, x: Tensor<4>, mask: Tensor<4>) -> Tensor<4> {
        let [_, c, _, _] = x.dims();
        let (mean, var) = if x.device().is_autodiff() {
            self.batch_statistics(x.clone(), mask)
        } else {
            (
                self.running_mean.value().reshape([1, c, 1, 1]),
                self.running_var.value().reshape([1, c, 1, 1]),
            )
        };
        let scale = self.gamma.val().reshape([1, c, 1, 1]) / (var + SPARSE_EPSILON).sqrt();
        (x - mean) * scale + self.beta.val().reshape([1, c, 1, 1])
    }

    /// Mean and (biased) variance per channel over the active sites, `[1, c, 1, 1]` each; the
    /// running statistics move by `MOMENTUM` towards them (the variance unbiased).
    fn batch_statistics(&self, x: Tensor<4>, mask: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let [_, c, _, _] = x.dims();
        let active = mask.clone().sum().reshape([1, 1, 1, 1]);
        let count = active.clone().clamp_min(1.0);
        let mean = channel_sums(x.clone() * mask.clone()) / count.clone();
        let var = channel_sums((x - mean.clone()).powi_scalar(2) * mask) / count.clone();
        let unbiased = var.clone() * count / (active - 1.0).clamp_min(1.0);
        let moved = |state: &RunningState<Tensor<1>>, batch: Tensor<4>| {
            let batch = batch.detach().reshape([c]);
            state.update(
                state
                    .value_sync()
                    .mul_scalar(1.0 - MOMENTUM)
                    .add(batch.mul_scalar(MOMENTUM))
                    .detach(),
            );
        };
        moved(&self.running_mean, mean.clone());
        moved(&self.running_var, unbiased);
        (mean, var)
    }
}

/// Sums over batch and space: `[n, c, h, w] → [1, c, 1, 1]`.
fn channel_sums(x: Tensor<4>) -> Tensor<4> {
    x.sum_dim(0).sum_dim(2).sum_dim(3)
}

impl SparseVggBlockConfig {
    pub fn init(&self, device: &Device) -> SparseVggBlock {
        let (i, o) = (self.in_channels, self.out_channels);
        SparseVggBlock {
            conv1: submanifold_conv3x3(i, o, device),
            norm1: MaskedBatchNorm::new(o, device),
            conv2: submanifold_conv3x3(o, o, device),
            norm2: MaskedBatchNorm::new(o, device),
            pool: pool2(),
            activation: Relu::new(),
        }
    }
}

impl SparseVggBlock {
    /// `x`: `[n, in, h, w]`, `mask`: `[n, 1, h, w]` of 0/1 (the active sites) →
    /// the pooled values `[n, out, h/2, w/2]`, zero at inactive sites, and the pooled mask.
    pub fn forward(&self, x: Tensor<4>, mask: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let x = x * mask.clone();
        let x = self.conv_norm_relu(&self.conv1, &self.norm1, x, mask.clone());
        let x = self.conv_norm_relu(&self.conv2, &self.norm2, x, mask.clone());
        (self.pool.forward(x), self.pool.forward(mask))
    }

    fn conv_norm_relu(
        &self,
        conv: &Conv2d,
        norm: &MaskedBatchNorm,
        x: Tensor<4>,
        mask: Tensor<4>,
    ) -> Tensor<4> {
        let y = norm.forward(conv.forward(x), mask.clone());
        self.activation.forward(y) * mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    const N: usize = 2;
    const CI: usize = 3;
    const CO: usize = 4;
    const H: usize = 4;
    const W: usize = 6;

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec().unwrap()
    }

    fn values1(t: Tensor<1>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec().unwrap()
    }

    /// A straightforward per-site submanifold convolution: at each active site, the sum over
    /// its active in-bounds neighbours (`x`: `[N, c_in, H, W]`, `weight`: `[c_out, c_in, 3, 3]`).
    fn conv_at_active_sites(
        x: &[f32],
        mask: &[bool],
        weight: &[f32],
        c_in: usize,
        c_out: usize,
    ) -> Vec<f32> {
        let active = |n: usize, y: isize, x: isize| {
            (0..H as isize).contains(&y)
                && (0..W as isize).contains(&x)
                && mask[(n * H + y as usize) * W + x as usize]
        };
        let mut out = vec![0f32; N * c_out * H * W];
        for n in 0..N {
            for y in 0..H {
                for xx in 0..W {
                    if !active(n, y as isize, xx as isize) {
                        continue;
                    }
                    for o in 0..c_out {
                        let mut sum = 0f64;
                        for i in 0..c_in {
                            for dy in 0..3 {
                                for dx in 0..3 {
                                    let (sy, sx) = (
                                        y as isize + dy as isize - 1,
                                        xx as isize + dx as isize - 1,
                                    );
                                    if active(n, sy, sx) {
                                        let w = weight[((o * c_in + i) * 3 + dy) * 3 + dx];
                                        let v =
                                            x[((n * c_in + i) * H + sy as usize) * W + sx as usize];
                                        sum += f64::from(w) * f64::from(v);
                                    }
                                }
                            }
                        }
                        out[((n * c_out + o) * H + y) * W + xx] = sum as f32;
                    }
                }
            }
        }
        out
    }

    /// BatchNorm with statistics over the active sites, then ReLU; inactive sites 0.
    fn norm_relu_at_active_sites(
        y: &[f32],
        mask: &[bool],
        gamma: &[f32],
        beta: &[f32],
    ) -> Vec<f32> {
        let sites: Vec<(usize, usize)> = (0..N)
            .flat_map(|n| (0..H * W).map(move |s| (n, s)))
            .filter(|&(n, s)| mask[n * H * W + s])
            .collect();
        let mut out = vec![0f32; y.len()];
        for o in 0..CO {
            let at = |&(n, s): &(usize, usize)| f64::from(y[(n * CO + o) * H * W + s]);
            let mean = sites.iter().map(at).sum::<f64>() / sites.len() as f64;
            let var =
                sites.iter().map(|s| (at(s) - mean).powi(2)).sum::<f64>() / sites.len() as f64;
            for s in &sites {
                let v = (at(s) - mean) / (var + SPARSE_EPSILON).sqrt() * f64::from(gamma[o])
                    + f64::from(beta[o]);
                out[(s.0 * CO + o) * H * W + s.1] = v.max(0.0) as f32;
            }
        }
        out
    }

    #[test]
    fn the_masked_block_equals_a_per_site_submanifold_reference() {
        let device = Device::default().autodiff();
        let mut block = SparseVggBlockConfig::new(CI, CO).init(&device);
        // Non-trivial affine parameters, so that the test sees them.
        let gamma1 = Tensor::<1>::random([CO], Distribution::Uniform(0.5, 1.5), &device);
        let beta1 = Tensor::<1>::random([CO], Distribution::Uniform(-0.5, 0.5), &device);
        block.norm1.gamma = Param::from_tensor(gamma1.clone());
        block.norm1.beta = Param::from_tensor(beta1.clone());
        // A hand-built mask: scattered sites, a 2×2 patch, an isolated corner, a pool window with
        // one active site, and a second frame with its own pattern.
        #[rustfmt::skip]
        let mask: Vec<bool> = [
            1, 0, 0, 0, 1, 1,
            0, 1, 1, 0, 1, 1,
            0, 1, 1, 0, 0, 0,
            0, 0, 0, 0, 0, 1,
            //
            0, 0, 1, 0, 0, 0,
            0, 0, 0, 0, 0, 0,
            1, 0, 0, 1, 1, 0,
            1, 1, 0, 0, 1, 0,
        ].iter().map(|&v| v == 1).collect();
        let x = Tensor::<4>::random([N, CI, H, W], Distribution::Normal(0.0, 1.0), &device);
        let m = Tensor::<1>::from_floats(
            mask.iter()
                .map(|&a| if a { 1.0 } else { 0.0 })
                .collect::<Vec<f32>>()
                .as_slice(),
            &device,
        )
        .reshape([N, 1, H, W]);

        let (pooled, pooled_mask) = block.forward(x.clone(), m);

        let w1 = values(block.conv1.weight.val());
        let w2 = values(block.conv2.weight.val());
        let (ones, zeros) = (vec![1f32; CO], vec![0f32; CO]);
        let y = conv_at_active_sites(&values(x), &mask, &w1, CI, CO);
        let y = norm_relu_at_active_sites(&y, &mask, &values1(gamma1), &values1(beta1));
        let y = conv_at_active_sites(&y, &mask, &w2, CO, CO);
        let y = norm_relu_at_active_sites(&y, &mask, &ones, &zeros);
        let (ph, pw) = (H / 2, W / 2);
        let mut want = vec![0f32; N * CO * ph * pw];
        let mut want_mask = vec![0f32; N * ph * pw];
        for n in 0..N {
            for py in 0..ph {
                for px in 0..pw {
                    let window = [(0, 0), (0, 1), (1, 0), (1, 1)]
                        .map(|(dy, dx)| (2 * py + dy) * W + 2 * px + dx);
                    if window.iter().any(|&s| mask[n * H * W + s]) {
                        want_mask[(n * ph + py) * pw + px] = 1.0;
                    }
                    for o in 0..CO {
                        let best = window
                            .iter()
                            .map(|&s| y[(n * CO + o) * H * W + s])
                            .fold(0f32, f32::max);
                        want[((n * CO + o) * ph + py) * pw + px] = best;
                    }
                }
            }
        }
        assert_eq!(values(pooled_mask), want_mask);
        let got = values(pooled);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() < 1e-4,
                "value {i}: {g} against the reference's {w}"
            );
        }
        assert!(
            got.iter().any(|&v| v > 0.0),
            "the test must see non-zero values"
        );
    }

    #[test]
    fn running_statistics_move_towards_the_active_sites_only() {
        let device = Device::default().autodiff();
        let norm = MaskedBatchNorm::new(1, &device);
        // Active: 1 and 3 (mean 2, biased variance 1, unbiased 2); the inactive 100 is ignored.
        let x = Tensor::<1>::from_floats([1.0, 100.0, 3.0], &device).reshape([1, 1, 1, 3]);
        let m = Tensor::<1>::from_floats([1.0, 0.0, 1.0], &device).reshape([1, 1, 1, 3]);
        let y = values(norm.forward(x, m));
        let s = 1.0 / (1.0 + SPARSE_EPSILON as f32).sqrt();
        assert!((y[0] + s).abs() < 1e-6 && (y[2] - s).abs() < 1e-6, "{y:?}");
        let mean = values1(norm.running_mean.value_sync())[0];
        let var = values1(norm.running_var.value_sync())[0];
        assert!((mean - 0.2).abs() < 1e-6, "0.9·0 + 0.1·2, got {mean}");
        assert!((var - 1.1).abs() < 1e-6, "0.9·1 + 0.1·2, got {var}");
    }
}
