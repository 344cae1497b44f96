//! Per-fold checkpoints: `best.safetensors`, `last.safetensors`, `optimizer.bpk` and
//! `state.json`. `state.json` is written last and names the epochs it covers, so a crash between
//! two writes leaves the previous consistent epoch to resume from.

use std::path::Path;

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

/// Save the epoch's weights and optimizer, then commit with `state.json`.
pub fn save_epoch(
    dir: &Path,
    model: &EmotionModel,
    optimizer: &ModuleOptimizer,
    state: &TrainState,
    is_best: bool,
) -> anyhow::Result<()> {
    save_weights(model, &dir.join(LAST))?;
    if is_best {
        save_weights(model, &dir.join(BEST))?;
    }
    crate::run::atomic::write_json_atomic(&dir.join(PARAM_IDS), &param_ids(model))?;
    let opt_path = dir.join(OPTIMIZER);
    crate::run::atomic::write_with(&opt_path, |tmp| {
        optimizer
            .save(tmp)
            .map_err(|e| anyhow::anyhow!("saving optimizer state to {}: {e:?}", tmp.display()))
    })?;
    crate::run::atomic::write_json_atomic(&dir.join(STATE), state)
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
    let model = load_weights(spec, &dir.join(LAST), device)?;
    let ids_path = dir.join(PARAM_IDS);
    let ids: Vec<u64> = serde_json::from_str(&std::fs::read_to_string(&ids_path)?)
        .with_context(|| format!("reading {}", ids_path.display()))?;
    let model = with_param_ids(model, &ids)?;
    let opt_path = dir.join(OPTIMIZER);
    let optimizer = optimizer
        .load(&opt_path)
        .map_err(|e| anyhow::anyhow!("loading optimizer state {}: {e:?}", opt_path.display()))?;
    Ok(Some((model, optimizer, state)))
}

/// The selected weights, in validation mode.
pub fn load_best(dir: &Path, spec: &ModelSpec, device: &Device) -> anyhow::Result<EmotionModel> {
    Ok(load_weights(spec, &dir.join(BEST), device)?.valid())
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
    crate::run::atomic::write_with(path, |tmp| {
        let mut store = SafetensorsStore::from_file(tmp);
        model
            .save_into(&mut store)
            .map_err(|e| anyhow::anyhow!("saving weights to {}: {e}", tmp.display()))
    })
}

fn load_weights(spec: &ModelSpec, path: &Path, device: &Device) -> anyhow::Result<EmotionModel> {
    let mut model = spec.init(device);
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
    use crate::config::{AudioEncoderConfig, FusionConfig, FusionMethod};
    use crate::encoders::AudioEncoderSpec;
    use crate::fusion::FusionSpec;
    use burn::optim::{AdamWConfig, GradientsParams};

    fn spec() -> ModelSpec {
        let audio = AudioEncoderConfig {
            n_mels: 8,
            channels: 8,
            conv_layers: 1,
            transformer_layers: 0,
            ..Default::default()
        };
        ModelSpec {
            text: None,
            audio: Some(AudioEncoderSpec { config: audio }),
            fusion: FusionSpec {
                config: FusionConfig {
                    method: FusionMethod::AudioOnly,
                    hidden: 8,
                    dropout: 0.0,
                    ..Default::default()
                },
                text_dim: 0,
                audio_dim: 8,
                n_classes: 3,
            },
        }
    }

    fn step(model: EmotionModel, optimizer: &mut ModuleOptimizer, device: &Device) -> EmotionModel {
        let features = Tensor::<3>::ones([2, 6, 8], device);
        let batch = crate::data::batch::Batch {
            indices: vec![0, 1],
            text_ids: None,
            text_lengths: vec![],
            audio: Some(features),
            audio_frames: vec![6, 4],
            labels: Tensor::from_data(TensorData::new(vec![0i64, 2], [2]), device),
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

    /// A resumed fold continues from exactly the saved weights, with the saved parameter ids
    /// (the optimizer keys its state by them) and a usable optimizer.
    #[test]
    fn resume_restores_weights_ids_and_optimizer() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::default().autodiff();
        let mut optimizer = AdamWConfig::new().init();
        let mut model = spec().init(&device);
        for _ in 0..3 {
            model = step(model, &mut optimizer, &device);
        }
        save_epoch(
            dir.path(),
            &model,
            &optimizer,
            &TrainState {
                epochs_done: 3,
                ..Default::default()
            },
            true,
        )
        .unwrap();

        let (restored, mut restored_opt, state) =
            load_last(dir.path(), &spec(), &device, AdamWConfig::new().init())
                .unwrap()
                .unwrap();
        assert_eq!(state.epochs_done, 3);
        assert_eq!(
            flat(&restored),
            flat(&model),
            "weights are restored exactly"
        );
        assert_eq!(
            param_ids(&restored),
            param_ids(&model),
            "parameter ids are restored"
        );
        let stepped = step(restored, &mut restored_opt, &device);
        assert_ne!(
            flat(&stepped),
            flat(&model),
            "training continues after a resume"
        );
    }
}
