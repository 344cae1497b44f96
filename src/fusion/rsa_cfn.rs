//! `rsa_cfn`, Residual Self-Attention Cross Fusion Network (seed 000's headline head, docs/methods/seed-000-rsa-cfn.md#heads).
//!
//! ```text
//! pa = Lin(A, p)(a);  pt = Lin(T, p)(t)                      p = fusion.proj_dim (128); no activation
//! ha = LN_p(SA_a(1, 96)(pa).out + pa);  ht = LN_p(SA_t(1, 96)(pt).out + pt)   own SA and LN each
//! ha1 = cat[1, ha];  ht1 = cat[1, ht]                          [B, p+1], constant 1 FIRST (TFN style)
//! z = (ha1[:, :, None] @ ht1[:, None, :]).reshape(B, (p+1)²)   row-major: index = i_audio·(p+1) + j_text
//! r1 = Drop(0.3)(ReLU(Lin(n, 1024)(z)))                        n = (p+1)² = 16,641
//! r2 = Drop(0.3)(ReLU(Lin(n + 1024, n)(cat[z, r1])))
//! logits = Lin(1024, C)(Drop(0.3)(ReLU(Lin(n, 1024)(z + r2))))
//! ```
//!
//! The prepended 1 keeps the unimodal features in the product (row 0 is `ht1`, column 0 is
//! `ha1`), so the outer product holds both modalities alone and every cross term.
//! `Lin(17665, 16641)` alone holds 294 M parameters: the head is 328.3 M at p = 128.

use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::modality::{Form, Modality};

use super::blocks::{RESIDUAL_DROPOUT, ResidualBlocks};
use super::heads::positive;
use super::registry::{Method, TaskShape};
use super::scalar_attention::ScalarSelfAttention;
use super::{FusionInputs, FusionSpec};
use crate::kernels::dropout;

/// Hidden width of each modality's SelfAttention (docs/methods/seed-000-rsa-cfn.md#heads).
pub const CFN_ATTENTION_HIDDEN: usize = 96;
/// Width of rsa_cfn's residual block and of its classifier's hidden layer (docs/methods/seed-000-rsa-cfn.md#heads).
pub const CFN_HIDDEN: usize = 1024;

#[derive(Module, Debug)]
pub struct RsaCfn {
    audio: AttendedProjection,
    text: AttendedProjection,
    blocks: ResidualBlocks,
    classifier: CfnClassifier,
}

impl RsaCfn {
    pub fn new(proj: usize, spec: &FusionSpec, device: &Device) -> Self {
        let crossed = outer_product_width(proj);
        Self {
            audio: AttendedProjection::new(spec.dim(Modality::Audio), proj, device),
            text: AttendedProjection::new(spec.dim(Modality::Text), proj, device),
            blocks: ResidualBlocks::new(crossed, CFN_HIDDEN, device),
            classifier: CfnClassifier::new(crossed, spec.n_classes, device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let z = outer_product_with_constant_one(self.audio.forward(audio), self.text.forward(text));
        let residual = self.blocks.forward(z.clone());
        self.classifier.forward(z + residual)
    }
}

/// `(p + 1)²`: the width of the outer product of two `p`-wide vectors with a 1 prepended.
pub fn outer_product_width(proj: usize) -> usize {
    (proj + 1) * (proj + 1)
}

/// `vec(cat[1, ha] ⊗ cat[1, ht])`, `[B, (p+1)²]`, row-major: element `i·(p+1) + j` is
/// `ha1[i] · ht1[j]` (i over audio, j over text), as `torch.reshape` lays it out.
pub fn outer_product_with_constant_one(audio: Tensor<2>, text: Tensor<2>) -> Tensor<2> {
    let [batch, _] = audio.dims();
    let audio1: Tensor<3> = prepend_one(audio).unsqueeze_dim(2); // [B, p+1, 1]
    let text1: Tensor<3> = prepend_one(text).unsqueeze_dim(1); // [B, 1, p+1]
    let product = audio1.matmul(text1); // [B, p+1, p+1]
    let [_, rows, cols] = product.dims();
    product.reshape([batch, rows * cols])
}

/// `cat[1, x]` along the features; the constant carries no gradient.
fn prepend_one(x: Tensor<2>) -> Tensor<2> {
    let [batch, _] = x.dims();
    let ones = Tensor::ones([batch, 1], &x.device());
    Tensor::cat(vec![ones, x], 1)
}

/// One modality's path to the outer product: `LN_p(SA(1, 96)(Lin(in, p)(v)).out + Lin(in, p)(v))`.
#[derive(Module, Debug)]
pub struct AttendedProjection {
    projection: Linear,
    attention: ScalarSelfAttention,
    norm: LayerNorm,
}

impl AttendedProjection {
    pub fn new(input: usize, proj: usize, device: &Device) -> Self {
        Self {
            projection: LinearConfig::new(input, proj).init(device),
            attention: ScalarSelfAttention::new(CFN_ATTENTION_HIDDEN, device),
            norm: LayerNormConfig::new(proj).init(device),
        }
    }

    pub fn forward(&self, v: Tensor<2>) -> Tensor<2> {
        let projected = self.projection.forward(v);
        let (attended, _) = self.attention.forward(projected.clone());
        self.norm.forward(attended + projected)
    }
}

/// `rac_classifier`: `Seq(Lin(n, 1024), ReLU, Drop(0.3), Lin(1024, C))`.
#[derive(Module, Debug)]
pub struct CfnClassifier {
    hidden: Linear,
    activation: Relu,
    dropout: Dropout,
    output: Linear,
}

impl CfnClassifier {
    pub fn new(input: usize, classes: usize, device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(input, CFN_HIDDEN).init(device),
            activation: Relu::new(),
            dropout: DropoutConfig::new(RESIDUAL_DROPOUT).init(),
            output: LinearConfig::new(CFN_HIDDEN, classes).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = dropout::apply(
            &self.dropout,
            self.activation.forward(self.hidden.forward(x)),
        );
        self.output.forward(h)
    }
}

/// Keys of rsa_cfn (and of hybrid_fusion's rsa_cfn branch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RsaCfnKeys {
    /// Width each modality is projected to before the outer product (seed 000: 128, so the
    /// outer product has 129 x 129 = 16,641 features). The head grows with the fourth power of
    /// this width: 128 gives a 328 M-parameter head.
    pub proj_dim: usize,
}

impl Default for RsaCfnKeys {
    fn default() -> Self {
        Self { proj_dim: 128 }
    }
}

/// `rsa_cfn`, registered.
pub struct RsaCfnMethod;

impl Method for RsaCfnMethod {
    const SUMMARY: &'static str = "Seed 000 \"RSA-CFN\": each modality projected to `proj_dim`, self-attention over its scalar features with a residual LayerNorm, a constant 1 prepended, their outer product ((proj_dim+1)² features), residual blocks and a two-layer classifier.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = RsaCfnKeys;
    type Module = RsaCfn;

