//! The optimizer step: Adam or AdamW, a learning rate per module, gradient accumulation and
//! clipping.
//!
//! Per-module learning rates use burn's own `ModuleLearningRate` (built through
//! `ModuleLrScheduler` with one constant rate per `ParamGroup`): a single optimizer and a single
//! step for all parameters, so the optimizer state (keyed by parameter id) saves and restores
//! exactly as with one learning rate.
//!
//! Clipping is done here rather than with burn's `GradientClippingConfig`: burn's `Norm`
//! clips each parameter tensor by its OWN norm, while PyTorch's `clip_grad_norm_` (what the
//! seeds and most papers mean) rescales all gradients together by their GLOBAL norm, which
//! keeps the direction of the update.

use burn::module::{Module, ModuleVisitor, Param, ParamGroup};
use burn::optim::lr_scheduler::module_lr_scheduler::{ModuleLearningRate, ModuleLrScheduler};
use burn::optim::{
    AdamConfig, AdamWConfig, GradientsAccumulator, GradientsParams, ModuleOptimizer,
    decay::WeightDecayConfig,
};
use burn::prelude::*;

pub use crate::config::names::MODULE_NAMES;
use crate::config::{AccumulateSchedule, OptimizerConfig, OptimizerKind, TrainConfig};
use crate::model::EmotionModel;

/// A fresh optimizer of the configured kind.
pub fn build_optimizer(cfg: &OptimizerConfig) -> ModuleOptimizer {
    match cfg.kind {
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_beta_1(cfg.beta1 as f32)
            .with_beta_2(cfg.beta2 as f32)
            .with_epsilon(cfg.eps as f32)
            .with_weight_decay(cfg.weight_decay as f32)
            .init(),
        OptimizerKind::Adam => AdamConfig::new()
            .with_beta_1(cfg.beta1 as f32)
            .with_beta_2(cfg.beta2 as f32)
            .with_epsilon(cfg.eps as f32)
            .with_weight_decay(
                (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32)),
            )
            .init(),
    }
}

/// `optimizer.lr` for every parameter, overridden per module by `optimizer.module_lr`.
///
/// # Errors
/// A module name that is not one of [`MODULE_NAMES`], or names a module this model lacks (an
/// encoder the fusion method does not use).
pub fn learning_rates(
    cfg: &OptimizerConfig,
    model: &EmotionModel,
) -> anyhow::Result<ModuleLearningRate> {
    let mut scheduler = ModuleLrScheduler::new(cfg.lr);
    // burn gives a parameter the rate of the LAST group that holds it, and the map's order
    // puts a module's inner group (`fusion.factors`) after the module (`fusion`): the more
    // specific name wins, whatever order the file wrote them in.
    for (name, &lr) in &cfg.module_lr {
        let group = module_group(model, name).ok_or_else(|| {
            anyhow::anyhow!(
                "train.optimizer.module_lr: this model has no module {name:?}; it has {}",
                present_modules(model).join(", ")
            )
        })?;
        scheduler = scheduler.with_group(group, lr);
    }
    Ok(scheduler.step())
}

fn module_group(model: &EmotionModel, name: &str) -> Option<ParamGroup> {
    match name {
        "encoders.text" => model.text.clone().map(ParamGroup::ids_from_module),
        "encoders.audio" => model.audio.clone().map(ParamGroup::ids_from_module),
        "fusion" => Some(ParamGroup::ids_from_module(model.fusion.clone())),
        _ => name
            .strip_prefix("fusion.")
            .and_then(|inner| model.fusion.param_group(inner)),
    }
}

fn present_modules(model: &EmotionModel) -> Vec<&'static str> {
    MODULE_NAMES
        .into_iter()
        .filter(|n| module_group(model, n).is_some())
        .collect()
}

/// How gradients become updates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSettings {
    pub accumulate: usize,
    /// Which batches end a group of `accumulate` (`train.accumulate_schedule`).
    pub schedule: AccumulateSchedule,
    pub clip_value: Option<f32>,
    pub clip_norm: Option<f32>,
}

