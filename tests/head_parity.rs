//! Numerical parity of every seed fusion head and of the optimizer step with PyTorch.
//!
//! `scripts/dev/make_head_parity_fixtures.py` builds each head from the seeds' layer lists in
//! PyTorch, at reduced feature widths, and writes under `tests/fixtures/head_parity/`:
//! `<head>.weights.safetensors`, a checkpoint of emo-run's `Fusion` module, and
//! `<head>.expected.safetensors`: the inputs, labels, logits in evaluation mode, rsa's attention
//! maps, and the gradient of the mean cross-entropy with respect to every parameter. Each test
//! here builds the head through `FusionSpec::init` at the fixture's widths, loads the weights,
//! and compares logits and every gradient to 1e-5. Comparing every gradient, not only the
//! logits, is what catches a layer swapped, a skip connection rewired, a shared LayerNorm split
//! (the checkpoint would not load) or an outer product transposed.
//!
//! The optimizer tests drive emo-run's own `build_optimizer`, `learning_rates` and `Stepper`
//! (per-module learning rates, gradient accumulation, global-norm clipping) against
//! torch.optim.AdamW / Adam and `clip_grad_norm_`, to 1e-6 on the updated weights.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::{Flag, Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::store::{ModuleSnapshot, ModuleStore, SafetensorsStore, bridge};
use emo_run::config::Modality;
use emo_run::config::{
    AccumulateSchedule, AudioEncoderConfig, FusionConfig, FusionHead, FusionMethod, HeadKeys,
    OptimizerConfig, OptimizerKind,
};
use emo_run::encoders::AudioEncoderSpec;
use emo_run::fusion::{Fusion, FusionInputs, FusionSpec, Stream};
use emo_run::model::{EmotionModel, ModelSpec};
use emo_run::train::optim::{StepSettings, Stepper, build_optimizer, learning_rates};

/// Logits, attention maps and gradients (float64 reference vs float32 here).
const HEAD_TOLERANCE: f32 = 1e-5;
/// Updated weights after the optimizer steps.
const OPTIMIZER_TOLERANCE: f32 = 1e-6;

/// The widths the fixture script uses (its constants; seed 000: audio 6, text 4; seed 004:
/// text 5, audio 4; 7 classes).
const CLASSES: usize = 7;
const SEED000: (usize, usize) = (6, 4);
const SEED004: (usize, usize) = (4, 5);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/head_parity")
        .join(name)
}

/// Every tensor of a safetensors file as host data, by name.
fn read_all(path: &Path) -> BTreeMap<String, TensorData> {
    let mut store = SafetensorsStore::from_file(path);
    store
        .get_all_tensors()
        .unwrap_or_else(|e| panic!("reading {}: {e:?}", path.display()))
        .iter()
        .map(|(name, t)| (name.clone(), bridge::to_data(t).expect("tensor data")))
        .collect()
}

/// Load a checkpoint strictly: every tensor of the module found, no tensor left over.
fn load_strict<M: ModuleSnapshot>(module: &mut M, path: &Path) {
    let mut store = SafetensorsStore::from_file(path);
    let applied = module
        .load_from(&mut store)
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    assert!(
        applied.missing.is_empty() && applied.unused.is_empty() && applied.errors.is_empty(),
        "{}: missing {:?}, unused {:?}, errors {:?}",
        path.display(),
        applied.missing,
        applied.unused,
        applied.errors
    );
}

/// PyTorch's `model.eval()` on the autodiff device: training flags off (no dropout, rsa
/// records its attention map) while gradients still flow.
fn eval_mode<M: Module>(module: M) -> M {
    struct EvalFlags;
    impl ModuleMapper for EvalFlags {
        fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
            flag.with_value(false)
        }
    }
    module.map(&mut EvalFlags)
}

/// Every float parameter's checkpoint key (the same dotted path burn-store writes) and id.
fn param_keys<M: Module>(module: &M) -> Vec<(String, ParamId)> {
    #[derive(Default)]
    struct Keys {
        path: Vec<String>,
        out: Vec<(String, ParamId)>,
    }
    impl ModuleVisitor for Keys {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.out.push((self.path.join("."), param.id));
        }
    }
    let mut keys = Keys::default();
    module.visit(&mut keys);
    keys.out
}

