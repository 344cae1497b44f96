//! On the synthetic corpus some classes are audible and others readable, so a working fusion
//! must clearly beat both single-modality baselines; a broken fusion (one that ignores a
//! modality) would not.

mod common;

use common::{bin, run};

fn weighted_f1(dir: &std::path::Path, method: &str) -> f64 {
    let runs = dir.join("runs");
    let out = run(bin()
        .arg(dir.join("exp.toml"))
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet")
        .args([
            "--set",
            &format!("fusion.method={method}"),
            "--set",
            &format!("name={method}"),
        ]));
    assert!(out.status.success());
    let run_dir = common::run_dirs(&runs, method).pop().unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    let f1 = &summary["stages"][0]["test"][0];
    assert_eq!(f1["metric"], "weighted_f1");
    f1["mean"].as_f64().unwrap()
}

#[test]
fn early_and_late_fusion_beat_text_only_and_audio_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    let config = format!(
        r#"
seed = 11
[dataset]
root = "{}"
[dataset.synthetic]
sessions = 8
utterances_per_session = 40
[split]
folds = 3
[train]
epochs = 10
"#,
        root.display()
    );
    std::fs::write(dir.path().join("exp.toml"), config).unwrap();
    let text = weighted_f1(dir.path(), "text_only");
    let audio = weighted_f1(dir.path(), "audio_only");
    let early = weighted_f1(dir.path(), "early_fusion");
    let late = weighted_f1(dir.path(), "late_fusion");
    eprintln!(
        "weighted F1: text_only {text:.3}, audio_only {audio:.3}, early_fusion {early:.3}, late_fusion {late:.3}"
    );
    let best_single = text.max(audio);
    assert!(
        early > best_single + 0.15,
        "early_fusion {early:.3} vs best single modality {best_single:.3}"
    );
    assert!(
        late > best_single + 0.10,
        "late_fusion {late:.3} vs best single modality {best_single:.3}"
    );
}
