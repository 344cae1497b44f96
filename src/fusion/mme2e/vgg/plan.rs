//! The layer plan of seed 001's CNNs (`src/models/e2e.py`), shared by the module (`cnn`) and
//! the multiply-accumulate counts (`macs`) so that the two cannot drift apart.

/// Output channels and kernel size of the stem convolution (padding `STEM_KERNEL / 2`), which
/// a BatchNorm, a ReLU and a 2×2 max-pool follow.
pub const STEM_CHANNELS: usize = 64;
pub const STEM_KERNEL: usize = 5;

/// One `VggBasicBlock` of the plan: its input and output channels, and whether a 2×2 max-pool
/// follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockPlan {
    pub in_channels: usize,
    pub out_channels: usize,
    pub pool_after: bool,
}

const fn block(in_channels: usize, out_channels: usize, pool_after: bool) -> BlockPlan {
    BlockPlan {
        in_channels,
        out_channels,
        pool_after,
    }
}

/// The blocks after the stem, in order. The last three are the ones MESM makes sparse.
pub const BLOCKS: [BlockPlan; 5] = [
    block(64, 64, false),
    block(64, 64, false),
    block(64, 128, true),
    block(128, 256, true),
    block(256, 512, true),
];

/// How many of `BLOCKS`' leading blocks stay dense in MESM (its `low_level` part).
pub const DENSE_BLOCKS: usize = 2;

/// The spatial size after the whole network: four 2×2 max-pools (floor, as PyTorch's).
pub fn output_size(height: usize, width: usize) -> (usize, usize) {
    let pools = 1 + BLOCKS.iter().filter(|b| b.pool_after).count();
    (height >> pools, width >> pools)
}

/// Channels after the last block.
pub const OUT_CHANNELS: usize = BLOCKS[BLOCKS.len() - 1].out_channels;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faces_and_spectrogram_pieces_leave_at_the_seeds_sizes() {
        // Seed 001 §1.3/§1.4: 512×3×3 (flatten 4608) and 512×8×2 (flatten 8192).
        assert_eq!(output_size(48, 48), (3, 3));
        assert_eq!(output_size(128, 32), (8, 2));
        assert_eq!(OUT_CHANNELS * 3 * 3, 4608);
        assert_eq!(OUT_CHANNELS * 8 * 2, 8192);
    }
}
