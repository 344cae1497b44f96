//! Seed 001's baselines on hand-crafted features, LF-LSTM (`lf_rnn`) and LF-TRANS
//! (`lf_transformer`): the bidirectional LSTM's two summaries and both whole models against
//! PyTorch (the seed's padding and the fix), the parameter
//! counts of the committed experiment files (equal to PyTorch's for the seed's layer lists),
//! training on the synthetic corpus's feature files with a byte-identical rerun and with the
//! padding fix, the seed's epoch selection by the tuned valid F1, and the refusals of configs
//! that cannot work. (Every method's two-epoch run is
//! tests/every_method.rs.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use burn::prelude::*;
use common::{bin, inspect_json, run, run_dirs, stderr, tiny_hcf_experiment};
use emo_run::config::{FusionConfig, FusionMethod, Modality};
use emo_run::fusion::mme2e::lf_heads::PaddingChoice;
use emo_run::fusion::mme2e::lf_rnn::{BiLstm, LfRnn, LfRnnKeys};
use emo_run::fusion::mme2e::lf_transformer::{LfTransformer, LfTransformerKeys};
use emo_run::fusion::{FusionInputs, FusionSpec, Stream};

fn fixture(name: &str) -> PathBuf {
    common::fixture_path("lf", name)
}

/// Train `exp` into `runs` with `--set` overrides.
fn train(exp: &Path, runs: &Path, sets: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.arg(exp).arg("--runs-dir").arg(runs).arg("--quiet");
    for set in sets {
        cmd.args(["--set", set]);
    }
    run(&mut cmd)
}

fn io(name: &str) -> TensorData {
    common::stored_tensor(&fixture("io.safetensors"), name)
}

fn assert_close(what: &str, got: Tensor<2>, expected: TensorData) {
    common::assert_close_to(what, got.into_data(), expected, 1e-5);
}

/// `scripts/dev/make_lf_fixtures.py`: `nn.LSTM(3, 3, bidirectional=True)` over a batch of
/// lengths 4 and 2, zero-padded and unpacked as the seed runs it. Reading the reverse half of
/// `output[-1]` as `h_n`'s (or the other way round) moves both far past the tolerance.
#[test]
fn the_bidirectional_lstm_summaries_match_pytorch() {
    let device = Device::default();
    let mut lstm = BiLstm::new(3, &device);
    common::load_pytorch_weights(&mut lstm, &fixture("bilstm.safetensors"));
    let x = Tensor::<3>::from_data(io("x"), &device);
    assert_close("output[-1]", lstm.last_output(x.clone()), io("last_output"));
    assert_close("h_n", lstm.final_states(x), io("h_n"));
}

/// The padded streams of `models_io.safetensors` (three utterances; text 6, audio 4, visual 5
/// wide) as a method takes them.
fn fixture_inputs(device: &Device) -> FusionInputs {
    let store = fixture("models_io.safetensors");
    let mut inputs = FusionInputs::default();
    for (modality, name) in [
        (Modality::Text, "text"),
        (Modality::Audio, "audio"),
        (Modality::Visual, "visual"),
    ] {
        let lengths: Vec<usize> = common::stored_tensor(&store, &format!("{name}_lengths"))
            .try_to_vec::<i64>()
            .unwrap()
            .into_iter()
            .map(|n| n as usize)
            .collect();
        let values = Tensor::<3>::from_data(common::stored_tensor(&store, name), device);
        inputs.insert(modality, Stream::Sequence { values, lengths });
    }
    inputs
}

fn fixture_spec(method: FusionMethod) -> FusionSpec {
    FusionSpec {
        config: FusionConfig::of(method),
        dims: [
            (Modality::Text, 6),
            (Modality::Audio, 4),
            (Modality::Visual, 5),
        ]
        .into(),
        text_tokens: 0,
        n_classes: 3,
    }
}

