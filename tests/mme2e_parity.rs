//! Seed 001's `WrappedTransformerEncoder` against PyTorch's post-LN `nn.TransformerEncoderLayer`
//! at d = 8, 2 heads, FFN 16, 2 layers, three utterances of 3, 1 and 2 frames.
//!
//! `scripts/dev/make_mme2e_fixtures.py` writes the weights and the CLS outputs with and without
//! lengths (pip install torch safetensors; python3 scripts/dev/make_mme2e_fixtures.py), so the
//! test needs no Python. A missing CLS, a positional encoding, pre-LN, GELU, an unmasked padding
//! key or a CLS position counted as padding each move the outputs far past the tolerance.

mod common;

use std::path::PathBuf;

use burn::prelude::*;
use emo_run::fusion::mme2e::{WrappedTransformer, WrappedTransformerConfig, split_and_pad};

const D: usize = 8;
const TOLERANCE: f32 = 1e-5;

fn fixture(name: &str) -> PathBuf {
    common::fixture_path("mme2e", name)
}

fn io(name: &str) -> TensorData {
    common::stored_tensor(&fixture("io.safetensors"), name)
}

fn transformer(device: &Device) -> WrappedTransformer {
    let mut model = WrappedTransformerConfig::new(D, 2, 2)
        .with_d_ff(16)
        .init(device);
    common::load_pytorch_weights(&mut model, &fixture("transformer.safetensors"));
    // Evaluation: the inference device has no dropout.
    model
}

fn assert_close(what: &str, got: Tensor<2>, expected: TensorData) {
    common::assert_close_to(what, got.into_data(), expected, TOLERANCE);
}

#[test]
fn the_wrapped_transformer_matches_pytorch_with_and_without_lengths() {
    let device = Device::default();
    let model = transformer(&device);
    let lengths: Vec<usize> = io("lengths")
        .try_to_vec::<i64>()
        .unwrap()
        .into_iter()
        .map(|n| n as usize)
        .collect();
    let flat = Tensor::<2>::from_data(io("flat"), &device);
    let padded = split_and_pad(flat, &lengths);
    assert_close(
        "with lengths",
        model.forward(padded.clone(), Some(&lengths)),
        io("masked"),
    );
    assert_close(
        "without lengths",
        model.forward(padded, None),
        io("unmasked"),
    );
}
