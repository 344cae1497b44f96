//! The `[fusion]` keys of `mme2e` and `mme2e_sparse` (seed 001's flags; docs/methods/seed-001-mme2e.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::fusion::heads::{positive, probability};

/// The transformers' sizes, which both models share. The defaults are the README's runs
/// (`--trans-dim 64 --trans-nlayers 4 --trans-nheads 4`); the seed's code defaults are 512/2/8.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Mme2eKeys {
    /// Width of the visual and audio transformers (`--trans-dim`).
    pub trans_dim: usize,
    /// Layers of each transformer (`--trans-nlayers`).
    pub trans_layers: usize,
    /// Attention heads of each transformer (`--trans-nheads`); must divide `trans_dim`.
    pub trans_heads: usize,
    /// Width of the transformers' feed-forward layers (PyTorch's default, which the seed keeps).
    pub trans_ffn: usize,
    /// Dropout inside the transformers (PyTorch's default).
    pub dropout: f64,
}

impl Default for Mme2eKeys {
    fn default() -> Self {
        Self {
            trans_dim: 64,
            trans_layers: 4,
            trans_heads: 4,
            trans_ffn: 2048,
            dropout: 0.1,
        }
    }
}

impl Mme2eKeys {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<_> = [
            positive("trans_dim", self.trans_dim),
            positive("trans_layers", self.trans_layers),
            positive("trans_ffn", self.trans_ffn),
            probability("dropout", self.dropout),
        ]
        .into_iter()
        .flatten()
        .collect();
        if self.trans_heads == 0 || !self.trans_dim.is_multiple_of(self.trans_heads.max(1)) {
            out.push((
                "trans_heads",
                format!(
                    "found {}, expected a divisor of trans_dim = {}",
                    self.trans_heads, self.trans_dim
                ),
            ));
        }
        out
    }
}

/// How MESM's selected sites use the attention weights (seed spec §2.5, defect 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttentionChoice {
    /// The seed: the weights only choose the sites; the kept features pass unweighted, so the
    /// attention layers never receive a gradient and stay at their random initialisation.
    SelectOnly,
    /// The kept features are multiplied by their weights, so the attention trains.
    WeightKept,
}

/// How stage 1 pairs the kept features with their sites (seed spec §2.5, defect 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SitePairing {
    /// The seed: sites in (row, column, frame) order receive the features in (frame, row,
    /// column) order, which permutes features across sites and frames whenever a batch holds
    /// more than one frame.
    Seed,
    /// Each site keeps its own feature.
    Fixed,
}

/// `mme2e_sparse` (MESM): MME2E's keys and the sparse CNNs' selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Mme2eSparseKeys {
    pub trans_dim: usize,
    pub trans_layers: usize,
    pub trans_heads: usize,
    pub trans_ffn: usize,
    pub dropout: f64,
    /// Top-p mass of the sites each stage keeps per frame (`--sparse-threshold`): the seed's
    /// default 0.9; its README runs 0.8, the paper's main row 0.7. Larger keeps more sites.
    pub sparse_threshold: f64,
    /// `select_only` (the seed: untrained attention) or `weight_kept`.
    pub attention: AttentionChoice,
    /// `seed` (the seed's stage-1 feature/site permutation) or `fixed`.
    pub stage1_pairing: SitePairing,
}

impl Default for Mme2eSparseKeys {
    fn default() -> Self {
        let dense = Mme2eKeys::default();
        Self {
            trans_dim: dense.trans_dim,
            trans_layers: dense.trans_layers,
            trans_heads: dense.trans_heads,
            trans_ffn: dense.trans_ffn,
            dropout: dense.dropout,
            sparse_threshold: 0.9,
            attention: AttentionChoice::SelectOnly,
            stage1_pairing: SitePairing::Seed,
        }
    }
}

impl Mme2eSparseKeys {
    /// The transformer keys alone.
    pub fn dense(&self) -> Mme2eKeys {
        Mme2eKeys {
            trans_dim: self.trans_dim,
            trans_layers: self.trans_layers,
            trans_heads: self.trans_heads,
            trans_ffn: self.trans_ffn,
            dropout: self.dropout,
        }
    }

    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = self.dense().problems();
        if !(self.sparse_threshold > 0.0 && self.sparse_threshold <= 1.0) {
            out.push((
                "sparse_threshold",
                format!(
                    "found {}, expected 0 < p <= 1 (seed 001: 0.9; its README 0.8)",
                    self.sparse_threshold
                ),
            ));
        }
        out
    }
}