/// The whole models against the seed's, written in PyTorch from its module structure
/// (`scripts/dev/make_lf_fixtures.py`), on one padded batch: the seed's padding and the fix
/// (`padding = "masked"`, PyTorch's `pack_padded_sequence` and text lengths). Swapping two
/// modalities' logits, a head's width, the masks or the LSTM summaries moves the logits far past
/// the tolerance.
#[test]
fn both_models_match_the_seeds_in_pytorch() {
    let device = Device::default();
    let logits = |name: &str| common::stored_tensor(&fixture("models_io.safetensors"), name);
    let inputs = fixture_inputs(&device);
    for (padding, suffix) in [
        (PaddingChoice::Seed, "seed"),
        (PaddingChoice::Masked, "masked"),
    ] {
        let keys = LfRnnKeys { padding };
        let mut rnn = LfRnn::new(&keys, &fixture_spec(FusionMethod::LfRnn), &device);
        common::load_pytorch_weights(&mut rnn, &fixture("lf_rnn.safetensors"));
        assert_close(
            &format!("lf_rnn, {suffix}"),
            rnn.forward(&inputs),
            logits(&format!("rnn_{suffix}")),
        );
        let keys = LfTransformerKeys {
            text_heads: 2,
            audio_heads: 2,
            trans_ffn: 16,
            padding,
            ..Default::default()
        };
        let spec = fixture_spec(FusionMethod::LfTransformer);
        let mut transformer = LfTransformer::new(&keys, &spec, &device);
        common::load_pytorch_weights(&mut transformer, &fixture("lf_transformer.safetensors"));
        assert_close(
            &format!("lf_transformer, {suffix}"),
            transformer.forward(&inputs),
            logits(&format!("transformer_{suffix}")),
        );
    }
}

/// The counts of PyTorch's modules built from the seed's layer lists (`nn.LSTM(d, d,
/// bidirectional=True)`, `nn.TransformerEncoder` of two `nn.TransformerEncoderLayer(d, heads)`
/// plus `nn.Embedding(1, d)`, the two-layer heads and `nn.Linear(3, 1, bias=False)`), summed in
/// PyTorch 2.11: IEMOCAP's widths 300/144/35 and MOSEI's 300/74/35, 6 classes.
#[test]
fn inspect_reports_pytorchs_counts_for_the_committed_files() {
    for (file, total) in [
        ("experiments/mme2e/lf_rnn_iemocap.toml", 2_026_336u64),
        ("experiments/mme2e/lf_rnn_mosei.toml", 1_750_046),
        ("experiments/mme2e/lf_transformer_iemocap.toml", 4_898_702),
        ("experiments/mme2e/lf_transformer_mosei.toml", 4_193_977),
    ] {
        let ins = inspect_json(file, false);
        assert_eq!(ins["trainable"], total, "{file}");
    }
}

#[test]
fn both_baselines_train_on_the_feature_files_and_rerun_byte_identically() {
    let dir = tempfile::tempdir().unwrap();
    for method in ["lf_rnn", "lf_transformer"] {
        let exp = tiny_hcf_experiment(dir.path(), method, "");
        let mut outputs = Vec::new();
        for attempt in ["first", "again"] {
            let runs = dir.path().join(format!("runs-{method}-{attempt}"));
            let out = train(&exp, &runs, &[]);
            assert!(out.status.success(), "{method}: {}", stderr(&out));
            let run_dir = &run_dirs(&runs, "tiny_hcf")[0];
            outputs.push(std::fs::read(run_dir.join("predictions.parquet")).unwrap());
            let data: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(run_dir.join("data.json")).unwrap())
                    .unwrap();
            let reasons = data["dropped_by_reason"].as_object().unwrap();
            assert!(
                reasons.keys().all(|r| !r.contains("hand-crafted")),
                "every utterance is in the files: {reasons:?}"
            );
        }
        assert_eq!(
            outputs[0], outputs[1],
            "{method}: a rerun writes the same predictions"
        );
        // The fix of the seed's padding quirk trains too, and scores differently.
        let runs = dir.path().join(format!("runs-{method}-masked"));
        let out = train(&exp, &runs, &["fusion.padding=masked"]);
        assert!(out.status.success(), "{method} masked: {}", stderr(&out));
        let masked = std::fs::read(run_dirs(&runs, "tiny_hcf")[0].join("predictions.parquet"));
        assert_ne!(
            masked.unwrap(),
            outputs[0],
            "{method}: masking changes the model"
        );
    }
}