impl StepSettings {
    pub fn from_train(train: &TrainConfig) -> Self {
        Self {
            accumulate: train.accumulate_grad_batches.max(1),
            schedule: train.accumulate_schedule,
            clip_value: train.clip_grad_value.map(|v| v as f32),
            clip_norm: train.clip_grad_norm.map(|v| v as f32),
        }
    }
}

/// Turns batch losses into optimizer steps: one step per group of `accumulate` batches, the
/// groups laid out by the schedule. [`Stepper::finish`] must end every epoch: it settles the
/// epoch's leftover gradients and restarts the batch count, so no gradient and no count
/// crosses an epoch and a fold resumed from an epoch's checkpoint steps exactly as one that
/// never stopped.
pub struct Stepper<M: Module> {
    pub optimizer: ModuleOptimizer,
    lr: ModuleLearningRate,
    settings: StepSettings,
    accumulated: GradientsAccumulator<M>,
    /// Batches whose gradients wait in `accumulated`.
    pending: usize,
    /// Batches backpropagated so far in this epoch (the next batch's 0-based id).
    seen: usize,
}

impl<M: Module> Stepper<M> {
    pub fn new(optimizer: ModuleOptimizer, lr: ModuleLearningRate, settings: StepSettings) -> Self {
        Self {
            optimizer,
            lr,
            settings,
            accumulated: GradientsAccumulator::new(),
            pending: 0,
            seen: 0,
        }
    }

    /// Backpropagate one batch's mean loss; steps when the batch ends a group. The loss is
    /// divided by `accumulate` first, so N batches of B accumulate the gradient of one batch of
    /// N x B (PyTorch's `(loss / N).backward()`); seed 003 divides its lone first batch too.
    pub fn backward(&mut self, model: M, loss: Tensor<1>) -> M {
        let n = self.settings.accumulate;
        let loss = if n > 1 {
            loss.div_scalar(n as f32)
        } else {
            loss
        };
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.accumulated.accumulate(&model, grads);
        self.pending += 1;
        let batch_id = self.seen;
        self.seen += 1;
        if self.ends_group(batch_id) {
            self.step(model)
        } else {
            model
        }
    }

    /// Whether the batch with this 0-based id in the epoch is followed by a step.
    fn ends_group(&self, batch_id: usize) -> bool {
        let n = self.settings.accumulate;
        match self.settings.schedule {
            AccumulateSchedule::EveryN => self.pending == n,
            AccumulateSchedule::Seed003 => batch_id.is_multiple_of(n),
        }
    }

    /// End of an epoch: what is left after its last step still steps (`every_n`, as
    /// Lightning) or is discarded (`seed003`: the seed zeroes those gradients unused).
    pub fn finish(&mut self, model: M) -> M {
        self.seen = 0;
        if self.pending == 0 {
            return model;
        }
        match self.settings.schedule {
            AccumulateSchedule::EveryN => self.step(model),
            AccumulateSchedule::Seed003 => {
                self.pending = 0;
                drop(self.accumulated.grads());
                model
            }
        }
    }

    fn step(&mut self, model: M) -> M {
        self.pending = 0;
        let mut grads = self.accumulated.grads();
        if let Some(limit) = self.settings.clip_value {
            clip_by_value(&model, &mut grads, limit);
        }
        if let Some(max_norm) = self.settings.clip_norm {
            clip_global_norm(&model, &mut grads, max_norm);
        }
        self.optimizer.step(self.lr.clone(), model, grads)
    }
}

/// Clamp every gradient element to `[-limit, limit]` (`torch.nn.utils.clip_grad_value_`).
pub fn clip_by_value<M: Module>(model: &M, grads: &mut GradientsParams, limit: f32) {
    map_grads(model, grads, |g| g.clamp(-limit, limit));
}

