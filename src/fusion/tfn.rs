//! `tfn`, Tensor Fusion Network (Zadeh et al., 2017), seed 002's baseline, as its author's
//! PyTorch code builds it: the same subnetworks as LMF, then the explicit three-way outer product.
//!
//! ```text
//! z_a = cat[1, a], z_v = cat[1, v], z_t = cat[1, t]     the constant 1 FIRST, as in LMF
//! z = vec(z_a ⊗ z_v ⊗ z_t)                              [B, (ah+1)(vh+1)(to+1)]
//!     element (i_a·(vh+1) + i_v)·(to+1) + i_t = z_a[i_a]·z_v[i_v]·z_t[i_t]
//! y = Linear(pf, out)(ReLU(Linear(pf, pf)(ReLU(Linear(F, pf)(Dropout(p_post)(z))))))
//! ```
//!
//! The source has only the MOSI regression head (`sigmoid(y)·6 − 3`, `out = 1`); IEMOCAP needs
//! two raw logits from the same MLP (an adaptation: the source has no IEMOCAP TFN).
//! Unlike LMF, TFN does apply its post-fusion dropout.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::heads::{positive, probability};
use super::lmf::{AUDIO_VISUAL_WORDS, prepend_one};
use super::registry::{Method, TaskShape};
use super::subnet::{SubNet, SubnetKeys, SubnetsConfig, TextSubNet};
use super::{FusionInputs, FusionSpec};
use crate::kernels::dropout;
use crate::modality::{Form, Modality};

/// MOSI's sentiment range is [-3, 3]: `sigmoid · 6 − 3`. In the source these are Parameters
/// with `requires_grad=False`, left out of the optimizer; here they are constants, so they are
/// not counted as trainable (and their keys in a PyTorch `state_dict` are simply unused).
pub const MOSI_OUTPUT_RANGE: f32 = 6.0;
pub const MOSI_OUTPUT_SHIFT: f32 = -3.0;

/// What the last layer produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TfnOutput {
    /// `Linear(pf, classes)`, raw logits (IEMOCAP: 2).
    Logits { classes: usize },
    /// The source's MOSI head: `Linear(pf, 1)`, then `sigmoid · 6 − 3`.
    MosiRegression,
}

impl TfnOutput {
    fn width(self) -> usize {
        match self {
            TfnOutput::Logits { classes } => classes,
            TfnOutput::MosiRegression => 1,
        }
    }
}

#[derive(Config, Debug)]
pub struct TfnConfig {
    pub subnets: SubnetsConfig,
    pub post_fusion_dropout: f64,
    pub post_fusion_dim: usize,
    pub output: TfnOutput,
}

impl TfnConfig {
    /// Width of the flattened outer product, `(ah+1)(vh+1)(to+1)`.
    pub fn fusion_width(&self) -> usize {
        let s = &self.subnets;
        (s.audio_hidden + 1) * (s.video_hidden + 1) * (s.text_out + 1)
    }

    pub fn init(&self, device: &Device) -> Tfn {
        let pf = self.post_fusion_dim;
        let (audio_subnet, video_subnet, text_subnet) = self.subnets.init(device);
        Tfn {
            audio_subnet,
            video_subnet,
            text_subnet,
            post_fusion_dropout: DropoutConfig::new(self.post_fusion_dropout).init(),
            post_fusion_layer_1: LinearConfig::new(self.fusion_width(), pf).init(device),
            post_fusion_layer_2: LinearConfig::new(pf, pf).init(device),
            post_fusion_layer_3: LinearConfig::new(pf, self.output.width()).init(device),
            activation: Relu::new(),
            output: self.output,
        }
    }
}

/// Field names are the PyTorch keys.
#[derive(Module, Debug)]
pub struct Tfn {
    pub audio_subnet: SubNet,
    pub video_subnet: SubNet,
    pub text_subnet: TextSubNet,
    post_fusion_dropout: Dropout,
    pub post_fusion_layer_1: Linear,
    pub post_fusion_layer_2: Linear,
    pub post_fusion_layer_3: Linear,
    activation: Relu,
    #[module(skip)]
    output: TfnOutput,
}

