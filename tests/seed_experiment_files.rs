//! The seed experiment files (`experiments/kemdy20`: seed 000's results table;
//! `experiments/etri`: seed 004's scripts) through the CLI, with the model folders of `models/`,
//! which hold only config.json.
//!
//! * Every `experiments/**/*.toml` validates (one `validate` process for all of them).
//! * `experiments/rsa_cfn_label_transform.toml`, the command the README gives for seed 000's best
//!   row, resolves to `experiments/kemdy20/rsa_cfn.toml`, and on a machine without the corpus
//!   and the checkpoints stops before writing anything, saying what is missing and where to get it.
//! * `inspect --json` reports each fusion head's exact parameter count, computed here from the
//!   layer lists of docs/methods/seed-000-rsa-cfn.md (encoders, heads) and docs/methods/seed-004-etri.md (models).
//!
//! Cost: `inspect` builds the encoders' skeletons, and counting their trainable parameters makes
//! burn initialise them (burn 0.22 has no public lazy `require_grad` query). The biggest file,
//! `kemdy20/hybrid_fusion.toml`, takes 17 s and 3.0 GB at full encoder depth (`/usr/bin/time -v`,
//! dev profile). A head's size depends on the encoders' WIDTHS only, so the head checks run with
//! one transformer layer per encoder (`overrides.num_hidden_layers = 1`): hybrid_fusion then
//! takes 7 s and 1.5 GB, most files 1-2 s. Full-depth encoder counts are checked once per
//! encoder family on the small-head files. The rsa_cfn variants with the same 328 M head as
//! `rsa_cfn.toml` (`rsa_cfn_no_label_transform`, `rsa_cfn_xlm_roberta`) and the KEMDy19 copies of
//! the etri files (same heads as the KEMDy20 ones) are validated, not inspected.
//!
//! Neither corpus is here, and neither needs to be: `validate` and `inspect` read no corpus
//! (a run checks `dataset.root` when it starts).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, inspect_json, module_params, run};

const fn linear(i: usize, o: usize) -> usize {
    i * o + o
}

const fn layer_norm(n: usize) -> usize {
    2 * n
}

/// `SelfAttention(1, h)` of seed 000 (docs/methods/seed-000-rsa-cfn.md#heads): two `Lin(1, h)` and a `Lin(1, 1)`.
const fn scalar_attention(h: usize) -> usize {
    2 * linear(1, h) + linear(1, 1)
}

/// The file researchers are told to run for seed 000's best row.
const MISSION: &str = "experiments/rsa_cfn_label_transform.toml";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            toml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn emo_run() -> Command {
    let mut cmd = bin();
    cmd.current_dir(repo()); // the files name `models/...` relative to the repository
    cmd
}

