//! Multi-stage experiments (docs/STAGES.md) on the committed synthetic pipeline
//! (experiments/multi_still/synthetic_pipeline.toml): a teacher, then three students distilled
//! from it, end to end; a kill in the second stage resumes there without retraining the
//! teacher; an edited student reuses the finished teacher; the graph is checked before any
//! work.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    Scored, bin, read_parquet, run, run_dirs, scored_rows, stderr, strings, utterance_files,
};
use polars::prelude::*;

const NAME: &str = "multi_still-synthetic";
const STAGES: [&str; 4] = [
    "teacher",
    "student_multimodal",
    "student_text",
    "student_audio",
];

/// The committed pipeline with its corpus under `dir` (smaller than the file's) and `extra`
/// `--set` assignments.
fn pipeline(dir: &Path) -> (PathBuf, Vec<String>) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments/multi_still/synthetic_pipeline.toml");
    let copy = dir.join("pipeline.toml");
    std::fs::copy(&file, &copy).unwrap();
    let sets = vec![
        format!(
            "dataset.root={:?}",
            dir.join("corpus").display().to_string()
        ),
        "dataset.synthetic.sessions=3".into(),
        "dataset.synthetic.utterances_per_session=20".into(),
    ];
    (copy, sets)
}

fn run_pipeline(file: &Path, sets: &[String], runs: &Path) -> std::process::Output {
    let mut cmd = bin();
    cmd.arg(file).arg("--runs-dir").arg(runs);
    for s in sets {
        cmd.arg("--set").arg(s);
    }
    run(&mut cmd)
}

/// The test rows of one stage and fold of a run's `predictions.parquet`.
fn stage_scores(run_dir: &Path, stage: &str, fold: u32) -> Vec<Scored> {
    let path = run_dir.join("predictions.parquet");
    let stages = strings(&read_parquet(&path), "stage");
    let rows = scored_rows(&path, "test", fold);
    // scored_rows keeps the file's order: filter the same rows by their stage.
    let df = read_parquet(&path);
    let (splits, folds) = (
        strings(&df, "split"),
        df.column("fold").unwrap().u32().unwrap().clone(),
    );
    let positions = (0..df.height()).filter(|&i| splits[i] == "test" && folds.get(i) == Some(fold));
    positions
        .zip(rows)
        .filter(|(i, _)| stages[*i] == stage)
        .map(|(_, row)| row)
        .collect()
}

