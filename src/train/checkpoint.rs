//! Per-fold checkpoints. Every epoch writes `epoch-NNNN.safetensors` and
//! `optimizer-NNNN.bpk`, then commits them by writing `state.json`, which names the epoch they
//! belong to. A crash between two writes therefore leaves files of an uncommitted epoch beside a
//! consistent committed one, never a mix. Files of epochs that are neither the last committed nor
//! the best are removed after each commit. When the fold finishes, [`publish`] copies the
//! selected and last weights and the optimizer state to `best.safetensors`, `last.safetensors`
//! and `optimizer.bpk`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::model::{EmotionModel, ModelSpec};
use crate::report::MetricRow;

const BEST: &str = "best.safetensors";
const LAST: &str = "last.safetensors";
const OPTIMIZER: &str = "optimizer.bpk";
const STATE: &str = "state.json";
const PARAM_IDS: &str = "param_ids.json";

/// Training progress of one fold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainState {
    pub epochs_done: usize,
    /// 1-based epoch of the selected weights (0 before the first epoch).
    pub best_epoch: usize,
    pub best_score: Option<f64>,
    /// Train and valid rows of the finished epochs.
    pub metrics: Vec<MetricRow>,
    /// Training seconds spent before this process (for `wall_s` after a resume).
    pub wall_s: f64,
}

fn weights_file(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("epoch-{epoch:04}.safetensors"))
}

fn optimizer_file(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("optimizer-{epoch:04}.bpk"))
}

/// Save the finished epoch's weights and optimizer under its own names, then commit it with
/// `state.json`; afterwards drop the files no committed state refers to.
pub fn save_epoch(
    dir: &Path,
    model: &EmotionModel,
    optimizer: &ModuleOptimizer,
    state: &TrainState,
) -> anyhow::Result<()> {
    let epoch = state.epochs_done;
    save_weights(model, &weights_file(dir, epoch))?;
    let opt_path = optimizer_file(dir, epoch);
    crate::atomic::write_with(&opt_path, |tmp| {
        optimizer
            .save(tmp)
            .map_err(|e| anyhow::anyhow!("saving optimizer state to {}: {e:?}", tmp.display()))
    })?;
    // The ids never change during training; writing them every epoch keeps the commit simple.
    crate::atomic::write_json_atomic(&dir.join(PARAM_IDS), &param_ids(model))?;
    crate::atomic::write_json_atomic(&dir.join(STATE), state)?;
    remove_stale_epochs(dir, &[epoch, state.best_epoch])
}

/// Remove `epoch-*.safetensors` and `optimizer-*.bpk` files except those of `keep` epochs
/// (the optimizer state is only needed for the last one, `keep[0]`).
fn remove_stale_epochs(dir: &Path, keep: &[usize]) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let stale = if let Some(n) = epoch_of(name, "epoch-", ".safetensors") {
            !keep.contains(&n)
        } else if let Some(n) = epoch_of(name, "optimizer-", ".bpk") {
            keep.first() != Some(&n)
        } else {
            false
        };
        if stale {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

fn epoch_of(name: &str, prefix: &str, suffix: &str) -> Option<usize> {
    name.strip_prefix(prefix)?
        .strip_suffix(suffix)?
        .parse()
        .ok()
}

/// The last committed epoch's model, optimizer and state, if any epoch was committed.
pub fn load_last(
    dir: &Path,
    spec: &ModelSpec,
    device: &Device,
    optimizer: ModuleOptimizer,
) -> anyhow::Result<Option<(EmotionModel, ModuleOptimizer, TrainState)>> {
    let state_path = dir.join(STATE);
    if !state_path.exists() {
        return Ok(None);
    }
    let state: TrainState = serde_json::from_str(&std::fs::read_to_string(&state_path)?)
        .with_context(|| format!("reading {}", state_path.display()))?;
    let model = load_weights(spec, &weights_file(dir, state.epochs_done), device)?;
    let ids_path = dir.join(PARAM_IDS);
    let ids: Vec<u64> = serde_json::from_str(&std::fs::read_to_string(&ids_path)?)
        .with_context(|| format!("reading {}", ids_path.display()))?;
    let model = with_param_ids(model, &ids)?;
    let opt_path = optimizer_file(dir, state.epochs_done);
    let optimizer = optimizer
        .load(&opt_path)
        .map_err(|e| anyhow::anyhow!("loading optimizer state {}: {e:?}", opt_path.display()))?;
    Ok(Some((model, optimizer, state)))
}

/// The selected weights, in validation mode.
pub fn load_best(
    dir: &Path,
    state: &TrainState,
    spec: &ModelSpec,
    device: &Device,
) -> anyhow::Result<EmotionModel> {
    Ok(load_weights(spec, &weights_file(dir, state.best_epoch), device)?.valid())
}

/// A finished fold's selected weights (`best.safetensors`): what its test pass scored with, for
/// inference from a finished run. Returned as built (on an autodiff device its trainable
/// parameters are marked, for their count); `.valid()` it to score.
pub fn load_selected(
    dir: &Path,
    spec: &ModelSpec,
    device: &Device,
) -> anyhow::Result<EmotionModel> {
    let path = dir.join(BEST);
    anyhow::ensure!(
        path.is_file(),
        "{} does not exist; expected the fold's selected weights, written when the fold finished",
        path.display()
    );
    load_weights(spec, &path, device)
}

/// Copy the finished fold's best and last weights and its optimizer state to their final names.
/// Copies, not renames, so that a crash here leaves the epoch files a resume reads intact.
pub fn publish(dir: &Path, state: &TrainState) -> anyhow::Result<()> {
    let copies = [
        (weights_file(dir, state.best_epoch), BEST),
        (weights_file(dir, state.epochs_done), LAST),
        (optimizer_file(dir, state.epochs_done), OPTIMIZER),
    ];
    for (from, to) in copies {
        let to = dir.join(to);
        crate::atomic::write_with(&to, |tmp| {
            std::fs::copy(&from, tmp)
                .map(drop)
                .with_context(|| format!("copying {} to {}", from.display(), tmp.display()))
        })?;
    }
    Ok(())
}

/// Remove the per-epoch files once the fold's result is committed.
pub fn clean_epochs(dir: &Path) -> anyhow::Result<()> {
    remove_stale_epochs(dir, &[])
}

/// Parameter ids in visiting order. The optimizer keys its moments by parameter id, and a model
/// rebuilt from safetensors gets fresh ids, so the ids are saved and put back on resume.
fn param_ids(model: &EmotionModel) -> Vec<u64> {
    struct Ids(Vec<u64>);
    impl ModuleVisitor for Ids {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.id.val());
        }
    }
    let mut ids = Ids(Vec::new());
    model.visit(&mut ids);
    ids.0
}