impl Tfn {
    /// `[batch, classes]` logits, or `[batch, 1]` MOSI scores in [-3, 3].
    pub fn forward(&self, audio: Tensor<2>, video: Tensor<2>, text: Tensor<3>) -> Tensor<2> {
        let a = self.audio_subnet.forward(audio);
        let v = self.video_subnet.forward(video);
        let t = self.text_subnet.forward(text);
        self.head(tensor_fusion(a, v, t))
    }

    /// The post-fusion MLP (and, for MOSI, the range mapping) on the flattened outer product.
    pub fn head(&self, fused: Tensor<2>) -> Tensor<2> {
        let x = dropout::apply(&self.post_fusion_dropout, fused);
        let x = self.activation.forward(self.post_fusion_layer_1.forward(x));
        let x = self.activation.forward(self.post_fusion_layer_2.forward(x));
        let y = self.post_fusion_layer_3.forward(x);
        match self.output {
            TfnOutput::Logits { .. } => y,
            TfnOutput::MosiRegression => sigmoid(y) * MOSI_OUTPUT_RANGE + MOSI_OUTPUT_SHIFT,
        }
    }
}

/// `vec(cat[1,a] ⊗ cat[1,v] ⊗ cat[1,t])`, `[B, (da+1)(dv+1)(dt+1)]`, built as the source does:
/// `bmm(z_a[:, :, None], z_v[:, None, :])` viewed as `[B, (da+1)(dv+1), 1]`, then `bmm` with
/// `z_t[:, None, :]`, flattened row-major; element `(i_a·(dv+1) + i_v)·(dt+1) + i_t`.
pub fn tensor_fusion(audio_h: Tensor<2>, video_h: Tensor<2>, text_h: Tensor<2>) -> Tensor<2> {
    let [batch, _] = audio_h.dims();
    let za: Tensor<3> = prepend_one(audio_h).unsqueeze_dim(2); // [B, da+1, 1]
    let zv: Tensor<3> = prepend_one(video_h).unsqueeze_dim(1); // [B, 1, dv+1]
    let zt: Tensor<3> = prepend_one(text_h).unsqueeze_dim(1); // [B, 1, dt+1]
    let av = za.matmul(zv); // [B, da+1, dv+1]
    let [_, rows, cols] = av.dims();
    let avt = av.reshape([batch, rows * cols, 1]).matmul(zt); // [B, (da+1)(dv+1), dt+1]
    let [_, pairs, texts] = avt.dims();
    avt.reshape([batch, pairs * texts])
}

/// The last layer of tfn, as `fusion.tfn_output` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TfnOutputKind {
    Logits,
    MosiRegression,
}

/// Keys of tfn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TfnKeys {
    #[serde(flatten)]
    pub subnets: SubnetKeys,
    /// Width of the post-fusion MLP's two hidden layers.
    pub post_fusion_dim: usize,
    /// Dropout on the flattened outer product, before the post-fusion MLP. (LMF's source
    /// creates a post-fusion dropout too but never applies it, so lmf has no such key.)
    pub post_fusion_dropout: f64,
    /// `logits` (a Linear to the classes, the IEMOCAP adaptation) or `mosi_regression` (the
    /// source's MOSI head: `Linear(pf, 1)`, `sigmoid · 6 − 3`, for a one-target regression
    /// task).
    pub tfn_output: TfnOutputKind,
}

impl Default for TfnKeys {
    fn default() -> Self {
        Self {
            subnets: SubnetKeys::default(),
            post_fusion_dim: 32,
            post_fusion_dropout: 0.3,
            tfn_output: TfnOutputKind::Logits,
        }
    }
}

/// `tfn`, registered.
pub struct TfnMethod;

impl Method for TfnMethod {
    const SUMMARY: &'static str = "Seed 002's TFN baseline (tensor fusion): LMF's subnets, then the explicit outer product of the three `[1, h]` vectors and a three-layer post-fusion MLP.";
    const NEEDS: &'static [(Modality, Form)] = AUDIO_VISUAL_WORDS;
    type Keys = TfnKeys;
    type Module = Tfn;

    fn init(keys: &TfnKeys, spec: &FusionSpec, device: &Device) -> Tfn {
        TfnConfig {
            subnets: keys.subnets.config(spec),
            post_fusion_dropout: keys.post_fusion_dropout,
            post_fusion_dim: keys.post_fusion_dim,
            output: match keys.tfn_output {
                TfnOutputKind::Logits => TfnOutput::Logits {
                    classes: spec.n_classes,
                },
                TfnOutputKind::MosiRegression => TfnOutput::MosiRegression,
            },
        }
        .init(device)
    }

