//! The head choice of early_fusion, late_fusion, text_only and audio_only, and the keys those
//! methods (and visual_only) share.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The head of early_fusion, late_fusion, text_only and audio_only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FusionHead {
    /// `Linear(in, hidden) -> ReLU -> Dropout -> Linear(hidden, classes)`; late_fusion has one
    /// per modality and averages their logits.
    Mlp,
    /// Seed 000's single-Linear heads (docs/methods/seed-000-rsa-cfn.md, encoders and heads). early_fusion: `Lin(D, C)(LN_D(cat))`.
    /// late_fusion: `Lin(A, C)(a)` and `Lin(T, C)(t)`, both rows layer-normed by ONE shared
    /// `LN_C`, then averaged. text_only: `Lin(T, C)(LN_T(t))`. audio_only:
    /// `Drop(0.1) -> Lin(A, A) -> tanh -> Drop(0.1) -> Lin(A, C)` (Wav2Vec2ForSpeechClassification).
    Seed000,
    /// text_only and audio_only only: `Lin(in, C)(Drop(fusion.dropout)(x))`, seed 004's
    /// `text_*` and `speech_*` heads (docs/methods/seed-004-etri.md#models). Seed 004's two-modality heads are the methods
    /// `concat` and `element_wise_add`.
    Linear,
}

/// Keys of a method with a choice of head (late_fusion, text_only, audio_only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct HeadKeys {
    /// Which head the method ends in: `mlp` (this crate's two-layer MLP, sized by `hidden` and
    /// `dropout`), `seed000` (seed 000's heads, docs/methods/seed-000-rsa-cfn.md, encoders and
    /// heads) or `linear` (text_only and audio_only: seed 004's `Drop -> Linear`,
    /// docs/methods/seed-004-etri.md#models).
    pub head: FusionHead,
    /// Width of the hidden layer of the MLP head (`head = "mlp"`).
    pub hidden: usize,
    /// Dropout of the MLP head, or of the linear head (`head = "linear"`).
    pub dropout: f64,
}

impl Default for HeadKeys {
    fn default() -> Self {
        Self {
            head: FusionHead::Mlp,
            hidden: 128,
            dropout: 0.1,
        }
    }
}

impl HeadKeys {
    /// Keys the chosen head does not read.
    pub fn unread(&self) -> &'static [&'static str] {
        match self.head {
            FusionHead::Mlp => &[],
            FusionHead::Seed000 => &["hidden", "dropout"],
            FusionHead::Linear => &["hidden"],
        }
    }

    /// Sizes and rates, and a head the method has (`linear` is for one-stream methods only).
    pub fn problems(&self, one_stream: bool) -> Vec<(&'static str, String)> {
        let mut out = mlp_problems(self.hidden, self.dropout);
        if self.head == FusionHead::Linear && !one_stream {
            out.push((
                "head",
                "found \"linear\"; the linear head is seed 004's text_*/speech_* head (text_only, audio_only); its two-modality heads are method = \"concat\" and \"element_wise_add\"".into(),
            ));
        }
        out
    }
}

/// Keys of visual_only's MLP head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MlpKeys {
    /// Width of the hidden layer of the MLP head.
    pub hidden: usize,
    /// Dropout of the MLP head.
    pub dropout: f64,
}

impl Default for MlpKeys {
    fn default() -> Self {
        let HeadKeys {
            hidden, dropout, ..
        } = HeadKeys::default();
        Self { hidden, dropout }
    }
}

/// A positive width and a dropout probability in [0, 1).
pub fn mlp_problems(hidden: usize, dropout: f64) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if hidden == 0 {
        out.push(("hidden", "found 0, expected a positive width".to_string()));
    }
    out.extend(probability("dropout", dropout));
    out
}

/// A problem unless `p` is a probability in [0, 1).
pub fn probability(key: &'static str, p: f64) -> Option<(&'static str, String)> {
    (!(0.0..1.0).contains(&p))
        .then(|| (key, format!("found {p}, expected a probability in [0, 1)")))
}

/// A problem unless `size` is positive.
pub fn positive(key: &'static str, size: usize) -> Option<(&'static str, String)> {
    (size == 0).then(|| (key, "found 0, expected a positive size".to_string()))
}
