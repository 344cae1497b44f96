//! Seed 002's LMF and TFN modules against PyTorch references at small widths
//! (tests/fixtures/lmf_tfn, written by scripts/dev/make_lmf_tfn_fixtures.py). The weights load
//! under PyTorch's own key names; the models run in evaluation (a plain device: BatchNorm on its
//! running statistics, no dropout).

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, SafetensorsStore, bridge};
use emo_run::fusion::lmf::{Lmf, LmfConfig, low_rank_fusion_broadcast};
use emo_run::fusion::subnet::SubnetsConfig;
use emo_run::fusion::tfn::{Tfn, TfnConfig, TfnOutput, tensor_fusion};

// The fixture's widths (see the script).
const AUDIO_IN: usize = 6;
const VIDEO_IN: usize = 5;
const TEXT_IN: usize = 7;
const AUDIO_H: usize = 3;
const VIDEO_H: usize = 4;
const TEXT_H: usize = 6;
const TEXT_OUT: usize = 3;
const RANK: usize = 3;
const CLASSES: usize = 2;
const POST_FUSION: usize = 5;
const DROPOUTS: [f64; 4] = [0.2, 0.3, 0.25, 0.4];

/// The fusion alone, from the same subnetwork outputs.
const FUSION_TOLERANCE: f32 = 1e-6;
/// Whole models, LSTM included.
const MODEL_TOLERANCE: f32 = 1e-5;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lmf_tfn")
        .join(name)
}

/// The inputs and PyTorch's outputs, by name.
struct Io(SafetensorsStore);

impl Io {
    fn open() -> Self {
        Io(SafetensorsStore::from_file(fixture("io.safetensors")))
    }

    fn get<const D: usize>(&mut self, name: &str, device: &Device) -> Tensor<D> {
        let tensor = self
            .0
            .get_tensor(name)
            .unwrap()
            .unwrap_or_else(|| panic!("io.safetensors has no {name}"));
        Tensor::from_data(bridge::to_data(tensor).unwrap(), device)
    }

    /// The three subnetwork outputs PyTorch computed for `model`.
    fn hidden(&mut self, model: &str, device: &Device) -> [Tensor<2>; 3] {
        ["audio_h", "video_h", "text_h"].map(|h| self.get(&format!("{model}.{h}"), device))
    }

    fn inputs(&mut self, device: &Device) -> (Tensor<2>, Tensor<2>, Tensor<3>) {
        (
            self.get("audio", device),
            self.get("video", device),
            self.get("text", device),
        )
    }
}

/// Load a PyTorch `state_dict` into `model`; every module tensor must be found, and the only
/// file keys left over are the `expected_unused` ones.
fn load_pytorch<M: ModuleSnapshot>(model: &mut M, file: &str, expected_unused: &[&str]) {
    let mut store =
        SafetensorsStore::from_file(fixture(file)).with_from_adapter(PyTorchToBurnAdapter);
    let result = model.load_from(&mut store).unwrap();
    assert!(
        result.missing.is_empty(),
        "{file}: missing {:?}",
        result.missing
    );
    let mut unused = result.unused.clone();
    unused.sort();
    assert_eq!(unused, expected_unused, "{file}: unused keys");
}

fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b).abs().max().into_scalar::<f32>()
}

fn assert_close<const D: usize>(what: &str, got: Tensor<D>, expected: Tensor<D>, tolerance: f32) {
    let diff = max_abs_diff(got, expected);
    eprintln!("{what}: max |diff| = {diff:.3e}");
    assert!(
        diff <= tolerance,
        "{what}: max |diff| {diff:e} > {tolerance:e}"
    );
}

fn subnets(pa: f64, pv: f64, pt: f64) -> SubnetsConfig {
    SubnetsConfig::new(
        AUDIO_IN, VIDEO_IN, TEXT_IN, AUDIO_H, VIDEO_H, TEXT_H, TEXT_OUT, pa, pv, pt,
    )
}

fn lmf(device: &Device) -> Lmf {
    let [pa, pv, pt, _] = DROPOUTS;
    let config = LmfConfig::new(subnets(pa, pv, pt), RANK, CLASSES);
    let mut model = config.init(device);
    load_pytorch(&mut model, "lmf.safetensors", &[]);
    model
}

fn tfn(output: TfnOutput, file: &str, unused: &[&str], device: &Device) -> Tfn {
    let [pa, pv, pt, pp] = DROPOUTS;
    let config = TfnConfig::new(subnets(pa, pv, pt), pp, POST_FUSION, output);
    let mut model = config.init(device);
    load_pytorch(&mut model, file, unused);
    model
}

