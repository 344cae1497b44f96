//! One utterance's feature array: a frozen encoder's cached output, or a stream a corpus
//! delivers pre-extracted (the CMU pickle's COVAREP, FACET and GloVe). Defined here, below the
//! encoders, because corpora produce it too.

/// `[dim]` (a vector) or `[steps, dim]` (a sequence), row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedFeature {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

impl CachedFeature {
    pub fn new(shape: Vec<usize>, values: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Self { shape, values }
    }
}
