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

/// Seed 002's table A.3: LMF's trainable parameters per emotion, and of them the low-rank
/// fusion's (factors, weights, bias), from `[fold.<emotion>]` of the committed file, without the
/// pickle on disk.
#[test]
fn inspect_reports_lmf_per_emotion_counts_of_table_a3() {
    let exp = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/lmf/lmf_original.toml"
    );
    let out = run(bin().arg("inspect").arg(exp).arg("--json"));
    assert!(out.status.success());
    let ins: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = [
        ("happy", 230_271, 177),
        ("sad", 230_200, 638),
        ("angry", 97_684, 762),
        ("neutral", 103_356, 2_418),
    ];
    let folds = ins["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 4);
    for (emotion, trainable, fusion) in expected {
        let fold = folds
            .iter()
            .find(|f| f["fold"] == emotion)
            .unwrap_or_else(|| panic!("no fold {emotion}"));
        assert_eq!(fold["trainable"], trainable, "{emotion}");
        let low_rank = &fold["modules"][0]["parts"][0];
        assert_eq!(low_rank["module"], "fusion.low_rank");
        assert_eq!(low_rank["trainable"], fusion, "{emotion}");
    }
}
