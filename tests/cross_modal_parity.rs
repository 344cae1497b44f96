//! The `cross_modal` fusion method (seed 003 B.4, MulT's crossmodal transformer) against a
//! PyTorch reference at small widths: d = 16, 4 heads, ffn 32, 2 layers, text of 5 steps,
//! audio of 7 frames of width 12 with zero-padded tails, batch 2.
//!
//! The fixtures in tests/fixtures/cross_modal are written by
//!
//! ```text
//! pip install torch safetensors numpy
//! python3 scripts/dev/make_cross_modal_fixtures.py
//! ```
//!
//! which implements B.4 in PyTorch from the spec (not from this crate). Each model's weights
//! load under the Rust module's names; the models run in evaluation (a plain device, no
//! dropout), and every output must match within 1e-5.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, SafetensorsStore, bridge};
use emo_run::fusion::cross_modal::{CrossModal, CrossModalKeys, CrossModalVariant};
use emo_run::fusion::{FusionConfig, FusionSpec};
use emo_run::modality::Modality;

// The fixture's widths (see the script).
const DIM: usize = 16;
const HEADS: usize = 4;
const FFN: usize = 32;
const LAYERS: usize = 2;
const AUDIO_LEN: usize = 7;
const AUDIO_WIDTH: usize = 12;
const HEAD_HIDDEN: usize = 10;
const CLASSES: usize = 7;

const TOLERANCE: f32 = 1e-5;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cross_modal")
        .join(name)
}

/// The inputs and PyTorch's outputs, by name.
struct Io(SafetensorsStore);

impl Io {
    fn open() -> Self {
        Io(SafetensorsStore::from_file(fixture("io.safetensors")))
    }

    fn data(&mut self, name: &str) -> TensorData {
        let tensor = self
            .0
            .get_tensor(name)
            .unwrap()
            .unwrap_or_else(|| panic!("io.safetensors has no {name}"));
        bridge::to_data(tensor).unwrap()
    }

    fn get<const D: usize>(&mut self, name: &str, device: &Device) -> Tensor<D> {
        Tensor::from_data(self.data(name), device)
    }

    fn lengths(&mut self, name: &str) -> Vec<usize> {
        let values = self
            .data(name)
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        values.into_iter().map(|v| v as usize).collect()
    }
}

fn keys(variant: CrossModalVariant, key_padding_mask: bool) -> CrossModalKeys {
    CrossModalKeys {
        layers: LAYERS,
        heads: HEADS,
        ffn: FFN,
        frames: AUDIO_LEN,
        variant,
        key_padding_mask,
        head_hidden: HEAD_HIDDEN,
        ..Default::default()
    }
}

/// The model of `<name>.safetensors`; every module tensor must be found in the file, and
/// every file tensor used.
fn model(name: &str, keys: CrossModalKeys, device: &Device) -> CrossModal {
    let spec = FusionSpec {
        config: FusionConfig::CrossModal(keys.clone()),
        dims: [(Modality::Text, DIM), (Modality::Audio, AUDIO_WIDTH)].into(),
        text_tokens: 5,
        n_classes: CLASSES,
    };
    let mut model = CrossModal::new(&keys, &spec, device);
    let file = format!("{name}.safetensors");
    let mut store =
        SafetensorsStore::from_file(fixture(&file)).with_from_adapter(PyTorchToBurnAdapter);
    let result = model.load_from(&mut store).unwrap();
    assert!(
        result.missing.is_empty(),
        "{file}: missing {:?}",
        result.missing
    );
    assert!(
        result.unused.is_empty(),
        "{file}: unused {:?}",
        result.unused
    );
    model
}

fn assert_close<const D: usize>(what: &str, got: Tensor<D>, expected: Tensor<D>) {
    assert_eq!(got.dims(), expected.dims(), "{what}");
    let diff = (got - expected).abs().max().into_scalar::<f32>();
    eprintln!("{what}: max |diff| = {diff:.3e}");
    assert!(
        diff <= TOLERANCE,
        "{what}: max |diff| {diff:e} > {TOLERANCE:e}"
    );
}

/// Runs `name`'s model on the fixture inputs and compares the pooled outputs it has and the
/// logits.
fn check(name: &str, variant: CrossModalVariant, masked: bool) {
    let device = Device::default();
    let model = model(name, keys(variant, masked), &device);
    let mut io = Io::open();
    let text: Tensor<3> = io.get("text", &device);
    let audio: Tensor<3> = io.get("audio", &device);
    let text_lengths = io.lengths("text_lengths");
    let audio_lengths = io.lengths("audio_lengths");
    let pooled = model.pooled(text.clone(), &text_lengths, audio.clone(), &audio_lengths);
    if let Some(a2t) = pooled.a2t {
        assert_close(
            &format!("{name} a2t"),
            a2t,
            io.get(&format!("{name}.a2t"), &device),
        );
    }
    if let Some(t2a) = pooled.t2a {
        assert_close(
            &format!("{name} t2a"),
            t2a,
            io.get(&format!("{name}.t2a"), &device),
        );
    }
    let logits = model.forward(text, &text_lengths, audio, &audio_lengths);
    assert_close(
        &format!("{name} logits"),
        logits,
        io.get(&format!("{name}.logits"), &device),
    );
}

#[test]
fn both_encoders_match_pytorch() {
    check("both", CrossModalVariant::Both, false);
}

#[test]
fn text_only_matches_pytorch() {
    check("text_only", CrossModalVariant::TextOnly, false);
}

#[test]
fn audio_only_matches_pytorch() {
    check("audio_only", CrossModalVariant::AudioOnly, false);
}

#[test]
fn the_masked_variant_matches_pytorch() {
    check("masked", CrossModalVariant::Both, true);
}
