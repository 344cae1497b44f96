//! A finished run folder opened for inference (`emo-run predict`, `emo-run eval`): its stages,
//! each stage's experiment, each fold's folder, and a fold's model rebuilt exactly as training
//! built it (`train::fold_setup`), its selected weights loaded.
//!
//! Layout: `resolved.toml` and `DONE` at the top. A single-stage run has one stage, `main`,
//! whose experiment is `resolved.toml`; a multi-stage run has `stages/<stage>/resolved.toml`
//! (that stage's whole experiment) and `stages/<stage>/DONE` per stage. Each stage's folds are
//! `checkpoints/<stage>/fold-*/` with `best.safetensors`, `result.json` and, where the fold
//! made them, `tokenizer.json` and `feature_stats.json`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::*;
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::dir::DONE;
use super::experiment::MAIN_STAGE;
use crate::config::{AudioEncoderKind, EncoderInit, Experiment, Modality};
use crate::data::features::FeatureStats;
use crate::encoders::folder::WEIGHT_FILES;
use crate::model::{EmotionModel, ModuleParams};
use crate::task::TaskSpec;
use crate::train::checkpoint::load_selected;
use crate::train::fold_setup::{
    fold_model_spec, folder_tokenizer, saved_feature_stats, saved_tokenizer,
};

const RESOLVED: &str = "resolved.toml";
const STAGES: &str = "stages";
const RESULT: &str = "result.json";

/// A run folder and the names of its stages.
#[derive(Debug, Clone)]
pub struct SavedRun {
    pub path: PathBuf,
    /// Sorted; `["main"]` for a single-stage run.
    pub stages: Vec<String>,
    multi_stage: bool,
}

impl SavedRun {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        anyhow::ensure!(
            path.is_dir(),
            "{}: no such run folder; expected a folder under runs/<name>/ that holds resolved.toml",
            path.display()
        );
        anyhow::ensure!(
            path.join(RESOLVED).is_file(),
            "{} is not a run folder: it has no {RESOLVED}",
            path.display()
        );
        let stages_dir = path.join(STAGES);
        if !stages_dir.is_dir() {
            return Ok(Self {
                path: path.to_path_buf(),
                stages: vec![MAIN_STAGE.to_string()],
                multi_stage: false,
            });
        }
        let mut stages: Vec<String> = std::fs::read_dir(&stages_dir)
            .with_context(|| format!("listing {}", stages_dir.display()))?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(String::from))
            .collect();
        sort_in_run_order(&mut stages, &path.join(RESOLVED));
        anyhow::ensure!(
            !stages.is_empty(),
            "{} holds no stage folder; expected stages/<stage>/resolved.toml",
            stages_dir.display()
        );
        Ok(Self {
            path: path.to_path_buf(),
            stages,
            multi_stage: true,
        })
    }

    /// The stage called `name`, or the run's only stage when `name` is `None`. Refused when the
    /// run does not have it or it has not finished.
    pub fn stage(&self, name: Option<&str>) -> anyhow::Result<SavedStage> {
        let name = match name {
            Some(name) => name,
            None if self.stages.len() == 1 => &self.stages[0],
            None => anyhow::bail!(
                "{} has {} stages ({}); choose one with --stage",
                self.path.display(),
                self.stages.len(),
                self.stages.join(", ")
            ),
        };
        anyhow::ensure!(
            self.stages.iter().any(|s| s == name),
            "{} has no stage {name:?}; its stages are: {}",
            self.path.display(),
            self.stages.join(", ")
        );
        SavedStage::open(self, name)
    }

    /// Where the stage's experiment and `DONE` are.
    fn stage_dir(&self, name: &str) -> PathBuf {
        if self.multi_stage {
            self.path.join(STAGES).join(name)
        } else {
            self.path.clone()
        }
    }
}

/// `stages` in the order the run ran them (its `resolved.toml`'s stage graph); any the graph
/// does not name, and all of them when the file cannot be read, go last in name order.
fn sort_in_run_order(stages: &mut [String], resolved: &Path) {
    let order = crate::config::load::load_resolved(resolved)
        .ok()
        .and_then(|exp| exp.stage_order().ok())
        .unwrap_or_default();
    let position = |s: &String| order.iter().position(|o| o == s).unwrap_or(usize::MAX);
    stages.sort_by(|a, b| position(a).cmp(&position(b)).then_with(|| a.cmp(b)));
}

/// One finished stage: its experiment and its folds.
#[derive(Debug, Clone)]
pub struct SavedStage {
    pub run: PathBuf,
    pub name: String,
    /// The stage's `resolved.toml`, which errors name.
    pub resolved: PathBuf,
    pub experiment: Experiment,
    /// In fold order.
    pub folds: Vec<SavedFold>,
}

