//! `emo-run inspect`: the dataset (when it is on disk) and the model's modules with parameter
//! counts, without training anything.

use std::fmt::Write as _;

use serde::Serialize;

use crate::config::{DatasetKind, Experiment, LoadedExperiment};
use crate::data::cmu_pickle::{CmuPickleSummary, load_cmu_pickle};
use crate::encoders::TextEncoderSpec;
use crate::params::ModuleParams;
use crate::report::data::{DataReport, data_report};

#[derive(Serialize)]
pub struct Inspection {
    pub name: String,
    pub fusion: String,
    pub modules: Vec<ModuleParams>,
    pub total: usize,
    pub trainable: usize,
    /// Where the text vocabulary size came from: the tokenizer trained on fold 1, or the
    /// configured upper bound when the corpus is not on disk.
    pub vocab_size: Option<VocabSize>,
    pub dataset: Option<DataReport>,
    /// Why the dataset section is absent.
    pub dataset_note: Option<String>,
    /// Why `emo-run FILE` would refuse this corpus and config (an empty split, a class the
    /// corpus lacks, ...), while the dataset section still shows the folds.
    pub dataset_problem: Option<String>,
    /// Per emotion and split, for `kind = "iemocap_cmu_pickle"` (precomputed features).
    pub precomputed: Option<CmuPickleSummary>,
    /// The model of every fold that `[fold.<name>]` configures differently from the file.
    pub folds: Vec<FoldModel>,
    /// The model of every stage of a multi-stage file (`[[stages]]`), in run order.
    pub stages: Vec<StageModel>,
}

/// One stage's model.
#[derive(Serialize)]
pub struct StageModel {
    pub stage: String,
    pub fusion: String,
    pub modules: Vec<ModuleParams>,
    pub total: usize,
    pub trainable: usize,
}

/// One fold's model, where `[fold.<name>]` changes it.
#[derive(Serialize)]
pub struct FoldModel {
    pub fold: String,
    pub modules: Vec<ModuleParams>,
    pub total: usize,
    pub trainable: usize,
}

#[derive(Serialize)]
pub struct VocabSize {
    pub size: usize,
    pub source: &'static str,
}

pub fn inspect(loaded: &LoadedExperiment) -> anyhow::Result<Inspection> {
    let exp = &loaded.experiment;
    let data_present = crate::data::corpus::layout_problem(&exp.dataset).is_none();
    let mut precomputed = None;
    let mut problem = None;
    let (dataset, dataset_note, vocab) = if data_present {
        let corpus = if exp.dataset.kind == DatasetKind::IemocapCmuPickle {
            // Read once: the summary (NaN counts per split) and the corpus from the same decode.
            let (pickle, summary) = load_cmu_pickle(&exp.dataset.root)?;
            precomputed = Some(summary);
            crate::data::cmu_pickle::examples::pickle_corpus(pickle, &exp.dataset.classes)
        } else {
            let mut ds = exp.dataset.clone();
            ds.synthetic = None; // inspect reads; it never generates
            crate::data::plan::usable_corpus(&ds, true)?
        };
        let plan = crate::data::plan::DataPlan::split(exp, corpus)?;
        // A degenerate plan is shown with its problem named; `emo-run FILE` refuses to run it.
        problem = plan.check(exp).err().map(|e| e.to_string());
        let (corpus, folds) = (&plan.corpus, &plan.folds);
        let vocab = if exp.encodes(crate::config::Modality::Text)
            && exp.encoders.text.kind.is_pretrained()
        {
            pretrained_vocab(exp)?
        } else if exp.encodes(crate::config::Modality::Text) {
            let texts = folds[0]
                .train
                .iter()
                .map(|&i| corpus.examples[i].text.as_str());
            let tok = crate::data::tokenize::train_wordpiece(
                texts,
                &exp.encoders.text.tokenizer,
                exp.encoders.text.max_len,
            )?;
            Some(VocabSize {
                size: tok.get_vocab_size(true),
                source: "tokenizer trained on fold 1's training split",
            })
        } else {
            None
        };
        (Some(data_report(&plan)), None, vocab)
    } else {
        let note = format!(
            "{} holds no corpus yet{}",
            exp.dataset.root.display(),
            if exp.dataset.synthetic.is_some() {
                " (it is generated on the first run)"
            } else {
                ""
            }
        );
        let vocab = if exp.encoders.text.kind.is_pretrained() {
            pretrained_vocab(exp)?
        } else {
            exp.encodes(crate::config::Modality::Text).then_some(VocabSize {
                size: exp.encoders.text.tokenizer.vocab,
                source: "encoders.text.tokenizer.vocab (upper bound; the trained vocabulary may be smaller)",
            })
        };
        (None, Some(note), vocab)
    };
    let vocab_size = vocab.as_ref().map_or(0, |v| v.size);
    let modules = model_counts(exp, vocab_size)?;
    let mut folds = Vec::new();
    for name in fold_order(exp, dataset.as_ref()) {
        let fold_exp = exp.for_fold(name).map_err(anyhow::Error::msg)?;
        let modules = model_counts(&fold_exp, vocab_size)?;
        folds.push(FoldModel {
            fold: name.clone(),
            total: modules.iter().map(|m| m.total).sum(),
            trainable: modules.iter().map(|m| m.trainable).sum(),
            modules,
        });
    }
    let stages = stage_models(exp, vocab_size)?;
    Ok(Inspection {
        name: exp.name.clone(),
        fusion: exp.fusion.method().name(),
        total: modules.iter().map(|m| m.total).sum(),
        trainable: modules.iter().map(|m| m.trainable).sum(),
        modules,
        vocab_size: vocab,
        dataset,
        dataset_note,
        dataset_problem: problem,
        precomputed,
        folds,
        stages,
    })
}

