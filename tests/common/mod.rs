//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tests/fixtures/<folder>/<name>`.
pub fn fixture_path(folder: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
        .join(name)
}

/// The tensor `name` of the safetensors file at `path` (a dev script's reference output).
pub fn stored_tensor(path: &Path, name: &str) -> burn::tensor::TensorData {
    use burn::store::{ModuleStore, SafetensorsStore, bridge};
    let mut store = SafetensorsStore::from_file(path);
    let snapshot = store
        .get_tensor(name)
        .unwrap_or_else(|e| panic!("{} reads: {e:?}", path.display()))
        .unwrap_or_else(|| panic!("{} has no {name}", path.display()));
    bridge::to_data(snapshot).expect("tensor data")
}

/// Load a dev script's PyTorch state (emo-run's names, PyTorch's layouts) into `model`, every
/// tensor used and none missing.
pub fn load_pytorch_weights<M: burn::store::ModuleSnapshot>(model: &mut M, path: &Path) {
    use burn::store::{PyTorchToBurnAdapter, SafetensorsStore};
    let mut store = SafetensorsStore::from_file(path).with_from_adapter(PyTorchToBurnAdapter);
    let result = model.load_from(&mut store).expect("the weights load");
    assert!(
        result.missing.is_empty() && result.unused.is_empty() && result.errors.is_empty(),
        "missing {:?}, unused {:?}, errors {:?}",
        result.missing,
        result.unused,
        result.errors
    );
}