    fn forward(module: &Tfn, x: &FusionInputs) -> Tensor<2> {
        module.forward(
            x.pooled(Modality::Audio),
            x.pooled(Modality::Visual),
            x.sequence(Modality::Text).0,
        )
    }

    fn problems(keys: &TfnKeys, task: TaskShape) -> Vec<(&'static str, String)> {
        let mut out = keys.subnets.problems();
        let one_score = task.regression_targets == 1 && !task.classes;
        if keys.tfn_output == TfnOutputKind::MosiRegression && !one_score {
            out.push((
                "tfn_output",
                "found \"mosi_regression\" (one score in [-3, 3]), which needs task.kind = \"regression\" with one target; expected \"logits\" for classification".into(),
            ));
        }
        out.extend(positive("post_fusion_dim", keys.post_fusion_dim));
        out.extend(probability("post_fusion_dropout", keys.post_fusion_dropout));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mosi_head_needs_a_task_of_one_regression_target() {
        let mosi = TfnKeys {
            tfn_output: TfnOutputKind::MosiRegression,
            ..Default::default()
        };
        let classification = TaskShape {
            regression_targets: 0,
            classes: true,
        };
        let one_score = TaskShape {
            regression_targets: 1,
            classes: false,
        };
        let keys: Vec<&str> = TfnMethod::problems(&mosi, classification)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["tfn_output"]);
        assert!(TfnMethod::problems(&mosi, one_score).is_empty());
        assert!(TfnMethod::problems(&TfnKeys::default(), classification).is_empty());
    }
    use crate::fusion::blocks::linear_params;
    use crate::fusion::subnet::test_support::{autodiff, trainable};

    fn config(output: TfnOutput) -> TfnConfig {
        // The source's train.py defaults: (4, 16, 128), text_out 64, dropouts 0.3, pf 32.
        let subnets = SubnetsConfig::new(74, 35, 300, 4, 16, 128, 64, 0.3, 0.3, 0.3);
        TfnConfig::new(subnets, 0.3, 32, output)
    }

    #[test]
    fn parameter_count_at_the_source_defaults() {
        let device = autodiff();
        for output in [TfnOutput::Logits { classes: 2 }, TfnOutput::MosiRegression] {
            let model = config(output).init(&device);
            let subnets = 2 * 74
                + linear_params(74, 4)
                + 2 * linear_params(4, 4)
                + 2 * 35
                + linear_params(35, 16)
                + 2 * linear_params(16, 16)
                + 4 * 128 * (300 + 128)
                + 8 * 128
                + linear_params(128, 64);
            let f = 5 * 17 * 65;
            assert_eq!(config(output).fusion_width(), 5_525);
            let head =
                linear_params(f, 32) + linear_params(32, 32) + linear_params(32, output.width());
            assert_eq!(trainable(&model), subnets + head, "{output:?}");
        }
    }

    #[test]
    fn outer_product_index_order() {
        let device = Device::default();
        let a = Tensor::<2>::from_data([[2.0f32]], &device); // z_a = [1, 2]
        let v = Tensor::<2>::from_data([[3.0f32, 5.0]], &device); // z_v = [1, 3, 5]
        let t = Tensor::<2>::from_data([[7.0f32]], &device); // z_t = [1, 7]
        let z = tensor_fusion(a, v, t)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let (za, zv, zt) = ([1.0f32, 2.0], [1.0f32, 3.0, 5.0], [1.0f32, 7.0]);
        let mut expected = Vec::new();
        for x in za {
            for y in zv {
                for w in zt {
                    expected.push(x * y * w);
                }
            }
        }
        assert_eq!(z, expected);
    }

    #[test]
    fn mosi_head_stays_in_range() {
        let device = Device::default();
        let model = config(TfnOutput::MosiRegression).init(&device);
        let y = model.forward(
            Tensor::ones([2, 74], &device),
            Tensor::ones([2, 35], &device),
            Tensor::ones([2, 3, 300], &device),
        );
        assert_eq!(y.dims(), [2, 1]);
        let y = y.into_data().try_to_vec::<f32>().unwrap();
        assert!(y.iter().all(|v| (-3.0..=3.0).contains(v)));
    }
}