/// Each stage's model; a stage with another pretrained text encoder counts its vocabulary.
fn stage_models(exp: &Experiment, vocab_size: usize) -> anyhow::Result<Vec<StageModel>> {
    let mut out = Vec::new();
    for name in exp.stage_order().map_err(anyhow::Error::msg)? {
        let stage = exp.for_stage(&name).map_err(anyhow::Error::msg)?;
        let vocab = if stage.encoders.text.kind.is_pretrained() {
            pretrained_vocab(&stage)?.map_or(vocab_size, |v| v.size)
        } else {
            vocab_size
        };
        let modules = model_counts(&stage, vocab)?;
        out.push(StageModel {
            stage: name,
            fusion: stage.fusion.method().name(),
            total: modules.iter().map(|m| m.total).sum(),
            trainable: modules.iter().map(|m| m.trainable).sum(),
            modules,
        });
    }
    Ok(out)
}

/// The names of `[fold.<name>]`, in the run's fold order when the corpus is on disk.
fn fold_order<'a>(exp: &'a Experiment, dataset: Option<&DataReport>) -> Vec<&'a String> {
    let mut names: Vec<&String> = exp.fold.keys().collect();
    if let Some(ds) = dataset {
        let position = |n: &String| ds.folds.iter().position(|f| &f.name == n);
        names.sort_by_key(|n| position(n).unwrap_or(usize::MAX));
    }
    names
}

/// Parameter counts of the model `exp` builds.
fn model_counts(exp: &Experiment, vocab_size: usize) -> anyhow::Result<Vec<ModuleParams>> {
    let spec = crate::train::fold_setup::model_spec(
        exp,
        vocab_size,
        crate::task::TaskSpec::from_experiment(exp).output_width(),
    )?;
    // On an autodiff device parameters carry their trainable flag; a plain one reports none.
    // Skeletons only: counting needs each encoder's config.json, never its weights.
    let device = crate::device::DeviceChoice::Flex.device()?.autodiff();
    spec.parameter_counts(&spec.init_skeleton(&device)?, &device)
}

/// A pretrained text encoder's vocabulary, from its folder's config.json.
fn pretrained_vocab(exp: &Experiment) -> anyhow::Result<Option<VocabSize>> {
    if !exp.encodes(crate::config::Modality::Text) {
        return Ok(None);
    }
    let spec = TextEncoderSpec::from_folder(&exp.encoders.text)?;
    let crate::encoders::text::TextBackboneSpec::Pretrained { hf, .. } = &spec.backbone else {
        unreachable!("from_folder builds a pretrained spec");
    };
    Ok(Some(VocabSize {
        size: hf.vocab_size,
        source: "vocab_size in the encoder folder's config.json",
    }))
}

/// Human-readable report.
pub fn render(ins: &Inspection) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "experiment {} (fusion {})\n", ins.name, ins.fusion);
    render_modules(&mut out, &ins.modules, ins.total, ins.trainable);
    for fold in &ins.folds {
        let _ = writeln!(out, "\nfold {} ([fold.{}]):", fold.fold, fold.fold);
        render_modules(&mut out, &fold.modules, fold.total, fold.trainable);
    }
    for stage in &ins.stages {
        let _ = writeln!(out, "\nstage {} (fusion {}):", stage.stage, stage.fusion);
        render_modules(&mut out, &stage.modules, stage.total, stage.trainable);
    }
    if let Some(v) = &ins.vocab_size {
        let _ = writeln!(out, "\ntext vocabulary: {} ({})", v.size, v.source);
    }
    match (&ins.dataset, &ins.dataset_note) {
        (Some(ds), _) => render_dataset(&mut out, ds),
        (None, Some(note)) => {
            let _ = writeln!(out, "\ndataset: {note}");
        }
        (None, None) => {}
    }
    if let Some(problem) = &ins.dataset_problem {
        let _ = writeln!(out, "\nthis corpus and config would not run: {problem}");
    }
    if let Some(summary) = &ins.precomputed {
        render_precomputed(&mut out, summary);
    }
    out
}

