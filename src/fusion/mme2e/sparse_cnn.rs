//! MESM's CNN (seed spec §2.1–2.4): the dense `low_level` part (stem and the first two blocks),
//! then three stages of text-guided site attention, top-p selection per frame and a sparse VGG
//! block computed only at the kept sites (masks on dense tensors, `vgg::sparse`). The output map
//! has the dense CNN's shape, zero at inactive sites, so the flatten MLPs are MME2E's.
//!
//! The selection is a hard, host-side decision per frame, as in the seed (its weights are
//! detached there), and the same pass counts the multiply-accumulates a sparse implementation
//! would do (`Macs`), against the dense network's on the same inputs.

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, BatchNormConfig, Relu};
use burn::prelude::*;

use super::keys::{AttentionChoice, SitePairing};
use super::vgg::cnn::{pool2, stem_conv};
use super::vgg::macs::{dense_stages, pool_mask, submanifold_conv3x3};
use super::vgg::plan::{BLOCKS, DENSE_BLOCKS, STEM_CHANNELS};
use super::vgg::{
    AttentionUse, SiteAttention, SiteAttentionConfig, SparseVggBlock, SparseVggBlockConfig,
    VggBlock, VggBlockConfig, kept_features, select_sites, stage1_seed_pairing,
};

/// Multiply-accumulates of a pass: what the sparse network computed and what the dense one
/// would have on the same inputs (convolutions only, as `vgg::macs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Macs {
    pub sparse: u64,
    pub dense: u64,
}

impl std::ops::AddAssign for Macs {
    fn add_assign(&mut self, other: Macs) {
        self.sparse += other.sparse;
        self.dense += other.dense;
    }
}

/// How the stages select and pass on their sites.
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    pub threshold: f64,
    pub attention: AttentionChoice,
    pub pairing: SitePairing,
}

#[derive(Module, Debug)]
pub struct SparseCnn {
    stem: Conv2d,
    stem_norm: BatchNorm,
    low_blocks: Vec<VggBlock>,
    attention: Vec<SiteAttention>,
    sparse_blocks: Vec<SparseVggBlock>,
    pool: MaxPool2d,
    activation: Relu,
    #[module(skip)]
    in_channels: usize,
}

impl SparseCnn {
    pub fn new(in_channels: usize, text_dim: usize, device: &Device) -> Self {
        let (low, sparse) = BLOCKS.split_at(DENSE_BLOCKS);
        Self {
            stem: stem_conv(in_channels, device),
            stem_norm: BatchNormConfig::new(STEM_CHANNELS).init(device),
            low_blocks: low
                .iter()
                .map(|b| VggBlockConfig::new(b.in_channels, b.out_channels).init(device))
                .collect(),
            attention: sparse
                .iter()
                .map(|b| SiteAttentionConfig::new(b.in_channels, text_dim).init(device))
                .collect(),
            sparse_blocks: sparse
                .iter()
                .map(|b| SparseVggBlockConfig::new(b.in_channels, b.out_channels).init(device))
                .collect(),
            pool: pool2(),
            activation: Relu::new(),
            in_channels,
        }
    }

    /// `x`: `[n, c, h, w]` inputs (faces or pieces); `text`: `[n, d_text]`, each input's
    /// utterance's text vector → the output maps `[n, 512, h/16, w/16]` and the pass's MACs.
    pub fn forward(&self, x: Tensor<4>, text: Tensor<2>, how: Selection) -> (Tensor<4>, Macs) {
        let [n, _, height, width] = x.dims();
        let dense = dense_stages(self.in_channels, height, width);
        let mut macs = Macs {
            dense: n as u64 * dense.iter().sum::<u64>(),
            sparse: n as u64 * dense[..=DENSE_BLOCKS].iter().sum::<u64>(),
        };
        let x = self.stem_norm.forward(self.stem.forward(x));
        let mut x = self.pool.forward(self.activation.forward(x));
        for block in &self.low_blocks {
            x = block.forward(x);
        }
        let [_, _, mut h, mut w] = x.dims();
        let mut active = vec![vec![true; h * w]; n];
        let device = x.device();
        let usage = match how.attention {
            AttentionChoice::SelectOnly => AttentionUse::SelectOnly,
            AttentionChoice::WeightKept => AttentionUse::WeightKept,
        };
        let stages = self.attention.iter().zip(&self.sparse_blocks);
        for (stage, (attention, block)) in stages.enumerate() {
            let plan = BLOCKS[DENSE_BLOCKS + stage];
            let mask = mask_tensor(&active, h, w, &device);
            let weights = attention.weights(x.clone(), mask, text.clone());
            let kept = select_sites(&host_rows(weights.clone(), n), &active, how.threshold);
            let kept_mask = mask_tensor(&kept, h, w, &device);
            let mut features = kept_features(x, weights, kept_mask.clone(), usage);
            if stage == 0 && how.pairing == SitePairing::Seed {
                features = seed_paired(features, &kept);
            }
            for frame in &kept {
                macs.sparse +=
                    submanifold_conv3x3(frame, h, w, plan.in_channels, plan.out_channels)
                        + submanifold_conv3x3(frame, h, w, plan.out_channels, plan.out_channels);
            }
            let (y, _) = block.forward(features, kept_mask);
            x = y;
            active = kept.iter().map(|m| pool_mask(m, h, w).0).collect();
            (h, w) = (h / 2, w / 2);
        }
        (x, macs)
    }
}