/// `got` and `expected` hold the same number of values, none further apart than `tolerance`.
pub fn assert_close_to(
    what: &str,
    got: burn::tensor::TensorData,
    expected: burn::tensor::TensorData,
    tolerance: f32,
) {
    let got: Vec<f32> = got.try_to_vec().unwrap();
    let expected: Vec<f32> = expected.try_to_vec().unwrap();
    assert_eq!(got.len(), expected.len(), "{what}: sizes");
    let worst = got
        .iter()
        .zip(&expected)
        .map(|(g, e)| (g - e).abs())
        .fold(0f32, f32::max);
    assert!(worst < tolerance, "{what}: largest difference {worst}");
}

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_emo-run"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// Write the tiny test experiment into `dir` with its corpus under `dir/corpus`, plus `extra`
/// TOML appended (later keys in a table would clash, so `extra` should use new tables or
/// dotted keys outside existing tables).
pub fn tiny_experiment(dir: &Path, extra: &str) -> PathBuf {
    let template = include_str!("../fixtures/configs/tiny.toml");
    let root = dir.join("corpus");
    let text = template.replace("PLACEHOLDER_ROOT", &root.display().to_string());
    let path = dir.join("tiny.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

/// The tiny experiment with `fusion.method = method`. Its `fusion.hidden` (read by the MLP
/// heads only) is left out for a method that does not read it, since a key the method ignores
/// is refused.
pub fn tiny_experiment_with_method(dir: &Path, method: &str, extra: &str) -> PathBuf {
    let path = tiny_experiment(dir, extra);
    let fusion = if method_reads(method, "hidden") {
        format!("[fusion]\nmethod = \"{method}\"\nhidden = 16")
    } else {
        format!("[fusion]\nmethod = \"{method}\"")
    };
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[fusion]\nhidden = 16"), "tiny.toml changed");
    std::fs::write(&path, text.replace("[fusion]\nhidden = 16", &fusion)).unwrap();
    path
}

/// Whether `method` (with the default MLP head) reads `fusion.<key>`, by the same rule the
/// config validation applies.
pub fn method_reads(method: &str, key: &str) -> bool {
    use emo_run::config::{FusionConfig, FusionMethod};
    let method: FusionMethod = serde_json::from_value(serde_json::Value::String(method.into()))
        .unwrap_or_else(|_| panic!("no fusion method {method:?}"));
    emo_run::config::applicable::reads(&FusionConfig::of(method), key)
}

/// `--set` overrides that keep the heads whose size does not follow the encoders small.
const SMALL: [(&str, &str); 11] = [
    ("proj_dim", "4"),
    ("mixer_dim", "8"),
    ("mixer_audio_tokens", "32"),
    ("text_hidden", "8"),
    ("audio_hidden", "4"),
    ("visual_hidden", "4"),
    ("post_fusion_dim", "8"),
    ("ffn", "16"),
    ("frames", "12"),
    ("head_hidden", "8"),
    ("trans_ffn", "32"),
];

/// The `SMALL` overrides `method` reads (a key the method ignores is refused).
pub fn small_sets(method: &str) -> Vec<String> {
    SMALL
        .iter()
        .filter(|(key, _)| method_reads(method, key))
        .map(|(key, value)| format!("fusion.{key}={value}"))
        .collect()
}

/// A tiny per-emotion experiment on a synthetic CMU feature pickle (four emotions, 30
/// utterances each: 18 / 6 / 6) written under `dir`, with `fusion.method = method`.
pub fn tiny_pickle_experiment(dir: &Path, method: &str) -> PathBuf {
    let path = dir.join("pickle.toml");
    let hidden = if method_reads(method, "hidden") {
        "hidden = 8\n"
    } else {
        ""
    };
    let text = format!(
        "name = \"tiny_pickle\"\nseed = 5\n\n[dataset]\nkind = \"iemocap_cmu_pickle\"\nroot = \"{}\"\nclasses = [\"column_0\", \"column_1\"]\n\n[dataset.synthetic]\nsessions = 3\nutterances_per_session = 10\nseed = 4\n\n[split]\nprotocol = \"per_emotion\"\n\n[fusion]\nmethod = \"{method}\"\n{hidden}\n[train]\nepochs = 2\nbatch_size = 8\nloss_reduction = \"sum\"\n",
        dir.join("tiny.pkl").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The start of seed 001's tiny experiments: `name`, the seed, and a synthetic KEMDy20 corpus at
/// `root` of 48 utterances of 0.5–0.8 s with four classes kept, its `[dataset.synthetic]` table
/// left open for the kind of input the experiment adds.
fn tiny_synthetic_head(name: &str, root: &Path) -> String {
    format!(
        r#"name = "{name}"
seed = 7

[dataset]
root = "{root}"
classes = ["neutral", "happy", "angry", "sad"]

[dataset.synthetic]
sessions = 3
utterances_per_session = 16
min_seconds = 0.5
max_seconds = 0.8
seed = 3
"#,
        root = root.display()
    )
}

/// A tiny experiment on a synthetic KEMDy20 corpus with video frames (`synthetic.faces`, read
/// by `[dataset.faces]`; 48 clips of 0.5–0.8 s, one or two faces each, of which the four
/// classes that faces and audio carry are kept) and the spectrogram pieces, for seed 001's
/// methods (`fusion.method = method`, small transformers), 2 folds.
pub fn tiny_faces_experiment(dir: &Path, method: &str, extra: &str) -> PathBuf {
    let path = dir.join("faces.toml");
    let text = format!(
        r#"{head}faces = true

[dataset.faces]

[split]
folds = 2
valid_ratio = 0.2

[encoders.text]
hidden = 16
layers = 1
heads = 2
ffn = 32
max_len = 16
pooling = "first"
tokenizer = {{ vocab = 200, min_frequency = 1 }}

[encoders.audio]
kind = "mel_pieces"

[fusion]
method = "{method}"
trans_dim = 16
trans_layers = 1
trans_heads = 2
trans_ffn = 32

[train]
epochs = 2
batch_size = 6
{extra}
"#,
        head = tiny_synthetic_head("tiny_faces", &dir.join("corpus"))
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A tiny experiment on a synthetic KEMDy20 corpus with seed 001's hand-crafted feature files
/// (`synthetic.hcf`, read by `[dataset.hcf]` in the IEMOCAP layout; 48 utterances, the four
/// classes that the audio and visual features tell apart kept), for the LF baselines
/// (`fusion.method = method`, a small feed-forward width where it has one), 2 folds. `extra`
/// is appended.
pub fn tiny_hcf_experiment(dir: &Path, method: &str, extra: &str) -> PathBuf {
    let path = dir.join("hcf.toml");
    let root = dir.join("corpus");
    let text = format!(
        r#"{head}hcf = true

[dataset.hcf]
root = "{hcf}"
layout = "seed_iemocap"

[split]
folds = 2
valid_ratio = 0.2

[fusion]
method = "{method}"
{small}
[train]
epochs = 2
batch_size = 8
{extra}
"#,
        head = tiny_synthetic_head("tiny_hcf", &root),
        hcf = root.join("hcf").display(),
        small = if method_reads(method, "trans_ffn") {
            "trans_ffn = 32\n"
        } else {
            ""
        }
    );
    std::fs::write(&path, text).unwrap();
    path
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("emo-run starts");
    eprintln!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The single run directory under `runs/<name>`.
pub fn run_dirs(runs: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(runs.join(name)) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// A committed Hugging Face fixture folder (`tests/fixtures/hf/<name>`), as a string for
/// `--set` values.
pub fn hf_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hf")
        .join(name)
        .display()
        .to_string()
}

/// `emo-run inspect FILE --json` run from the repository root (experiment files name
/// `models/...` relative to it); `shallow` builds one transformer layer per encoder, enough for
/// head sizes, which depend on the encoders' widths only.
pub fn inspect_json(file: &str, shallow: bool) -> serde_json::Value {
    let mut cmd = bin();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.args(["inspect", file, "--json"]);
    if shallow {
        cmd.args([
            "--set",
            "encoders.text.overrides.num_hidden_layers=1",
            "--set",
            "encoders.audio.overrides.num_hidden_layers=1",
        ]);
    }
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "inspect {file} failed: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `(total, trainable)` parameters of one module of an inspection.
pub fn module_params(ins: &serde_json::Value, name: &str) -> (usize, usize) {
    let m = ins["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == name)
        .unwrap_or_else(|| panic!("no module {name} in {ins}"));
    let n = |k: &str| m[k].as_u64().unwrap() as usize;
    (n("total"), n("trainable"))
}

/// A parquet file of a run folder, whole.
pub fn read_parquet(path: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// A utf8 column as strings (nulls as "").
pub fn strings(df: &polars::prelude::DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .into_iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect()
}

/// One row of a predictions table: utterance id and class scores.
#[derive(Debug, Clone)]
pub struct Scored {
    pub id: String,
    pub scores: Vec<f32>,
}

/// The rows of `predictions.parquet`-shaped `path` with `split` and `fold`, in file order.
pub fn scored_rows(path: &Path, split: &str, fold: u32) -> Vec<Scored> {
    let df = read_parquet(path);
    let splits = df.column("split").unwrap().str().unwrap().clone();
    let folds = df.column("fold").unwrap().u32().unwrap().clone();
    let ids = df.column("utterance_id").unwrap().str().unwrap().clone();
    let scores = df.column("scores").unwrap().list().unwrap().clone();
    (0..df.height())
        .filter(|&i| splits.get(i) == Some(split) && folds.get(i) == Some(fold))
        .map(|i| Scored {
            id: ids.get(i).unwrap().to_string(),
            scores: (scores.get_as_series(i).unwrap().f32().unwrap())
                .into_no_null_iter()
                .collect(),
        })
        .collect()
}

/// An utterance's WAV file and transcript in the synthetic KEMDy20 corpus at `corpus`, the
/// transcript read as the loader reads it (CP949, first line, trimmed).
pub fn utterance_files(corpus: &Path, id: &str) -> (PathBuf, String) {
    let session: u32 = id[4..6].parse().unwrap();
    let folder = corpus.join("wav").join(format!("Session{session:02}"));
    let bytes = std::fs::read(folder.join(format!("{id}.txt"))).unwrap();
    let (text, _, _) = encoding_rs::EUC_KR.decode(&bytes);
    let text = text.lines().next().unwrap().trim().to_string();
    (folder.join(format!("{id}.wav")), text)
}

/// A folder copied whole (files and subfolders).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
