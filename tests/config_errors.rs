//! A broken config fails before any work, naming file, line, key, value and expectation.

mod common;

use common::{bin, run, run_dirs, stderr, tiny_experiment};

/// The tiny experiment with `from` replaced by `to` fails validation with every `expected` piece
/// in its message, and the runner refuses it without creating anything.
fn validate_fails_with(from: &str, to: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_experiment(dir.path(), "");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "fixture lacks {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    let out = run(bin().arg("validate").arg(&path));
    assert!(!out.status.success(), "validate must fail");
    let err = stderr(&out);
    for piece in expected {
        assert!(err.contains(piece), "error {err:?} lacks {piece:?}");
    }
    // The same file given to the runner starts nothing.
    let runs = dir.path().join("runs");
    let out = run(bin().arg(&path).arg("--runs-dir").arg(&runs).arg("--quiet"));
    assert!(!out.status.success());
    assert!(
        run_dirs(&runs, "tiny").is_empty(),
        "no run directory for a broken config"
    );
    assert!(
        !dir.path().join("corpus").exists(),
        "no corpus generated for a broken config"
    );
}

#[test]
fn typo_key_names_file_line_and_the_valid_keys() {
    validate_fails_with(
        "[fusion]",
        "[fusion2]",
        &[
            "tiny.toml:35:2: key `fusion2`",
            "unknown key",
            "expected one of",
        ],
    );
    validate_fails_with(
        "epochs = 2",
        "epohcs = 2",
        &[
            "tiny.toml:39:1: key `train.epohcs`",
            "unknown key `epohcs`",
            "epochs",
        ],
    );
}

#[test]
fn wrong_type_names_the_found_value_and_expected_type() {
    validate_fails_with(
        "batch_size = 8",
        "batch_size = \"eight\"",
        &[
            "tiny.toml:40:1: key `train.batch_size`",
            "found string \"eight\"",
            "expected",
        ],
    );
}

#[test]
fn bad_enum_value_lists_the_choices() {
    validate_fails_with(
        "folds = 2",
        "folds = 2\nprotocol = \"kfold_random\"",
        &[
            "tiny.toml:17:1: key `split.protocol`",
            "kfold_random",
            "kfold_contiguous",
            "kfold_stratified",
        ],
    );
}

#[test]
fn out_of_range_value_points_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_experiment(dir.path(), "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("folds = 2", "folds = 1");
    std::fs::write(&path, text).unwrap();
    let out = run(bin().arg("validate").arg(&path));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("tiny.toml:16:1: key `split.folds`: found 1, expected 2 or more"),
        "{err}"
    );
}

#[test]
fn missing_dataset_root_validates_but_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("real.toml");
    std::fs::write(
        &path,
        "name = \"real\"\n[dataset]\nroot = \"/nonexistent/KEMDy20_v1_1\"\n",
    )
    .unwrap();
    // A file for a corpus this machine lacks is still a valid file ...
    assert!(run(bin().arg("validate").arg(&path)).status.success());
    // ... but a run stops before anything is written, naming the key and the path.
    let runs = dir.path().join("runs");
    let out = run(bin().arg(&path).arg("--runs-dir").arg(&runs));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("dataset.root")
            && err.contains("/nonexistent/KEMDy20_v1_1 does not hold a KEMDy20 root"),
        "{err}"
    );
    assert!(!runs.join("real").exists());
}

#[test]
fn missing_extends_file_and_syntax_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let child = dir.path().join("child.toml");
    std::fs::write(
        &child,
        "extends = [\"base/missing.toml\"]\nname = \"child\"\n",
    )
    .unwrap();
    let out = run(bin().arg("validate").arg(&child));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("child.toml:1:1: key `extends`")
            && err.contains("base/missing.toml")
            && err.contains("does not exist"),
        "{err}"
    );

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "name = \"x\"\n[train]\nepochs = = 3\n").unwrap();
    let out = run(bin().arg("validate").arg(&broken));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("broken.toml:3:") && err.contains("TOML syntax error"),
        "{err}"
    );
}