/// One fold's folder.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedFold {
    /// 0-based (`Fold::index`).
    pub index: usize,
    /// What `[fold.<name>]` and the summary call it (its 1-based number, or an emotion).
    pub name: String,
    pub dir: PathBuf,
}

/// What a fold's `result.json` says about the fold itself.
#[derive(Deserialize)]
struct FoldIdentity {
    fold: usize,
    #[serde(default)]
    name: String,
}

impl SavedStage {
    fn open(run: &SavedRun, name: &str) -> anyhow::Result<Self> {
        let dir = run.stage_dir(name);
        if run.multi_stage {
            anyhow::ensure!(
                dir.join(DONE).is_file(),
                "{}: stage {name} has not finished ({} does not exist); only a finished stage's selected weights are final (choose finished stages with --stage)",
                run.path.display(),
                dir.join(DONE).display()
            );
        } else {
            anyhow::ensure!(
                dir.join(DONE).is_file(),
                "{} is an unfinished run: it has no {DONE} (a run writes it last); finish it by running its experiment again",
                run.path.display()
            );
        }
        let resolved = dir.join(RESOLVED);
        let experiment = crate::config::load_resolved(&resolved)
            .with_context(|| {
                format!(
                    "loading the experiment of stage {name} of {} (the model folders it names must be where the run found them)",
                    run.path.display()
                )
            })?;
        let folds = saved_folds(&run.path.join("checkpoints").join(name))?;
        Ok(Self {
            run: run.path.clone(),
            name: name.to_string(),
            resolved,
            experiment,
            folds,
        })
    }

    /// The fold called `key` (its name), or the `key`-th fold (1-based).
    pub fn fold(&self, key: &str) -> anyhow::Result<&SavedFold> {
        let by_name = self.folds.iter().find(|f| f.name == key);
        let by_number = || {
            key.parse::<usize>()
                .ok()
                .and_then(|k| k.checked_sub(1))
                .and_then(|i| self.folds.get(i))
        };
        by_name.or_else(by_number).ok_or_else(|| {
            let names: Vec<&str> = self.folds.iter().map(|f| f.name.as_str()).collect();
            anyhow::anyhow!(
                "{}: stage {} has no fold {key:?}; its folds are {} (give a fold's name or its 1-based number)",
                self.run.display(),
                self.name,
                names.join(", ")
            )
        })
    }

    /// The fold's experiment: the stage's with `[fold.<name>]` on top, as the fold trained.
    pub fn fold_experiment(&self, fold: &SavedFold) -> anyhow::Result<Experiment> {
        self.experiment
            .for_fold(&fold.name)
            .map_err(|e| anyhow::anyhow!("{}: [fold.{}]: {e}", self.resolved.display(), fold.name))
    }

    /// The fold's model with its selected weights, and what its inputs need from the fold.
    pub fn load_fold(&self, fold: &SavedFold, device: &Device) -> anyhow::Result<FoldModel> {
        let exp = self.fold_experiment(fold)?;
        check_encoder_folders(&exp, &self.resolved)?;
        let tokenizer = self.fold_tokenizer(&exp, fold)?;
        let stats = reads_log_mel(&exp)
            .then(|| saved_feature_stats(&fold.dir))
            .transpose()?;
        let vocab = tokenizer.as_ref().map_or(0, |t| t.get_vocab_size(true));
        let spec = fold_model_spec(&exp, vocab)
            .with_context(|| format!("rebuilding the model of {}", fold.dir.display()))?;
        // Loaded on the autodiff device, where parameters carry their trainable flag, to count
        // them as model.json does; `valid()` then hands the plain device's model.
        let autodiff = device.clone().autodiff();
        let loaded = load_selected(&fold.dir, &spec, &autodiff)?;
        let parameters = spec.parameter_counts(&loaded, &autodiff)?;
        Ok(FoldModel {
            task: TaskSpec::from_experiment(&exp),
            exp,
            tokenizer,
            stats,
            parameters,
            model: loaded.valid(),
        })
    }

