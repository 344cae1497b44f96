//! A `Linear` over a sequence's tokens as one matrix product.
//!
//! burn's `linear` keeps a `[batch, len, d_in]` input batched when `len` is a multiple of 32,
//! and burn-flex then runs one single-threaded GEMM per sequence, in parallel over the batch.
//! Folding the tokens into the rows first gives one `[batch·len, d_in]` product that the GEMM
//! splits over the cores itself, and the input gradient of the backward pass follows the same
//! form (docs/PERFORMANCE.md, "What we tried for flex": the measured gain).

use burn::nn::Linear;
use burn::prelude::*;

/// `linear` applied to every token of `x` (`[batch, len, d_in]` -> `[batch, len, d_out]`).
pub fn linear_over_tokens(linear: &Linear, x: Tensor<3>) -> Tensor<3> {
    let [batch, len, width] = x.dims();
    let y = linear.forward(x.reshape([batch * len, width]));
    let [_, out] = y.dims();
    y.reshape([batch, len, out])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;

    #[test]
    fn equals_the_batched_linear() {
        let device = Device::default();
        let linear = LinearConfig::new(3, 2).init(&device);
        let x = Tensor::<3>::from_data(
            [
                [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]],
                [[0.0, 1.0, -2.0], [4.0, 0.0, 1.0]],
            ],
            &device,
        );
        let values = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
        let flat = linear_over_tokens(&linear, x.clone());
        assert_eq!(flat.dims(), [2, 2, 2]);
        let (flat, batched) = (values(flat), values(linear.forward(x)));
        for (a, b) in flat.iter().zip(&batched) {
            assert!((a - b).abs() <= 1e-6, "{flat:?} vs {batched:?}");
        }
    }
}