fn floats(data: &TensorData) -> Vec<f32> {
    data.try_to_vec_as::<f32>().expect("float data")
}

/// Largest absolute difference, after checking the shapes agree.
fn max_abs_diff(actual: &TensorData, expected: &TensorData, what: &str) -> f32 {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    floats(actual)
        .iter()
        .zip(floats(expected))
        .map(|(a, e)| (a - e).abs())
        .fold(0.0, f32::max)
}

fn assert_close(actual: &TensorData, expected: &TensorData, tolerance: f32, what: &str) -> f32 {
    let diff = max_abs_diff(actual, expected, what);
    assert!(
        diff <= tolerance,
        "{what}: max abs diff {diff} > {tolerance}"
    );
    diff
}

fn tensor<const D: usize>(data: &TensorData, device: &Device) -> Tensor<D> {
    Tensor::from_data(data.clone(), device)
}

fn fusion_spec(
    method: FusionMethod,
    head: FusionHead,
    (audio, text): (usize, usize),
) -> FusionSpec {
    FusionSpec {
        // Each key goes to the methods that have it (a `[fusion]` table ignores the keys of
        // other methods until validation).
        config: serde_json::from_value::<FusionConfig>(serde_json::json!({
            "method": method,
            "head": head,
            "proj_dim": 3,           // rsa_cfn, hybrid_fusion: seed 128
            "mixer_dim": 5,          // seed 256
            "mixer_audio_tokens": 4, // seed 299
        }))
        .unwrap(),
        dims: [(Modality::Text, text), (Modality::Audio, audio)].into(),
        text_tokens: 3, // mlp_mixer's text tokens; seed 256
        n_classes: CLASSES,
    }
}

/// What one head's comparison measured.
#[derive(Default)]
struct Measured {
    logits: f32,
    gradients: f32,
    /// rsa only.
    attention: Option<f32>,
}

/// The head `name` with the fixture's weights, in evaluation mode on the autodiff device.
fn load_head(name: &str, spec: &FusionSpec, device: &Device) -> Fusion {
    let mut fusion = spec.init(device);
    load_strict(
        &mut fusion,
        &fixture(&format!("{name}.weights.safetensors")),
    );
    eval_mode(fusion)
}

/// Logits on the fixture's inputs: the pooled vectors, or mlp_mixer's token sequences.
fn head_logits(
    fusion: &Fusion,
    expected: &BTreeMap<String, TensorData>,
    device: &Device,
) -> Tensor<2> {
    let mut inputs = FusionInputs::default();
    if fusion.method() == FusionMethod::MlpMixer {
        for (modality, key) in [
            (Modality::Text, "input.text"),
            (Modality::Audio, "input.audio"),
        ] {
            let values: Tensor<3> = tensor(&expected[key], device);
            let [batch, steps, _] = values.dims();
            let lengths = vec![steps; batch];
            inputs.insert(modality, Stream::Sequence { values, lengths });
        }
    } else {
        inputs.insert(
            Modality::Text,
            Stream::Pooled(tensor(&expected["input.text"], device)),
        );
        inputs.insert(
            Modality::Audio,
            Stream::Pooled(tensor(&expected["input.audio"], device)),
        );
    }
    fusion.forward(&inputs)
}

/// Pooled text and audio vectors as a fusion's inputs.
fn pooled(text: Tensor<2>, audio: Tensor<2>) -> FusionInputs {
    let mut inputs = FusionInputs::default();
    inputs.insert(Modality::Text, Stream::Pooled(text));
    inputs.insert(Modality::Audio, Stream::Pooled(audio));
    inputs
}

