//! `lmf`, Low-rank Multimodal Fusion (Liu et al., ACL 2018), seed 002: the whole IEMOCAP model,
//! unimodal subnetworks included.
//!
//! ```text
//! a = SubNet(74, ah)(audio);  v = SubNet(35, vh)(visual);  t = TextSubNet(300, th, th/2)(words)
//! z_m = cat[1, m]                                   [B, d_m+1], the constant 1 FIRST (index 0)
//! f_m = z_m · W_m,  W_m ∈ R^{r×(d_m+1)×out}          [r, B, out], one rank-r factor per modality
//! y = fusion_weights[1×r] · (f_a ⊙ f_v ⊙ f_t) + fusion_bias[1×out]      [B, out], raw logits
//! ```
//!
//! The product over modalities of rank-r projections equals projecting the full outer product
//! `z_a ⊗ z_v ⊗ z_t` (TFN's tensor) through a rank-r weight tensor, without building it. The
//! prepended 1 keeps every unimodal and bimodal term in that implicit tensor.
//!
//! The original's `post_fusion_dropout` is created but never used in `forward`, so it is left
//! out; a dropout holds no parameters, so the counts are unchanged.

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::heads::positive;
use super::registry::{Method, TaskShape};
use super::subnet::{SubNet, SubnetKeys, SubnetsConfig, TextSubNet};
use super::{FusionInputs, FusionSpec};
use crate::modality::{Form, Modality};

/// COVAREP features per utterance, time-averaged.
pub const IEMOCAP_AUDIO_DIM: usize = 74;
/// FACET features per utterance, time-averaged.
pub const IEMOCAP_VISUAL_DIM: usize = 35;
/// GloVe word-vector width.
pub const IEMOCAP_TEXT_DIM: usize = 300;
/// Words per utterance (fixed, no mask).
pub const IEMOCAP_WORDS: usize = 20;
/// Each emotion is its own binary task: 2 logits.
pub const IEMOCAP_CLASSES: usize = 2;

/// The four independent IEMOCAP binary tasks, each with its own tuned model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IemocapEmotion {
    Happy,
    Sad,
    Angry,
    Neutral,
}

impl IemocapEmotion {
    pub const ALL: [IemocapEmotion; 4] = [Self::Happy, Self::Sad, Self::Angry, Self::Neutral];
}

#[derive(Config, Debug)]
pub struct LmfConfig {
    pub subnets: SubnetsConfig,
    pub rank: usize,
    pub output_dim: usize,
}

impl LmfConfig {
    /// The original repository's tuned model for one emotion (its `hyperparams.txt`; the Paddle
    /// reproduction's `train.sh` has the same widths, ranks and dropouts).
    pub fn iemocap(emotion: IemocapEmotion) -> Self {
        // (ah, vh, th, audio dropout, video dropout, text dropout, rank)
        let (ah, vh, th, pa, pv, pt, rank) = match emotion {
            IemocapEmotion::Happy => (4, 16, 128, 0.3, 0.1, 0.5, 1),
            IemocapEmotion::Sad => (8, 4, 128, 0.0, 0.0, 0.0, 4),
            IemocapEmotion::Angry => (8, 4, 64, 0.3, 0.1, 0.15, 8),
            IemocapEmotion::Neutral => (32, 8, 64, 0.2, 0.5, 0.2, 16),
        };
        Self {
            subnets: SubnetsConfig {
                audio_in: IEMOCAP_AUDIO_DIM,
                video_in: IEMOCAP_VISUAL_DIM,
                text_in: IEMOCAP_TEXT_DIM,
                audio_hidden: ah,
                video_hidden: vh,
                text_hidden: th,
                text_out: th / 2,
                audio_dropout: pa,
                video_dropout: pv,
                text_dropout: pt,
            },
            rank,
            output_dim: IEMOCAP_CLASSES,
        }
    }

