//! Seed 001's MME2E (FE2E) and MESM end to end: the exact parameter counts of the seed's layer
//! lists on the committed experiment files, MESM's logged compute ratio falling with p on the
//! synthetic corpus with frames, and the refusals of a corpus or audio front end they cannot
//! read. (Every method's two-epoch run, these two included, is tests/every_method.rs.)

mod common;

use std::collections::BTreeMap;

use common::{
    bin, inspect_json, read_parquet, run, run_dirs, stderr, strings, tiny_faces_experiment,
};

/// `(module, trainable)` of the fusion's named parts.
fn fusion_parts(ins: &serde_json::Value) -> BTreeMap<String, u64> {
    let fusion = ins["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "fusion")
        .unwrap();
    fusion["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["module"].as_str().unwrap().to_string(),
                p["trainable"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The figures, computed in PyTorch from seed 001's layer lists: V-CNN, A-CNN, the
/// flatten MLPs, one transformer at d 64 / 4 layers / 4 heads (1,124,608) plus its CLS (64),
/// ALBERT-base-v2, the heads and fusion at 6 classes, and the whole FE2E model.
#[test]
fn inspect_reports_the_seed_counts_of_fe2e_and_mesm() {
    for file in [
        "experiments/mme2e/fe2e_iemocap.toml",
        "experiments/mme2e/mesm_mosei.toml",
    ] {
        let ins = inspect_json(file, false);
        let parts = fusion_parts(&ins);
        let expected = [
            ("V", 4_803_456),
            ("A", 4_800_256),
            ("v_flatten", 4_785_216),
            ("a_flatten", 8_455_232),
            ("v_transformer", 1_124_608 + 64),
            ("a_transformer", 1_124_608 + 64),
            ("heads_and_fusion", 5_397),
        ];
        let (_, albert) = common::module_params(&ins, "encoders.text");
        assert_eq!(albert, 11_683_584, "{file}: ALBERT-base-v2");
        if file.contains("fe2e") {
            for (name, count) in expected {
                assert_eq!(parts[name], count, "{file}: {name}");
            }
            assert_eq!(
                ins["trainable"], 36_782_485u64,
                "{file}: the whole FE2E model"
            );
        } else {
            // MESM adds the three attention layers per CNN (k = c at 64, 128, 256 channels,
            // text 768) and drops the sparse convolutions' biases.
            for (name, count) in &expected[2..] {
                assert_eq!(parts[*name], *count, "{file}: {name}");
            }
            let attention: u64 = [64u64, 128, 256]
                .iter()
                .map(|&c| (c * c + c) + 768 * c + (c + 1))
                .sum();
            let biases: u64 = [128u64, 128, 256, 256, 512, 512].iter().sum();
            assert_eq!(parts["V"], 4_803_456 + attention - biases, "{file}: V");
            assert_eq!(parts["A"], 4_800_256 + attention - biases, "{file}: A");
        }
    }
}

/// mac_ratio rows of a run's metrics.parquet, by split (each epoch's and the test's).
fn mac_ratios(run_dir: &std::path::Path) -> BTreeMap<String, Vec<f64>> {
    let df = read_parquet(&run_dir.join("metrics.parquet"));
    let metric = strings(&df, "metric");
    let split = strings(&df, "split");
    let value = df.column("value").unwrap().f64().unwrap().clone();
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for i in 0..df.height() {
        if metric[i] == "mac_ratio" {
            out.entry(split[i].clone())
                .or_default()
                .push(value.get(i).unwrap());
        }
    }
    out
}

#[test]
fn mesm_logs_a_compute_ratio_that_falls_with_p() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_faces_experiment(dir.path(), "mme2e_sparse", "");
    let one_epoch_holdout = [
        "train.epochs=1",
        "split.protocol=stratified_holdout",
        "split.test_ratio=0.25",
    ];
    let mut means = Vec::new();
    for p in ["0.5", "0.9"] {
        let runs = dir.path().join(format!("runs-{p}"));
        let out = run(bin()
            .arg(&exp)
            .arg("--runs-dir")
            .arg(&runs)
            .arg("--quiet")
            .args(one_epoch_holdout.iter().flat_map(|s| ["--set", s]))
            .args(["--set", &format!("fusion.sparse_threshold={p}")]));
        assert!(out.status.success(), "p = {p}: {}", stderr(&out));
        let ratios = mac_ratios(&run_dirs(&runs, "tiny_faces")[0]);
        for split in ["train", "valid", "test"] {
            let values = &ratios[split];
            assert_eq!(values.len(), 1, "{split}: one epoch, one row");
            assert!(values[0] > 0.0 && values[0] < 1.0, "{split}: {values:?}");
        }
        means.push(ratios["test"][0]);
    }
    assert!(
        means[0] < means[1],
        "p = 0.5 computes less than 0.9: {means:?}"
    );
    // FE2E computes the dense network: no ratio to log.
    let dense = dir.path().join("runs-dense");
    let out = run(bin()
        .arg(&exp)
        .arg("--runs-dir")
        .arg(&dense)
        .arg("--quiet")
        .args(["--set", "fusion.method=mme2e"])
        .args(["--set", "fusion.sparse_threshold=0.5"]));
    assert!(!out.status.success(), "sparse_threshold is MESM's key");
    assert!(stderr(&out).contains("fusion.sparse_threshold"));
}

#[test]
fn fe2e_refuses_a_corpus_without_faces_and_audio_without_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_faces_experiment(dir.path(), "mme2e", "");
    let text = std::fs::read_to_string(&exp).unwrap();
    let no_faces = dir.path().join("no_faces.toml");
    std::fs::write(&no_faces, text.replace("[dataset.faces]\n", "")).unwrap();
    let out = run(bin().arg("validate").arg(&no_faces));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("visual") && err.contains("[dataset.faces]"),
        "{err}"
    );

    let log_mel = dir.path().join("log_mel.toml");
    std::fs::write(
        &log_mel,
        text.replace("kind = \"mel_pieces\"", "kind = \"logmel_conv\""),
    )
    .unwrap();
    let runs = dir.path().join("runs");
    let out = run(bin()
        .arg(&log_mel)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet"));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("mel_pieces") && err.contains("128×32"),
        "{err}"
    );
    assert!(
        run_dirs(&runs, "tiny_faces").is_empty(),
        "no run folder was made"
    );
}