    /// The tokenizer of a trained text encoder: a pretrained encoder's own, or the one the fold
    /// trained. A frozen encoder's tokens are made with its features (`run::inputs`).
    fn fold_tokenizer(
        &self,
        exp: &Experiment,
        fold: &SavedFold,
    ) -> anyhow::Result<Option<Tokenizer>> {
        if !exp.encodes(Modality::Text) || exp.encoders.text.train.is_frozen() {
            return Ok(None);
        }
        if let Some(own) = folder_tokenizer(exp)? {
            return Ok(Some(own));
        }
        let saved = saved_tokenizer(&fold.dir)?;
        anyhow::ensure!(
            saved.is_some(),
            "{} does not exist; expected the tokenizer the fold trained for its text encoder",
            fold.dir
                .join(crate::train::fold_setup::TOKENIZER_FILE)
                .display()
        );
        Ok(saved)
    }
}

/// A finished fold's model, ready to score: the fold's experiment, task, tokenizer and
/// feature statistics, and the model with its selected weights in validation mode.
pub struct FoldModel {
    pub exp: Experiment,
    pub task: TaskSpec,
    /// For a trained text encoder.
    pub tokenizer: Option<Tokenizer>,
    /// For log-mel input.
    pub stats: Option<FeatureStats>,
    /// Total and trainable parameter counts per module, as `model.json` counts them.
    pub parameters: Vec<ModuleParams>,
    /// In validation mode.
    pub model: EmotionModel,
}

/// The streams the method takes that the corpus delivered pre-extracted (the CMU pickle's):
/// nothing but that corpus can provide them.
pub fn pre_extracted_streams(exp: &Experiment) -> Vec<Modality> {
    exp.fusion
        .method()
        .needs()
        .iter()
        .map(|&(modality, _)| modality)
        .filter(|&m| !exp.encodes(m))
        .collect()
}

/// Whether the model's audio arrives as log-mel frames normalised by the fold's statistics.
fn reads_log_mel(exp: &Experiment) -> bool {
    exp.encodes(Modality::Audio) && exp.encoders.audio.kind == AudioEncoderKind::LogmelConv
}

/// Every `fold-*` folder of a stage's checkpoints, in fold order, named by its `result.json`.
fn saved_folds(checkpoints: &Path) -> anyhow::Result<Vec<SavedFold>> {
    let entries = std::fs::read_dir(checkpoints).with_context(|| {
        format!(
            "listing {}; expected the stage's fold folders",
            checkpoints.display()
        )
    })?;
    let mut folds = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let dir = entry.path();
        let is_fold = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("fold-"));
        if !is_fold || !dir.is_dir() {
            continue;
        }
        let path = dir.join(RESULT);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {}; expected the result of a finished fold",
                path.display()
            )
        })?;
        let identity: FoldIdentity = serde_json::from_str(&text)
            .with_context(|| format!("{}: expected a fold result", path.display()))?;
        let name = match identity.name.is_empty() {
            true => (identity.fold + 1).to_string(),
            false => identity.name,
        };
        folds.push(SavedFold {
            index: identity.fold,
            name,
            dir,
        });
    }
    folds.sort_by_key(|f| f.index);
    anyhow::ensure!(
        !folds.is_empty(),
        "{} holds no fold folder (fold-*)",
        checkpoints.display()
    );
    Ok(folds)
}

/// The model folders the fold's model reads (`encoders.*.path` of the resolved config) must
/// still be where the run found them, with the files inference reads: config.json, a text
/// encoder's tokenizer.json, and the weights of a frozen encoder (a trained one's weights are
/// in `best.safetensors`).
fn check_encoder_folders(exp: &Experiment, resolved: &Path) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let text = &exp.encoders.text;
    if exp.encodes(Modality::Text) && text.kind.is_pretrained() {
        let weights = text.train.is_frozen() && text.init == EncoderInit::Pretrained;
        problems.extend(folder_problem(
            "encoders.text.path",
            text.path.as_deref(),
            &["config.json", "tokenizer.json"],
            weights,
        ));
    }
    let audio = &exp.encoders.audio;
    if exp.encodes(Modality::Audio) && audio.kind == AudioEncoderKind::Wav2vec2 {
        let weights = audio.train.is_frozen() && audio.init == EncoderInit::Pretrained;
        problems.extend(folder_problem(
            "encoders.audio.path",
            audio.path.as_deref(),
            &["config.json"],
            weights,
        ));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => anyhow::bail!(
            "{} names model folders that are not where the run found them:\n- {}\nPut each folder back at that path (or link it there)",
            resolved.display(),
            problems.join("\n- ")
        ),
    }
}