    pub fn init(&self, device: &Device) -> Lmf {
        let factor = |d: usize| xavier_normal_factor(self.rank, d + 1, self.output_dim, device);
        let s = &self.subnets;
        // Drawn in PyTorch's order: the fusion's own parameters, then the subnetworks.
        let audio_factor = factor(s.audio_hidden);
        let video_factor = factor(s.video_hidden);
        let text_factor = factor(s.text_out);
        // torch's xavier_normal_ on [1, r]: fan_in = r, fan_out = 1.
        let fusion_weights = Initializer::XavierNormal { gain: 1.0 }.init_with(
            [1, self.rank],
            Some(self.rank),
            Some(1),
            device,
        );
        let fusion_bias = Initializer::Zeros.init([1, self.output_dim], device);
        let (audio_subnet, video_subnet, text_subnet) = s.init(device);
        Lmf {
            audio_factor,
            video_factor,
            text_factor,
            fusion_weights,
            fusion_bias,
            audio_subnet,
            video_subnet,
            text_subnet,
        }
    }
}

/// A `[r, d+1, out]` factor drawn like torch's `xavier_normal_`, which treats dim 1 as the
/// input and dim 0 as the output, both times the receptive field (`out`):
/// `std = √(2 / ((d+1)·out + r·out))`.
fn xavier_normal_factor(rank: usize, rows: usize, out: usize, device: &Device) -> Param<Tensor<3>> {
    Initializer::XavierNormal { gain: 1.0 }.init_with(
        [rank, rows, out],
        Some(rows * out),
        Some(rank * out),
        device,
    )
}

/// The parameters come first, subnetworks after, as in PyTorch's `parameters()` order (which
/// the original's optimizer groups slice by position). Field names are PyTorch's keys.
#[derive(Module, Debug)]
pub struct Lmf {
    pub audio_factor: Param<Tensor<3>>,
    pub video_factor: Param<Tensor<3>>,
    pub text_factor: Param<Tensor<3>>,
    pub fusion_weights: Param<Tensor<2>>,
    pub fusion_bias: Param<Tensor<2>>,
    pub audio_subnet: SubNet,
    pub video_subnet: SubNet,
    pub text_subnet: TextSubNet,
}

impl Lmf {
    /// Logits `[batch, out]` from audio `[batch, 74]`, visual `[batch, 35]` and words
    /// `[batch, 20, 300]` (at the IEMOCAP widths).
    pub fn forward(&self, audio: Tensor<2>, video: Tensor<2>, text: Tensor<3>) -> Tensor<2> {
        let a = self.audio_subnet.forward(audio);
        let v = self.video_subnet.forward(video);
        let t = self.text_subnet.forward(text);
        self.fuse(a, v, t)
    }

    /// The fusion alone, from the subnetworks' outputs.
    pub fn fuse(&self, audio_h: Tensor<2>, video_h: Tensor<2>, text_h: Tensor<2>) -> Tensor<2> {
        low_rank_fusion(
            vec![
                (audio_h, self.audio_factor.val()),
                (video_h, self.video_factor.val()),
                (text_h, self.text_factor.val()),
            ],
            self.fusion_weights.val(),
            self.fusion_bias.val(),
        )
    }

    /// The three modality factors as one parameter group: seed 002's first optimizer group,
    /// trained at its own `factor_lr` (`train.optimizer.module_lr."fusion.factors"`).
    pub fn factor_group(&self) -> burn::module::ParamGroup {
        burn::module::ParamGroup::ids_from_module(vec![
            self.audio_factor.clone(),
            self.video_factor.clone(),
            self.text_factor.clone(),
        ])
    }

    /// The low-rank fusion's counts (factors, `fusion_weights`, `fusion_bias`; seed 002's
    /// "fusion" column of table A.3), as `emo-run inspect` lists them under `fusion`.
    pub fn low_rank_params(&self) -> crate::params::ModuleParams {
        use crate::params::ModuleParams;
        let factors = vec![
            self.audio_factor.clone(),
            self.video_factor.clone(),
            self.text_factor.clone(),
        ];
        let rest = vec![self.fusion_weights.clone(), self.fusion_bias.clone()];
        ModuleParams::sum(
            "fusion.low_rank",
            &[
                ModuleParams::of("factors", &factors),
                ModuleParams::of("weights", &rest),
            ],
        )
    }

    /// Trainable parameters of the fusion itself: the factors, `fusion_weights` and
    /// `fusion_bias` (the original's first optimizer group plus the two fusion tensors).
    pub fn fusion_num_params(&self) -> usize {
        [
            self.audio_factor.num_params(),
            self.video_factor.num_params(),
            self.text_factor.num_params(),
            self.fusion_weights.num_params(),
            self.fusion_bias.num_params(),
        ]
        .iter()
        .sum()
    }
}

