//! How a sequence becomes one vector: the `pooling` setting of an encoder, and the pooling
//! itself, shared by the encoders and by fusion inputs that pool a pre-extracted sequence.

use burn::prelude::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a sequence becomes one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean over real (unpadded) positions.
    Mean,
    /// Mean over every position, padding included (seed 000's quirk).
    MeanUnmasked,
    /// The first position ([CLS] for text).
    Cls,
    /// The first position; the same vector as `cls`, named for audio.
    First,
    /// The last real (unpadded) position.
    Last,
    /// The last position of the PADDED batch, whatever each row's length (seed 004's quirk,
    /// docs/methods/seed-004-etri.md#models: `F[:, -1]` of a dynamically padded batch, so every clip but the longest gets a
    /// padding frame). Depends on the batch, so a frozen (cached) encoder cannot use it.
    LastPadded,
    /// The model's own pooler (BERT and ALBERT: tanh(Linear(h[CLS])) of the last layer).
    Pooler,
    /// No pooling: the whole sequence goes to a token-level fusion method (mlp_mixer).
    None,
}

/// `true` where a position is padding, `[batch, max_len]`, as burn's attention expects.
pub fn padding_mask(lengths: &[usize], max_len: usize, device: &Device) -> Tensor<2, Bool> {
    let flags: Vec<bool> = lengths
        .iter()
        .flat_map(|&len| (0..max_len).map(move |t| t >= len))
        .collect();
    Tensor::from_data(TensorData::new(flags, [lengths.len(), max_len]), device)
}

/// Pool `[batch, time, dim]` to `[batch, dim]`.
pub fn pool(hidden: Tensor<3>, lengths: &[usize], pooling: Pooling) -> Tensor<2> {
    let [batch, time, dim] = hidden.dims();
    match pooling {
        Pooling::Cls | Pooling::First => hidden.narrow(1, 0, 1).reshape([batch, dim]),
        // Seed 004 (docs/methods/seed-004-etri.md#models): `F[:, -1]`, the batch's last frame for every row.
        Pooling::LastPadded => hidden.narrow(1, time - 1, 1).reshape([batch, dim]),
        Pooling::Last => {
            let rows: Vec<Tensor<2>> = lengths
                .iter()
                .enumerate()
                .map(|(row, &len)| {
                    let t = len.clamp(1, time) - 1;
                    hidden
                        .clone()
                        .narrow(0, row, 1)
                        .narrow(1, t, 1)
                        .reshape([1, dim])
                })
                .collect();
            Tensor::cat(rows, 0)
        }
        // Validation lets these through only where the encoder handles them itself: the
        // model's pooler output, or the whole sequence for a token-level fusion.
        Pooling::Pooler | Pooling::None => {
            unreachable!("pooling {pooling:?} is resolved by the encoder, not by pool()")
        }
        Pooling::MeanUnmasked => hidden.mean_dim(1).reshape([batch, dim]),
        Pooling::Mean => {
            let device = hidden.device();
            let weights: Vec<f32> = lengths
                .iter()
                .flat_map(|&len| {
                    let len = len.clamp(1, time);
                    (0..time).map(move |t| if t < len { 1.0 / len as f32 } else { 0.0 })
                })
                .collect();
            let weights =
                Tensor::<3>::from_data(TensorData::new(weights, [batch, time, 1]), &device);
            (hidden * weights).sum_dim(1).reshape([batch, dim])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_mean_and_last_ignore_padding_and_unmasked_mean_does_not() {
        let device = Device::default();
        let h = Tensor::<3>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 100.0, 4.0, 4.0, 4.0, 4.0], [2, 4, 1]),
            &device,
        );
        let masked: Vec<f32> = pool(h.clone(), &[3, 4], Pooling::Mean)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(masked, vec![2.0, 4.0]);
        let unmasked: Vec<f32> = pool(h.clone(), &[3, 4], Pooling::MeanUnmasked)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(unmasked, vec![26.5, 4.0]);
        let last: Vec<f32> = pool(h.clone(), &[3, 4], Pooling::Last)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(last, vec![3.0, 4.0]);
        let cls: Vec<f32> = pool(h, &[3, 4], Pooling::Cls)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(cls, vec![1.0, 4.0]);
    }

    #[test]
    fn last_padded_takes_the_batch_last_position_even_for_shorter_rows() {
        let device = Device::default();
        // Row 0 has 2 real frames of 4 (then padding 7, 9); row 1 has all 4.
        let h = Tensor::<3>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 7.0, 9.0, 3.0, 4.0, 5.0, 6.0], [2, 4, 1]),
            &device,
        );
        let padded: Vec<f32> = pool(h.clone(), &[2, 4], Pooling::LastPadded)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(padded, vec![9.0, 6.0]);
        let last: Vec<f32> = pool(h, &[2, 4], Pooling::Last)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(
            last,
            vec![2.0, 6.0],
            "`last` stops at each row's own length"
        );
    }

    #[test]
    fn padding_mask_marks_positions_past_the_length() {
        let m: Vec<bool> = padding_mask(&[1, 3], 3, &Device::default())
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(m, vec![false, true, true, false, false, false]);
    }
}
