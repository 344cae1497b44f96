//! Multiply-accumulates of seed 001's CNNs: what the dense network computes per input, and what
//! a sparse (submanifold) implementation would compute on a mask of active sites. Convolutions
//! only, as the seed's own figures count them (§1.8: 478 M per 48×48 face, 837 M per 128×32
//! spectrogram piece); BatchNorm, ReLU and pooling are a rounding error beside them.

use super::plan::{BLOCKS, STEM_CHANNELS, STEM_KERNEL};

/// A dense `k×k` convolution with "same" zero padding on an `h×w` map: every output site
/// multiplies the whole kernel, padded taps included.
pub fn dense_conv(h: usize, w: usize, k: usize, c_in: usize, c_out: usize) -> u64 {
    (h * w * k * k * c_in * c_out) as u64
}

/// Per stage of the dense network on one `in_channels × h × w` input: the stem, then each block
/// of `plan::BLOCKS` (its two 3×3 convolutions).
pub fn dense_stages(in_channels: usize, h: usize, w: usize) -> Vec<u64> {
    let mut out = vec![dense_conv(h, w, STEM_KERNEL, in_channels, STEM_CHANNELS)];
    let (mut h, mut w) = (h / 2, w / 2);
    for b in BLOCKS {
        out.push(
            dense_conv(h, w, 3, b.in_channels, b.out_channels)
                + dense_conv(h, w, 3, b.out_channels, b.out_channels),
        );
        if b.pool_after {
            (h, w) = (h / 2, w / 2);
        }
    }
    out
}

/// The whole dense network on one input.
pub fn dense_total(in_channels: usize, h: usize, w: usize) -> u64 {
    dense_stages(in_channels, h, w).iter().sum()
}

/// A submanifold 3×3 convolution on an `h×w` mask (row-major): an output exists only at an
/// active site, and only its active neighbours (inside the map) contribute, so the cost is
/// Σ over active sites of (active sites in its 3×3 neighbourhood) × `c_in` × `c_out`.
pub fn submanifold_conv3x3(mask: &[bool], h: usize, w: usize, c_in: usize, c_out: usize) -> u64 {
    assert_eq!(mask.len(), h * w, "a mask of {h}×{w} sites");
    let active = |y: isize, x: isize| {
        (0..h as isize).contains(&y)
            && (0..w as isize).contains(&x)
            && mask[y as usize * w + x as usize]
    };
    let mut taps = 0u64;
    for y in 0..h as isize {
        for x in 0..w as isize {
            if active(y, x) {
                taps += (-1..=1)
                    .flat_map(|dy| (-1..=1).map(move |dx| (dy, dx)))
                    .filter(|&(dy, dx)| active(y + dy, x + dx))
                    .count() as u64;
            }
        }
    }
    taps * (c_in * c_out) as u64
}

/// A 2×2, stride-2 max-pool of a mask: an output site is active where any of its inputs is.
pub fn pool_mask(mask: &[bool], h: usize, w: usize) -> (Vec<bool>, usize, usize) {
    let (ph, pw) = (h / 2, w / 2);
    let pooled = (0..ph * pw)
        .map(|i| {
            let (y, x) = (2 * (i / pw), 2 * (i % pw));
            mask[y * w + x]
                || mask[y * w + x + 1]
                || mask[(y + 1) * w + x]
                || mask[(y + 1) * w + x + 1]
        })
        .collect();
    (pooled, ph, pw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_counts_match_the_seeds_arithmetic() {
        // §1.8: 11.1 M (stem) + 84.9 M (two 64-channel blocks) + 3 × 127.4 M = 478 M per face.
        let face = dense_stages(3, 48, 48);
        assert_eq!(face[0], 11_059_200);
        assert_eq!(face[1] + face[2], 84_934_656);
        assert!(face[3..].iter().all(|&m| m == 127_401_984));
        assert_eq!(dense_total(3, 48, 48), 478_199_808);
        // 6.6 M + 151 M + 3 × 226.5 M = 837 M per spectrogram piece.
        let piece = dense_stages(1, 128, 32);
        assert_eq!(piece[0], 6_553_600);
        assert_eq!(piece[1] + piece[2], 150_994_944);
        assert!(piece[3..].iter().all(|&m| m == 226_492_416));
        assert_eq!(dense_total(1, 128, 32), 837_025_792);
        // About 80 % of either falls in the three blocks MESM makes sparse.
        let share = |s: &[u64]| s[3..].iter().sum::<u64>() as f64 / s.iter().sum::<u64>() as f64;
        assert!((share(&face) - 0.80).abs() < 0.01 && (share(&piece) - 0.81).abs() < 0.01);
    }

    #[test]
    fn submanifold_taps_count_active_neighbours_only() {
        // . X .
        // X X .
        // . . X
        let m = [false, true, false, true, true, false, false, false, true];
        // (0,1): itself, (1,0), (1,1) = 3; (1,0): 3; (1,1): 4 (+ (2,2)); (2,2): 2.
        assert_eq!(submanifold_conv3x3(&m, 3, 3, 1, 1), 12);
        assert_eq!(submanifold_conv3x3(&m, 3, 3, 2, 5), 120);
        // Every site active: interior 9 taps, edges 6, corners 4 (no padded taps).
        assert_eq!(
            submanifold_conv3x3(&[true; 9], 3, 3, 1, 1),
            9 + 4 * 6 + 4 * 4
        );
        assert_eq!(submanifold_conv3x3(&[false; 9], 3, 3, 4, 4), 0);
    }

    #[test]
    fn a_pooled_site_is_active_where_any_input_is() {
        let m = [
            true, false, false, false, //
            false, false, false, false, //
            false, false, false, false, //
            false, false, false, true,
        ];
        assert_eq!(pool_mask(&m, 4, 4), (vec![true, false, false, true], 2, 2));
    }
}
