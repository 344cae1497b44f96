//! Seed 001's VGG-style convolutional networks (MME2E/FE2E and its sparse variant MESM), the
//! building blocks of its visual (48×48 face crops, RGB) and audio (128×32 mel-spectrogram
//! pieces) branches:
//!
//! ```text
//! stem:   Conv5×5(c_in→64, p2) → BN → ReLU → MaxPool2
//! blocks: VggBlock(64,64) → VggBlock(64,64) → VggBlock(64,128) → MaxPool2
//!         → VggBlock(128,256) → MaxPool2 → VggBlock(256,512) → MaxPool2
//! VggBlock(i,o): Conv3×3(i→o, p1) → BN → ReLU → Conv3×3(o→o, p1) → BN → ReLU (no residual)
//! ```
//!
//! A face leaves as 512×3×3, a spectrogram piece as 512×8×2. MESM computes the last three
//! blocks only at the sites that text-guided attention keeps (`top_p`); `sparse` emulates
//! SparseConvNet's submanifold blocks with masks on dense tensors, and `macs` counts what the
//! dense and the sparse computation multiply.

pub mod attention;
pub mod block;
pub mod cnn;
pub mod macs;
pub mod plan;
pub mod sparse;
pub mod top_p;

pub use attention::{
    AttentionUse, SiteAttention, SiteAttentionConfig, kept_features, select_sites,
    stage1_seed_pairing,
};
pub use block::{VggBlock, VggBlockConfig};
pub use cnn::{VggCnn, VggCnnConfig};
pub use sparse::{MaskedBatchNorm, SparseVggBlock, SparseVggBlockConfig};
pub use top_p::top_p_keep;