/// A file's modification time, to tell a reused checkpoint from a retrained one.
fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn teacher_then_three_students_in_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let (file, sets) = pipeline(dir.path());
    let runs = dir.path().join("runs");
    let out = run_pipeline(&file, &sets, &runs);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for stage in STAGES {
        assert!(stdout.contains(&format!("[{stage}]: test")), "{stdout}");
    }
    let run_dir = run_dirs(&runs, NAME)[0].clone();

    // Each stage: its folder, its checkpoints, its rows.
    for stage in STAGES {
        let folder = run_dir.join("stages").join(stage);
        for f in ["resolved.toml", "identity.toml", "model.json", "DONE"] {
            assert!(folder.join(f).exists(), "{stage}: {f}");
        }
        assert!(
            run_dir
                .join(format!("checkpoints/{stage}/fold-0/best.safetensors"))
                .exists()
        );
    }
    let predictions = read_parquet(&run_dir.join("predictions.parquet"));
    let stages: BTreeSet<String> = strings(&predictions, "stage").into_iter().collect();
    assert_eq!(stages, STAGES.iter().map(|s| s.to_string()).collect());
    let metrics = read_parquet(&run_dir.join("metrics.parquet"));
    let stages: BTreeSet<String> = strings(&metrics, "stage").into_iter().collect();
    assert_eq!(stages.len(), 4);

    // summary.md puts every student beside the teacher.
    let summary = std::fs::read_to_string(run_dir.join("summary.md")).unwrap();
    let table = summary
        .split("## Stages side by side")
        .nth(1)
        .expect("a side-by-side table");
    for stage in STAGES {
        assert!(
            table.contains(&format!("| {stage} | cross_modal |")),
            "{summary}"
        );
    }

    // `emo-run report` puts each stage in a row of its own, compared with the teacher on the
    // same folds.
    let report_dir = dir.path().join("report");
    let out = run(bin()
        .args(["report"])
        .arg(&run_dir)
        .arg("--out")
        .arg(&report_dir));
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = std::fs::read_to_string(report_dir.join("report.csv")).unwrap();
    for stage in STAGES {
        assert!(csv.contains(&format!("{NAME}/{stage}")), "{csv}");
    }

    // `predict` with a stage's fold-2 model gives a test utterance of fold 2 the scores the
    // run's own test pass gave it; `eval` scores every stage again to the run's accuracy.
    let corpus = dir.path().join("corpus");
    for stage in ["teacher", "student_audio"] {
        let expected = &stage_scores(&run_dir, stage, 1)[0];
        let (wav, text) = utterance_files(&corpus, &expected.id);
        let out = run(bin().args(["predict"]).arg(&run_dir).args([
            "--stage",
            stage,
            "--fold",
            "2",
            "--json",
            "--wav",
            wav.to_str().unwrap(),
            "--text",
            &text,
        ]));
        assert!(out.status.success(), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let scores: Vec<f32> = json["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(scores.len(), expected.scores.len());
        for (a, b) in scores.iter().zip(&expected.scores) {
            assert!(
                (a - b).abs() <= 1e-5,
                "{stage}: {scores:?} vs {:?}",
                expected.scores
            );
        }
    }
    let out = run(bin()
        .args(["eval"])
        .arg(&run_dir)
        .arg("--out")
        .arg(dir.path().join("eval.csv")));
    assert!(out.status.success(), "{}", stderr(&out));
    let eval = std::fs::read_to_string(dir.path().join("eval.csv")).unwrap();
    for stage in STAGES {
        assert!(eval.contains(&format!(",{stage},")), "{eval}");
    }

    // Only the teacher exports logits, and only on each fold's training split.
    let folds = read_parquet(&run_dir.join("folds.parquet"));
    for fold in 0..2u32 {
        let logits = run_dir.join(format!(
            "checkpoints/teacher/fold-{fold}/train_logits.parquet"
        ));
        let ids: BTreeSet<String> = strings(&read_parquet(&logits), "utterance_id")
            .into_iter()
            .collect();
        let members = |split: &str| -> BTreeSet<String> {
            let f = folds
                .column("fold")
                .unwrap()
                .cast(&DataType::UInt32)
                .unwrap();
            let f = f.u32().unwrap();
            let splits = strings(&folds, "split");
            let utts = strings(&folds, "utterance_id");
            (0..folds.height())
                .filter(|&i| f.get(i) == Some(fold) && splits[i] == split)
                .map(|i| utts[i].clone())
                .collect()
        };
        assert_eq!(
            ids,
            members("train"),
            "fold {fold}: the training split exactly"
        );
        assert!(ids.is_disjoint(&members("test")));
        for student in &STAGES[1..] {
            assert!(
                !run_dir
                    .join(format!(
                        "checkpoints/{student}/fold-{fold}/train_logits.parquet"
                    ))
                    .exists()
            );
        }
    }

    // Editing one student's table makes a new run that takes over every unchanged stage.
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace(
        "fusion = { layers = 1, variant = \"text_only\" }",
        "fusion = { layers = 1, variant = \"text_only\", head_dropout = 0.3 }",
    );
    assert_ne!(edited, text);
    std::fs::write(&file, edited).unwrap();
    let teacher_weights = run_dir.join("checkpoints/teacher/fold-0/best.safetensors");
    let before = modified(&teacher_weights);
    let out = run_pipeline(&file, &sets, &runs);
    assert!(out.status.success());
    let log = stderr(&out);
    let dirs = run_dirs(&runs, NAME);
    assert_eq!(dirs.len(), 2, "a student's edit changes the run");
    let new_dir = dirs.iter().find(|d| **d != run_dir).unwrap();
    for stage in ["teacher", "student_multimodal", "student_audio"] {
        assert!(
            log.contains(&format!("stage={stage}"))
                && log.contains("taking it over instead of training it again"),
            "{stage}: {log}"
        );
        assert!(
            !log.contains(&format!("stage starts stage={stage}")),
            "{log}"
        );
    }
    assert!(log.contains("stage starts stage=student_text"), "{log}");
    assert_eq!(
        modified(&teacher_weights),
        before,
        "the teacher was not retrained"
    );
    let old = read_parquet(&run_dir.join("predictions.parquet"));
    let new = read_parquet(&new_dir.join("predictions.parquet"));
    let only = |df: &DataFrame, stage: &str| {
        let mask = df.column("stage").unwrap().str().unwrap().equal(stage);
        df.filter(&mask).unwrap()
    };
    assert!(only(&old, "teacher").equals_missing(&only(&new, "teacher")));
    assert!(!only(&old, "student_text").equals_missing(&only(&new, "student_text")));
    assert!(
        new_dir.join("model.json").exists(),
        "a run of taken-over stages"
    );

    // The distillation term changes what a student learns: the textbook KL form instead of
    // the seed's MSE retrains only that student, to other numbers.
    let text = std::fs::read_to_string(&file).unwrap();
    let kl = text.replace(
        "distill = { from = \"teacher\", loss = \"mse_logits\", weight = 1.0 }",
        "distill = { from = \"teacher\", loss = \"kl\", weight = 1.0, temperature = 2.0 }",
    );
    assert_ne!(kl, text);
    std::fs::write(&file, kl).unwrap();
    let out = run_pipeline(&file, &sets, &runs);
    assert!(out.status.success());
    let log = stderr(&out);
    assert!(
        log.contains("stage starts stage=student_multimodal"),
        "{log}"
    );
    assert!(!log.contains("stage starts stage=teacher"), "{log}");
    let newest = run_dirs(&runs, NAME)
        .into_iter()
        .find(|d| d != &run_dir && d != new_dir)
        .unwrap();
    let kl = read_parquet(&newest.join("predictions.parquet"));
    assert!(!only(&new, "student_multimodal").equals_missing(&only(&kl, "student_multimodal")));
    assert!(only(&new, "student_audio").equals_missing(&only(&kl, "student_audio")));

    // --force trains every stage again, taking nothing over, to the same numbers.
    let mut cmd = bin();
    cmd.arg(&file).arg("--runs-dir").arg(&runs).arg("--force");
    for s in &sets {
        cmd.arg("--set").arg(s);
    }
    let out = run(&mut cmd);
    assert!(out.status.success());
    let log = stderr(&out);
    assert!(!log.contains("taking it over"), "{log}");
    for stage in STAGES {
        assert!(
            log.contains(&format!("stage starts stage={stage}")),
            "{log}"
        );
    }
    let forced_dir = run_dirs(&runs, NAME)
        .into_iter()
        .find(|d| ![&run_dir, new_dir, &newest].contains(&d))
        .unwrap();
    let again = read_parquet(&forced_dir.join("predictions.parquet"));
    assert!(only(&kl, "teacher").equals_missing(&only(&again, "teacher")));
}

/// Kill the run once the first student has committed an epoch, rerun: the teacher is reused
/// from its folder, the student resumes, and the numbers equal those of a run never killed.
#[test]
fn a_run_killed_in_the_second_stage_resumes_there() {
    let dir = tempfile::tempdir().unwrap();
    let (file, mut sets) = pipeline(dir.path());
    sets.push("train.epochs=12".into());
    let runs = dir.path().join("runs");
    let mut cmd = bin();
    cmd.arg(&file).arg("--runs-dir").arg(&runs).arg("--quiet");
    for s in &sets {
        cmd.arg("--set").arg(s);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let state = loop {
        if let Some(run_dir) = run_dirs(&runs, NAME).first() {
            let state = run_dir.join("checkpoints/student_multimodal/fold-0/state.json");
            if state.exists() {
                break state;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no student epoch committed in time"
        );
        assert!(child.try_wait().unwrap().is_none(), "ended before the kill");
        std::thread::sleep(Duration::from_millis(10));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let run_dir = run_dirs(&runs, NAME)[0].clone();
    assert!(!run_dir.join("DONE").exists());
    assert!(run_dir.join("stages/teacher/DONE").exists());
    assert!(!run_dir.join("stages/student_multimodal/DONE").exists());
    assert!(!state.with_file_name("result.json").exists());
    let teacher_weights = run_dir.join("checkpoints/teacher/fold-1/best.safetensors");
    let before = modified(&teacher_weights);

    let out = run_pipeline(&file, &sets, &runs);
    assert!(out.status.success());
    let log = stderr(&out);
    assert!(log.contains("resuming an unfinished run"), "{log}");
    assert!(
        log.contains("stage already finished; reusing its folds stage=teacher"),
        "{log}"
    );
    assert!(!log.contains("stage starts stage=teacher"), "{log}");
    assert!(
        log.contains("resuming fold from its last checkpoint"),
        "{log}"
    );
    assert_eq!(modified(&teacher_weights), before);
    assert_eq!(run_dirs(&runs, NAME).len(), 1, "resumed in place");

    let straight = dir.path().join("straight");
    let out = run_pipeline(&file, &sets, &straight);
    assert!(out.status.success());
    let straight_dir = run_dirs(&straight, NAME)[0].clone();
    assert!(
        read_parquet(&run_dir.join("predictions.parquet"))
            .equals_missing(&read_parquet(&straight_dir.join("predictions.parquet"))),
        "a resumed pipeline predicts exactly what an uninterrupted one does"
    );
}

fn config_error(dir: &Path, stages: &str) -> String {
    let (file, sets) = pipeline(dir);
    let text = std::fs::read_to_string(&file).unwrap();
    let head = text.split("[[stages]]").next().unwrap();
    std::fs::write(&file, format!("{head}\n{stages}")).unwrap();
    let runs = dir.join("runs");
    let out = run_pipeline(&file, &sets, &runs);
    assert!(!out.status.success());
    assert!(!runs.exists(), "a broken graph starts no run");
    stderr(&out)
}

#[test]
fn a_broken_graph_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let err = config_error(
        dir.path(),
        "[[stages]]\nname = \"a\"\nafter = [\"b\"]\n[[stages]]\nname = \"b\"\ndistill = { from = \"a\" }\n",
    );
    assert!(err.contains("a, b wait for each other"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let err = config_error(
        dir.path(),
        "[[stages]]\nname = \"t\"\n[[stages]]\nname = \"s\"\ndistill = { from = \"teacher\" }\n",
    );
    assert!(err.contains("stages.s.distill.from"), "{err}");
    assert!(
        err.contains("no stage named `teacher`; the stages are t, s"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let err = config_error(
        dir.path(),
        "[[stages]]\nname = \"t\"\ntask = { kind = \"regression\" }\n[[stages]]\nname = \"s\"\ndistill = { from = \"t\" }\n",
    );
    assert!(err.contains("class logits"), "{err}");

    // A stage's own key is checked like the file's, and named with its stage.
    let dir = tempfile::tempdir().unwrap();
    let err = config_error(
        dir.path(),
        "[[stages]]\nname = \"t\"\nfusion = { layers = 0 }\n",
    );
    assert!(err.contains("stages.t.fusion.layers"), "{err}");

    // A stage cannot change the data: `dataset` is not a stage key.
    let dir = tempfile::tempdir().unwrap();
    let err = config_error(
        dir.path(),
        "[[stages]]\nname = \"t\"\ndataset = { kind = \"iemocap\" }\n",
    );
    assert!(err.contains("dataset"), "{err}");
}
