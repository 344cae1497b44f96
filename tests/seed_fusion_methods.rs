//! Seed 000 and 004 fusion heads through the CLI on the tiny config: `inspect --json` reports
//! each head's exact parameter count, and each one learns: over a few epochs its training loss
//! falls and its training accuracy beats the majority class.
//! The tiny encoders are 16 wide (text and audio), the corpus has 7 classes, the text 16
//! tokens; rsa_cfn runs at `proj_dim = 4` and the mixer at 8 wide with 32 audio tokens, so every
//! head stays small.

mod common;

use std::path::Path;

use common::{bin, run, run_dirs, small_sets, tiny_experiment_with_method};
use polars::prelude::*;

const fn linear(i: usize, o: usize) -> usize {
    i * o + o
}

const fn layer_norm(n: usize) -> usize {
    2 * n
}

/// The fusion head's parameters at the tiny dims (A = T = 16, D = 32, C = 7), from the layer
/// lists of docs/METHODS.md (seed heads).
fn expected_fusion_params(method: &str) -> usize {
    let (a, t, d, c) = (16, 16, 32, 7);
    let scalar_attention = |h: usize| 2 * linear(1, h) + linear(1, 1);
    let early = layer_norm(d) + linear(d, c);
    let late = linear(a, c) + linear(t, c) + layer_norm(c);
    let residual = layer_norm(d) + linear(d, 512) + linear(d + 512, d) + linear(d, c);
    let n = 5 * 5; // (proj_dim + 1)²
    let rsa_cfn = linear(a, 4)
        + linear(t, 4)
        + 2 * scalar_attention(96)
        + 2 * layer_norm(4)
        + linear(n, 1024)
        + linear(n + 1024, n)
        + linear(n, 1024)
        + linear(1024, c);
    let tokens = 16 + 32;
    match method {
        "stack" => early,
        "residual" => residual,
        "rsa" => residual + scalar_attention(256),
        "rsa_cfn" => rsa_cfn,
        "hybrid_fusion" => early + late + residual + rsa_cfn + layer_norm(c),
        "concat" => linear(t + a, c),
        "element_wise_add" => linear(a, t) + linear(t, c),
        "mlp_mixer" => {
            linear(a, 8)
                + linear(t, 8)
                + layer_norm(8)
                + 2 * linear(tokens, tokens)
                + 2 * linear(8, 8)
                + layer_norm(8)
                + linear(8, 512)
                + linear(512, c)
        }
        other => panic!("no expected count for {other}"),
    }
}

fn with_method(cmd: &mut std::process::Command, method: &str) {
    for set in small_sets(method) {
        cmd.args(["--set", &set]);
    }
}

fn inspect_reports_the_fusion_head(method: &str) {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment_with_method(dir.path(), method, "");
    let mut cmd = bin();
    cmd.arg("inspect").arg(&exp).arg("--json");
    with_method(&mut cmd, method);
    let out = run(&mut cmd);
    assert!(out.status.success());
    let ins: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ins["fusion"], method);
    let fusion = &ins["modules"][2];
    assert_eq!(fusion["module"], "fusion");
    assert_eq!(
        fusion["total"].as_u64().unwrap() as usize,
        expected_fusion_params(method),
        "{method}"
    );
    assert_eq!(fusion["total"], fusion["trainable"]);
}

/// Epochs and learning rate of the training check: enough steps for every head, at tiny width,
/// to fit part of its training folds. The tiny config's 2 epochs at lr 1e-3 leave the
/// deeper heads (rsa_cfn, mlp_mixer) inside the noise of dropout and shuffling.
const LEARN: [&str; 2] = ["train.epochs=EPOCHS", "train.optimizer.lr=LR"];
const EPOCHS: usize = 8;
const LR: f64 = 3e-3;

/// One fold's training curve, from metrics.parquet's `split = "train"` rows.
#[derive(Debug)]
struct TrainCurve {
    /// Mean training loss of each epoch, in epoch order.
    loss: Vec<f64>,
    /// Training accuracy of the last epoch.
    accuracy: f64,
    /// Share of the training rows in the most frequent class.
    majority: f64,
}

