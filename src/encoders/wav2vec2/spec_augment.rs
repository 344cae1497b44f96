//! SpecAugment's span masks, transformers' `_compute_mask_indices`, with the randomness passed
//! in so that the arithmetic is testable and the draws come from burn's seeded RNG.

/// How many spans of which length, from `mask_time_*` or `mask_feature_*`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskSpec {
    pub prob: f64,
    pub length: usize,
    pub min_masks: usize,
}

/// The random numbers one call consumes: transformers draws one `epsilon` per call for the
/// probabilistic rounding of the span count, then a random subset of span starts per row.
pub struct MaskDraws<'a> {
    /// Uniform in [0, 1).
    pub epsilon: f64,
    /// Uniform keys, `sequence_length` per row; a row's span starts are the candidates with
    /// the smallest keys, which is a uniform draw without replacement like `np.random.choice`.
    pub keys: &'a [f32],
}

impl MaskSpec {
    /// Spans for a row of `input_length` real positions in a batch padded to `sequence_length`.
    fn num_spans(&self, input_length: usize, sequence_length: usize, epsilon: f64) -> usize {
        let expected = self.prob * input_length as f64 / self.length as f64 + epsilon;
        let mut spans = (expected as usize).max(self.min_masks);
        if spans * self.length > sequence_length {
            spans = sequence_length / self.length;
        }
        // Also no more spans than start positions in the row.
        spans.min((input_length + 1).saturating_sub(self.length))
    }

    /// `[batch][sequence_length]`, `true` where a position is masked. `input_lengths` are the
    /// real positions per row (the whole sequence without an attention mask).
    ///
    /// Unlike transformers, which raises when `length > sequence_length`, nothing is masked
    /// then: a short batch in training should not stop a run.
    pub fn compute(
        &self,
        sequence_length: usize,
        input_lengths: &[usize],
        draws: &MaskDraws,
    ) -> Vec<Vec<bool>> {
        let batch = input_lengths.len();
        assert_eq!(
            draws.keys.len(),
            batch * sequence_length,
            "one key per position"
        );
        let mut mask = vec![vec![false; sequence_length]; batch];
        if self.length > sequence_length {
            return mask;
        }
        let max_spans = self.num_spans(sequence_length, sequence_length, draws.epsilon);
        if max_spans == 0 {
            return mask;
        }
        for (row, (&input_length, keys)) in input_lengths
            .iter()
            .zip(draws.keys.chunks(sequence_length))
            .enumerate()
        {
            let spans = self.num_spans(input_length, sequence_length, draws.epsilon);
            let candidates = (input_length + 1).saturating_sub(self.length);
            let mut starts: Vec<usize> = (0..candidates).collect();
            starts.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
            starts.truncate(spans);
            // transformers pads every row to `max_spans` spans by repeating the first start,
            // or, in a row with none, the last position (which then gets masked).
            let dummy = starts.first().copied().unwrap_or(sequence_length - 1);
            starts.resize(max_spans, dummy);
            for start in starts {
                for t in start..start + self.length {
                    mask[row][t.min(sequence_length - 1)] = true;
                }
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEQ: usize = 79;
    const TIME: MaskSpec = MaskSpec {
        prob: 0.05,
        length: 10,
        min_masks: 2,
    };

    /// Keys that rank the positions by a fixed permutation, distinct per row.
    fn keys(rows: usize, seed: u64) -> Vec<f32> {
        (0..rows * SEQ)
            .map(|i| ((i as u64 * 2_654_435_761 + seed) % 1_000_003) as f32 / 1_000_003.0)
            .collect()
    }

    /// The start of every maximal run of masked positions, and its length.
    fn runs(row: &[bool]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut t = 0;
        while t < row.len() {
            if row[t] {
                let start = t;
                while t < row.len() && row[t] {
                    t += 1;
                }
                out.push((start, t - start));
            }
            t += 1;
        }
        out
    }

    #[test]
    fn span_count_follows_min_masks_and_rounding() {
        // 0.05 · 79 / 10 = 0.395: below min_masks, so 2 spans, whatever epsilon is.
        assert_eq!(TIME.num_spans(79, 79, 0.0), 2);
        assert_eq!(TIME.num_spans(79, 79, 0.99), 2);
        // 0.05 · 1050 / 10 = 5.25: epsilon decides between 5 and 6.
        assert_eq!(TIME.num_spans(1050, 1050, 0.0), 5);
        assert_eq!(TIME.num_spans(1050, 1050, 0.7), 5);
        assert_eq!(TIME.num_spans(1050, 1050, 0.8), 6);
        // Capped by the sequence and by the start positions of a short row.
        assert_eq!(TIME.num_spans(15, 15, 0.0), 1);
        assert_eq!(TIME.num_spans(10, 79, 0.0), 1);
        assert_eq!(TIME.num_spans(9, 79, 0.0), 0);
    }

    #[test]
    fn two_spans_of_ten_on_79_frames() {
        let keys = keys(3, 7);
        let draws = MaskDraws {
            epsilon: 0.3,
            keys: &keys,
        };
        let mask = TIME.compute(SEQ, &[SEQ; 3], &draws);
        for row in &mask {
            let masked = row.iter().filter(|&&m| m).count();
            // Two spans of 10: 20 positions, or fewer where they overlap, never a partial span.
            assert!((10..=20).contains(&masked), "{masked}");
            let runs = runs(row);
            assert!(
                runs.iter().all(|&(_, len)| (10..=20).contains(&len)),
                "{runs:?}"
            );
            assert!(runs.len() <= 2);
        }
        // Different keys give different spans.
        assert_ne!(mask[0], mask[1]);
    }

    #[test]
    fn starts_are_the_lowest_keys_and_spans_stay_in_the_row() {
        let mut keys = vec![1.0f32; SEQ];
        keys[69] = 0.1; // the last valid start for a full row
        keys[3] = 0.2;
        let draws = MaskDraws {
            epsilon: 0.0,
            keys: &keys,
        };
        let mask = TIME.compute(SEQ, &[SEQ], &draws);
        assert_eq!(runs(&mask[0]), vec![(3, 10), (69, 10)]);

        // A row with 30 real frames only starts spans in 0..=20.
        let mut keys = vec![1.0f32; SEQ];
        keys[60] = 0.0;
        keys[25] = 0.1;
        keys[20] = 0.2;
        keys[0] = 0.3;
        let draws = MaskDraws {
            epsilon: 0.0,
            keys: &keys,
        };
        let mask = TIME.compute(SEQ, &[30], &draws);
        assert_eq!(runs(&mask[0]), vec![(0, 10), (20, 10)]);
    }

    #[test]
    fn a_row_too_short_for_a_span_gets_transformers_dummy_last_frame() {
        let keys = keys(2, 3);
        let draws = MaskDraws {
            epsilon: 0.0,
            keys: &keys,
        };
        let mask = TIME.compute(SEQ, &[SEQ, 5], &draws);
        assert_eq!(runs(&mask[1]), vec![(SEQ - 1, 1)]);
        assert!(mask[0].iter().filter(|&&m| m).count() >= 10);
    }

    #[test]
    fn nothing_is_masked_when_the_span_is_longer_than_the_sequence() {
        let keys = keys(1, 0);
        let draws = MaskDraws {
            epsilon: 0.5,
            keys: &keys[..5],
        };
        let mask = TIME.compute(5, &[5], &draws);
        assert_eq!(mask, vec![vec![false; 5]]);
    }
}
