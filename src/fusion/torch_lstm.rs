//! A one-layer, unidirectional, batch-first LSTM with PyTorch's `nn.LSTM` parameter layout.
//!
//! Written by hand rather than using `burn::nn::Lstm` for weight import, not for the count: burn's
//! `Lstm` has the same number of parameters (one input and one hidden bias per gate), but keeps
//! each gate in its own pair of `Linear`s, while PyTorch packs the four gates into one
//! `weight_ih_l0 [4h, in]`, `weight_hh_l0 [4h, h]`, `bias_ih_l0 [4h]` and `bias_hh_l0 [4h]`.
//! Key remapping renames tensors but cannot split one into four, so with this layout a PyTorch
//! (or Paddle) `state_dict` loads under its own key names. The gate order is PyTorch's
//! `i, f, g, o`, and the initialisation is PyTorch's: every tensor `U(-1/√h, 1/√h)`.

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

/// Gates per step, in PyTorch's row order of the packed weights: input, forget, cell, output.
const GATES: usize = 4;

#[derive(Config, Debug)]
pub struct TorchLstmConfig {
    /// Features per time step.
    pub d_input: usize,
    /// Width of the hidden and cell states.
    pub d_hidden: usize,
}

/// `nn.LSTM(d_input, d_hidden, num_layers=1, batch_first=True)`; only the final hidden state
/// is returned, because that is all TextSubNet reads.
#[derive(Module, Debug)]
pub struct TorchLstm {
    /// `[4h, in]`, rows `i, f, g, o`.
    pub weight_ih_l0: Param<Tensor<2>>,
    /// `[4h, h]`, rows `i, f, g, o`.
    pub weight_hh_l0: Param<Tensor<2>>,
    pub bias_ih_l0: Param<Tensor<1>>,
    pub bias_hh_l0: Param<Tensor<1>>,
}

impl TorchLstmConfig {
    pub fn init(&self, device: &Device) -> TorchLstm {
        let h = self.d_hidden;
        let bound = 1.0 / (h as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        TorchLstm {
            weight_ih_l0: init.init([GATES * h, self.d_input], device),
            weight_hh_l0: init.init([GATES * h, h], device),
            bias_ih_l0: init.init([GATES * h], device),
            bias_hh_l0: init.init([GATES * h], device),
        }
    }
}

impl TorchLstm {
    /// `h_n`, `[batch, hidden]`, of the sequence `x` `[batch, steps, in]`, from zero initial
    /// states. Every step is run: there are no lengths or masks (the seed pads to a fixed length
    /// and reads the state after the last step).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        self.run(x, None)
    }

    /// `h_n` as PyTorch's packed sequences give it: the state after each row's last real step,
    /// `valid` `[batch, steps]` being 1 on real steps and 0 on padding, which leaves the states
    /// as they are. Padding may come first (a reversed batch), then the states stay zero until
    /// the row's first real step.
    pub fn forward_masked(&self, x: Tensor<3>, valid: Tensor<2>) -> Tensor<2> {
        self.run(x, Some(valid))
    }

    fn run(&self, x: Tensor<3>, valid: Option<Tensor<2>>) -> Tensor<2> {
        let [batch, steps, _] = x.dims();
        let hidden = self.hidden_size();
        let device = x.device();
        // The input projection of every step in one matmul; only the recurrence is sequential.
        let projected = self.project_inputs(x); // [B, T, 4h]
        let mut h = Tensor::<2>::zeros([batch, hidden], &device);
        let mut c = Tensor::<2>::zeros([batch, hidden], &device);
        for t in 0..steps {
            let step: Tensor<2> = projected
                .clone()
                .narrow(1, t, 1)
                .reshape([batch, GATES * hidden]);
            (h, c) = match &valid {
                None => self.cell(step, h, c),
                Some(valid) => {
                    let keep = valid.clone().narrow(1, t, 1); // [B, 1]
                    let (h_next, c_next) = self.cell(step, h.clone(), c.clone());
                    (
                        h.clone() + (h_next - h) * keep.clone(),
                        c.clone() + (c_next - c) * keep,
                    )
                }
            };
        }
        h
    }

    pub fn hidden_size(&self) -> usize {
        self.weight_hh_l0.dims()[1]
    }

    /// `x W_ih^T + b_ih`, `[B, T, 4h]`.
    fn project_inputs(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, steps, input] = x.dims();
        let flat = x.reshape([batch * steps, input]);
        let projected = flat.matmul(self.weight_ih_l0.val().transpose())
            + self.bias_ih_l0.val().unsqueeze_dim(0);
        projected.reshape([batch, steps, GATES * self.hidden_size()])
    }

    /// One step from the projected input: PyTorch's
    /// `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`.
    fn cell(&self, projected: Tensor<2>, h: Tensor<2>, c: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let gates = projected
            + h.matmul(self.weight_hh_l0.val().transpose())
            + self.bias_hh_l0.val().unsqueeze_dim(0);
        let mut chunks = gates.chunk(GATES, 1).into_iter();
        let mut next = || chunks.next().expect("four gate chunks");
        let (i, f, g, o) = (next(), next(), next(), next());
        let c = sigmoid(f) * c + sigmoid(i) * g.tanh();
        let h = sigmoid(o) * c.clone().tanh();
        (h, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_matches_pytorch() {
        // PyTorch: 4·(in·h + h·h + 2h), two biases per gate.
        let lstm = TorchLstmConfig::new(300, 128).init(&Device::default());
        assert_eq!(lstm.num_params(), 4 * (300 * 128 + 128 * 128 + 2 * 128));
        assert_eq!(lstm.num_params(), 220_160);
    }

    #[test]
    fn one_step_with_only_the_cell_gate_open() {
        // Zero weights, biases that open i and o fully (σ(50) = 1), close f, and set g = 0.5:
        // c = tanh(g)·1, h = tanh(c). The gate rows are i, f, g, o.
        let device = Device::default();
        let mut lstm = TorchLstmConfig::new(2, 1).init(&device);
        lstm.weight_ih_l0 = Param::from_tensor(Tensor::zeros([4, 2], &device));
        lstm.weight_hh_l0 = Param::from_tensor(Tensor::zeros([4, 1], &device));
        lstm.bias_ih_l0 =
            Param::from_tensor(Tensor::from_data([50.0f32, -50.0, 0.5, 50.0], &device));
        lstm.bias_hh_l0 = Param::from_tensor(Tensor::zeros([4], &device));
        let h = lstm.forward(Tensor::ones([1, 1, 2], &device));
        let got = h.into_data().try_to_vec::<f32>().unwrap()[0];
        let expected = 0.5f32.tanh().tanh();
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }
}
