//! emo-run's half of the side-by-side benchmark against PyTorch (issue 6; forward rows: issue
//! 4). Runs ONE workload on one device and prints one JSON line; `bench/run.py` alternates it
//! with `bench/torch_reference.py`, which implements the same workloads, and prints the ratios.
//! One workload per process so that the peak RSS (`VmHWM`) belongs to that workload alone.
//!
//! `cargo bench --profile dev --bench compare -- --workload rsa_cfn --device flex`
//!
//! Workloads (sizes are flags; defaults are the ones `bench/run.py` uses):
//! * `rsa_cfn`, `mlp_mixer`: a training step of the head on cached features (docs/methods/seed-000-rsa-cfn.md#heads), through
//!   the real path: `FoldInputs::batch` from `CachedFeature`s, `EmotionModel::forward`,
//!   cross-entropy, `Stepper` (AdamW).
//! * `bert_train`, `w2v2_train`: forward + backward of a BERT-base / wav2vec2-base encoder with
//!   random weights, loss = mean of the last hidden state; `*_forward`: inference only.
//! * `matmul`: one `n x n` f32 matrix product (`n` = `--batch`, default 2048), 2n³ flops a
//!   step: the machine's GEMM throughput, the yardstick for every other workload.
//! * `quickstart`: one fold of `experiments/quickstart.toml` with one epoch (train, valid,
//!   checkpoint, best reload, test), i.e. `FoldJob::run`; it also writes the fold's inputs for
//!   the PyTorch side with `--dump DIR`.
//! * `linear_train`, `linear_train_flat`, `attention_train`, `gelu`: minimal reproductions of
//!   where burn-flex itself is the limit inside the encoders (docs/PERFORMANCE.md): BERT's FFN
//!   projection and attention products through autodiff, and burn's exact GELU; `gelu_kernel`
//!   is the same GELU through emo-run's `kernels::gelu`, which the encoders use.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use clap::Parser;
use serde::Serialize;

use emo_run::batch::{FoldInputs, Source};
use emo_run::config::Modality;
use emo_run::config::{
    AccumulateSchedule, FusionConfig, FusionMethod, MlpMixerKeys, OptimizerConfig,
};
use emo_run::data::features::AudioData;
use emo_run::encoders::cache::CachedFeature;
use emo_run::encoders::hf::{HfTextConfig, TextInput};
use emo_run::encoders::wav2vec2::{Wav2Vec2Config, Wav2Vec2Input};
use emo_run::fusion::FusionSpec;
use emo_run::model::EmotionModel;
use emo_run::train::optim::{StepSettings, Stepper, build_optimizer, learning_rates};

#[derive(Parser, Debug)]
struct Args {
    /// rsa_cfn | mlp_mixer | bert_train | bert_forward | w2v2_train | w2v2_forward | matmul |
    /// quickstart | linear_train | linear_train_flat | attention_train | gelu | gelu_kernel
    #[arg(long)]
    workload: String,
    /// flex | tch
    #[arg(long, default_value = "flex")]
    device: String,
    /// Batch size; 0 = the workload's default (rsa_cfn 4, mlp_mixer 6: seed 000, docs/methods/seed-000-rsa-cfn.md#heads; bert 4, w2v2 2).
    #[arg(long, default_value_t = 0)]
    batch: usize,
    /// Timed steps, after `warmup` untimed ones.
    #[arg(long, default_value_t = 3)]
    steps: usize,
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// BERT: tokens per sequence.
    #[arg(long, default_value_t = 128)]
    seq_len: usize,
    /// wav2vec2: samples per clip (16 kHz).
    #[arg(long, default_value_t = 16000)]
    samples: usize,
    /// quickstart: the experiment file.
    #[arg(long, default_value = "experiments/quickstart.toml")]
    experiment: PathBuf,
    /// quickstart: where the fold's checkpoints and the inputs for PyTorch go.
    #[arg(long)]
    dump: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    workload: String,
    implementation: &'static str,
    device: String,
    batch: usize,
    /// Wall seconds of each timed step.
    step_s: Vec<f64>,
    median_s: f64,
    samples_per_s: f64,
    /// Peak resident set of the whole process (`VmHWM`), MiB.
    peak_rss_mib: f64,
    /// Untimed setup (building the model, preparing the corpus), seconds.
    setup_s: f64,
    /// Whether freed memory stays in the process (src/alloc.rs).
    keep_freed_memory: bool,
    /// glibc, or jemalloc in a `tch` build (src/alloc.rs).
    allocator: &'static str,
}

