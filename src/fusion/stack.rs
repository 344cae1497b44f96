//! `stack` (seed 000, docs/methods/seed-000-rsa-cfn.md#heads): multi-sample dropout. The diagram's "5 Dense" is ONE shared
//! Linear applied to five independent dropout(0.5) samples of the normed concatenation; the five
//! logits are averaged. In evaluation dropout is the identity, so one pass gives the same result
//! at a fifth of the cost.
//!
//! ```text
//! x = LN_D(cat[a, t]);  logits = (1/5) Σ_k Lin(D, C)(Drop_k(0.5)(x))     eval: Lin(D, C)(x)
//! ```

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::kernels::dropout;
use crate::modality::{Form, Modality};

use super::blocks::NormedConcat;
use super::registry::{Method, NoKeys};
use super::{FusionInputs, FusionSpec};

/// Dropout samples averaged per training step (docs/methods/seed-000-rsa-cfn.md#heads).
pub const STACK_SAMPLES: usize = 5;
/// Dropout probability of each sample (docs/methods/seed-000-rsa-cfn.md#heads).
pub const STACK_DROPOUT: f64 = 0.5;

#[derive(Module, Debug)]
pub struct Stack {
    pub input: NormedConcat,
    pub classifier: Linear,
    dropout: Dropout,
}

impl Stack {
    pub fn new(spec: &FusionSpec, device: &Device) -> Self {
        Self {
            input: NormedConcat::new(spec.dim(Modality::Audio), spec.dim(Modality::Text), device),
            classifier: LinearConfig::new(
                spec.dim(Modality::Audio) + spec.dim(Modality::Text),
                spec.n_classes,
            )
            .init(device),
            dropout: DropoutConfig::new(STACK_DROPOUT).init(),
        }
    }

    pub fn forward(&self, text: Tensor<2>, audio: Tensor<2>) -> Tensor<2> {
        let x = self.input.forward(audio, text);
        if !dropout::is_active(&self.dropout, &x) {
            return self.classifier.forward(x);
        }
        self.mean_over_dropout_samples(x)
    }

    fn mean_over_dropout_samples(&self, x: Tensor<2>) -> Tensor<2> {
        let sum = (0..STACK_SAMPLES)
            .map(|_| {
                self.classifier
                    .forward(dropout::apply(&self.dropout, x.clone()))
            })
            .reduce(|acc, logits| acc + logits)
            .expect("at least one sample");
        sum.div_scalar(STACK_SAMPLES as f64)
    }
}

/// `stack`, registered.
pub struct StackMethod;

impl Method for StackMethod {
    const SUMMARY: &'static str = "Seed 000 \"Stack\": LayerNorm of `[audio, text]`, then ONE shared Linear applied to 5 dropout(0.5) samples whose logits are averaged in training (multi-sample dropout); one plain pass in evaluation.";
    const NEEDS: &'static [(Modality, Form)] = super::TEXT_AUDIO;
    type Keys = NoKeys;
    type Module = Stack;

    fn init(_: &NoKeys, spec: &FusionSpec, device: &Device) -> Stack {
        Stack::new(spec, device)
    }

    fn forward(module: &Stack, x: &FusionInputs) -> Tensor<2> {
        module.forward(x.pooled(Modality::Text), x.pooled(Modality::Audio))
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
        let spec = spec(FusionMethod::Stack, SEED000_AUDIO, SEED000_TEXT);
        let stack = Stack::new(&spec, &Device::default());
        // LN_1792 + ONE Lin(1792, 7): 3,584 + 12,551 = 16,135.
        assert_eq!(
            stack.num_params(),
            layer_norm_params(1792) + linear_params(1792, 7)
        );
        assert_eq!(stack.num_params(), 16_135);
    }

    #[test]
    fn eval_is_one_linear_pass_on_the_normed_audio_first_concat() {
        let device = Device::default(); // not autodiff: evaluation mode
        let stack = Stack::new(&spec(FusionMethod::Stack, 6, 4), &device);
        let (audio, text) = (ramp(3, 6, &device), ramp(3, 4, &device).mul_scalar(0.5));
        let expected = stack.classifier.forward(
            stack
                .input
                .norm
                .forward(Tensor::cat(vec![audio.clone(), text.clone()], 1)),
        );
        let got = stack.forward(text, audio);
        assert_eq!(got.dims(), [3, CLASSES]);
        assert_eq!(to_vec(got), to_vec(expected));
    }

    #[test]
    fn training_averages_dropout_samples_so_it_differs_from_eval() {
        let device = Device::default().autodiff();
        let stack = Stack::new(&spec(FusionMethod::Stack, 16, 16), &device);
        let (audio, text) = (ramp(4, 16, &device), ramp(4, 16, &device).mul_scalar(-1.0));
        let train = to_vec(stack.forward(text.clone(), audio.clone()));
        let eval = to_vec(stack.valid().forward(text.inner(), audio.inner()));
        assert_eq!(train.len(), eval.len());
        assert!(train.iter().zip(&eval).any(|(a, b)| (a - b).abs() > 1e-6));
    }
}