#[test]
fn lmf_fusion_matches_pytorch_and_the_broadcast_formulation() {
    let device = Device::default();
    let model = lmf(&device);
    let mut io = Io::open();
    let [a, v, t] = io.hidden("lmf", &device);
    let expected: Tensor<2> = io.get("lmf.fused", &device);
    let fused = model.fuse(a.clone(), v.clone(), t.clone());
    let broadcast = low_rank_fusion_broadcast(
        vec![
            (a, model.audio_factor.val()),
            (v, model.video_factor.val()),
            (t, model.text_factor.val()),
        ],
        model.fusion_weights.val(),
        model.fusion_bias.val(),
    );
    assert_close(
        "lmf fusion vs Eq. 8",
        fused.clone(),
        broadcast.clone(),
        FUSION_TOLERANCE,
    );
    assert_close(
        "lmf fusion vs PyTorch",
        fused,
        expected.clone(),
        FUSION_TOLERANCE,
    );
    assert_close(
        "lmf Eq. 8 vs PyTorch",
        broadcast,
        expected,
        FUSION_TOLERANCE,
    );
}

#[test]
fn lmf_whole_model_matches_pytorch() {
    let device = Device::default();
    let model = lmf(&device);
    let mut io = Io::open();
    let (audio, video, text) = io.inputs(&device);
    let [a, v, t] = io.hidden("lmf", &device);
    let subnets = [
        (
            "lmf audio SubNet",
            model.audio_subnet.forward(audio.clone()),
            a,
        ),
        (
            "lmf video SubNet",
            model.video_subnet.forward(video.clone()),
            v,
        ),
        ("lmf TextSubNet", model.text_subnet.forward(text.clone()), t),
    ];
    for (what, got, expected) in subnets {
        assert_close(what, got, expected, MODEL_TOLERANCE);
    }
    let expected: Tensor<2> = io.get("lmf.output", &device);
    assert_close(
        "lmf logits",
        model.forward(audio, video, text),
        expected,
        MODEL_TOLERANCE,
    );
}

/// `z_a[i]·z_v[j]·z_t[k]` at `(i·(dv+1) + j)·(dt+1) + k`, one element at a time.
fn outer_product_by_index(a: Tensor<2>, v: Tensor<2>, t: Tensor<2>) -> Tensor<2> {
    let with_one = |x: Tensor<2>| -> Vec<Vec<f32>> {
        let [batch, width] = x.dims();
        let values = x.into_data().try_to_vec::<f32>().unwrap();
        (0..batch)
            .map(|b| {
                let mut row = vec![1.0];
                row.extend_from_slice(&values[b * width..(b + 1) * width]);
                row
            })
            .collect()
    };
    let device = a.device();
    let (za, zv, zt) = (with_one(a), with_one(v), with_one(t));
    let width = za[0].len() * zv[0].len() * zt[0].len();
    let mut out = vec![0.0f32; za.len() * width];
    for b in 0..za.len() {
        for (i, x) in za[b].iter().enumerate() {
            for (j, y) in zv[b].iter().enumerate() {
                for (k, z) in zt[b].iter().enumerate() {
                    out[b * width + (i * zv[b].len() + j) * zt[b].len() + k] = x * y * z;
                }
            }
        }
    }
    Tensor::from_data(TensorData::new(out, [za.len(), width]), &device)
}

#[test]
fn tfn_fusion_is_the_explicit_outer_product_and_matches_pytorch() {
    let device = Device::default();
    let mut io = Io::open();
    for model in ["tfn_logits", "tfn_mosi"] {
        let [a, v, t] = io.hidden(model, &device);
        let fused = tensor_fusion(a.clone(), v.clone(), t.clone());
        assert_eq!(
            fused.dims()[1],
            (AUDIO_H + 1) * (VIDEO_H + 1) * (TEXT_OUT + 1)
        );
        let by_index = outer_product_by_index(a, v, t);
        let expected: Tensor<2> = io.get(&format!("{model}.fusion"), &device);
        assert_close(
            &format!("{model} fusion vs by index"),
            fused.clone(),
            by_index,
            FUSION_TOLERANCE,
        );
        assert_close(
            &format!("{model} fusion vs PyTorch"),
            fused,
            expected,
            FUSION_TOLERANCE,
        );
    }
}

#[test]
fn tfn_whole_models_match_pytorch() {
    let device = Device::default();
    let mut io = Io::open();
    let (audio, video, text) = io.inputs(&device);
    let cases = [
        (
            "tfn_logits",
            TfnOutput::Logits { classes: CLASSES },
            &[][..],
        ),
        // The source's frozen range and shift are constants here.
        (
            "tfn_mosi",
            TfnOutput::MosiRegression,
            &["output_range", "output_shift"][..],
        ),
    ];
    for (name, output, unused) in cases {
        let model = tfn(output, &format!("{name}.safetensors"), unused, &device);
        let [_, _, t] = io.hidden(name, &device);
        let text_h = model.text_subnet.forward(text.clone());
        assert_close(&format!("{name} TextSubNet"), text_h, t, MODEL_TOLERANCE);
        let got = model.forward(audio.clone(), video.clone(), text.clone());
        let expected: Tensor<2> = io.get(&format!("{name}.output"), &device);
        assert_close(&format!("{name} output"), got, expected, MODEL_TOLERANCE);
    }
}