/// Forward, cross-entropy backward, and every comparison for one head.
fn check_head(name: &str, spec: FusionSpec) -> Measured {
    let device = Device::default().autodiff();
    let expected = read_all(&fixture(&format!("{name}.expected.safetensors")));
    let fusion = load_head(name, &spec, &device);
    let logits = head_logits(&fusion, &expected, &device);
    let mut measured = Measured {
        logits: assert_close(
            &logits.clone().into_data(),
            &expected["logits"],
            HEAD_TOLERANCE,
            &format!("{name} logits"),
        ),
        ..Default::default()
    };
    let grads = cross_entropy_gradients(&fusion, logits, &expected["labels"], &device);
    measured.gradients = compare_gradients(name, &fusion, &grads, &expected);
    if let Some(attention) = expected.get("attention") {
        measured.attention = Some(compare_attention(
            name, &fusion, &expected, attention, &device,
        ));
    }
    eprintln!(
        "{name}: max abs diff logits {:e}, gradients {:e}, attention {:?}",
        measured.logits, measured.gradients, measured.attention
    );
    measured
}

/// Gradients of the mean cross-entropy (`nn.functional.cross_entropy` in the reference).
fn cross_entropy_gradients(
    fusion: &Fusion,
    logits: Tensor<2>,
    labels: &TensorData,
    device: &Device,
) -> GradientsParams {
    let labels = Tensor::from_data(labels.clone(), device);
    let loss = CrossEntropyLossConfig::new()
        .init(device)
        .forward(logits, labels);
    GradientsParams::from_grads(loss.backward(), fusion)
}

/// Every parameter's gradient against `grad.<key>`; every `grad.*` entry must be a parameter.
fn compare_gradients(
    name: &str,
    fusion: &Fusion,
    grads: &GradientsParams,
    expected: &BTreeMap<String, TensorData>,
) -> f32 {
    let keys = param_keys(fusion);
    let expected_count = expected.keys().filter(|k| k.starts_with("grad.")).count();
    assert_eq!(
        keys.len(),
        expected_count,
        "{name}: parameters vs reference gradients"
    );
    let mut worst = 0f32;
    for (key, id) in keys {
        let want = expected
            .get(&format!("grad.{key}"))
            .unwrap_or_else(|| panic!("{name}: no reference gradient for {key}"));
        let got = gradient_data(grads, id, want.shape().len())
            .unwrap_or_else(|| panic!("{name}: {key} received no gradient"));
        let what = format!("{name} gradient of {key}");
        worst = worst.max(assert_close(&got, want, HEAD_TOLERANCE, &what));
    }
    worst
}

fn gradient_data(grads: &GradientsParams, id: ParamId, rank: usize) -> Option<TensorData> {
    match rank {
        1 => grads.get::<1>(id).map(Tensor::into_data),
        2 => grads.get::<2>(id).map(Tensor::into_data),
        3 => grads.get::<3>(id).map(Tensor::into_data),
        _ => panic!("rank {rank} parameter"),
    }
}

/// rsa's attention map, sample by sample: each sample alone through the evaluation pass, whose
/// running mean over one sample is that sample's map `P [D, D]`.
fn compare_attention(
    name: &str,
    fusion: &Fusion,
    expected: &BTreeMap<String, TensorData>,
    attention: &TensorData,
    device: &Device,
) -> f32 {
    let maps: Tensor<3> = tensor(attention, device);
    let text: Tensor<2> = tensor(&expected["input.text"], device);
    let audio: Tensor<2> = tensor(&expected["input.audio"], device);
    let [batch, width, _] = maps.dims();
    let mut worst = 0f32;
    for b in 0..batch {
        fusion.reset_attention_mean();
        fusion.forward(&pooled(
            text.clone().narrow(0, b, 1),
            audio.clone().narrow(0, b, 1),
        ));
        let got = fusion
            .attention_mean()
            .unwrap_or_else(|| panic!("{name}: no attention map recorded in evaluation"));
        let want = maps
            .clone()
            .narrow(0, b, 1)
            .reshape([width, width])
            .into_data();
        let what = format!("{name} attention map of sample {b}");
        worst = worst.max(assert_close(&got.into_data(), &want, HEAD_TOLERANCE, &what));
    }
    worst
}

// ------------------------------------------------------------------ seed 000 (spec A.4/A.5)

#[test]
fn early_fusion_seed000_matches_pytorch() {
    check_head(
        "early_fusion",
        fusion_spec(FusionMethod::EarlyFusion, FusionHead::Seed000, SEED000),
    );
}

#[test]
fn late_fusion_seed000_matches_pytorch() {
    check_head(
        "late_fusion",
        fusion_spec(FusionMethod::LateFusion, FusionHead::Seed000, SEED000),
    );
}