fn main() -> anyhow::Result<()> {
    // What the emo-run binary does first (src/main.rs); EMO_BENCH_DEFAULT_MALLOC=1 skips it,
    // to measure the allocator's defaults.
    let tuned_malloc = std::env::var_os("EMO_BENCH_DEFAULT_MALLOC").is_none()
        && emo_run::alloc::keep_freed_memory();
    let args = Args::parse();
    let device = emo_run::device::parse_device(&args.device)
        .map_err(anyhow::Error::msg)?
        .device()?;
    device.seed(7);
    let started = Instant::now();
    let (batch, step_s, setup_s) = match args.workload.as_str() {
        "rsa_cfn" => head_step(&args, FusionMethod::RsaCfn, &device, started)?,
        "mlp_mixer" => head_step(&args, FusionMethod::MlpMixer, &device, started)?,
        "bert_train" => bert(&args, true, &device, started),
        "bert_forward" => bert(&args, false, &device, started),
        "w2v2_train" => wav2vec2(&args, true, &device, started),
        "w2v2_forward" => wav2vec2(&args, false, &device, started),
        "matmul" => matmul(&args, &device, started),
        "linear_train" => linear_train(&args, &device, started, false),
        "linear_train_flat" => linear_train(&args, &device, started, true),
        "attention_train" => attention_train(&args, &device, started),
        "gelu" => gelu(&args, &device, started, burn::tensor::activation::gelu),
        "gelu_kernel" => gelu(&args, &device, started, emo_run::kernels::gelu::gelu),
        "quickstart" => quickstart(&args, &device, started)?,
        other => anyhow::bail!("unknown workload {other:?}"),
    };
    let median_s = median(&step_s);
    let report = Report {
        workload: args.workload.clone(),
        implementation: "emo-run",
        device: args.device.clone(),
        batch,
        samples_per_s: batch as f64 / median_s,
        median_s,
        step_s,
        peak_rss_mib: peak_rss_mib(),
        setup_s,
        keep_freed_memory: tuned_malloc,
        allocator: emo_run::alloc::ALLOCATOR,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// `warmup` untimed then `steps` timed calls of `step`; each call must finish its work (read a
/// scalar back) before returning.
fn time_steps(args: &Args, mut step: impl FnMut(usize)) -> Vec<f64> {
    (0..args.warmup).for_each(&mut step);
    (0..args.steps)
        .map(|i| {
            let t = Instant::now();
            step(args.warmup + i);
            t.elapsed().as_secs_f64()
        })
        .collect()
}

fn batch_or(args: &Args, default: usize) -> usize {
    if args.batch == 0 { default } else { args.batch }
}

/// Seed 000's widths (docs/methods/seed-000-rsa-cfn.md#encoders): wav2vec2-large (1024) audio, BERT-base (768) text, 256 text tokens.
const AUDIO_DIM: usize = 1024;
const TEXT_DIM: usize = 768;
const TEXT_TOKENS: usize = 256;
const CLASSES: usize = 7;

/// One training step of a fusion head on cached features.
fn head_step(
    args: &Args,
    method: FusionMethod,
    device: &Device,
    started: Instant,
) -> anyhow::Result<(usize, Vec<f64>, f64)> {
    let sequences = method == FusionMethod::MlpMixer;
    let batch = batch_or(args, if sequences { 6 } else { 4 });
    let config = FusionConfig::of(method);
    let audio_tokens = MlpMixerKeys::default().mixer_audio_tokens;
    let spec = FusionSpec {
        config,
        dims: [(Modality::Text, TEXT_DIM), (Modality::Audio, AUDIO_DIM)].into(),
        text_tokens: TEXT_TOKENS,
        n_classes: CLASSES,
    };
    let train_device = device.clone().autodiff();
    let mut model = Some(EmotionModel {
        text: None,
        audio: None,
        fusion: spec.init(&train_device),
    });
    // One batch of distinct examples, visited in a different order each step.
    let text = random_features(batch, sequences.then_some(TEXT_TOKENS), TEXT_DIM, 1);
    let audio = random_features(batch, sequences.then_some(audio_tokens), AUDIO_DIM, 2);
    let labels: Vec<usize> = (0..batch).map(|i| i % CLASSES).collect();
    let inputs = FoldInputs {
        labels: &labels,
        soft: None,
        sources: [
            (Modality::Text, Source::Features(&text)),
            (Modality::Audio, Source::Features(&audio)),
        ]
        .into(),
    };
    let optimizer_config = OptimizerConfig {
        lr: 1e-5,
        ..Default::default()
    };
    let lr = learning_rates(&optimizer_config, model.as_ref().expect("built"))?;
    let settings = StepSettings {
        accumulate: 1,
        schedule: AccumulateSchedule::EveryN,
        clip_value: None,
        clip_norm: None,
    };
    let mut stepper = Stepper::new(build_optimizer(&optimizer_config), lr, settings);
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);
    let setup_s = started.elapsed().as_secs_f64();
    let step_s = time_steps(args, |step| {
        let order: Vec<usize> = (0..batch).map(|i| (i + step) % batch).collect();
        let m = model.take().expect("model");
        let b = inputs.batch(&order, &train_device);
        let loss = loss_fn.forward(m.forward(&b), b.labels.clone());
        let _: f32 = loss.clone().into_scalar();
        model = Some(stepper.backward(m, loss));
    });
    Ok((batch, step_s, setup_s))
}

/// `n` cached features, `[dim]` or `[tokens, dim]`, standard normal from a fixed seed.
fn random_features(n: usize, tokens: Option<usize>, dim: usize, seed: u64) -> Vec<CachedFeature> {
    use rand::SeedableRng;
    use rand_distr_lite::normal;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let shape = match tokens {
                Some(t) => vec![t, dim],
                None => vec![dim],
            };
            let count = shape.iter().product();
            CachedFeature::new(shape, (0..count).map(|_| normal(&mut rng)).collect())
        })
        .collect()
}

