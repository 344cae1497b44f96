//! `residual` (seed 000, docs/methods/seed-000-rsa-cfn.md#heads): two residual ReLU blocks on the normed concatenation, a skip
//! connection around them, one Linear to the classes.
//!
//! ```text
//! x  = LN_D(cat[a, t])
//! r1 = Drop(0.3)(ReLU(Lin(D, 512)(x)))
//! r2 = Drop(0.3)(ReLU(Lin(D + 512, D)(cat[x, r1])))
//! logits = Lin(D, C)(x + r2)
//! ```

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use crate::modality::{Form, Modality};

use super::blocks::{NormedConcat, ResidualBlocks};
use super::registry::{Method, NoKeys};
use super::{FusionInputs, FusionSpec};

/// Width of `res_block` in residual and rsa (docs/methods/seed-000-rsa-cfn.md#heads).
pub const RESIDUAL_HIDDEN: usize = 512;

#[derive(Module, Debug)]
pub struct Residual {
    input: NormedConcat,
    blocks: ResidualBlocks,
    classifier: Linear,
}

impl Residual {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        let width = spec.dim(Modality::Audio) + spec.dim(Modality::Text);
        Self {
            input: NormedConcat::new(spec.dim(Modality::Audio), spec.dim(Modality::Text), device),
            blocks: ResidualBlocks::new(width, RESIDUAL_HIDDEN, device),
            classifier: LinearConfig::new(width, spec.n_classes).init(device),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let x = self.input.forward(audio, text);
        let residual = self.blocks.forward(x.clone());
        self.classifier.forward(x + residual)
    }
}

/// `residual`, registered.
pub struct ResidualMethod;

impl Method for ResidualMethod {
    const SUMMARY: &'static str = "Seed 000 \"Residual\": LayerNorm of `[audio, text]`, two residual ReLU blocks (512 wide, then back to the input width from the concatenation of input and block 1), a skip connection, Linear to the classes.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = NoKeys;
    type Module = Residual;

    fn init(_: &NoKeys, spec: &FusionSpec, device: &Device) -> Residual {
        Residual::new(spec, device)
    }

    fn forward(module: &Residual, x: &FusionInputs) -> Tensor<2> {
        module.forward(x.pooled(Modality::Text), x.pooled(Modality::Audio))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::FusionMethod;
    use crate::fusion::blocks::test_support::*;
    use crate::fusion::blocks::{layer_norm_params, linear_params};

    /// LN_1792 + Lin(1792,512) + Lin(2304,1792) + Lin(1792,7)
    /// = 3,584 + 918,016 + 4,130,560 + 12,551 = 5,064,711.
    const RESIDUAL_SEED000_PARAMS: usize = layer_norm_params(1792)
        + linear_params(1792, 512)
        + linear_params(1792 + 512, 1792)
        + linear_params(1792, 7);

    #[test]
    fn parameter_count_at_seed_000_dims() {
        let spec = spec(FusionMethod::Residual, SEED000_AUDIO, SEED000_TEXT);
        let residual = Residual::new(&spec, &Device::default());
        assert_eq!(residual.num_params(), RESIDUAL_SEED000_PARAMS);
        assert_eq!(residual.num_params(), 5_064_711);
    }

    #[test]
    fn logits_have_one_row_per_sample() {
        let device = Device::default();
        let residual = Residual::new(&spec(FusionMethod::Residual, 6, 4), &device);
        let logits = residual.forward(ramp(3, 4, &device), ramp(3, 6, &device));
        assert_eq!(logits.dims(), [3, CLASSES]);
    }
}