fn with_param_ids(model: EmotionModel, ids: &[u64]) -> anyhow::Result<EmotionModel> {
    struct SetIds<'a>(std::slice::Iter<'a, u64>);
    impl ModuleMapper for SetIds<'_> {
        fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            if let Some(&id) = self.0.next() {
                param.id = ParamId::from(id);
            }
            param
        }
    }
    let expected = param_ids(&model).len();
    anyhow::ensure!(
        ids.len() == expected,
        "saved parameter ids ({}) do not match the model ({expected}); the checkpoint was made by another configuration",
        ids.len()
    );
    Ok(model.map(&mut SetIds(ids.iter())))
}

fn save_weights(model: &EmotionModel, path: &Path) -> anyhow::Result<()> {
    crate::atomic::write_with(path, |tmp| {
        let mut store = SafetensorsStore::from_file(tmp);
        model
            .save_into(&mut store)
            .map_err(|e| anyhow::anyhow!("saving weights to {}: {e}", tmp.display()))
    })
}

fn load_weights(spec: &ModelSpec, path: &Path, device: &Device) -> anyhow::Result<EmotionModel> {
    let mut model = spec.init_skeleton(device)?;
    let mut store = SafetensorsStore::from_file(path);
    let applied = model
        .load_from(&mut store)
        .map_err(|e| anyhow::anyhow!("loading weights from {}: {e}", path.display()))?;
    if !applied.missing.is_empty() {
        anyhow::bail!(
            "{}: checkpoint lacks {} tensors of the model (e.g. {:?}); it was made by another configuration",
            path.display(),
            applied.missing.len(),
            applied.missing.first()
        );
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::{AdamWConfig, GradientsParams};

    fn spec() -> ModelSpec {
        crate::train::tiny_audio_spec()
    }

    use crate::batch::StreamBatch;
    use crate::config::Modality;
    use crate::encoders::AudioInput;

    fn step(model: EmotionModel, optimizer: &mut ModuleOptimizer, device: &Device) -> EmotionModel {
        let features = Tensor::<3>::ones([2, 6, 8], device);
        let batch = crate::batch::Batch {
            indices: vec![0, 1],
            streams: [(
                Modality::Audio,
                StreamBatch::Audio(AudioInput::LogMel {
                    frames: features,
                    lengths: vec![6, 4],
                }),
            )]
            .into(),
            labels: Tensor::from_data(TensorData::new(vec![0i64, 2], [2]), device),
            soft: None,
        };
        let loss = model.forward(&batch).powf_scalar(2.0).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        optimizer.step(1e-2, model, grads)
    }

    fn flat(model: &EmotionModel) -> Vec<f32> {
        struct All(Vec<f32>);
        impl ModuleVisitor for All {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(param.val().into_data().iter::<f32>());
            }
        }
        let mut all = All(Vec::new());
        model.visit(&mut all);
        all.0
    }

    fn state(epochs_done: usize, best_epoch: usize) -> TrainState {
        TrainState {
            epochs_done,
            best_epoch,
            ..Default::default()
        }
    }

    fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Stepping after a save and load gives bit for bit what stepping on without the
    /// interruption gives: AdamW's moments and step count come back with the weights, and the
    /// parameter ids the optimizer keys them by.
    #[test]
    fn resumed_training_is_bit_identical() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::default().autodiff();
        let mut optimizer = AdamWConfig::new().with_weight_decay(0.01).init();
        let mut model = spec().init(&device).unwrap();
        for _ in 0..3 {
            model = step(model, &mut optimizer, &device);
        }
        save_epoch(dir.path(), &model, &optimizer, &state(3, 3)).unwrap();
        let mut straight = model.clone();
        for _ in 0..2 {
            straight = step(straight, &mut optimizer, &device);
        }

        let fresh = AdamWConfig::new().with_weight_decay(0.01).init();
        let (mut resumed, mut resumed_opt, loaded) = load_last(dir.path(), &spec(), &device, fresh)
            .unwrap()
            .unwrap();
        assert_eq!(loaded.epochs_done, 3);
        assert_eq!(flat(&resumed), flat(&model), "weights are restored exactly");
        assert_eq!(param_ids(&resumed), param_ids(&model), "ids are restored");
        for _ in 0..2 {
            resumed = step(resumed, &mut resumed_opt, &device);
        }
        assert_eq!(flat(&resumed), flat(&straight));
    }

    /// The weights and optimizer files an epoch's `state.json` commits are synced to disk
    /// before it is written; otherwise a power loss could leave a commit of empty files.
    #[test]
    fn epoch_files_are_synced_before_their_commit() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::default().autodiff();
        let mut optimizer = AdamWConfig::new().init();
        let model = step(spec().init(&device).unwrap(), &mut optimizer, &device);
        save_epoch(dir.path(), &model, &optimizer, &state(1, 1)).unwrap();
        let synced = crate::atomic::tests::synced_in(dir.path());
        for name in ["epoch-0001.safetensors", "optimizer-0001.bpk"] {
            assert!(
                synced.iter().any(|s| s == name),
                "{name} not synced: {synced:?}"
            );
        }
    }

    /// Files of an epoch that `state.json` does not name yet (a crash before the commit) are
    /// ignored: the resume starts from the committed epoch.
    #[test]
    fn uncommitted_epoch_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::default().autodiff();
        let mut optimizer = AdamWConfig::new().init();
        let mut model = spec().init(&device).unwrap();
        model = step(model, &mut optimizer, &device);
        save_epoch(dir.path(), &model, &optimizer, &state(1, 1)).unwrap();
        let committed = flat(&model);
        let model = step(model, &mut optimizer, &device);
        // The crash: epoch 2's weights are written, its state is not.
        save_weights(&model, &weights_file(dir.path(), 2)).unwrap();

        let (resumed, _, loaded) =
            load_last(dir.path(), &spec(), &device, AdamWConfig::new().init())
                .unwrap()
                .unwrap();
        assert_eq!(loaded.epochs_done, 1);
        assert_eq!(flat(&resumed), committed);
    }

    /// Only the last and the best epoch's weights and the last optimizer state stay on disk;
    /// `publish` gives them their final names and `clean_epochs` removes the rest.
    #[test]
    fn keeps_last_and_best_then_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::default().autodiff();
        let mut optimizer = AdamWConfig::new().init();
        let mut model = spec().init(&device).unwrap();
        let mut best_weights = Vec::new();
        for epoch in 1..=4 {
            model = step(model, &mut optimizer, &device);
            if epoch == 2 {
                best_weights = flat(&model);
            }
            save_epoch(dir.path(), &model, &optimizer, &state(epoch, 2.min(epoch))).unwrap();
        }
        assert_eq!(
            file_names(dir.path()),
            [
                "epoch-0002.safetensors",
                "epoch-0004.safetensors",
                "optimizer-0004.bpk",
                "param_ids.json",
                "state.json"
            ]
        );
        let best = load_best(dir.path(), &state(4, 2), &spec(), &device).unwrap();
        assert_eq!(flat(&best), best_weights);

        publish(dir.path(), &state(4, 2)).unwrap();
        clean_epochs(dir.path()).unwrap();
        assert_eq!(
            file_names(dir.path()),
            [
                "best.safetensors",
                "last.safetensors",
                "optimizer.bpk",
                "param_ids.json",
                "state.json"
            ]
        );
        let published = load_weights(&spec(), &dir.path().join(BEST), &device).unwrap();
        assert_eq!(flat(&published), best_weights);
        let last = load_weights(&spec(), &dir.path().join(LAST), &device).unwrap();
        assert_eq!(flat(&last), flat(&model));
    }
}
