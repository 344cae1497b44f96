//! Helpers shared by the Hugging Face text-encoder tests: fixture JSON, tokenising a batch
//! through the public API, and comparing tensors.
#![allow(dead_code)]

use burn::prelude::*;
use serde::Deserialize;
use tokenizers::Tokenizer;

use emo_run::encoders::hf::TextInput;

/// A tensor as the fixture script writes it: shape plus row-major values.
#[derive(Debug, Deserialize)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Ids, masks and token types of a batch, as plain rows for exact comparison.
pub struct Tokenized {
    pub ids: Vec<Vec<i64>>,
    pub attention_mask: Vec<Vec<i64>>,
    pub token_type_ids: Vec<Vec<i64>>,
}

pub fn tokenize(tokenizer: &Tokenizer, sentences: &[String]) -> Tokenized {
    let encodings = tokenizer
        .encode_batch(sentences.to_vec(), true)
        .expect("the fixture sentences tokenise");
    let rows = |f: fn(&tokenizers::Encoding) -> &[u32]| -> Vec<Vec<i64>> {
        encodings
            .iter()
            .map(|e| f(e).iter().map(|&v| v as i64).collect())
            .collect()
    };
    Tokenized {
        ids: rows(|e| e.get_ids()),
        attention_mask: rows(|e| e.get_attention_mask()),
        token_type_ids: rows(|e| e.get_type_ids()),
    }
}

fn int_tensor(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let shape = [rows.len(), rows[0].len()];
    let flat: Vec<i64> = rows.concat();
    Tensor::from_data(TensorData::new(flat, shape), device)
}

impl Tokenized {
    pub fn input(&self, device: &Device) -> TextInput {
        TextInput {
            ids: int_tensor(&self.ids, device),
            attention_mask: int_tensor(&self.attention_mask, device),
            token_type_ids: Some(int_tensor(&self.token_type_ids, device)),
        }
    }
}

/// Largest absolute difference between `got` and `want`, after checking their shapes agree.
pub fn max_abs_diff<const D: usize>(got: Tensor<D>, want: &Array, what: &str) -> f32 {
    assert_eq!(got.dims().to_vec(), want.shape, "shape of {what}");
    let got: Vec<f32> = got.into_data().convert::<f32>().try_to_vec().unwrap();
    got.iter()
        .zip(&want.data)
        .map(|(g, w)| {
            assert!(g.is_finite(), "{what} holds {g}");
            (g - w).abs()
        })
        .fold(0.0, f32::max)
}

/// Mean over the positions where `attention_mask` is 1: sentence-transformers' mean pooling.
pub fn masked_mean(last: Tensor<3>, attention_mask: Tensor<2, Int>) -> Tensor<2> {
    let [batch, len, hidden] = last.dims();
    let mask = attention_mask.float().reshape([batch, len, 1]);
    let sum = (last * mask.clone()).sum_dim(1).reshape([batch, hidden]);
    sum / mask.sum_dim(1).reshape([batch, 1])
}
