//! Dropout whose mask is drawn in bulk when the tensors live on flex.
//!
//! burn's `Dropout::forward` asks the backend for a Bernoulli tensor, and burn-flex draws it one
//! element at a time, building a new sampler for each (`TensorData::random`): 7-19 % of a flex
//! training step went there (docs/PERFORMANCE.md, "What we tried for flex"). On flex, `apply`
//! draws one seed from the backend's own generator (so a run stays reproducible from its seed,
//! and the draws keep their order) and fills the mask from a ChaCha8 stream in bulk. Other
//! devices keep burn's dropout, which draws on the device itself.
//!
//! Every dropout of emo-run's own layers goes through `apply`; burn's `TransformerEncoder`
//! (small_text, logmel_conv, mme2e's transformer) still drops with its own.

use burn::nn::Dropout;
use burn::prelude::*;
use burn::tensor::Distribution;

use super::is_flex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Whether `dropout` drops anything on `x`: the test `Dropout::forward` makes (training mode, an
/// autodiff device, a positive probability). Heads that behave differently in training and
/// evaluation beyond dropout itself (stack's averaging, rsa's attention mean) ask this too, so
/// that all follow one definition of "training".
pub fn is_active<const D: usize>(dropout: &Dropout, x: &Tensor<D>) -> bool {
    dropout.prob > 0.0 && dropout.training.is_enabled() && x.device().is_autodiff()
}

/// `dropout` applied to `x`: each value kept with probability `1 - prob` and scaled by
/// `1 / (1 - prob)`, or zeroed; `x` unchanged outside training.
pub fn apply<const D: usize>(dropout: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !is_active(dropout, &x) {
        return x;
    }
    let device = x.device();
    if !is_flex(&device) {
        return dropout.forward(x);
    }
    let shape = x.shape();
    let mask = scaled_keep_mask(
        seed_from_backend(&device),
        1.0 - dropout.prob,
        shape.num_elements(),
    );
    x * Tensor::from_data(TensorData::new(mask, shape), &device)
}

/// 64 bits from the backend's seeded generator, 16 at a time (the int dtype may be 32-bit).
fn seed_from_backend(device: &Device) -> u64 {
    let parts = Tensor::<1, Int>::random([4], Distribution::Uniform(0.0, 65536.0), device);
    parts
        .into_data()
        .iter::<i64>()
        .fold(0u64, |seed, part| (seed << 16) | (part as u64 & 0xffff))
}

/// `len` values, each `1 / keep` with probability `keep` and 0 otherwise: a keep is a ChaCha8
/// word below `keep · 2³²`. `keep` is in (0, 1).
fn scaled_keep_mask(seed: u64, keep: f64, len: usize) -> Vec<f32> {
    // burn scales by the same f32 after its 0/1 mask, so a kept value rounds as in burn.
    let scale = (1.0 / keep) as f32;
    let threshold = (keep * 4_294_967_296.0) as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut words = [0u32; 1024];
    let mut mask = Vec::with_capacity(len);
    while mask.len() < len {
        let take = (len - mask.len()).min(words.len());
        rng.fill(&mut words[..take]);
        mask.extend(words[..take].iter().map(
            |&w| {
                if u64::from(w) < threshold { scale } else { 0.0 }
            },
        ));
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;

    #[test]
    fn the_mask_keeps_the_asked_share_and_scales_it() {
        let mask = scaled_keep_mask(7, 0.9, 200_000);
        let kept = mask.iter().filter(|&&m| m != 0.0).count();
        let share = kept as f64 / mask.len() as f64;
        assert!((share - 0.9).abs() < 0.005, "kept {share}");
        assert!(mask.iter().all(|&m| m == 0.0 || m == (1.0f64 / 0.9) as f32));
        assert_eq!(mask, scaled_keep_mask(7, 0.9, 200_000));
        assert_ne!(mask, scaled_keep_mask(8, 0.9, 200_000));
    }

    #[test]
    fn a_mask_is_the_prefix_of_a_longer_one() {
        // The length does not change the draws, only how many are taken.
        let long = scaled_keep_mask(3, 0.5, 5000);
        assert_eq!(scaled_keep_mask(3, 0.5, 1500), long[..1500]);
    }

    #[test]
    fn evaluation_and_plain_devices_pass_the_input_through() {
        let device = Device::default();
        let dropout = DropoutConfig::new(0.5).init();
        let x = Tensor::<2>::ones([4, 8], &device);
        let y = apply(&dropout, x.clone());
        assert_eq!(y.into_data(), x.into_data());
    }

    #[test]
    fn training_drops_on_the_autodiff_device_and_reruns_identically() {
        let device = Device::default().autodiff();
        let dropout = DropoutConfig::new(0.25).init();
        let draw = || {
            device.seed(11);
            let x = Tensor::<2>::ones([64, 64], &device);
            apply(&dropout, x).into_data().try_to_vec::<f32>().unwrap()
        };
        let first = draw();
        let zeros = first.iter().filter(|&&v| v == 0.0).count();
        assert!(
            (600..1450).contains(&zeros),
            "{zeros} of 4096 dropped at p = 0.25"
        );
        assert!(
            first
                .iter()
                .all(|&v| v == 0.0 || v == (1.0f64 / 0.75) as f32)
        );
        assert_eq!(first, draw());
    }

    #[test]
    fn gradients_flow_through_the_kept_values_only() {
        let device = Device::default().autodiff();
        device.seed(5);
        let dropout = DropoutConfig::new(0.5).init();
        let x = Tensor::<2>::ones([16, 16], &device).require_grad();
        let y = apply(&dropout, x.clone());
        // x is all ones, so y holds the mask itself: 0 or 2, which is also dy/dx.
        let mask = y.clone().into_data();
        let grads = y.sum().backward();
        assert_eq!(x.grad(&grads).unwrap().into_data(), mask);
    }
}
