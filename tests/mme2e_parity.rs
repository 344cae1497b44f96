//! Seed 001's `WrappedTransformerEncoder` against PyTorch's post-LN `nn.TransformerEncoderLayer`
//! at d = 8, 2 heads, FFN 16, 2 layers, three utterances of 3, 1 and 2 frames.
//!
//! `scripts/dev/make_mme2e_fixtures.py` writes the weights and the CLS outputs with and without
//! lengths (pip install torch safetensors; python3 scripts/dev/make_mme2e_fixtures.py), so the
//! test needs no Python. A missing CLS, a positional encoding, pre-LN, GELU, an unmasked padding
//! key or a CLS position counted as padding each move the outputs far past the tolerance.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, SafetensorsStore, bridge};
use emo_run::fusion::mme2e::{WrappedTransformer, WrappedTransformerConfig, split_and_pad};

const D: usize = 8;
const TOLERANCE: f32 = 1e-5;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mme2e")
        .join(name)
}

fn io(name: &str) -> TensorData {
    let mut store = SafetensorsStore::from_file(fixture("io.safetensors"));
    let snapshot = store
        .get_tensor(name)
        .expect("io.safetensors reads")
        .unwrap_or_else(|| panic!("io.safetensors has no {name}"));
    bridge::to_data(snapshot).expect("tensor data")
}

fn transformer(device: &Device) -> WrappedTransformer {
    let mut model = WrappedTransformerConfig::new(D, 2, 2)
        .with_d_ff(16)
        .init(device);
    let mut store = SafetensorsStore::from_file(fixture("transformer.safetensors"))
        .with_from_adapter(PyTorchToBurnAdapter);
    let result = model.load_from(&mut store).expect("the weights load");
    assert!(
        result.missing.is_empty() && result.unused.is_empty() && result.errors.is_empty(),
        "missing {:?}, unused {:?}, errors {:?}",
        result.missing,
        result.unused,
        result.errors
    );
    // Evaluation: the inference device has no dropout.
    model
}

fn assert_close(what: &str, got: Tensor<2>, expected: TensorData) {
    let got: Vec<f32> = got.into_data().try_to_vec().unwrap();
    let expected: Vec<f32> = expected.try_to_vec().unwrap();
    assert_eq!(got.len(), expected.len(), "{what}: sizes");
    let worst = got
        .iter()
        .zip(&expected)
        .map(|(g, e)| (g - e).abs())
        .fold(0f32, f32::max);
    assert!(worst < TOLERANCE, "{what}: largest difference {worst}");
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