fn render_modules(out: &mut String, modules: &[ModuleParams], total: usize, trainable: usize) {
    let _ = writeln!(
        out,
        "{:<20} {:>12} {:>12}",
        "module", "parameters", "trainable"
    );
    for m in modules {
        let _ = writeln!(out, "{:<20} {:>12} {:>12}", m.module, m.total, m.trainable);
        for p in &m.parts {
            let name = format!("  {}", p.module);
            let _ = writeln!(out, "{name:<20} {:>12} {:>12}", p.total, p.trainable);
        }
    }
    let _ = writeln!(out, "{:<20} {:>12} {:>12}", "total", total, trainable);
}

fn render_precomputed(out: &mut String, summary: &CmuPickleSummary) {
    let _ = writeln!(
        out,
        "
precomputed features, utterances per label column (0, 1):"
    );
    let _ = writeln!(
        out,
        "{:<12}{:<8}{:>8}{:>8}{:>8}{:>10}",
        "emotion", "split", "total", "0", "1", "nan->0"
    );
    for (emotion, splits) in &summary.splits {
        for (split, s) in splits {
            let _ = writeln!(
                out,
                "{emotion:<12}{split:<8}{:>8}{:>8}{:>8}{:>10}",
                s.utterances, s.per_label[0], s.per_label[1], s.nan_zeroed
            );
        }
    }
}