/// A Box-Muller standard normal, so that the bench needs no extra dependency.
mod rand_distr_lite {
    use rand::Rng;

    pub fn normal(rng: &mut impl Rng) -> f32 {
        let u1: f32 = rng.random_range(f32::EPSILON..1.0);
        let u2: f32 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
}

/// BERT-base (transformers' `BertConfig()` defaults), random weights, `batch` x `seq_len`.
fn bert(args: &Args, train: bool, device: &Device, started: Instant) -> (usize, Vec<f64>, f64) {
    let batch = batch_or(args, 4);
    let device = if train {
        device.clone().autodiff()
    } else {
        device.clone()
    };
    let config = HfTextConfig::default();
    let model = config.init(&device);
    // Deterministic ids spread over the vocabulary (which ids does not change the cost).
    let ids: Vec<i64> = (0..batch * args.seq_len)
        .map(|i| (i * 7919 % config.vocab_size) as i64)
        .collect();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, args.seq_len]), &device);
    let input = TextInput {
        ids,
        attention_mask: Tensor::ones([batch, args.seq_len], &device),
        token_type_ids: None,
    };
    let setup_s = started.elapsed().as_secs_f64();
    let step_s = time_steps(args, |_| {
        let out = model.forward(input.clone()).last_hidden_state();
        finish(out.mean(), train);
    });
    (batch, step_s, setup_s)
}

