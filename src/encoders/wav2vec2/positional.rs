//! The convolutional positional embedding: a grouped, weight-normalised Conv1d over time
//! (transformers' `Wav2Vec2PositionalConvEmbedding`).

use burn::module::Param;
use burn::nn::Initializer;
use burn::prelude::*;
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;

use super::activation::Activation;
use super::config::Wav2Vec2Config;

/// `Conv1d(hidden, hidden, k, padding = k/2, groups)` under `weight_norm(name="weight", dim=2)`.
///
/// The weight is kept as PyTorch parametrises it, `weight = g * v / ‖v‖` with the norm taken
/// over everything but the kernel axis, and recomputed in every forward pass: `g` and `v` are
/// the trainable parameters, so fine-tuning moves the same quantities as in PyTorch.
#[derive(Module, Debug)]
pub struct WeightNormConv1d {
    /// `[1, 1, kernel]` (`weight_g`, or `parametrizations.weight.original0`).
    pub weight_g: Param<Tensor<3>>,
    /// `[out, in / groups, kernel]` (`weight_v`, or `parametrizations.weight.original1`).
    pub weight_v: Param<Tensor<3>>,
    pub bias: Param<Tensor<1>>,
    #[module(skip)]
    padding: usize,
    #[module(skip)]
    groups: usize,
}

impl WeightNormConv1d {
    fn new(channels: usize, kernel: usize, groups: usize, device: &Device) -> Self {
        // transformers draws the weight from N(0, 2·sqrt(1 / (kernel · channels))) and zeroes
        // the bias; g then starts at ‖v‖ so that the effective weight equals v.
        let std = 2.0 * (1.0 / (kernel * channels) as f64).sqrt();
        let v: Param<Tensor<3>> = Initializer::Normal { mean: 0.0, std }
            .init([channels, channels / groups, kernel], device);
        // Lazy like v, so that building the module (for `emo-run inspect`, or as the skeleton a
        // checkpoint loads into) draws nothing: g's first read draws v (a clone shares v's lazy
        // state) and takes its norms. Through host data so that g is a fresh leaf on an
        // autodiff device too (a value computed from v is not one, and a parameter must be).
        let source = v.clone();
        let g = Param::uninitialized(
            burn::module::ParamId::new(),
            move |device, require_grad| {
                let norms = kernel_norms(source.val()).into_data();
                Tensor::from_data(norms, device).set_require_grad(require_grad)
            },
            device.clone(),
            true,
            [1, 1, kernel].into(),
        );
        Self {
            weight_g: g,
            weight_v: v,
            bias: Initializer::Zeros.init([channels], device),
            padding: kernel / 2,
            groups,
        }
    }

    pub fn weight(&self) -> Tensor<3> {
        let v = self.weight_v.val();
        let norms = kernel_norms(v.clone());
        v * (self.weight_g.val() / norms)
    }

    /// `[batch, channels, time]` to `[batch, channels, time + 2·(k/2) - k + 1]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let options = ConvOptions::new([1], [self.padding], [1], self.groups);
        conv1d(x, self.weight(), Some(self.bias.val()), options)
    }
}

/// `‖v[:, :, k]‖₂` for every kernel position, shaped `[1, 1, kernel]` like `weight_g`.
fn kernel_norms(v: Tensor<3>) -> Tensor<3> {
    v.powi_scalar(2).sum_dim(0).sum_dim(1).sqrt()
}

#[derive(Module, Debug)]
pub struct PositionalConvEmbedding {
    pub conv: WeightNormConv1d,
    /// 1 for an even kernel: padding k/2 on both sides gives one frame too many, and
    /// transformers' `Wav2Vec2SamePadLayer` drops the last one.
    #[module(skip)]
    num_pad_remove: usize,
    #[module(skip)]
    activation: Activation,
}

impl PositionalConvEmbedding {
    pub fn new(config: &Wav2Vec2Config, device: &Device) -> Self {
        let kernel = config.num_conv_pos_embeddings;
        Self {
            conv: WeightNormConv1d::new(
                config.hidden_size,
                kernel,
                config.num_conv_pos_embedding_groups,
                device,
            ),
            num_pad_remove: usize::from(kernel.is_multiple_of(2)),
            activation: Activation::parse(&config.feat_extract_activation)
                .expect("a validated wav2vec2 config"),
        }
    }

    /// `[batch, time, hidden]` to the positional embedding of the same shape.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let x = self.conv.forward(hidden.swap_dims(1, 2));
        let frames = x.dims()[2] - self.num_pad_remove;
        let x = x.narrow(2, 0, frames);
        self.activation.forward(x).swap_dims(1, 2)
    }
}