#[test]
fn text_only_seed000_matches_pytorch() {
    check_head(
        "text_only_seed000",
        fusion_spec(FusionMethod::TextOnly, FusionHead::Seed000, SEED000),
    );
}

#[test]
fn audio_only_seed000_matches_pytorch() {
    check_head(
        "audio_only_seed000",
        fusion_spec(FusionMethod::AudioOnly, FusionHead::Seed000, SEED000),
    );
}

#[test]
fn stack_matches_pytorch() {
    check_head(
        "stack",
        fusion_spec(FusionMethod::Stack, FusionHead::Mlp, SEED000),
    );
}

#[test]
fn residual_matches_pytorch() {
    check_head(
        "residual",
        fusion_spec(FusionMethod::Residual, FusionHead::Mlp, SEED000),
    );
}

#[test]
fn rsa_and_its_attention_map_match_pytorch() {
    let m = check_head(
        "rsa",
        fusion_spec(FusionMethod::Rsa, FusionHead::Mlp, SEED000),
    );
    assert!(
        m.attention.is_some(),
        "the fixture holds rsa's attention maps"
    );
}

#[test]
fn rsa_cfn_matches_pytorch() {
    check_head(
        "rsa_cfn",
        fusion_spec(FusionMethod::RsaCfn, FusionHead::Mlp, SEED000),
    );
}

#[test]
fn hybrid_fusion_matches_pytorch() {
    check_head(
        "hybrid_fusion",
        fusion_spec(FusionMethod::HybridFusion, FusionHead::Mlp, SEED000),
    );
}

#[test]
fn mlp_mixer_matches_pytorch() {
    check_head(
        "mlp_mixer",
        fusion_spec(FusionMethod::MlpMixer, FusionHead::Mlp, SEED000),
    );
}

// ------------------------------------------------------------------ seed 004 (spec B.5)

#[test]
fn concat_matches_pytorch() {
    check_head(
        "concat",
        fusion_spec(FusionMethod::Concat, FusionHead::Mlp, SEED004),
    );
}

#[test]
fn element_wise_add_matches_pytorch() {
    check_head(
        "element_wise_add",
        fusion_spec(FusionMethod::ElementWiseAdd, FusionHead::Mlp, SEED004),
    );
}

#[test]
fn text_only_linear_matches_pytorch() {
    check_head(
        "text_only_linear",
        fusion_spec(FusionMethod::TextOnly, FusionHead::Linear, SEED004),
    );
}

#[test]
fn audio_only_linear_matches_pytorch() {
    check_head(
        "audio_only_linear",
        fusion_spec(FusionMethod::AudioOnly, FusionHead::Linear, SEED004),
    );
}

// ------------------------------------------------------------------ optimizer step

/// `optimizer.json`, written by the fixture script.
#[derive(serde::Deserialize)]
struct OptimizerSettings {
    lr: f64,
    fusion_lr: f64,
    weight_decay: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    accumulate: usize,
    clip_norm: f32,
    /// One entry per step (the gradients' scale, used by the fixture script only).
    grad_scales: Vec<f64>,
}

/// The model the fixture's parameter names come from: a log-mel encoder with one conv layer
/// (3 channels on 4 mels) and seed 004's linear audio head to 2 classes. Two modules, so two
/// learning rates.
fn optimizer_model(device: &Device) -> EmotionModel {
    let audio = AudioEncoderConfig {
        n_mels: 4,
        channels: 3,
        conv_layers: 1,
        transformer_layers: 0,
        dropout: Some(0.0),
        ..Default::default()
    };
    let spec = ModelSpec {
        text: None,
        audio: Some(AudioEncoderSpec::for_experiment(&audio).unwrap()),
        fusion: FusionSpec {
            config: FusionConfig::AudioOnly(HeadKeys {
                head: FusionHead::Linear,
                dropout: 0.0,
                ..Default::default()
            }),
            dims: [(Modality::Audio, 3)].into(),
            text_tokens: 0,
            n_classes: 2,
        },
    };
    spec.init(device).unwrap()
}