/// wav2vec2-base (`Wav2Vec2Config::default()`), random weights, `batch` x `samples` with no
/// padding; LayerDrop and SpecAugment off so every step does the same work (also in PyTorch).
fn wav2vec2(args: &Args, train: bool, device: &Device, started: Instant) -> (usize, Vec<f64>, f64) {
    let batch = batch_or(args, 2);
    let device = if train {
        device.clone().autodiff()
    } else {
        device.clone()
    };
    let config = Wav2Vec2Config {
        layerdrop: 0.0,
        apply_spec_augment: false,
        mask_time_prob: 0.0,
        ..Default::default()
    };
    let model = config.init(&device);
    let waveform = Tensor::<2>::random(
        [batch, args.samples],
        Distribution::Normal(0.0, 0.1),
        &device,
    );
    let setup_s = started.elapsed().as_secs_f64();
    let step_s = time_steps(args, |_| {
        let out = model
            .forward(Wav2Vec2Input {
                waveform: waveform.clone(),
                lengths: None,
            })
            .last_hidden_state();
        finish(out.mean(), train);
    });
    (batch, step_s, setup_s)
}

/// One `n x n` by `n x n` f32 product per step (`n` = `--batch`, default 2048), its sum read
/// back; the sum's n² additions are noise beside the product's 2n³ flops.
fn matmul(args: &Args, device: &Device, started: Instant) -> (usize, Vec<f64>, f64) {
    let n = batch_or(args, 2048);
    let a = Tensor::<2>::random([n, n], Distribution::Normal(0.0, 1.0), device);
    let b = Tensor::<2>::random([n, n], Distribution::Normal(0.0, 1.0), device);
    let setup_s = started.elapsed().as_secs_f64();
    let step_s = time_steps(args, |_| {
        finish(a.clone().matmul(b.clone()).sum(), false);
    });
    (n, step_s, setup_s)
}

/// `linear_train` / `linear_train_flat`: BERT-base's feed-forward up-projection (4 × 128 tokens,
/// 768 → 3072) forward and backward, through burn's `linear` as the encoders call it (which keeps
/// the 3-D input and runs one GEMM per sequence), or with the input flattened to one 512 × 768
/// product. A minimal reproduction of flex's matmul inside the models: 2·3·b·t·768·3072 flops.
fn linear_train(
    args: &Args,
    device: &Device,
    started: Instant,
    flat: bool,
) -> (usize, Vec<f64>, f64) {
    let device = device.clone().autodiff();
    let (b, t, k, n) = (batch_or(args, 4), args.seq_len, 768, 3072);
    let normal = Distribution::Normal(0.0, 1.0);
    let x = Tensor::<3>::random([b, t, k], normal, &device).require_grad();
    let w = Tensor::<2>::random([k, n], normal, &device).require_grad();
    let setup_s = started.elapsed().as_secs_f64();
    let step_s = time_steps(args, |_| {
        let y = if flat {
            let rows = x.clone().reshape([b * t, k]);
            rows.matmul(w.clone()).reshape([b, t, n])
        } else {
            burn::tensor::module::linear(x.clone(), w.clone(), None)
        };
        finish(y.sum(), true);
    });
    (b, step_s, setup_s)
}

/// `attention_train`: BERT-base's two attention products (4 sequences × 12 heads × 128 tokens ×
/// 64) forward and backward, `softmax` left out: the batched small GEMMs where flex is furthest
/// from MKL.
fn attention_train(args: &Args, device: &Device, started: Instant) -> (usize, Vec<f64>, f64) {
    let device = device.clone().autodiff();
    let shape = [batch_or(args, 4), 12, args.seq_len, 64];
    let normal = Distribution::Normal(0.0, 1.0);
    let [q, k, v] = [0, 1, 2].map(|_| Tensor::<4>::random(shape, normal, &device).require_grad());
    let setup_s = started.elapsed().as_secs_f64();
    let step_s = time_steps(args, |_| {
        let scores = q.clone().matmul(k.clone().swap_dims(2, 3));
        finish(scores.matmul(v.clone()).sum(), true);
    });
    (shape[0], step_s, setup_s)
}

