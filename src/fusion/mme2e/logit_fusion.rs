//! Seed 001's `weighted_fusion`: each modality's class logits stacked and combined by one learned
//! scalar per modality, shared across classes (`Linear(n_mod, 1, bias=False)` over the stacked
//! axis). With one modality its logits pass through unchanged, as in the seed.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

#[derive(Module, Debug)]
pub struct WeightedLogitFusion {
    weights: Linear,
}

impl WeightedLogitFusion {
    pub fn new(modalities: usize, device: &Device) -> Self {
        Self {
            weights: LinearConfig::new(modalities, 1)
                .with_bias(false)
                .init(device),
        }
    }

    /// One `[batch, classes]` per modality, in the seed's order (text, visual, audio) →
    /// `[batch, classes]`.
    pub fn forward(&self, logits: Vec<Tensor<2>>) -> Tensor<2> {
        if logits.len() == 1 {
            return logits.into_iter().next().expect("one modality");
        }
        let [batch, classes] = logits[0].dims();
        let stacked: Tensor<3> = Tensor::stack(logits, 2);
        self.weights.forward(stacked).reshape([batch, classes])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;

    #[test]
    fn each_modality_is_weighted_by_its_own_scalar() {
        let device = Device::default();
        let mut fusion = WeightedLogitFusion::new(2, &device);
        fusion.weights.weight =
            Param::from_tensor(Tensor::<1>::from_floats([2.0, -1.0], &device).reshape([2, 1]));
        let text = Tensor::<1>::from_floats([1.0, 2.0], &device).reshape([1, 2]);
        let audio = Tensor::<1>::from_floats([10.0, 20.0], &device).reshape([1, 2]);
        let fused: Vec<f32> = fusion
            .forward(vec![text, audio])
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(fused, [2.0 - 10.0, 4.0 - 20.0]);
    }

    #[test]
    fn one_modality_passes_through() {
        let device = Device::default();
        let fusion = WeightedLogitFusion::new(1, &device);
        let text = Tensor::<1>::from_floats([1.0, 2.0], &device).reshape([1, 2]);
        let fused: Vec<f32> = fusion.forward(vec![text]).into_data().try_to_vec().unwrap();
        assert_eq!(fused, [1.0, 2.0]);
    }
}