/// Rescale all gradients by `max_norm / (norm + 1e-6)` when their global L2 norm exceeds
/// `max_norm` (`torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
pub fn clip_global_norm<M: Module>(model: &M, grads: &mut GradientsParams, max_norm: f32) -> f32 {
    struct SquaredSum<'a> {
        grads: &'a GradientsParams,
        sum: Option<Tensor<1>>,
    }
    impl ModuleVisitor for SquaredSum<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                let s = g.powf_scalar(2.0).sum();
                self.sum = Some(match self.sum.take() {
                    Some(acc) => acc + s,
                    None => s,
                });
            }
        }
    }
    let mut visitor = SquaredSum { grads, sum: None };
    model.visit(&mut visitor);
    let Some(sum) = visitor.sum else {
        return 0.0;
    };
    let norm = sum.into_scalar::<f32>().sqrt();
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        map_grads(model, grads, |g| g.mul_scalar(coef));
    }
    norm
}

/// Replace every gradient of `model`'s parameters by `f(gradient)`.
fn map_grads<M: Module>(
    model: &M,
    grads: &mut GradientsParams,
    f: impl Fn(Tensor<1>) -> Tensor<1>,
) {
    struct Mapper<'a, F> {
        grads: &'a mut GradientsParams,
        f: F,
    }
    impl<F: Fn(Tensor<1>) -> Tensor<1>> ModuleVisitor for Mapper<'_, F> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.remove::<D>(param.id) {
                // Flatten so one closure serves every rank; the shape comes back after.
                let shape = g.shape();
                let flat: Tensor<1> = g.flatten(0, D - 1);
                self.grads
                    .register::<D>(param.id, (self.f)(flat).reshape(shape));
            }
        }
    }
    model.visit(&mut Mapper { grads, f });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Batch;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::SgdConfig;

    use crate::batch::StreamBatch;
    use crate::config::Modality;
    use crate::encoders::AudioInput;

    /// A tiny audio-only model without dropout, so that a pass is a pure function.
    fn tiny_model(device: &Device) -> EmotionModel {
        device.seed(5);
        crate::train::tiny_audio_spec().init(device).unwrap()
    }

    /// Rows `rows` of a fixed 4-example data set (equal lengths, so no padding differs).
    fn batch(rows: &[usize], device: &Device) -> Batch {
        let values: Vec<f32> = rows
            .iter()
            .flat_map(|&r| (0..6 * 8).map(move |j| ((r * 48 + j) as f32 * 0.37).sin()))
            .collect();
        let labels: Vec<i64> = rows.iter().map(|&r| (r % 3) as i64).collect();
        Batch {
            indices: rows.to_vec(),
            streams: [(
                Modality::Audio,
                StreamBatch::Audio(AudioInput::LogMel {
                    frames: Tensor::from_data(TensorData::new(values, [rows.len(), 6, 8]), device),
                    lengths: vec![6; rows.len()],
                }),
            )]
            .into(),
            labels: Tensor::from_data(TensorData::new(labels, [rows.len()]), device),
            soft: None,
        }
    }

    fn loss(model: &EmotionModel, b: &Batch, device: &Device) -> Tensor<1> {
        CrossEntropyLossConfig::new()
            .init(device)
            .forward(model.forward(b), b.labels.clone())
    }

    fn flat<M: Module>(module: &M) -> Vec<f32> {
        struct All(Vec<f32>);
        impl ModuleVisitor for All {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(param.val().into_data().iter::<f32>());
            }
        }
        let mut all = All(Vec::new());
        module.visit(&mut all);
        all.0
    }

    fn settings(accumulate: usize) -> StepSettings {
        StepSettings {
            accumulate,
            schedule: AccumulateSchedule::EveryN,
            clip_value: None,
            clip_norm: None,
        }
    }

    fn sgd(settings: StepSettings) -> Stepper<EmotionModel> {
        Stepper::new(SgdConfig::new().init(), 1.0.into(), settings)
    }

    /// Backpropagate one batch per row; whether each batch was followed by a step (seen as a
    /// change of the weights: SGD at rate 1 moves them by the gradient), and the model after
    /// the last.
    fn run_rows(
        stepper: &mut Stepper<EmotionModel>,
        mut model: EmotionModel,
        rows: std::ops::Range<usize>,
        device: &Device,
    ) -> (Vec<bool>, EmotionModel) {
        let mut stepped = Vec::new();
        for row in rows {
            let before = flat(&model);
            let l = loss(&model, &batch(&[row], device), device);
            model = stepper.backward(model, l);
            stepped.push(flat(&model) != before);
        }
        (stepped, model)
    }

    fn assert_close(a: &[f32], b: &[f32]) {
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-6, "largest difference {worst}");
    }

    /// Seed 003 with N = 4 over 6 batches: steps after batch 0 alone (its loss / 4), then after
    /// batches 1..=4; batch 5's gradient is dropped at the end of the epoch, and the next epoch
    /// starts again with a step after its batch 0, exactly as a fresh stepper (a resumed fold).
    #[test]
    fn seed003_steps_at_multiples_of_n_and_drops_the_leftover() {
        let device = Device::default().autodiff();
        let start = tiny_model(&device);
        let seed003 = StepSettings {
            schedule: AccumulateSchedule::Seed003,
            ..settings(4)
        };
        let mut stepper = sgd(seed003);
        let (first, after_first) = run_rows(&mut stepper, start.clone(), 0..1, &device);
        let (rest, model) = run_rows(&mut stepper, after_first.clone(), 1..6, &device);
        assert_eq!(
            [first, rest].concat(),
            [true, false, false, false, true, false]
        );

        // The first step is batch 0's gradient divided by N.
        let l = loss(&start, &batch(&[0], &device), &device).div_scalar(4.0);
        assert_close(
            &flat(&sgd(settings(1)).backward(start, l)),
            &flat(&after_first),
        );
        // The second is batches 1..=4, an ordinary group of four from the first step's weights.
        let (_, group) = run_rows(&mut sgd(settings(4)), after_first, 1..5, &device);
        let after_group = flat(&model);
        assert_close(&flat(&group), &after_group);

        let model = stepper.finish(model);
        assert_eq!(flat(&model), after_group, "batch 5's gradient is dropped");
        let (next, continued) = run_rows(&mut stepper, model.clone(), 6..7, &device);
        assert_eq!(next, [true], "a new epoch steps after its batch 0");
        let (_, fresh) = run_rows(&mut sgd(seed003), model, 6..7, &device);
        assert_eq!(
            flat(&continued),
            flat(&fresh),
            "nothing carried over the epoch"
        );
    }

    /// `every_n` (the default): a step after batches N-1, 2N-1, ..., and the epoch's last
    /// incomplete group still steps at `finish`.
    #[test]
    fn every_n_steps_after_each_group_and_the_leftover_at_the_end() {
        let device = Device::default().autodiff();
        let mut stepper = sgd(settings(4));
        let (stepped, model) = run_rows(&mut stepper, tiny_model(&device), 0..6, &device);
        assert_eq!(stepped, [false, false, false, true, false, false]);
        let before = flat(&model);
        assert_ne!(flat(&stepper.finish(model)), before, "batches 4 and 5 step");
    }

    /// SGD with lr 1 moves each weight by exactly its gradient, so equal weights after the step
    /// mean equal gradients: 4 accumulated batches of 1 (each loss / 4) = one batch of 4.
    #[test]
    fn accumulating_n_batches_of_one_equals_one_batch_of_n() {
        let device = Device::default().autodiff();
        let model = tiny_model(&device);
        let start = flat(&model);

        let mut whole = Stepper::new(SgdConfig::new().init(), 1.0.into(), settings(1));
        let b = batch(&[0, 1, 2, 3], &device);
        let one_batch = whole.backward(model.clone(), loss(&model, &b, &device));

        let mut acc = Stepper::new(SgdConfig::new().init(), 1.0.into(), settings(4));
        let mut accumulated = model;
        for row in 0..4 {
            let b = batch(&[row], &device);
            let l = loss(&accumulated, &b, &device);
            accumulated = acc.backward(accumulated, l);
            if row < 3 {
                assert_eq!(flat(&accumulated), start, "no step before 4 batches");
            }
        }
        let (a, b) = (flat(&one_batch), flat(&accumulated));
        assert_ne!(a, start, "the step moved the weights");
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-6, "largest difference {worst}");
    }

    /// A module whose learning rate is 0 keeps its weights (AdamW's decay is scaled by the lr
    /// too); the others move.
    #[test]
    fn module_with_zero_learning_rate_does_not_move() {
        let device = Device::default().autodiff();
        let model = tiny_model(&device);
        let cfg = OptimizerConfig {
            module_lr: [("fusion".to_string(), 0.0)].into(),
            ..Default::default()
        };
        let lr = learning_rates(&cfg, &model).unwrap();
        let mut stepper = Stepper::new(build_optimizer(&cfg), lr, settings(1));
        let (fusion, audio) = (flat(&model.fusion), flat(model.audio.as_ref().unwrap()));
        let b = batch(&[0, 1, 2], &device);
        let l = loss(&model, &b, &device);
        let stepped = stepper.backward(model, l);
        assert_eq!(flat(&stepped.fusion), fusion);
        assert_ne!(flat(stepped.audio.as_ref().unwrap()), audio);

        let bad = OptimizerConfig {
            module_lr: [("encoders.text".to_string(), 1e-5)].into(),
            ..Default::default()
        };
        let err = learning_rates(&bad, &stepped).err().unwrap().to_string();
        assert!(
            err.contains("encoders.text") && err.contains("encoders.audio, fusion"),
            "{err}"
        );
    }

    /// lmf's factors form their own group (`fusion.factors`, seed 002's `factor_lr`): at rate 0
    /// they keep their values while the rest of the fusion moves, whatever the order of the keys.
    #[test]
    fn lmf_factors_train_at_their_own_rate() {
        use crate::config::{FusionConfig, LmfKeys, Modality, OptimizerKind, SubnetKeys};
        use crate::fusion::{Fusion, FusionSpec};
        let device = Device::default().autodiff();
        device.seed(3);
        let spec = FusionSpec {
            config: FusionConfig::Lmf(LmfKeys {
                subnets: SubnetKeys {
                    audio_hidden: 3,
                    visual_hidden: 2,
                    text_hidden: 4,
                    ..Default::default()
                },
                rank: 2,
            }),
            dims: [
                (Modality::Audio, 5),
                (Modality::Visual, 4),
                (Modality::Text, 6),
            ]
            .into(),
            text_tokens: 0,
            n_classes: 2,
        };
        let model = EmotionModel {
            text: None,
            audio: None,
            fusion: spec.init(&device),
        };
        let Fusion::Lmf(lmf) = &model.fusion else {
            panic!("an lmf model")
        };
        let factors = |m: &crate::fusion::Lmf| {
            [
                flat(&m.audio_factor),
                flat(&m.video_factor),
                flat(&m.text_factor),
            ]
            .concat()
        };
        let (before_factors, before_weights) = (factors(lmf), flat(&lmf.fusion_weights));
        let cfg = OptimizerConfig {
            kind: OptimizerKind::Adam,
            lr: 1e-2,
            weight_decay: 1e-3,
            module_lr: [
                ("fusion.factors".to_string(), 0.0),
                ("fusion".to_string(), 1e-2),
            ]
            .into(),
            ..Default::default()
        };
        let lr = learning_rates(&cfg, &model).unwrap();
        let mut stepper = Stepper::new(build_optimizer(&cfg), lr, settings(1));
        let rows = 3;
        let ramp =
            |n: usize, k: f32| -> Vec<f32> { (0..n).map(|i| (i as f32 * k).sin()).collect() };
        let features = |dims: Vec<usize>, k: f32| {
            let n: usize = dims.iter().product();
            crate::data::feature::CachedFeature::new(dims, ramp(n, k))
        };
        let audio: Vec<_> = (0..rows)
            .map(|r| features(vec![5], 0.3 + r as f32))
            .collect();
        let visual: Vec<_> = (0..rows)
            .map(|r| features(vec![4], 0.7 + r as f32))
            .collect();
        let text: Vec<_> = (0..rows)
            .map(|r| features(vec![3, 6], 1.1 + r as f32))
            .collect();
        let labels = [0usize, 1, 0];
        let inputs = crate::batch::FoldInputs {
            labels: &labels,
            soft: None,
            sources: [
                (Modality::Audio, crate::batch::Source::Features(&audio)),
                (Modality::Visual, crate::batch::Source::Features(&visual)),
                (Modality::Text, crate::batch::Source::Features(&text)),
            ]
            .into(),
        };
        let b = inputs.batch(&[0, 1, 2], &device);
        let l = loss(&model, &b, &device);
        let stepped = stepper.backward(model, l);
        let Fusion::Lmf(after) = &stepped.fusion else {
            panic!("an lmf model")
        };
        assert_eq!(factors(after), before_factors, "factors at rate 0 stay");
        assert_ne!(
            flat(&after.fusion_weights),
            before_weights,
            "the rest moves"
        );
    }

    fn linear_with_grads(weight: [[f32; 2]; 2], bias: [f32; 2]) -> (Linear, GradientsParams) {
        let device = Device::default();
        let linear: Linear = LinearConfig::new(2, 2).init(&device);
        let mut grads = GradientsParams::new();
        grads.register(linear.weight.id, Tensor::<2>::from_data(weight, &device));
        let bias_id = linear.bias.as_ref().unwrap().id;
        grads.register(bias_id, Tensor::<1>::from_data(bias, &device));
        (linear, grads)
    }

    fn weight_grad(linear: &Linear, grads: &GradientsParams) -> Vec<f32> {
        let grad = grads.get::<2>(linear.weight.id).expect("weight gradient");
        grad.into_data().try_to_vec::<f32>().unwrap()
    }

    fn bias_grad(linear: &Linear, grads: &GradientsParams) -> Vec<f32> {
        let id = linear.bias.as_ref().expect("bias").id;
        let grad = grads.get::<1>(id).expect("bias gradient");
        grad.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Weight gradient [[3, 0], [0, 0]] and bias gradient [4, 0]: global norm 5. Clipping to 1
    /// scales both by 1/5 (torch's clip_grad_norm_); burn's per-tensor Norm clipping would give
    /// each tensor norm 1 instead (weight [[1, 0], ..], bias [1, 0]).
    #[test]
    fn global_norm_clipping_scales_all_gradients_together() {
        let (linear, mut grads) = linear_with_grads([[3.0, 0.0], [0.0, 0.0]], [4.0, 0.0]);
        let norm = clip_global_norm(&linear, &mut grads, 1.0);
        assert!((norm - 5.0).abs() < 1e-6);
        let w = weight_grad(&linear, &grads);
        let b = bias_grad(&linear, &grads);
        assert!(
            (w[0] - 0.6).abs() < 1e-5 && (b[0] - 0.8).abs() < 1e-5,
            "{w:?} {b:?}"
        );

        let (linear, mut grads) = linear_with_grads([[0.3, 0.0], [0.0, 0.0]], [0.4, 0.0]);
        clip_global_norm(&linear, &mut grads, 1.0);
        let w = weight_grad(&linear, &grads);
        assert_eq!(w[0], 0.3, "a norm under the limit is left alone");
    }

    #[test]
    fn value_clipping_clamps_each_element() {
        let (linear, mut grads) = linear_with_grads([[3.0, -0.2], [-7.0, 0.5]], [4.0, 0.0]);
        clip_by_value(&linear, &mut grads, 1.0);
        let w = weight_grad(&linear, &grads);
        assert_eq!(w, vec![1.0, -0.2, -1.0, 0.5]);
    }
}