/// What is missing of one model folder, `None` when nothing is.
fn folder_problem(key: &str, dir: Option<&Path>, files: &[&str], weights: bool) -> Option<String> {
    let Some(dir) = dir else {
        return Some(format!(
            "{key} is not set; the encoder needs its model folder"
        ));
    };
    if !dir.is_dir() {
        return Some(format!(
            "{key} = {}: the folder does not exist (moved?); the encoder needs its {}",
            dir.display(),
            files.join(", ")
        ));
    }
    let mut missing: Vec<String> = files
        .iter()
        .filter(|f| !dir.join(f).is_file())
        .map(|f| f.to_string())
        .collect();
    if weights && !WEIGHT_FILES.iter().any(|w| dir.join(w).is_file()) {
        missing.push(format!(
            "the frozen encoder's weights ({})",
            WEIGHT_FILES.join(" or ")
        ));
    }
    (!missing.is_empty())
        .then(|| format!("{key} = {}: lacks {}", dir.display(), missing.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_fold(checkpoints: &Path, dir: &str, fold: usize, name: &str) {
        let dir = checkpoints.join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let result = serde_json::json!({"fold": fold, "name": name, "best_epoch": 1});
        std::fs::write(dir.join(RESULT), result.to_string()).unwrap();
    }

    #[test]
    fn folds_are_ordered_by_index_and_found_by_name_or_number() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoints = dir.path().join("checkpoints/main");
        write_fold(&checkpoints, "fold-1", 1, "2");
        write_fold(&checkpoints, "fold-0", 0, "1");
        std::fs::create_dir_all(checkpoints.join("other")).unwrap();
        let folds = saved_folds(&checkpoints).unwrap();
        let names: Vec<&str> = folds.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["1", "2"]);
        let stage = SavedStage {
            run: dir.path().to_path_buf(),
            name: "main".into(),
            resolved: dir.path().join(RESOLVED),
            experiment: Experiment::default(),
            folds,
        };
        assert_eq!(stage.fold("2").unwrap().index, 1);
        let err = stage.fold("3").unwrap_err().to_string();
        assert!(
            err.contains("no fold \"3\"") && err.contains("1, 2"),
            "{err}"
        );
    }

    #[test]
    fn an_emotion_fold_is_found_by_name_and_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoints = dir.path().join("checkpoints/main");
        write_fold(&checkpoints, "fold-0", 0, "happy");
        write_fold(&checkpoints, "fold-1", 1, "sad");
        let stage = SavedStage {
            run: dir.path().to_path_buf(),
            name: "main".into(),
            resolved: dir.path().join(RESOLVED),
            experiment: Experiment::default(),
            folds: saved_folds(&checkpoints).unwrap(),
        };
        assert_eq!(stage.fold("sad").unwrap().index, 1);
        assert_eq!(stage.fold("1").unwrap().name, "happy");
    }

    #[test]
    fn stages_come_from_the_stages_folder_and_an_unknown_one_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(RESOLVED), "").unwrap();
        let single = SavedRun::open(dir.path()).unwrap();
        assert_eq!(single.stages, ["main"]);
        for stage in ["teacher", "student"] {
            std::fs::create_dir_all(dir.path().join(STAGES).join(stage)).unwrap();
        }
        let multi = SavedRun::open(dir.path()).unwrap();
        assert_eq!(multi.stages, ["student", "teacher"]);
        let err = multi.stage(Some("main")).unwrap_err().to_string();
        assert!(
            err.contains("no stage \"main\"") && err.contains("student, teacher"),
            "{err}"
        );
        let err = multi.stage(None).unwrap_err().to_string();
        assert!(err.contains("--stage"), "{err}");
        let err = multi.stage(Some("teacher")).unwrap_err().to_string();
        assert!(err.contains("stage teacher has not finished"), "{err}");

        // In the order the run ran them, once resolved.toml holds the stage graph.
        std::fs::write(
            dir.path().join(RESOLVED),
            "[[stages]]\nname = \"teacher\"\n\n[[stages]]\nname = \"student\"\nafter = [\"teacher\"]\n",
        )
        .unwrap();
        assert_eq!(
            SavedRun::open(dir.path()).unwrap().stages,
            ["teacher", "student"]
        );
    }

    #[test]
    fn a_moved_model_folder_is_named_with_its_key() {
        let problem = folder_problem(
            "encoders.text.path",
            Some(Path::new("/nowhere/klue-roberta")),
            &["config.json", "tokenizer.json"],
            false,
        )
        .unwrap();
        assert!(
            problem.contains("encoders.text.path = /nowhere/klue-roberta")
                && problem.contains("does not exist"),
            "{problem}"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let problem = folder_problem("k", Some(dir.path()), &["config.json"], true).unwrap();
        assert!(problem.contains("weights"), "{problem}");
        assert!(folder_problem("k", Some(dir.path()), &["config.json"], false).is_none());
    }
}