/// `cat[1, x]` along the features, `[B, d] → [B, d+1]`; the constant carries no gradient.
pub fn prepend_one(x: Tensor<2>) -> Tensor<2> {
    let [batch, _] = x.dims();
    let ones = Tensor::ones([batch, 1], &x.device());
    Tensor::cat(vec![ones, x], 1)
}

/// LMF over any number of modalities, as plain 2-D matmuls: each `(h_m [B, d_m], W_m
/// [r, d_m+1, out])` gives `cat[1, h_m] · W_m` as `[B, r, out]`, the modalities are multiplied
/// elementwise, the rank is contracted with `weights [1, r]`, and `bias [1, out]` is added.
/// Same value as `low_rank_fusion_broadcast` (the paper's Eq. 8 as the source writes it).
pub fn low_rank_fusion(
    modalities: Vec<(Tensor<2>, Tensor<3>)>,
    weights: Tensor<2>,
    bias: Tensor<2>,
) -> Tensor<2> {
    let product = modalities
        .into_iter()
        .map(|(h, factor)| rank_projection(prepend_one(h), factor))
        .reduce(|acc, f| acc * f)
        .expect("LMF needs at least one modality");
    let [batch, rank, out] = product.dims();
    let weighted = product * weights.reshape([1, rank, 1]);
    weighted.sum_dim(1).reshape([batch, out]) + bias
}

/// `z [B, d+1] · W [r, d+1, out]` as `[B, r, out]`: `W` laid out as `[d+1, r·out]` so one matmul
/// covers every rank.
fn rank_projection(z: Tensor<2>, factor: Tensor<3>) -> Tensor<3> {
    let [rank, rows, out] = factor.dims();
    let [batch, _] = z.dims();
    let w = factor.swap_dims(0, 1).reshape([rows, rank * out]);
    z.matmul(w).reshape([batch, rank, out])
}

/// The source's (and the paper's Eq. 8) formulation, kept to test `low_rank_fusion` against:
/// `f_m = matmul(z_m, W_m)` broadcast to `[r, B, out]`, `f = Π f_m`,
/// `y = (weights @ f.permute(1, 0, 2)).squeeze(1) + bias`.
pub fn low_rank_fusion_broadcast(
    modalities: Vec<(Tensor<2>, Tensor<3>)>,
    weights: Tensor<2>,
    bias: Tensor<2>,
) -> Tensor<2> {
    let product = modalities
        .into_iter()
        .map(|(h, factor)| {
            let [rank, _, _] = factor.dims();
            let z: Tensor<3> = prepend_one(h).unsqueeze_dim(0);
            z.repeat_dim(0, rank).matmul(factor) // [r, B, out]
        })
        .reduce(|acc, f| acc * f)
        .expect("LMF needs at least one modality");
    let [rank, batch, out] = product.dims();
    let w: Tensor<3> = weights.reshape([1, 1, rank]).repeat_dim(0, batch); // [B, 1, r]
    w.matmul(product.permute([1, 0, 2])).reshape([batch, out]) + bias
}

/// Keys of lmf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct LmfKeys {
    #[serde(flatten)]
    pub subnets: SubnetKeys,
    /// Rank of the modality factors.
    pub rank: usize,
}

impl Default for LmfKeys {
    fn default() -> Self {
        Self {
            subnets: SubnetKeys::default(),
            rank: 4,
        }
    }
}

/// What lmf and tfn take: audio and visual vectors, the word sequence.
pub const AUDIO_VISUAL_WORDS: &[(Modality, Form)] = &[
    (Modality::Audio, Form::Pooled),
    (Modality::Visual, Form::Pooled),
    (Modality::Text, Form::Sequence),
];

/// `lmf`, registered.
pub struct LmfMethod;

impl Method for LmfMethod {
    const SUMMARY: &'static str = "Seed 002 LMF (low-rank multimodal fusion): audio and visual vectors through BatchNorm -> Dropout -> three Linear+ReLU subnets, the word sequence through a one-layer LSTM, a constant 1 prepended to each, rank-`rank` modality factors multiplied elementwise (docs/methods/seed-002-lmf-model.md).";
    const NEEDS: &'static [(Modality, Form)] = AUDIO_VISUAL_WORDS;
    type Keys = LmfKeys;
    type Module = Lmf;

