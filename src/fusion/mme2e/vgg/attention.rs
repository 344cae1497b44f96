//! MESM's text-guided site selection before each sparse block (seed spec §2.2–2.5): additive
//! attention between every active site of a frame and the utterance's text vector, a softmax
//! over the frame's active sites, and the top-p selection of the sites to keep.
//!
//! `e = w_a · tanh(W_x x + b_x + W_y y) + b_a`, with `W_x: Linear(c, k)`, `W_y: Linear(d_text,
//! k, bias = false)`, `w_a: Linear(k, 1)`; every frame of an utterance uses that utterance's `y`.
//!
//! Two defects of the seed are switches here:
//! * the seed selects on detached weights and passes the kept features on unweighted, so its
//!   attention layers never receive a gradient ([`AttentionUse::SelectOnly`], the faithful
//!   default); [`AttentionUse::WeightKept`] multiplies the kept features by their weights, which
//!   trains the attention;
//! * at stage 1 the seed pairs the kept features with the wrong sites (the features in frame,
//!   row, column order, the sites in row, column, frame order): [`stage1_seed_pairing`] gives that
//!   permutation, for the faithful variant.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::top_p::top_p_keep;

/// How the selected sites use the attention weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionUse {
    /// The seed: weights choose the sites only (no gradient reaches the attention).
    SelectOnly,
    /// The kept features multiplied by their weights (the attention trains).
    WeightKept,
}

#[derive(Config, Debug)]
pub struct SiteAttentionConfig {
    /// Channels of the feature map (64, 128, 256 at the three stages).
    pub channels: usize,
    /// Width of the text vector (ALBERT-base's 768).
    pub text_dim: usize,
}

#[derive(Module, Debug)]
pub struct SiteAttention {
    channel_affine: Linear,
    y_affine: Linear,
    attn_weight_affine: Linear,
}

impl SiteAttentionConfig {
    /// The seed's `k` equals the channel count at every stage.
    pub fn init(&self, device: &Device) -> SiteAttention {
        let k = self.channels;
        SiteAttention {
            channel_affine: LinearConfig::new(self.channels, k).init(device),
            y_affine: LinearConfig::new(self.text_dim, k)
                .with_bias(false)
                .init(device),
            attn_weight_affine: LinearConfig::new(k, 1).init(device),
        }
    }
}

impl SiteAttention {
    /// Attention weights `[frames, h·w]`: a softmax over each frame's active sites (0 at the
    /// inactive ones). `x`: `[frames, c, h, w]`; `mask`: `[frames, 1, h, w]` of 0/1 with at
    /// least one active site per frame; `text`: `[frames, d_text]`, each frame's utterance's
    /// vector.
    pub fn weights(&self, x: Tensor<4>, mask: Tensor<4>, text: Tensor<2>) -> Tensor<2> {
        let [frames, c, h, w] = x.dims();
        let sites = x.reshape([frames, c, h * w]).swap_dims(1, 2); // [frames, sites, c]
        let k = self.channel_affine.forward(sites);
        let q = self.y_affine.forward(text).unsqueeze_dim::<3>(1); // [frames, 1, k]
        let scores: Tensor<2> = self
            .attn_weight_affine
            .forward((k + q).tanh())
            .reshape([frames, h * w]);
        let active = mask.reshape([frames, h * w]);
        // Inactive sites take no part in the softmax: a score far below any real one.
        let scores = scores.mask_fill(active.clone().equal_elem(0.0), -1.0e9);
        softmax(scores, 1) * active
    }
}

/// The features a sparse block receives: `x` at the kept sites (`kept`: `[frames, 1, h, w]` of
/// 0/1), unweighted as the seed passes them, or multiplied by their attention weights
/// (`weights`: `[frames, h·w]`) so that the attention receives a gradient.
pub fn kept_features(
    x: Tensor<4>,
    weights: Tensor<2>,
    kept: Tensor<4>,
    usage: AttentionUse,
) -> Tensor<4> {
    match usage {
        AttentionUse::SelectOnly => x * kept,
        AttentionUse::WeightKept => {
            let [frames, _, h, w] = x.dims();
            x * kept * weights.reshape([frames, 1, h, w])
        }
    }
}

/// The top-p selection per frame on host weights `[frames][sites]` (0 at inactive sites): the
/// new 0/1 mask over all sites, only active sites kept, at least one per frame.
pub fn select_sites(weights: &[Vec<f32>], active: &[Vec<bool>], p: f64) -> Vec<Vec<bool>> {
    weights
        .iter()
        .zip(active)
        .map(|(w, a)| {
            let sites: Vec<usize> = (0..w.len()).filter(|&s| a[s]).collect();
            let kept = top_p_keep(&sites.iter().map(|&s| w[s]).collect::<Vec<_>>(), p);
            let mut mask = vec![false; w.len()];
            sites.iter().zip(kept).for_each(|(&s, k)| mask[s] = k);
            mask
        })
        .collect()
}