/// `sum(p * G_p)` over every parameter: its gradient is exactly the fixture's `G`.
fn linear_loss(model: &EmotionModel, g: &BTreeMap<String, Tensor<1>>) -> Tensor<1> {
    struct Loss<'a> {
        path: Vec<String>,
        g: &'a BTreeMap<String, Tensor<1>>,
        sum: Option<Tensor<1>>,
    }
    impl ModuleVisitor for Loss<'_> {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let key = self.path.join(".");
            let g = &self.g[&key];
            let term = (param.val().flatten::<1>(0, D - 1) * g.clone()).sum();
            self.sum = Some(match self.sum.take() {
                Some(acc) => acc + term,
                None => term,
            });
        }
    }
    let mut loss = Loss {
        path: Vec::new(),
        g,
        sum: None,
    };
    model.visit(&mut loss);
    loss.sum.expect("parameters")
}

/// The `grad.<step>.<batch>.*` tensors of one batch, flattened, by parameter key.
fn batch_gradients(
    expected: &BTreeMap<String, TensorData>,
    step: usize,
    batch: usize,
    device: &Device,
) -> BTreeMap<String, Tensor<1>> {
    let prefix = format!("grad.{step}.{batch}.");
    expected
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix(&prefix)?;
            let flat = TensorData::new(floats(v), [v.num_elements()]);
            Some((key.to_string(), Tensor::from_data(flat, device)))
        })
        .collect()
}

fn check_optimizer(kind: OptimizerKind, name: &str) -> f32 {
    let settings: OptimizerSettings =
        serde_json::from_str(&std::fs::read_to_string(fixture("optimizer.json")).unwrap()).unwrap();
    let device = Device::default().autodiff();
    let mut model = optimizer_model(&device);
    load_strict(
        &mut model,
        &fixture(&format!("optimizer_{name}.weights.safetensors")),
    );
    let expected = read_all(&fixture(&format!("optimizer_{name}.expected.safetensors")));
    let cfg = OptimizerConfig {
        kind,
        lr: settings.lr,
        weight_decay: settings.weight_decay,
        beta1: settings.beta1,
        beta2: settings.beta2,
        eps: settings.eps,
        module_lr: [("fusion".to_string(), settings.fusion_lr)].into(),
    };
    let step_settings = StepSettings {
        accumulate: settings.accumulate,
        schedule: AccumulateSchedule::EveryN,
        clip_value: None,
        clip_norm: Some(settings.clip_norm),
    };
    let lr = learning_rates(&cfg, &model).unwrap();
    let mut stepper = Stepper::new(build_optimizer(&cfg), lr, step_settings);
    for step in 0..settings.grad_scales.len() {
        for batch in 0..settings.accumulate {
            let loss = linear_loss(&model, &batch_gradients(&expected, step, batch, &device));
            model = stepper.backward(model, loss);
        }
    }
    compare_weights(name, &model, &expected)
}

fn compare_weights(
    name: &str,
    model: &EmotionModel,
    expected: &BTreeMap<String, TensorData>,
) -> f32 {
    struct Compare<'a> {
        name: &'a str,
        path: Vec<String>,
        expected: &'a BTreeMap<String, TensorData>,
        worst: f32,
        seen: usize,
    }
    impl ModuleVisitor for Compare<'_> {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let key = self.path.join(".");
            let want = &self.expected[&format!("expected.{key}")];
            let what = format!("{} updated {key}", self.name);
            let diff = assert_close(&param.val().into_data(), want, OPTIMIZER_TOLERANCE, &what);
            self.worst = self.worst.max(diff);
            self.seen += 1;
        }
    }
    let mut compare = Compare {
        name,
        path: Vec::new(),
        expected,
        worst: 0.0,
        seen: 0,
    };
    model.visit(&mut compare);
    let count = expected
        .keys()
        .filter(|k| k.starts_with("expected."))
        .count();
    assert_eq!(
        compare.seen, count,
        "{name}: every reference weight compared"
    );
    eprintln!("{name}: updated weights max abs diff {}", compare.worst);
    compare.worst
}

#[test]
fn adamw_steps_match_torch() {
    check_optimizer(OptimizerKind::Adamw, "adamw");
}

#[test]
fn adam_steps_match_torch() {
    check_optimizer(OptimizerKind::Adam, "adam");
}