    fn init(keys: &RsaCfnKeys, spec: &FusionSpec, device: &Device) -> RsaCfn {
        RsaCfn::new(keys.proj_dim, spec, device)
    }

    fn forward(module: &RsaCfn, x: &FusionInputs) -> Tensor<2> {
        module.forward(x.pooled(Modality::Text), x.pooled(Modality::Audio))
    }

    fn problems(keys: &RsaCfnKeys, _task: TaskShape) -> Vec<(&'static str, String)> {
        positive("proj_dim", keys.proj_dim).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::FusionMethod;
    use crate::fusion::blocks::test_support::*;
    use crate::fusion::blocks::{layer_norm_params, linear_params};

    #[test]
    fn parameter_count_at_seed_000_dims() {
        // Built lazily: `num_params` reads shapes, so the 328 M weights are never allocated.
        let spec = spec(FusionMethod::RsaCfn, SEED000_AUDIO, SEED000_TEXT);
        let head = RsaCfn::new(128, &spec, &Device::default());
        let sa96 = 2 * linear_params(1, 96) + linear_params(1, 1); // 386
        let n = 129 * 129; // 16,641
        let expected = linear_params(1024, 128)      //     131,200 wav_proj
            + linear_params(768, 128)                //      98,432 rnn_proj
            + 2 * sa96                               //         772 wave_attn, text_attn
            + 2 * layer_norm_params(128)             //         512 wav_norm, rnn_norm
            + linear_params(n, 1024)                 //  17,041,408 rac_res_block
            + linear_params(n + 1024, n)             // 293,979,906 rac_res_block2
            + linear_params(n, 1024)                 //  17,041,408 rac_classifier[0]
            + linear_params(1024, 7); //                      7,175 rac_classifier[3]
        assert_eq!(head.num_params(), expected);
        assert_eq!(head.num_params(), 328_300_813);
    }

    /// The real size once: allocates the 328 M parameters (~1.3 GB) and runs a batch of 2.
    /// `cargo test --lib rsa_cfn -- --ignored`
    #[test]
    #[ignore = "allocates ~1.3 GB"]
    fn forward_at_seed_000_dims() {
        let device = Device::default();
        let spec = spec(FusionMethod::RsaCfn, SEED000_AUDIO, SEED000_TEXT);
        let head = RsaCfn::new(128, &spec, &device);
        let logits = head.forward(
            ramp(2, SEED000_TEXT, &device),
            ramp(2, SEED000_AUDIO, &device),
        );
        assert_eq!(logits.dims(), [2, CLASSES]);
        assert!(to_vec(logits).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn logits_shape_at_small_dims() {
        let device = Device::default();
        let spec = spec(FusionMethod::RsaCfn, 6, 5);
        let head = RsaCfn::new(4, &spec, &device);
        assert_eq!(
            head.forward(ramp(3, 5, &device), ramp(3, 6, &device))
                .dims(),
            [3, CLASSES]
        );
    }

    #[test]
    fn outer_product_is_row_major_audio_by_text_with_the_one_first() {
        let device = Device::default();
        let audio = Tensor::<2>::from_data([[2.0f32, 3.0], [-1.0, 0.5]], &device);
        let text = Tensor::<2>::from_data([[5.0f32, 7.0], [4.0, -2.0]], &device);
        let z = outer_product_with_constant_one(audio, text);
        assert_eq!(z.dims(), [2, 9]);
        let z = to_vec(z);
        // Sample 0: ha1 = [1, 2, 3], ht1 = [1, 5, 7].
        assert_eq!(&z[..9], &[1.0, 5.0, 7.0, 2.0, 10.0, 14.0, 3.0, 15.0, 21.0]);
        // One known element of sample 1: i_audio = 2 (0.5), j_text = 1 (4) at 2·3 + 1 = 7.
        assert_eq!(z[9 + 2 * 3 + 1], 0.5 * 4.0);
    }
}
