//! fairseq's sinusoidal positional embedding, as MulT copies it
//! (docs/methods/seed-003-multi-still.md#positions, seed 003 B.4 step 2).
//!
//! * Row `p` of the table is `[sin(p·f_0) .. sin(p·f_{h-1}), cos(p·f_0) .. cos(p·f_{h-1})]`
//!   with `h = d/2` and `f_j = exp(-j·ln(10000)/(h-1))`: the two halves are CONCATENATED, not
//!   interleaved as in "Attention is all you need". An odd `d` gets a zero last column.
//! * Positions start at 1: the step at index `t` gets row `t + 1`.
//! * Row 0 is the zero vector and belongs to padding, which fairseq recognises by the value of
//!   the input's channel 0: a step whose channel 0 is exactly 0 gets no positional signal. So
//!   zero-padded audio frames stay unmarked, while text pad tokens (non-zero encoder states) get
//!   ordinary positions. A step keeps its index-based position even after a padded one.

use burn::prelude::*;

/// The positional embedding of `x` `[batch, steps, d]`, the same shape.
pub fn sinusoidal_positions(x: &Tensor<3>) -> Tensor<3> {
    let [batch, steps, dim] = x.dims();
    let device = x.device();
    let table = Tensor::<2>::from_data(
        TensorData::new(position_rows(steps, dim), [steps, dim]),
        &device,
    )
    .unsqueeze_dim::<3>(0)
    .expand([batch, steps, dim]);
    let real_step = x.clone().narrow(2, 0, 1).not_equal_elem(0.0).float();
    table * real_step
}

/// Rows 1..=steps of the table (the positions of unpadded steps), `steps × dim` values.
fn position_rows(steps: usize, dim: usize) -> Vec<f32> {
    let half = dim / 2;
    let frequencies = frequencies(half);
    let mut rows = Vec::with_capacity(steps * dim);
    for position in 1..=steps {
        let angles = frequencies.iter().map(|f| position as f32 * f);
        rows.extend(angles.clone().map(f32::sin));
        rows.extend(angles.map(f32::cos));
        if dim % 2 == 1 {
            rows.push(0.0);
        }
    }
    rows
}

/// `f_j = exp(-j·ln(10000)/(half-1))`, in f32 as fairseq computes it.
fn frequencies(half: usize) -> Vec<f32> {
    // fairseq divides by (half - 1); at d = 2 that is a division by zero, giving inf/NaN in
    // PyTorch. Use one frequency of 1 there instead of propagating NaN (a width no real
    // encoder has, but the registry's tests may build one).
    if half <= 1 {
        return vec![1.0; half];
    }
    let step = (10000f64).ln() / (half - 1) as f64;
    (0..half)
        .map(|j| (j as f32 * -(step as f32)).exp())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(x: Tensor<3>) -> Vec<f32> {
        x.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn halves_are_concatenated_and_positions_start_at_one() {
        let device = Device::default();
        let x = Tensor::<3>::ones([1, 2, 4], &device);
        let pe = values(sinusoidal_positions(&x));
        // half = 2: f = [1, 1e-4]; step 0 is position 1, step 1 is position 2.
        let expected = [
            1f32.sin(),
            1e-4f32.sin(),
            1f32.cos(),
            1e-4f32.cos(),
            2f32.sin(),
            2e-4f32.sin(),
            2f32.cos(),
            2e-4f32.cos(),
        ];
        for (got, want) in pe.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{pe:?}");
        }
    }

    #[test]
    fn a_step_whose_channel_0_is_zero_gets_the_zero_vector() {
        let device = Device::default();
        // Step 1 has channel 0 == 0 (other channels non-zero); step 2 keeps position 3.
        let x = Tensor::<3>::from_data(
            TensorData::new(vec![1.0f32, 1.0, 0.0, 5.0, 2.0, 0.0], [1, 3, 2]),
            &device,
        );
        let pe = values(sinusoidal_positions(&x));
        assert_eq!(&pe[2..4], &[0.0, 0.0]);
        assert!((pe[4] - 3f32.sin()).abs() < 1e-6);
        assert!((pe[5] - 3f32.cos()).abs() < 1e-6);
    }

    #[test]
    fn odd_widths_get_a_zero_last_column() {
        let rows = position_rows(2, 5);
        assert_eq!(rows.len(), 10);
        assert_eq!(rows[4], 0.0);
        assert_eq!(rows[9], 0.0);
    }
}