/// `gelu`: burn's exact (erf) GELU, forward, on as many elements as the first convolution of
/// wav2vec2-base's feature encoder puts out for 2 × 1 s (2 × 512 channels × 3199 frames;
/// `--batch` overrides): flex computes it with a scalar `erf` on one thread. `gelu_kernel`:
/// the same through `kernels::gelu`.
fn gelu(
    args: &Args,
    device: &Device,
    started: Instant,
    gelu: fn(Tensor<1>) -> Tensor<1>,
) -> (usize, Vec<f64>, f64) {
    let n = batch_or(args, 2 * 512 * 3199);
    let x = Tensor::<1>::random([n], Distribution::Normal(0.0, 1.0), device);
    let setup_s = started.elapsed().as_secs_f64();
    let step_s = time_steps(args, |_| {
        finish(gelu(x.clone()).sum(), false);
    });
    (n, step_s, setup_s)
}

/// Backward (gradients dropped) when training; in both cases the scalar is read back, which
/// waits for the work.
fn finish(loss: Tensor<1>, train: bool) {
    if train {
        let _ = loss.clone().backward();
    }
    let _: f32 = loss.into_scalar();
}

/// One fold, one epoch of the quickstart, through `FoldJob::run`.
fn quickstart(
    args: &Args,
    device: &Device,
    started: Instant,
) -> anyhow::Result<(usize, Vec<f64>, f64)> {
    let overrides = emo_run::config::Overrides {
        set: vec!["train.epochs=1".into()],
    };
    let loaded = emo_run::config::load_experiment(&args.experiment, &overrides)?;
    let exp = loaded.experiment;
    let plan = emo_run::data::plan::plan_data(&exp, &exp.dataset, true)?;
    let (corpus, folds) = (plan.corpus, plan.folds);
    let audio = emo_run::data::features::extract_all(&corpus, &exp.encoders.audio, true)?;
    let fold = &folds[0];
    let root = match &args.dump {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("emo-bench-{}", std::process::id())),
    };
    let setup_s = started.elapsed().as_secs_f64();
    let step_s = time_steps(args, |step| {
        let dir = root.join(format!("fold-run-{step}"));
        let _ = std::fs::remove_dir_all(&dir);
        let job = emo_run::train::fold::FoldJob {
            exp: &exp,
            corpus: &corpus,
            audio: Some(&audio),
            features: Default::default(),
            fold,
            n_folds: folds.len(),
            stage: "main",
            dir,
            device: device.clone(),
            quiet: true,
            distill: None,
            export_train_logits: false,
        };
        job.run().expect("the quickstart fold runs");
    });
    if let Some(dir) = &args.dump {
        std::fs::create_dir_all(dir)?;
        dump_quickstart(dir, &corpus, &audio, fold)?;
    }
    Ok((fold.train.len(), step_s, setup_s))
}

/// The fold's inputs for `bench/torch_reference.py`: `quickstart.json` (texts, labels, split
/// indices, frames per utterance) and `quickstart_logmel.f32` (every utterance's raw log-mel
/// frames, little-endian, concatenated). The tokenizer is the fold's `tokenizer.json`.
fn dump_quickstart(
    dir: &Path,
    corpus: &emo_run::data::Corpus,
    audio: &AudioData,
    fold: &emo_run::data::Fold,
) -> anyhow::Result<()> {
    let AudioData::LogMel(frames) = audio else {
        anyhow::bail!("the quickstart reads log-mel frames");
    };
    let mut bytes = Vec::new();
    for f in frames {
        f.values
            .iter()
            .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
    }
    std::fs::write(dir.join("quickstart_logmel.f32"), bytes)?;
    let meta = serde_json::json!({
        "texts": corpus.examples.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(),
        "labels": corpus.labels(),
        "classes": corpus.classes.len(),
        "frames": frames.iter().map(|f| f.frames).collect::<Vec<_>>(),
        "n_mels": frames.first().map_or(0, |f| f.n_mels),
        "train": fold.train, "valid": fold.valid, "test": fold.test,
        "tokenizer": dir.join("fold-run-0").join("tokenizer.json"),
    });
    std::fs::write(dir.join("quickstart.json"), meta.to_string()).context("writing the dump")
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `VmHWM` of /proc/self/status: the peak resident set, MiB (Linux).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