    fn init(keys: &LmfKeys, spec: &FusionSpec, device: &Device) -> Lmf {
        LmfConfig {
            subnets: keys.subnets.config(spec),
            rank: keys.rank,
            output_dim: spec.n_classes,
        }
        .init(device)
    }

    fn forward(module: &Lmf, x: &FusionInputs) -> Tensor<2> {
        module.forward(
            x.pooled(Modality::Audio),
            x.pooled(Modality::Visual),
            x.sequence(Modality::Text).0,
        )
    }

    fn problems(keys: &LmfKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
        let mut out = keys.subnets.problems();
        out.extend(positive("rank", keys.rank));
        out
    }

    fn param_group(module: &Lmf, name: &str) -> Option<burn::module::ParamGroup> {
        (name == "factors").then(|| module.factor_group())
    }

    fn parameter_parts(module: &Lmf) -> Vec<crate::params::ModuleParams> {
        vec![module.low_rank_params()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::subnet::test_support::{autodiff, trainable};

    /// (emotion, total trainable, fusion part), from the original checkpoints' shapes.
    const COUNTS: [(IemocapEmotion, usize, usize); 4] = [
        (IemocapEmotion::Happy, 230_271, 177),
        (IemocapEmotion::Sad, 230_200, 638),
        (IemocapEmotion::Angry, 97_684, 762),
        (IemocapEmotion::Neutral, 103_356, 2_418),
    ];

    #[test]
    fn parameter_counts_of_the_four_iemocap_models() {
        let device = autodiff();
        for (emotion, total, fusion) in COUNTS {
            let model = LmfConfig::iemocap(emotion).init(&device);
            assert_eq!(trainable(&model), total, "{emotion:?} total");
            assert_eq!(model.fusion_num_params(), fusion, "{emotion:?} fusion");
        }
    }

    #[test]
    fn logits_shape_at_iemocap_dims() {
        let device = Device::default();
        let model = LmfConfig::iemocap(IemocapEmotion::Angry).init(&device);
        let logits = model.forward(
            Tensor::ones([3, IEMOCAP_AUDIO_DIM], &device),
            Tensor::ones([3, IEMOCAP_VISUAL_DIM], &device),
            Tensor::ones([3, IEMOCAP_WORDS, IEMOCAP_TEXT_DIM], &device),
        );
        assert_eq!(logits.dims(), [3, IEMOCAP_CLASSES]);
    }

    #[test]
    fn the_constant_one_is_prepended() {
        let device = Device::default();
        let z = prepend_one(Tensor::from_data([[2.0f32, 3.0]], &device));
        assert_eq!(
            z.into_data().try_to_vec::<f32>().unwrap(),
            vec![1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn rank_one_fusion_by_hand() {
        // r = 1, out = 1: y = w · (cat[1,a]·Wa) · (cat[1,t]·Wt) + b.
        let device = Device::default();
        let a = Tensor::<2>::from_data([[2.0f32]], &device);
        let t = Tensor::<2>::from_data([[3.0f32]], &device);
        let wa = Tensor::<3>::from_data([[[0.5f32], [1.0]]], &device); // 0.5 + 2 = 2.5
        let wt = Tensor::<3>::from_data([[[1.0f32], [-1.0]]], &device); // 1 - 3 = -2
        let w = Tensor::<2>::from_data([[2.0f32]], &device);
        let b = Tensor::<2>::from_data([[0.25f32]], &device);
        let y = low_rank_fusion(vec![(a, wa), (t, wt)], w, b);
        assert_eq!(
            y.into_data().try_to_vec::<f32>().unwrap(),
            vec![2.0 * 2.5 * -2.0 + 0.25]
        );
    }

    #[test]
    fn factor_init_has_torch_xavier_normal_spread() {
        // neutral's text factor [16, 33, 2]: std = √(2 / (2·(33 + 16))) ≈ 0.1429.
        let model = LmfConfig::iemocap(IemocapEmotion::Neutral).init(&Device::default());
        let values = model
            .text_factor
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let n = values.len() as f32;
        let std = (values.iter().map(|v| v * v).sum::<f32>() / n).sqrt();
        let expected = (2.0f32 / (2.0 * (33.0 + 16.0))).sqrt();
        assert!(
            (std - expected).abs() < 0.15 * expected,
            "{std} vs {expected}"
        );
        let bias = model
            .fusion_bias
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(bias.iter().all(|&b| b == 0.0));
    }
}