fn train_curves(metrics: &Path) -> Vec<TrainCurve> {
    let df = ParquetReader::new(std::fs::File::open(metrics).unwrap())
        .finish()
        .unwrap();
    let column = |name: &str| df.column(name).unwrap().as_materialized_series().clone();
    let (fold, epoch, split, metric, value) = (
        column("fold"),
        column("epoch"),
        column("split"),
        column("metric"),
        column("value"),
    );
    let (fold, epoch) = (fold.u32().unwrap(), epoch.u32().unwrap());
    let (split, metric, value) = (
        split.str().unwrap(),
        metric.str().unwrap(),
        value.f64().unwrap(),
    );
    let folds = fold.into_iter().flatten().max().unwrap() as usize + 1;
    let mut curves: Vec<TrainCurve> = (0..folds)
        .map(|_| TrainCurve {
            loss: vec![f64::NAN; EPOCHS],
            accuracy: f64::NAN,
            majority: f64::NAN,
        })
        .collect();
    let mut support = vec![Vec::new(); folds];
    for i in 0..df.height() {
        if split.get(i) != Some("train") {
            continue;
        }
        let (f, e) = (
            fold.get(i).unwrap() as usize,
            epoch.get(i).unwrap() as usize,
        );
        let (name, v) = (metric.get(i).unwrap(), value.get(i).unwrap());
        match name {
            "loss" => curves[f].loss[e - 1] = v,
            "accuracy" if e == EPOCHS => curves[f].accuracy = v,
            _ if e == EPOCHS && name.starts_with("support/") => support[f].push(v),
            _ => {}
        }
    }
    for (curve, support) in curves.iter_mut().zip(support) {
        let total: f64 = support.iter().sum();
        curve.majority = support.iter().cloned().fold(0.0, f64::max) / total;
    }
    curves
}

/// Training must do something: a head whose output ignores its inputs, or whose parameters
/// never receive a gradient, keeps its loss flat and predicts one class at best. So on every
/// fold the last epoch's training loss must be clearly below the first's, and the last epoch's
/// training accuracy must beat always answering the most frequent class.
fn trains_and_learns(method: &str) {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment_with_method(dir.path(), method, "");
    let runs = dir.path().join("runs");
    let mut cmd = bin();
    cmd.arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet");
    with_method(&mut cmd, method);
    for set in LEARN {
        let set = set
            .replace("EPOCHS", &EPOCHS.to_string())
            .replace("LR", &LR.to_string());
        cmd.args(["--set", &set]);
    }
    let out = run(&mut cmd);
    assert!(out.status.success(), "{method} failed");
    let run_dir = run_dirs(&runs, "tiny").pop().expect("a run directory");
    assert!(run_dir.join("DONE").exists(), "{method}: run not finished");
    let curves = train_curves(&run_dir.join("metrics.parquet"));
    assert_eq!(curves.len(), 2, "{method}: the tiny config has 2 folds");
    for (fold, curve) in curves.iter().enumerate() {
        eprintln!("{method} fold {fold}: {curve:?}");
        let (first, last) = (curve.loss[0], curve.loss[EPOCHS - 1]);
        assert!(
            last < 0.9 * first,
            "{method} fold {fold}: training loss {first:.4} -> {last:.4} over {EPOCHS} epochs: \
             the head does not learn ({curve:?})"
        );
        assert!(
            curve.accuracy > curve.majority,
            "{method} fold {fold}: training accuracy {:.3} does not beat the majority class's \
             share {:.3} ({curve:?})",
            curve.accuracy,
            curve.majority
        );
    }
    let attention = run_dir.join("checkpoints/main/fold-0/rsa_attention_mean.npy");
    if method == "rsa" {
        // [32, 32] f32 after a 128-byte header.
        let bytes = std::fs::read(&attention).expect("rsa saves its mean attention map");
        assert_eq!(bytes.len(), 128 + 32 * 32 * 4);
    } else {
        assert!(!attention.exists());
    }
}

macro_rules! method_tests {
    ($($name:ident => $method:literal),* $(,)?) => {
        mod inspect {
            $(#[test] fn $name() { super::inspect_reports_the_fusion_head($method); })*
        }
        mod train {
            $(#[test] fn $name() { super::trains_and_learns($method); })*
        }
    };
}

method_tests! {
    stack => "stack",
    residual => "residual",
    rsa => "rsa",
    rsa_cfn => "rsa_cfn",
    hybrid_fusion => "hybrid_fusion",
    concat => "concat",
    element_wise_add => "element_wise_add",
    mlp_mixer => "mlp_mixer",
}