#[test]
fn every_experiment_file_validates() {
    let mut files = Vec::new();
    toml_files(&repo().join("experiments"), &mut files);
    files.sort();
    let count = |dir: &str| {
        files
            .iter()
            .filter(|f| f.starts_with(repo().join("experiments").join(dir)))
            .count()
    };
    // base + 12 rows; shared base, 3 task fragments, 2 corpus bases, 12 scripts x 2 corpora.
    assert_eq!(count("kemdy20"), 13);
    assert_eq!(count("etri"), 1 + 3 + 2 + 24);
    assert!(
        files.contains(&repo().join(MISSION)),
        "{MISSION} is missing"
    );
    let out = run(emo_run().arg("validate").args(&files));
    assert!(
        out.status.success(),
        "some experiment file is invalid:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_fusion(file: &str, method: &str, expected: usize) {
    let ins = inspect_json(file, true);
    assert_eq!(ins["fusion"], method, "{file}");
    assert_eq!(
        module_params(&ins, "fusion"),
        (expected, expected),
        "{file}"
    );
}

// ---- seed 000 (experiments/kemdy20): a = wav2vec2-large 1024, t = klue/roberta-base 768 ----

const A0: usize = 1024;
const T0: usize = 768;
const D0: usize = A0 + T0;
const C: usize = 7;

const EARLY: usize = layer_norm(D0) + linear(D0, C);
const LATE: usize = linear(A0, C) + linear(T0, C) + layer_norm(C);
const RESIDUAL: usize = layer_norm(D0) + linear(D0, 512) + linear(D0 + 512, D0) + linear(D0, C);
const RSA_CFN: usize = {
    let n = (128 + 1) * (128 + 1);
    linear(A0, 128)
        + linear(T0, 128)
        + 2 * scalar_attention(96)
        + 2 * layer_norm(128)
        + linear(n, 1024)
        + linear(n + 1024, n)
        + linear(n, 1024)
        + linear(1024, C)
};

/// wav2vec2-large-lv60's CNN (conv_bias, a LayerNorm after every conv): what
/// `freeze_feature_encoder` freezes.
const LV60_CNN: usize = (512 * 10 + 512 + layer_norm(512))
    + 4 * (512 * 512 * 3 + 512 + layer_norm(512))
    + 2 * (512 * 512 * 2 + 512 + layer_norm(512));

#[test]
fn kemdy20_single_linear_heads() {
    let dir = "experiments/kemdy20";
    assert_fusion(
        &format!("{dir}/wav_only.toml"),
        "audio_only",
        linear(A0, A0) + linear(A0, C),
    );
    assert_fusion(
        &format!("{dir}/text_only.toml"),
        "text_only",
        layer_norm(T0) + linear(T0, C),
    );
    assert_fusion(&format!("{dir}/late_fusion.toml"), "late_fusion", LATE);
    assert_fusion(&format!("{dir}/early_fusion.toml"), "early_fusion", EARLY);
    assert_fusion(&format!("{dir}/stack.toml"), "stack", EARLY);
    assert_eq!((EARLY, LATE), (16_135, 12_572));
}

#[test]
fn kemdy20_residual_heads_and_the_mixer() {
    let dir = "experiments/kemdy20";
    assert_fusion(&format!("{dir}/residual.toml"), "residual", RESIDUAL);
    assert_fusion(
        &format!("{dir}/rsa.toml"),
        "rsa",
        RESIDUAL + scalar_attention(256),
    );
    // 256 text tokens then 299 audio frames, projected to 256 (docs/methods/seed-000-rsa-cfn.md#heads).
    let tokens = 256 + 299;
    let mixer = linear(A0, 256)
        + linear(T0, 256)
        + layer_norm(256)
        + 2 * linear(tokens, tokens)
        + 2 * linear(256, 256)
        + layer_norm(256)
        + linear(256, 512)
        + linear(512, C);
    assert_fusion(&format!("{dir}/mlp_mixer.toml"), "mlp_mixer", mixer);
    assert_eq!(
        mixer, 1_344_207,
        "docs/methods/seed-000-rsa-cfn.md#heads: 1.34 M"
    );
}

/// The ~330 M heads in one test, so that their processes (1.5 GB each) never overlap.
#[test]
fn kemdy20_rsa_cfn_and_hybrid_fusion() {
    assert_eq!(RSA_CFN, 328_300_813);
    let ins = inspect_json("experiments/kemdy20/rsa_cfn.toml", true);
    assert_eq!(ins["fusion"], "rsa_cfn");
    assert_eq!(module_params(&ins, "fusion"), (RSA_CFN, RSA_CFN));
    // freeze_feature_encoder: only wav2vec2's CNN is frozen (docs/methods/seed-000-rsa-cfn.md#encoders).
    let (total, trainable) = module_params(&ins, "encoders.audio");
    assert_eq!(total - trainable, LV60_CNN);
    assert_eq!(LV60_CNN, 4_210_176);
    assert_fusion(MISSION, "rsa_cfn", RSA_CFN);

    let hybrid = EARLY + LATE + RESIDUAL + RSA_CFN + layer_norm(C);
    assert_eq!(hybrid, 333_394_245);
    assert_fusion(
        "experiments/kemdy20/hybrid_fusion.toml",
        "hybrid_fusion",
        hybrid,
    );
}

/// One BERT-family layer of width `h`, FFN `4h`: attention (q, k, v, out), two LayerNorms, FFN.
const fn bert_layer(h: usize) -> usize {
    4 * linear(h, h) + layer_norm(h) + linear(h, 4 * h) + linear(4 * h, h) + layer_norm(h)
}

/// A BERT-family encoder of 12 layers, 768 wide, with its pooler.
const fn bert_base(vocab: usize, positions: usize, token_types: usize) -> usize {
    let h = 768;
    (vocab + positions + token_types) * h + layer_norm(h) + 12 * bert_layer(h) + linear(h, h)
}

#[test]
fn kemdy20_text_encoder_at_full_depth_is_klue_roberta_base() {
    let ins = inspect_json("experiments/kemdy20/text_only.toml", false);
    // klue/roberta-base config.json: vocabulary 32,000, 514 positions, 1 token type.
    let roberta = bert_base(32_000, 514, 1);
    assert_eq!(module_params(&ins, "encoders.text"), (roberta, roberta));
    assert_eq!(roberta, 110_618_112);
    assert!(
        ins["modules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["module"] != "encoders.audio"),
        "text_only builds no audio encoder"
    );
}

// ---- seed 004 (experiments/etri): t = klue/bert-base pooler 768, a = wav2vec2-base CNN 512 ----

const T4: usize = 768;
const A4: usize = 512;

/// Output width per task: 7 classes, 2 regression targets, or both.
fn width(task: &str) -> usize {
    match task {
        "classification" => 7,
        "regression" => 2,
        "total" => 9,
        other => panic!("no task {other}"),
    }
}

fn etri_head(variant: &str, task: &str) -> (&'static str, usize) {
    let w = width(task);
    match variant {
        "text" => ("text_only", linear(T4, w)),
        "speech" => ("audio_only", linear(A4, w)),
        "concat" => ("concat", linear(T4 + A4, w)),
        "element_wise_add" => ("element_wise_add", linear(A4, T4) + linear(T4, w)),
        other => panic!("no variant {other}"),
    }
}

fn etri_task(task: &str) {
    for variant in ["text", "speech", "concat", "element_wise_add"] {
        let (method, expected) = etri_head(variant, task);
        assert_fusion(
            &format!("experiments/etri/kemdy20/{variant}_{task}.toml"),
            method,
            expected,
        );
    }
}

#[test]
fn etri_classification_heads() {
    etri_task("classification");
    assert_eq!(etri_head("concat", "classification").1, 8_967);
}

#[test]
fn etri_regression_heads() {
    etri_task("regression");
    assert_eq!(etri_head("element_wise_add", "regression").1, 395_522);
}

#[test]
fn etri_total_heads() {
    etri_task("total");
    assert_eq!(etri_head("text", "total").1, 6_921);
}

#[test]
fn etri_encoders_at_full_depth_are_klue_bert_base_and_wav2vec2_base() {
    let ins = inspect_json("experiments/etri/kemdy20/concat_total.toml", false);
    // klue/bert-base config.json: vocabulary 32,000, 512 positions, 2 token types.
    let bert = bert_base(32_000, 512, 2);
    assert_eq!(module_params(&ins, "encoders.text"), (bert, bert));
    assert_eq!(bert, 110_617_344);
    // wav2vec2-base-960h: CNN without conv bias, GroupNorm after conv 0 only; feature
    // projection LN_512 + Lin(512, 768); masked_spec_embed; the positional conv (weight norm:
    // v [768, 48, 128] + g [1, 1, 128] + bias); encoder LN; 12 post-LN layers. Nothing frozen.
    let cnn = 512 * 10 + layer_norm(512) + 4 * 512 * 512 * 3 + 2 * 512 * 512 * 2;
    let pos_conv = 768 * 48 * 128 + 128 + 768;
    let w2v = cnn
        + layer_norm(512)
        + linear(512, 768)
        + 768
        + pos_conv
        + layer_norm(768)
        + 12 * bert_layer(768);
    assert_eq!(module_params(&ins, "encoders.audio"), (w2v, w2v));
    assert_eq!(w2v, 94_371_712);
}

/// The seed switches refuse combinations they cannot honour, naming the key.
#[test]
fn seed_switches_refuse_what_they_cannot_honour() {
    let fails = |file: &str, sets: &[&str], expected: &[&str]| {
        let mut cmd = emo_run();
        cmd.args(["validate", file]);
        for set in sets {
            cmd.args(["--set", set]);
        }
        let out = run(&mut cmd);
        assert!(!out.status.success(), "{file} {sets:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        for piece in expected {
            assert!(err.contains(piece), "{err:?} lacks {piece:?}");
        }
    };
    fails(
        "experiments/kemdy20/late_fusion.toml",
        &["task.kind=regression"],
        &["key `fusion.head`", "erases the scale"],
    );
    fails(
        "experiments/kemdy20/early_fusion.toml",
        &["fusion.head=linear"],
        &["key `fusion.head`", "concat"],
    );
    fails(
        "experiments/etri/kemdy20/speech_classification.toml",
        &["encoders.audio.train=frozen"],
        &["key `encoders.audio.pooling`", "last_padded"],
    );
    fails(
        "experiments/etri/kemdy20/text_classification.toml",
        &[
            "encoders.text.kind=roberta",
            "encoders.text.path=models/klue-roberta-base",
        ],
        &["key `encoders.text.mask_swap`", "bert"],
    );
    fails(
        "experiments/multi_still/teacher.toml",
        &["dataset.multi_label=first"],
        &["key `task.soft_target_loss`", "\"soft_votes\""],
    );
}

/// `validate`'s resolved config of `file`, without the lines that name the file itself.
fn resolved(file: &str) -> String {
    let out = run(emo_run().args(["validate", file]));
    assert!(out.status.success(), "validate {file} failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("name =") && !l.starts_with("extends ="))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn mission_file_is_the_rsa_cfn_row() {
    assert_eq!(
        resolved(MISSION),
        resolved("experiments/kemdy20/rsa_cfn.toml")
    );
    // `inspect` of it runs in kemdy20_rsa_cfn_and_hybrid_fusion, after the other big heads.
}

/// Without the licensed corpus and the downloaded checkpoints (this repository ships only each
/// model folder's config.json), the mission command fails at once: every missing input in one
/// message, with the key, the folder, what it lacks and how to obtain it, and no run directory.
#[test]
fn mission_file_without_corpus_or_checkpoints_stops_before_any_work() {
    let corpus = repo().join("data/KEMDy20_v1_1");
    let text = repo().join("models/klue-roberta-base");
    let audio = repo().join("models/wav2vec2-large-960h-lv60-self");
    let weights = |dir: &Path| {
        ["model.safetensors", "pytorch_model.bin"]
            .iter()
            .any(|w| dir.join(w).exists())
    };
    if corpus.exists() || weights(&text) || weights(&audio) {
        eprintln!("skipped: this checkout has the corpus or a checkpoint, so the run would start");
        return;
    }
    let runs = tempfile::tempdir().unwrap();
    let out = run(emo_run()
        .arg(MISSION)
        .arg("--runs-dir")
        .arg(runs.path())
        .arg("--quiet"));
    assert!(!out.status.success());
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error exit, not a panic or a signal"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    for piece in [
        "3 inputs are missing",
        // the corpus: key, folder, what is missing, where it comes from, the offline fallback
        "dataset.root: ",
        "data/KEMDy20_v1_1",
        "no such path",
        "licensed by ETRI",
        "docs/DATASETS.md",
        "[dataset.synthetic]",
        // the checkpoints: key, folder, the missing files, the download command
        // (paths are resolved against the working directory, so they print absolute)
        "encoders.text.path: ",
        "models/klue-roberta-base holds only config.json",
        "tokenizer.json and the weights (model.safetensors or pytorch_model.bin)",
        "huggingface-cli download klue/roberta-base --local-dir ",
        "models/klue-roberta-base`",
        "encoders.audio.path: ",
        "models/wav2vec2-large-960h-lv60-self holds only config.json",
        "huggingface-cli download facebook/wav2vec2-large-960h-lv60-self --local-dir ",
        "models/wav2vec2-large-960h-lv60-self`",
    ] {
        assert!(err.contains(piece), "the message lacks {piece:?}:\n{err}");
    }
    let written: Vec<_> = std::fs::read_dir(runs.path()).unwrap().collect();
    assert!(written.is_empty(), "the failed start wrote {written:?}");
}
