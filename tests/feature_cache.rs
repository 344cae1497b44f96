//! Frozen encoders through the feature cache: the first run computes each utterance's features
//! once for all folds, a second run computes none, and a damaged entry is recomputed rather than
//! fatal. The log lines asserted here are the ones users see.

mod common;

use std::path::{Path, PathBuf};

use common::{bin, hf_fixture, run, stderr, tiny_experiment_with_method};

/// Grids with a pooling cell and a sequence cell (mlp_mixer) on the same frozen encoders run
/// each encoder once, whichever comes first: the grid announces the sequence form, the pooling
/// cell stores the sequences it computes, and a pooling cell after the mixer pools the stored
/// ones.
#[test]
fn a_grid_of_pooled_and_sequence_cells_runs_each_frozen_encoder_once() {
    let dir = tempfile::tempdir().unwrap();
    let pooled = dir.path().join("pooled.toml");
    std::fs::rename(
        tiny_experiment_with_method(dir.path(), "concat", ""),
        &pooled,
    )
    .unwrap();
    let mixer = dir.path().join("mixer.toml");
    let text = std::fs::read_to_string(tiny_experiment_with_method(dir.path(), "mlp_mixer", ""))
        .unwrap()
        .replace("name = \"tiny\"", "name = \"tiny-mixer\"")
        .replace("[encoders.text]\n", "[encoders.text]\npooling = \"none\"\n")
        .replace(
            "[encoders.audio]\n",
            "[encoders.audio]\npooling = \"none\"\n",
        )
        .replace(
            "method = \"mlp_mixer\"",
            "method = \"mlp_mixer\"\nmixer_dim = 8\nmixer_audio_tokens = 32",
        );
    std::fs::write(&mixer, text).unwrap();

    for (order, first_computes) in [([&pooled, &mixer], "pooled"), ([&mixer, &pooled], "mixer")] {
        let cache = dir.path().join(format!("cache-{first_computes}-first"));
        let runs = dir.path().join(format!("runs-{first_computes}-first"));
        let log = run_frozen_grid(&[order[0], order[1]], &runs, &cache, false);
        for modality in ["text", "audio"] {
            let lines = cache_lines(&log, modality);
            assert_eq!(lines.len(), 2, "{log}");
            assert!(computed(lines[0]) > 0, "{}", lines[0]);
            assert_eq!(
                computed(lines[1]),
                0,
                "the second cell ran the encoder: {}",
                lines[1]
            );
        }
    }
}

/// Run the tiny experiment with a frozen BERT and a frozen wav2vec2 (the committed tiny random
/// fixtures) into `runs`; returns stderr.
fn run_frozen(exp: &Path, runs: &Path, cache: &Path, force: bool) -> String {
    run_frozen_grid(&[exp], runs, cache, force)
}

/// The same for several files in one invocation (a grid run one cell after another).
fn run_frozen_grid(exps: &[&Path], runs: &Path, cache: &Path, force: bool) -> String {
    let mut cmd = bin();
    cmd.args(exps)
        .arg("--runs-dir")
        .arg(runs)
        .arg("--cache-dir")
        .arg(cache);
    for set in [
        "encoders.text.kind=bert".to_string(),
        format!("encoders.text.path={:?}", hf_fixture("bert")),
        "encoders.text.train=frozen".into(),
        "encoders.audio.kind=wav2vec2".into(),
        format!(
            "encoders.audio.path={:?}",
            hf_fixture("wav2vec2-group-postln")
        ),
        "encoders.audio.train=frozen".into(),
    ] {
        cmd.args(["--set", &set]);
    }
    if force {
        cmd.arg("--force");
    }
    let out = run(&mut cmd);
    assert!(out.status.success());
    stderr(&out)
}

/// The "frozen <modality> encoder: D distinct inputs for U utterances: H from the feature cache,
/// C computed" lines.
fn cache_lines<'a>(log: &'a str, modality: &str) -> Vec<&'a str> {
    let prefix = format!("frozen {modality} encoder: ");
    log.lines().filter(|l| l.contains(&prefix)).collect()
}

fn computed(line: &str) -> usize {
    let (_, rest) = line.split_once("from the feature cache, ").unwrap();
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![cache.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "feat") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn frozen_features_are_computed_once_across_folds_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment_with_method(dir.path(), "concat", "");
    let (runs, cache) = (dir.path().join("runs"), dir.path().join("cache"));

    // First run: both folds share one extraction per modality.
    let first = run_frozen(&exp, &runs, &cache, false);
    for modality in ["text", "audio"] {
        let lines = cache_lines(&first, modality);
        assert_eq!(
            lines.len(),
            1,
            "one extraction per run, not per fold: {lines:?}"
        );
        assert!(computed(lines[0]) > 0, "{}", lines[0]);
    }
    let stored = entries(&cache);
    assert!(!stored.is_empty());

    // Second run of the same experiment: nothing is recomputed.
    let second = run_frozen(&exp, &runs, &cache, true);
    for modality in ["text", "audio"] {
        let lines = cache_lines(&second, modality);
        assert_eq!(lines.len(), 1);
        assert_eq!(computed(lines[0]), 0, "{}", lines[0]);
    }

    // A damaged entry is recomputed, with a warning naming it, and the run still succeeds.
    let damaged = &stored[0];
    let mut bytes = std::fs::read(damaged).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(damaged, &bytes).unwrap();
    let third = run_frozen(&exp, &runs, &cache, true);
    assert!(
        third.contains(&damaged.display().to_string()) && third.contains("unusable"),
        "{third}"
    );
    let recomputed: usize = ["text", "audio"]
        .iter()
        .map(|m| computed(cache_lines(&third, m)[0]))
        .sum();
    assert_eq!(recomputed, 1);
}