/// The seed's stage-1 pairing of features with sites. For a `[frames][h·w]` selection, returns
/// for every (frame, site) position, in frame-major order, the flat (frame, site) index whose
/// feature the seed places there, or `None` for unselected positions. The selected sites in
/// (row, column, frame) order receive the features of the selected sites in (frame, row,
/// column) order; with one frame the two orders agree and the pairing is the identity.
pub fn stage1_seed_pairing(selected: &[Vec<bool>]) -> Vec<Option<usize>> {
    let frames = selected.len();
    let sites = selected.first().map_or(0, Vec::len);
    let frame_major: Vec<usize> = (0..frames)
        .flat_map(|f| {
            (0..sites)
                .filter(move |&s| selected[f][s])
                .map(move |s| f * sites + s)
        })
        .collect();
    let site_major: Vec<usize> = (0..sites)
        .flat_map(|s| {
            (0..frames)
                .filter(move |&f| selected[f][s])
                .map(move |f| f * sites + s)
        })
        .collect();
    let mut pairing = vec![None; frames * sites];
    for (location, feature) in site_major.into_iter().zip(frame_major) {
        pairing[location] = Some(feature);
    }
    pairing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_over_the_active_sites_of_each_frame() {
        let device = Device::default();
        let attention = SiteAttentionConfig::new(3, 5).init(&device);
        let x = Tensor::<4>::random([2, 3, 2, 2], burn::tensor::Distribution::Default, &device);
        let mask = Tensor::<1>::from_floats([1., 0., 1., 1., 0., 0., 1., 0.], &device)
            .reshape([2, 1, 2, 2]);
        let text = Tensor::<2>::random([2, 5], burn::tensor::Distribution::Default, &device);
        let w: Vec<f32> = attention
            .weights(x, mask, text)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert!((w[0] + w[2] + w[3] - 1.0).abs() < 1e-6, "{w:?}");
        assert_eq!((w[1], w[4], w[5], w[7]), (0.0, 0.0, 0.0, 0.0));
        assert!(
            (w[6] - 1.0).abs() < 1e-6,
            "one active site takes all: {w:?}"
        );
    }

    #[test]
    fn only_the_trained_variant_passes_a_gradient_to_the_weights() {
        let device = Device::default().autodiff();
        let x = Tensor::<4>::ones([1, 2, 1, 2], &device).require_grad();
        let kept = Tensor::<1>::from_floats([1.0, 0.0], &device).reshape([1, 1, 1, 2]);
        for (usage, expected) in [
            (AttentionUse::SelectOnly, false),
            (AttentionUse::WeightKept, true),
        ] {
            let weights = Tensor::<1>::from_floats([0.75, 0.25], &device)
                .reshape([1, 2])
                .require_grad();
            let out = kept_features(x.clone(), weights.clone(), kept.clone(), usage);
            let grads = out.sum().backward();
            assert_eq!(weights.grad(&grads).is_some(), expected, "{usage:?}");
        }
    }

    #[test]
    fn selection_keeps_only_active_sites() {
        let weights = vec![vec![0.5, 0.0, 0.3, 0.2]];
        let active = vec![vec![true, false, true, true]];
        assert_eq!(
            select_sites(&weights, &active, 0.7),
            [vec![true, false, true, false]]
        );
    }

    #[test]
    fn the_seed_pairing_mixes_sites_across_frames() {
        // Two frames of 2×3 sites, all selected: the (row, column, frame) and (frame, row,
        // column) orders differ, so features move to other sites and across frames.
        let selected = vec![vec![true; 6], vec![true; 6]];
        let pairing = stage1_seed_pairing(&selected);
        // Site order (s, f): (0,0) (0,1) (1,0) (1,1) …; feature order: frame 0's six, frame 1's.
        assert_eq!(pairing[0], Some(0)); // frame 0 site 0 ← frame 0 site 0
        assert_eq!(pairing[6], Some(1)); // frame 1 site 0 ← frame 0 site 1
        assert_eq!(pairing[1], Some(2)); // frame 0 site 1 ← frame 0 site 2
        let moved = pairing
            .iter()
            .enumerate()
            .filter(|(i, p)| **p != Some(*i))
            .count();
        assert!(moved > 0);
        let one_frame = stage1_seed_pairing(&[vec![true, false, true]]);
        assert_eq!(one_frame, [Some(0), None, Some(2)]);
    }
}
