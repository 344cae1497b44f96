//! RoBERTa and XLM-RoBERTa (`RobertaModel`, `XLMRobertaModel`): BERT's layers and pooler, with
//! fairseq's position ids, which start at `padding_idx + 1` and skip padding tokens.

use burn::prelude::*;

use super::bert::run_body;
use super::config::HfTextConfig;
use super::embeddings::Embeddings;
use super::layer::{Encoder, Pooler};
use super::{TextInput, TextOutput};

#[derive(Module, Debug)]
pub struct RobertaModel {
    embeddings: Embeddings,
    encoder: Encoder,
    pooler: Option<Pooler>,
    #[module(skip)]
    padding_idx: usize,
}

impl RobertaModel {
    pub fn new(config: &HfTextConfig, with_pooler: bool, device: &Device) -> Self {
        Self {
            embeddings: Embeddings::new(config, device),
            encoder: Encoder::new(config, device),
            pooler: with_pooler.then(|| Pooler::new(config, device)),
            padding_idx: config.pad_token_id,
        }
    }

    pub fn forward(&self, input: TextInput) -> TextOutput {
        let positions = position_ids_from_input_ids(input.ids.clone(), self.padding_idx);
        run_body(
            &self.embeddings,
            &self.encoder,
            self.pooler.as_ref(),
            input,
            positions,
        )
    }
}

/// HF's `create_position_ids_from_input_ids`: `cumsum(ids != pad) * (ids != pad) + pad`, so real
/// tokens count from `pad + 1` and every padding token gets position `pad`. It looks at the ids,
/// not at the attention mask, exactly as Hugging Face does.
pub fn position_ids_from_input_ids(ids: Tensor<2, Int>, padding_idx: usize) -> Tensor<2, Int> {
    let real = ids.not_equal_elem(padding_idx as i64).int();
    real.clone().cumsum(1) * real + padding_idx as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_start_after_the_pad_id_and_skip_padding() {
        let device = Device::default();
        // pad id 1, right padding on the first row, a pad token in the middle of the second.
        let ids = Tensor::<2, Int>::from_data([[0, 7, 2, 1, 1], [0, 9, 1, 8, 2]], &device);
        let got: Vec<i64> = position_ids_from_input_ids(ids, 1)
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(got, vec![2, 3, 4, 1, 1, 2, 3, 1, 4, 5]);
    }
}
