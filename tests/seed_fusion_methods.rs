//! Seed 000 and 004 fusion heads through the CLI on the tiny config: `inspect --json` reports
//! each head's exact parameter count, and each trains for the tiny config's 2 epochs.
//! The tiny encoders are 16 wide (text and audio), the corpus has 7 classes, the text 16
//! tokens; rsa_cfn runs at `proj_dim = 4` and the mixer at 8 wide with 32 audio tokens, so every
//! head stays small.

mod common;

use common::{bin, run, run_dirs, tiny_experiment};

/// `--set` overrides that keep the heads whose size does not follow the encoders small.
const SMALL: [&str; 3] = [
    "fusion.proj_dim=4",
    "fusion.mixer_dim=8",
    "fusion.mixer_audio_tokens=32",
];

const fn linear(i: usize, o: usize) -> usize {
    i * o + o
}

const fn layer_norm(n: usize) -> usize {
    2 * n
}

/// The fusion head's parameters at the tiny dims (A = T = 16, D = 32, C = 7), from the layer
/// lists of spec A.5 / B.5.
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
    cmd.args(["--set", &format!("fusion.method={method}")]);
    for set in SMALL {
        cmd.args(["--set", set]);
    }
}

fn inspect_reports_the_fusion_head(method: &str) {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment(dir.path(), "");
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

fn trains_two_epochs(method: &str) {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment(dir.path(), "");
    let runs = dir.path().join("runs");
    let mut cmd = bin();
    cmd.arg(&exp).arg("--runs-dir").arg(&runs).arg("--quiet");
    with_method(&mut cmd, method);
    let out = run(&mut cmd);
    assert!(out.status.success(), "{method} failed");
    let run_dir = run_dirs(&runs, "tiny").pop().expect("a run directory");
    assert!(run_dir.join("DONE").exists(), "{method}: run not finished");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    let f1 = summary["stages"][0]["test"][0]["mean"].as_f64().unwrap();
    assert!(f1.is_finite(), "{method}: weighted F1 {f1}");
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
            $(#[test] fn $name() { super::trains_two_epochs($method); })*
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
