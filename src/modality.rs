//! Modalities as data: which streams a corpus provides, in which form, and which streams a
//! fusion method consumes. The corpus, the batch, the model and validation are keyed by
//! [`Modality`] instead of holding one field per stream, so a third stream (the CMU pickle's
//! FACET vectors, and later raw video) is one more key, not a new field in every layer.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One input stream of an utterance.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Text,
    Audio,
    Visual,
}

impl Modality {
    pub const ALL: [Modality; 3] = [Modality::Text, Modality::Audio, Modality::Visual];

    pub fn name(self) -> &'static str {
        match self {
            Modality::Text => "text",
            Modality::Audio => "audio",
            Modality::Visual => "visual",
        }
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The shape in which a fusion method takes a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// One vector per utterance, `[batch, dim]`: an encoder's pooled output, a pre-extracted
    /// vector, or a pre-extracted sequence averaged over its steps.
    Pooled,
    /// The steps themselves, `[batch, steps, dim]` with the real length of each row.
    Sequence,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Form::Pooled => "pooled",
            Form::Sequence => "sequence",
        }
    }
}

/// How a corpus delivers a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Raw (a transcript, a waveform) through the encoder of `encoders.<modality>`.
    Raw,
    /// A pre-extracted vector of this width per utterance (no encoder).
    Vector(usize),
    /// A pre-extracted sequence of `steps` vectors of width `dim` per utterance (no encoder).
    Sequence { steps: usize, dim: usize },
    /// One vector of width `dim` per sampled video frame (`[dataset.faces]`: normalised face
    /// crops), as many as the utterance has frames (no encoder).
    Frames { dim: usize },
    /// A pre-extracted sequence of vectors of width `dim`, as many as the utterance has words or
    /// frames (`[dataset.hcf]`; no encoder).
    Steps { dim: usize },
}

impl Arrival {
    /// Whether a method that wants `form` can take this stream: a vector cannot become a
    /// sequence; everything else can be pooled or is a sequence already (raw input through an
    /// encoder gives either).
    pub fn gives(self, form: Form) -> bool {
        !(matches!(self, Arrival::Vector(_)) && form == Form::Sequence)
    }

    /// Width of a pre-extracted stream; `None` for a raw one (its encoder decides).
    pub fn width(self) -> Option<usize> {
        match self {
            Arrival::Raw => None,
            Arrival::Vector(dim)
            | Arrival::Sequence { dim, .. }
            | Arrival::Frames { dim }
            | Arrival::Steps { dim } => Some(dim),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Arrival::Raw => "raw, through its encoder".into(),
            Arrival::Vector(dim) => format!("pre-extracted vector [{dim}]"),
            Arrival::Sequence { steps, dim } => format!("pre-extracted sequence [{steps}, {dim}]"),
            Arrival::Frames { dim } => format!("face crops [frames, {dim}]"),
            Arrival::Steps { dim } => format!("pre-extracted sequence [steps, {dim}]"),
        }
    }
}

/// The streams of a corpus, by modality.
pub type Streams = BTreeMap<Modality, Arrival>;

/// Modalities as a sentence: `text, audio`.
pub fn list(modalities: impl IntoIterator<Item = Modality>) -> String {
    modalities
        .into_iter()
        .map(Modality::name)
        .collect::<Vec<_>>()
        .join(", ")
}
