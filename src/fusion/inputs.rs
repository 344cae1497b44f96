//! What a fusion method receives: one stream per modality it declared
//! (`FusionMethod::needs`), pooled or as a sequence.

use std::collections::BTreeMap;

use burn::prelude::*;

use crate::modality::{Form, Modality};
use crate::pooling::Pooling;
use crate::pooling::pool;

/// One modality's stream for a batch.
#[derive(Debug, Clone)]
pub enum Stream {
    /// `[batch, dim]`
    Pooled(Tensor<2>),
    /// `[batch, steps, dim]`, zero-padded, with the real steps per row.
    Sequence {
        values: Tensor<3>,
        lengths: Vec<usize>,
    },
}

impl Stream {
    /// The stream in `form`: a sequence asked for as a vector is averaged over its real steps
    /// (a pre-extracted sequence such as the CMU pickle's GloVe words, for a method that takes
    /// pooled text); a vector cannot become a sequence, which validation rules out.
    pub fn into_form(self, form: Form) -> Stream {
        match (self, form) {
            (Stream::Sequence { values, lengths }, Form::Pooled) => {
                Stream::Pooled(pool(values, &lengths, Pooling::Mean))
            }
            (Stream::Pooled(_), Form::Sequence) => {
                panic!("a pooled stream cannot feed a sequence method; validation refuses this")
            }
            (stream, _) => stream,
        }
    }
}

/// The streams of one batch, by modality.
#[derive(Debug, Clone, Default)]
pub struct FusionInputs {
    streams: BTreeMap<Modality, Stream>,
}

impl FusionInputs {
    pub fn insert(&mut self, modality: Modality, stream: Stream) {
        self.streams.insert(modality, stream);
    }

    /// `[batch, dim]` of `modality`; a method asks only for what it declared, and the model
    /// computes exactly that, so a missing stream is a bug.
    pub fn pooled(&self, modality: Modality) -> Tensor<2> {
        match self.stream(modality) {
            Stream::Pooled(t) => t.clone(),
            Stream::Sequence { .. } => panic!("{modality} was computed as a sequence, not pooled"),
        }
    }

    /// `[batch, steps, dim]` of `modality` and its lengths.
    pub fn sequence(&self, modality: Modality) -> (Tensor<3>, Vec<usize>) {
        match self.stream(modality) {
            Stream::Sequence { values, lengths } => (values.clone(), lengths.clone()),
            Stream::Pooled(_) => panic!("{modality} was computed pooled, not as a sequence"),
        }
    }

    fn stream(&self, modality: Modality) -> &Stream {
        self.streams
            .get(&modality)
            .unwrap_or_else(|| panic!("the model did not compute the {modality} stream"))
    }
}