#[test]
fn missing_experiment_file_is_named() {
    let out = run(bin().arg("validate").arg("/nonexistent/exp.toml"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/nonexistent/exp.toml: cannot read experiment file"));
}

#[test]
fn layering_order_file_then_env_then_set() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    std::fs::write(
        &base,
        "name = \"base\"\n[dataset.synthetic]\nseed = 1\n[train]\nepochs = 5\nbatch_size = 4\n",
    )
    .unwrap();
    let child = dir.path().join("child.toml");
    std::fs::write(
        &child,
        "extends = [\"base.toml\"]\nname = \"child\"\n[train]\nepochs = 6\n",
    )
    .unwrap();
    let out = run(bin()
        .arg("validate")
        .arg(&child)
        .env("EMO_TRAIN__BATCH_SIZE", "9")
        // Not a config key (its first segment names no table): left alone, not an error.
        .env("EMO_MINILM_DIR", "/nowhere")
        .args(["--set", "fusion.method=late_fusion"]));
    assert!(out.status.success());
    let resolved = String::from_utf8_lossy(&out.stdout);
    assert!(resolved.contains("name = \"child\""), "{resolved}");
    assert!(
        resolved.contains("epochs = 6"),
        "the file beats its base: {resolved}"
    );
    assert!(
        resolved.contains("batch_size = 9"),
        "EMO_ env beats the files: {resolved}"
    );
    assert!(
        resolved.contains("method = \"late_fusion\""),
        "--set applies: {resolved}"
    );
    let out = run(bin()
        .arg("validate")
        .arg(&child)
        .env("EMO_TRAIN__EPOCHS", "7")
        .args(["--set", "train.epochs=8"]));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("epochs = 8"),
        "--set beats env"
    );
}

#[test]
fn select_by_must_name_a_metric_of_the_task() {
    validate_fails_with(
        "batch_size = 8",
        "batch_size = 8\nselect_by = \"valid.ccc\"",
        &[
            "train.select_by",
            "\"valid.ccc\"",
            "Classification",
            "weighted_f1",
        ],
    );
    validate_fails_with(
        "[train]",
        "[task]\nkind = \"regression\"\n\n[train]\nselect_by = \"valid.micro_f1\"",
        &[
            "train.select_by",
            "valid.micro_f1",
            "ccc, mae, mse",
            "ccc/valence",
        ],
    );
}

#[test]
fn multilabel_needs_multi_hot_targets() {
    validate_fails_with(
        "[train]",
        "[task]\nkind = \"multilabel\"\n\n[train]\nselect_by = \"valid.micro_f1\"",
        &["dataset.multi_label", "expected \"all\""],
    );
}

#[test]
fn mse_logits_needs_soft_vote_targets() {
    validate_fails_with(
        "[train]",
        "[task]\nsoft_target_loss = \"mse_logits\"\n\n[train]",
        &[
            "key `task.soft_target_loss`",
            "found \"mse_logits\" with dataset.multi_label = \"drop\"",
            "expected \"cross_entropy\", or dataset.multi_label = \"soft_votes\"",
        ],
    );
}

#[test]
fn module_lr_names_a_module_of_the_model() {
    validate_fails_with(
        "batch_size = 8",
        "batch_size = 8\noptimizer = { module_lr = { \"encoders.vision\" = 1e-4 } }",
        &[
            "train.optimizer.module_lr.encoders.vision",
            "no module \"encoders.vision\"",
            "encoders.text, encoders.audio, fusion",
        ],
    );
}

#[test]
fn reduced_precision_is_refused_with_the_reason() {
    validate_fails_with(
        "batch_size = 8",
        "batch_size = 8\nprecision = \"bf16\"",
        &[
            "train.precision",
            "found \"bf16\"",
            "no mixed precision",
            "Expected \"f32\"",
        ],
    );
}

#[test]
fn accumulation_and_clipping_need_positive_values() {
    validate_fails_with(
        "batch_size = 8",
        "batch_size = 8\naccumulate_grad_batches = 0\nclip_grad_norm = -1.0",
        &[
            "train.accumulate_grad_batches",
            "train.clip_grad_norm",
            "positive limit",
        ],
    );
}

/// A refused value that came from `--set` or an `EMO_*` variable is located there, not in a
/// file; a problem with a key nobody set says it is the built-in default.
#[test]
fn problems_name_the_override_that_set_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_experiment(dir.path(), "");
    let out = run(bin()
        .arg("validate")
        .arg(&path)
        .args(["--set", "train.epochs=0"]));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--set train.epochs=0: key `train.epochs`: found 0"),
        "{err}"
    );
    let out = run(bin()
        .arg("validate")
        .arg(&path)
        .env("EMO_TRAIN__BATCH_SIZE", "0"));
    let err = stderr(&out);
    assert!(
        err.contains("EMO_TRAIN__BATCH_SIZE: key `train.batch_size`"),
        "{err}"
    );
    let out = run(bin()
        .arg("validate")
        .arg(&path)
        .args(["--set", "encoders.audio.sample_rate=8000"]));
    let err = stderr(&out);
    assert!(
        err.contains("(built-in default): key `dataset.synthetic.sample_rate`"),
        "{err}"
    );
}
