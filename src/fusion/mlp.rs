//! The two-layer classification head every fusion method ends in:
//! `Linear(in, hidden) -> ReLU -> Dropout -> Linear(hidden, classes)`.

use crate::kernels::dropout;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;

#[derive(Module, Debug)]
pub struct MlpHead {
    hidden: Linear,
    activation: Relu,
    dropout: Dropout,
    output: Linear,
}

impl MlpHead {
    pub fn new(input: usize, hidden: usize, classes: usize, dropout: f64, device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(input, hidden).init(device),
            activation: Relu::new(),
            dropout: DropoutConfig::new(dropout).init(),
            output: LinearConfig::new(hidden, classes).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = dropout::apply(
            &self.dropout,
            self.activation.forward(self.hidden.forward(x)),
        );
        self.output.forward(x)
    }
}
