//! `emo-run inspect --json`: one entry per top-level module with total and trainable counts.

mod common;

use common::{bin, run, tiny_experiment};

#[test]
fn inspect_json_counts_every_module_as_trainable() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment(dir.path(), "");
    let out = run(bin().arg("inspect").arg(&exp).arg("--json"));
    assert!(out.status.success());
    let ins: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let modules = ins["modules"].as_array().unwrap();
    let names: Vec<&str> = modules
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["encoders.text", "encoders.audio", "fusion"]);
    for m in modules {
        assert!(m["total"].as_u64().unwrap() > 0);
        assert_eq!(m["total"], m["trainable"], "{m}");
    }
    let sum: u64 = modules.iter().map(|m| m["total"].as_u64().unwrap()).sum();
    assert_eq!(ins["total"].as_u64().unwrap(), sum);
    // The corpus is not generated yet: inspect says so and uses the configured vocabulary bound.
    assert!(ins["dataset"].is_null());
    assert_eq!(ins["vocab_size"]["size"], 200);
    // Fusion head of the tiny config: Linear(16+16 -> 16) + Linear(16 -> 7).
    assert_eq!(modules[2]["total"], (32 * 16 + 16) + (16 * 7 + 7));
}