#[test]
fn configs_that_cannot_work_are_refused_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_hcf_experiment(dir.path(), "lf_transformer", "");
    let text = std::fs::read_to_string(&exp).unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let cases = [
        (
            "no_layout.toml",
            text.replace("layout = \"seed_iemocap\"\n", ""),
            "dataset.hcf.layout",
        ),
        (
            "with_faces.toml",
            text.replace("[split]", "[dataset.faces]\n\n[split]"),
            "dataset.faces",
        ),
        (
            "mosei_columns.toml",
            text.replace(
                "layout = \"seed_iemocap\"",
                "layout = \"seed_mosei\"\naudio_columns = \"all\"",
            ),
            "dataset.hcf.audio_columns",
        ),
        (
            "no_hcf.toml",
            text.replace(
                &format!(
                    "[dataset.hcf]\nroot = \"{}\"\nlayout = \"seed_iemocap\"\n",
                    dir.path().join("corpus").join("hcf").display()
                ),
                "",
            ),
            "[dataset.hcf]",
        ),
    ];
    for (name, text, expected) in cases {
        let path = write(name, text);
        let out = run(bin().arg("validate").arg(&path));
        assert!(!out.status.success(), "{name} validates");
        let err = stderr(&out);
        assert!(err.contains(expected), "{name}: {err}");
    }

    // 34 audio columns cannot be split over 4 heads: refused before a run folder exists.
    let runs = dir.path().join("runs");
    let out = train(
        &exp,
        &runs,
        &[
            "dataset.hcf.audio_columns=no_phonological",
            "fusion.audio_heads=4",
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("fusion.audio_heads") && err.contains("34"),
        "{err}"
    );
    assert!(
        run_dirs(&runs, "tiny_hcf").is_empty(),
        "no run folder was made"
    );

    // A folder without the feature files names the file it looked for.
    let nowhere = format!("dataset.hcf.root={}", dir.path().join("nowhere").display());
    let out = train(&exp, &runs, &[&nowhere]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("train_text_features.pt"), "{err}");
}

/// Seed 001 selects the epoch by the valid average F1 at thresholds tuned on valid:
/// `select_by = "valid.tuned/f1"` reads the `tuned/f1` row each epoch's validation gains, and
/// is refused without `task.tuned_thresholds`, which computes it.
#[test]
fn the_seeds_selection_picks_the_epoch_of_the_best_tuned_valid_f1() {
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_hcf_experiment(
        dir.path(),
        "lf_rnn",
        "select_by = \"valid.tuned/f1\"\n\n[task]\nkind = \"multilabel\"\nmultilabel_loss = \"bce\"\ntuned_thresholds = true\n",
    );
    let runs = dir.path().join("runs");
    let out = train(&exp, &runs, &["dataset.multi_label=all", "train.epochs=4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run_dir = &run_dirs(&runs, "tiny_hcf")[0];
    let df = common::read_parquet(&run_dir.join("metrics.parquet"));
    let metric = common::strings(&df, "metric");
    let split = common::strings(&df, "split");
    let fold = df.column("fold").unwrap().u32().unwrap().clone();
    let epoch = df.column("epoch").unwrap().u32().unwrap().clone();
    let value = df.column("value").unwrap().f64().unwrap().clone();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    let best_epochs = summary["stages"][0]["best_epochs"].as_array().unwrap();
    for (f, best) in best_epochs.iter().enumerate() {
        let tuned: Vec<(u32, f64)> = (0..df.height())
            .filter(|&i| {
                metric[i] == "tuned/f1" && split[i] == "valid" && fold.get(i) == Some(f as u32)
            })
            .map(|i| (epoch.get(i).unwrap(), value.get(i).unwrap()))
            .collect();
        assert_eq!(tuned.len(), 4, "fold {f}: one tuned/f1 row per epoch");
        // The first epoch of the strictly best value, as the selection keeps earlier ties.
        let top = tuned.iter().map(|t| t.1).fold(f64::NEG_INFINITY, f64::max);
        let expected = tuned.iter().find(|t| t.1 == top).unwrap().0;
        assert_eq!(
            best.as_u64(),
            Some(u64::from(expected)),
            "fold {f}: {tuned:?}"
        );
    }

    let without = dir.path().join("without.toml");
    let text = std::fs::read_to_string(&exp).unwrap();
    std::fs::write(&without, text.replace("tuned_thresholds = true\n", "")).unwrap();
    let out = run(bin()
        .arg("validate")
        .arg(&without)
        .args(["--set", "dataset.multi_label=all"]));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("train.select_by") && err.contains("valid.tuned/f1"),
        "{err}"
    );
}