fn render_dataset(out: &mut String, ds: &DataReport) {
    let _ = writeln!(
        out,
        "\ndataset: {} utterances kept of {} rows read",
        ds.utterances, ds.rows_read
    );
    for (reason, n) in &ds.dropped_by_reason {
        let _ = writeln!(out, "  dropped {n:>5}: {reason}");
    }
    let header: Vec<String> = ds.classes.iter().map(|c| format!("{c:>9}")).collect();
    let _ = writeln!(out, "\n{:<14}{}", "fold/split", header.join(""));
    let row =
        |out: &mut String, name: String, counts: &std::collections::BTreeMap<String, usize>| {
            let cells: Vec<String> = ds
                .classes
                .iter()
                .map(|c| format!("{:>9}", counts.get(c).copied().unwrap_or(0)))
                .collect();
            let _ = writeln!(out, "{name:<14}{}", cells.join(""));
        };
    row(out, "all".into(), &ds.class_counts);
    for f in &ds.folds {
        row(out, format!("{}/train", f.name), &f.train);
        row(out, format!("{}/valid", f.name), &f.valid);
        row(out, format!("{}/test", f.name), &f.test);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::config::{DatasetConfig, SplitConfig, SplitFiles, SplitProtocol};

    fn inspect_corpus(dataset: DatasetConfig, split: SplitConfig) -> Inspection {
        let experiment = Experiment {
            name: "fixture".into(),
            dataset,
            split,
            ..Default::default()
        };
        let loaded = LoadedExperiment {
            experiment,
            path: "fixture.toml".into(),
            source_text: String::new(),
            layers: vec![],
            cell: Vec::new(),
        };
        let ins = inspect(&loaded).unwrap();
        println!("{}", render(&ins));
        ins
    }

    fn dataset(kind: DatasetKind, root: &Path, classes: &[&str]) -> DatasetConfig {
        DatasetConfig {
            kind,
            root: root.to_path_buf(),
            classes: classes.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    fn split(protocol: SplitProtocol) -> SplitConfig {
        SplitConfig {
            protocol,
            folds: 2,
            valid_ratio: 0.2,
            ..Default::default()
        }
    }

    /// `[train, valid, test]` counts per fold, classes in `dataset.classes` order.
    fn fold_counts(ins: &Inspection) -> Vec<[Vec<usize>; 3]> {
        let ds = ins.dataset.as_ref().unwrap();
        let ordered = |counts: &BTreeMap<String, usize>| -> Vec<usize> {
            ds.classes.iter().map(|c| counts[c]).collect()
        };
        ds.folds
            .iter()
            .map(|f| [ordered(&f.train), ordered(&f.valid), ordered(&f.test)])
            .collect()
    }

    #[test]
    fn kemdy19_fixture_by_session() {
        let dir = tempfile::tempdir().unwrap();
        crate::data::kemdy19::tests::write_fixture(dir.path());
        let classes = ["neutral", "happy", "angry", "sad", "disgust"];
        let mut ds = dataset(DatasetKind::Kemdy19, dir.path(), &classes);
        ds.multi_label = crate::config::MultiLabelPolicy::First;
        let ins = inspect_corpus(ds, split(SplitProtocol::LeaveSessionOut));
        // Session 1 holds the neutral, happy (first of `happy;neutral`) and angry segments,
        // session 2 the disgust one; each session is tested whole.
        assert_eq!(
            fold_counts(&ins),
            [
                [vec![0, 0, 0, 0, 1], vec![0; 5], vec![1, 1, 1, 0, 0]],
                [vec![1, 1, 1, 0, 0], vec![0; 5], vec![0, 0, 0, 0, 1]],
            ]
        );
        assert_eq!(ins.dataset.as_ref().unwrap().dropped.len(), 7);
    }

    #[test]
    fn iemocap_fixture_by_session() {
        let dir = tempfile::tempdir().unwrap();
        crate::data::iemocap::tests::write_fixture(dir.path());
        let classes = ["neutral", "happy", "angry", "sad"];
        let ins = inspect_corpus(
            dataset(DatasetKind::Iemocap, dir.path(), &classes),
            split(SplitProtocol::LeaveSessionOut),
        );
        // four_class merges excited into happy; one happy of session 2 is carved for validation.
        assert_eq!(
            fold_counts(&ins),
            [
                [vec![1, 1, 0, 1], vec![0; 4], vec![1, 2, 1, 0]],
                [vec![1, 1, 1, 0], vec![0, 1, 0, 0], vec![1, 1, 0, 1]],
            ]
        );
        assert_eq!(ins.dataset.as_ref().unwrap().dropped.len(), 9);
    }

    #[test]
    fn mosei_fixture_by_split_files() {
        let dir = tempfile::tempdir().unwrap();
        crate::data::mosei::tests::write_fixture(dir.path());
        let classes = ["angry", "disgust", "fear", "happy", "sad", "surprise"];
        let mut ds = dataset(DatasetKind::Mosei, dir.path(), &classes);
        ds.multi_label = crate::config::MultiLabelPolicy::First;
        let lists = dir.path().join(crate::data::mosei::SPLIT_DIR);
        let mut cfg = split(SplitProtocol::Files);
        cfg.files = Some(SplitFiles {
            train: lists.join("train_split.txt"),
            valid: Some(lists.join("valid_split.txt")),
            test: lists.join("test_split.txt"),
        });
        let ins = inspect_corpus(ds, cfg);
        // vidA_2 is angry+happy+surprise (first: angry); the all-zero vidB_0 is the only valid
        // clip and has no label, so the valid list finds nothing.
        assert_eq!(
            fold_counts(&ins),
            [[vec![1, 0, 0, 1, 0, 0], vec![0; 6], vec![0, 1, 0, 0, 0, 0]]]
        );
    }

    #[test]
    fn manifest_fixture_in_contiguous_folds() {
        let dir = tempfile::tempdir().unwrap();
        let path = crate::data::manifest::tests::write_csv(dir.path());
        let classes = ["neutral", "happy", "angry", "sad"];
        let ins = inspect_corpus(
            dataset(DatasetKind::Manifest, &path, &classes),
            split(SplitProtocol::KfoldContiguous),
        );
        assert_eq!(
            fold_counts(&ins),
            [
                [vec![0, 0, 1, 0], vec![0; 4], vec![0, 1, 0, 0]],
                [vec![0, 1, 0, 0], vec![0; 4], vec![0, 0, 1, 0]],
            ]
        );
        let dropped = &ins.dataset.as_ref().unwrap().dropped_by_reason;
        assert_eq!(
            dropped["multi-label"], 1,
            "multi_label = \"drop\" counts the tie"
        );
    }

    #[test]
    fn cmu_pickle_fixture_counts() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cmu_pickle/iemocap_tiny.pkl");
        let ins = inspect_corpus(
            dataset(
                DatasetKind::IemocapCmuPickle,
                &path,
                &["negative", "positive"],
            ),
            split(SplitProtocol::PerEmotion),
        );
        // One fold per emotion, named after it, on the pickle's own splits.
        let folds = &ins.dataset.as_ref().expect("the pickle is a corpus").folds;
        assert_eq!(folds.len(), 2);
        assert_eq!(fold_counts(&ins)[0], [vec![0, 1], vec![0, 0], vec![0, 0]]);
        // The fixture's happy has no valid or test row: a run would refuse it, by name.
        let problem = ins.dataset_problem.as_deref().unwrap_or_default();
        assert!(problem.contains("empty valid split"), "{problem}");
        let summary = ins.precomputed.expect("pickle summary");
        let happy_train = &summary.splits["happy"]["train"];
        assert_eq!((happy_train.utterances, happy_train.per_label), (1, [0, 1]));
        assert_eq!(happy_train.nan_zeroed, 3);
        assert_eq!(summary.splits["sad"]["test"].per_label, [1, 0]);
        assert!(
            render(&Inspection {
                precomputed: Some(summary),
                ..ins
            })
            .contains("happy       train")
        );
    }
}
