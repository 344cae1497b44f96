//! `emo-run inspect`: the dataset (when it is on disk) and the model's modules with parameter
//! counts, without training anything.

use std::fmt::Write as _;

use serde::Serialize;

use crate::config::{Experiment, LoadedExperiment};
use crate::data::{make_folds, prepare_corpus};
use crate::encoders::{AudioEncoderSpec, TextEncoderSpec};
use crate::fusion::FusionSpec;
use crate::model::{ModelSpec, ModuleParams};
use crate::run::experiment::{DataReport, data_report};

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
}

#[derive(Serialize)]
pub struct VocabSize {
    pub size: usize,
    pub source: &'static str,
}

pub fn inspect(loaded: &LoadedExperiment) -> anyhow::Result<Inspection> {
    let exp = &loaded.experiment;
    let data_present = crate::data::corpus::layout_problem(&exp.dataset).is_none();
    let (dataset, dataset_note, vocab) = if data_present {
        let mut ds = exp.dataset.clone();
        ds.synthetic = None; // inspect reads; it never generates
        let corpus = prepare_corpus(&ds)?;
        let folds = make_folds(&corpus, &exp.split, exp.split.seed.unwrap_or(exp.seed))?;
        let vocab = if exp.fusion.method.uses_text() {
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
        (Some(data_report(&corpus, &folds)), None, vocab)
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
        let vocab = exp.fusion.method.uses_text().then_some(VocabSize {
            size: exp.encoders.text.tokenizer.vocab,
            source: "encoders.text.tokenizer.vocab (upper bound; the trained vocabulary may be smaller)",
        });
        (None, Some(note), vocab)
    };
    let spec = model_spec(exp, vocab.as_ref().map(|v| v.size));
    // On an autodiff device parameters carry their trainable flag; a plain one reports none.
    let device = crate::device::DeviceChoice::Flex.device()?.autodiff();
    let modules = spec.init(&device).parameter_counts();
    Ok(Inspection {
        name: exp.name.clone(),
        fusion: enum_name(&exp.fusion.method),
        total: modules.iter().map(|m| m.total).sum(),
        trainable: modules.iter().map(|m| m.trainable).sum(),
        modules,
        vocab_size: vocab,
        dataset,
        dataset_note,
    })
}

fn model_spec(exp: &Experiment, vocab_size: Option<usize>) -> ModelSpec {
    let text = vocab_size.map(|vocab_size| TextEncoderSpec {
        config: exp.encoders.text.clone(),
        vocab_size,
    });
    let audio = exp.fusion.method.uses_audio().then(|| AudioEncoderSpec {
        config: exp.encoders.audio.clone(),
    });
    ModelSpec {
        fusion: FusionSpec {
            config: exp.fusion.clone(),
            text_dim: text.as_ref().map_or(0, TextEncoderSpec::output_dim),
            audio_dim: audio.as_ref().map_or(0, AudioEncoderSpec::output_dim),
            n_classes: exp.dataset.classes.len(),
        },
        text,
        audio,
    }
}

fn enum_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Human-readable report.
pub fn render(ins: &Inspection) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "experiment {} (fusion {})\n", ins.name, ins.fusion);
    let _ = writeln!(
        out,
        "{:<18} {:>12} {:>12}",
        "module", "parameters", "trainable"
    );
    for m in &ins.modules {
        let _ = writeln!(out, "{:<18} {:>12} {:>12}", m.module, m.total, m.trainable);
    }
    let _ = writeln!(
        out,
        "{:<18} {:>12} {:>12}",
        "total", ins.total, ins.trainable
    );
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
    out
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
        row(out, format!("{}/train", f.fold + 1), &f.train);
        row(out, format!("{}/valid", f.fold + 1), &f.valid);
        row(out, format!("{}/test", f.fold + 1), &f.test);
    }
}