/// `[n, 1, h, w]` of 0/1 from per-frame site masks.
fn mask_tensor(masks: &[Vec<bool>], h: usize, w: usize, device: &Device) -> Tensor<4> {
    let values: Vec<f32> = masks
        .iter()
        .flatten()
        .map(|&m| f32::from(u8::from(m)))
        .collect();
    Tensor::<1>::from_floats(values.as_slice(), device).reshape([masks.len(), 1, h, w])
}

/// A `[n, sites]` tensor's rows on the host.
fn host_rows(t: Tensor<2>, n: usize) -> Vec<Vec<f32>> {
    let values: Vec<f32> = t.into_data().try_to_vec().expect("f32 weights");
    let sites = values.len() / n.max(1);
    values.chunks(sites.max(1)).map(<[f32]>::to_vec).collect()
}

/// The seed's stage-1 pairing (defect 2 of §2.5): each kept site receives the feature that
/// `stage1_seed_pairing` assigns it, from any frame of the batch.
fn seed_paired(features: Tensor<4>, kept: &[Vec<bool>]) -> Tensor<4> {
    let [n, c, h, w] = features.dims();
    let pairing = stage1_seed_pairing(kept);
    // Unselected positions take their own (zero) feature.
    let rows: Vec<i64> = pairing
        .iter()
        .enumerate()
        .map(|(at, source)| source.unwrap_or(at) as i64)
        .collect();
    let index = Tensor::<1, Int>::from_data(TensorData::new(rows, [n * h * w]), &features.device());
    let sites = features
        .swap_dims(1, 2)
        .swap_dims(2, 3)
        .reshape([n * h * w, c]);
    sites
        .select(0, index)
        .reshape([n, h, w, c])
        .swap_dims(2, 3)
        .swap_dims(1, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::mme2e::vgg::macs::dense_total;
    use burn::tensor::Distribution;

    fn faces(n: usize) -> Tensor<4> {
        Tensor::random(
            [n, 3, 48, 48],
            Distribution::Normal(0.0, 1.0),
            &Device::default(),
        )
    }

    fn run(threshold: f64, pairing: SitePairing) -> (Tensor<4>, Macs) {
        let device = Device::default();
        let cnn = SparseCnn::new(3, 8, &device);
        let text = Tensor::random([2, 8], Distribution::Normal(0.0, 1.0), &device);
        let how = Selection {
            threshold,
            attention: AttentionChoice::SelectOnly,
            pairing,
        };
        cnn.forward(faces(2), text, how)
    }

    #[test]
    fn the_output_has_the_dense_shape_and_fewer_macs_as_p_falls() {
        let (maps, full) = run(1.0, SitePairing::Fixed);
        assert_eq!(maps.dims(), [2, 512, 3, 3]);
        assert_eq!(full.dense, 2 * dense_total(3, 48, 48));
        let (_, some) = run(0.7, SitePairing::Fixed);
        let (_, few) = run(0.3, SitePairing::Fixed);
        assert!(few.sparse < some.sparse && some.sparse < full.sparse);
        // Keeping every site computes no more than the dense network (less at borders only).
        assert!(full.sparse <= full.dense, "{full:?}");
    }

    /// Stage 1's seed pairing moves features between sites, and the identity where one frame
    /// keeps everything.
    #[test]
    fn the_seed_pairing_permutes_features_across_frames() {
        let device = Device::default();
        let values: Vec<f32> = (0..2 * 4).map(|v| v as f32).collect();
        let x = Tensor::<1>::from_floats(values.as_slice(), &device).reshape([2, 1, 2, 2]);
        let kept = vec![
            vec![true, false, true, false],
            vec![true, true, false, false],
        ];
        let got: Vec<f32> = seed_paired(x, &kept).into_data().try_to_vec().unwrap();
        // Kept sites in (row, column, frame) order: f0s0, f1s0, f1s1, f0s2; they receive the
        // features in (frame, row, column) order: 0 (f0s0), 2 (f0s2), 4 (f1s0), 5 (f1s1).
        // Unkept positions keep their own value (zero in a real pass).
        assert_eq!(got, [0.0, 1.0, 5.0, 3.0, 2.0, 4.0, 6.0, 7.0]);
        let one = Tensor::<1>::from_floats([1.0, 2.0, 3.0, 4.0], &device).reshape([1, 1, 2, 2]);
        let all = vec![vec![true; 4]];
        let same: Vec<f32> = seed_paired(one, &all).into_data().try_to_vec().unwrap();
        assert_eq!(same, [1.0, 2.0, 3.0, 4.0]);
    }
}
