//! The convolutional feature encoder: raw waveform to one frame per 20 ms (transformers'
//! `Wav2Vec2FeatureEncoder`).

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Initializer, LayerNorm, LayerNormConfig};
use burn::prelude::*;

use super::activation::Activation;
use super::config::{FeatExtractNorm, Wav2Vec2Config};

/// The norm after a conv. Its field is called `layer_norm` in transformers for both kinds, so
/// the enum keeps one path; checkpoints load with enum variants skipped.
#[derive(Module, Debug)]
pub enum ConvNorm {
    /// `GroupNorm(num_groups = channels)`: each channel normalised over time, per example.
    Group(GroupNorm),
    /// `LayerNorm(channels)` at every frame.
    Layer(LayerNorm),
}

#[derive(Module, Debug)]
pub struct ConvLayer {
    pub conv: Conv1d,
    pub layer_norm: Option<ConvNorm>,
    #[module(skip)]
    activation: Activation,
}

impl ConvLayer {
    /// `[batch, time, channels_in]` to `[batch, time', channels_out]`: time-major, so that the
    /// convolution is one matrix product and the LayerNorm variant needs no transposes.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = conv_as_product(&self.conv, x);
        let x = match &self.layer_norm {
            Some(ConvNorm::Group(norm)) => channel_norm_over_time(norm, x),
            Some(ConvNorm::Layer(norm)) => norm.forward(x),
            None => x,
        };
        self.activation.forward(x)
    }
}

/// transformers' padding-free `Conv1d` on time-major input, computed as one matrix product.
///
/// Output frame `t` reads input frames `stride·t .. stride·t + kernel`; laying those frames side
/// by side (`[batch·time', kernel·channels_in]`, one strided view per tap) turns the convolution
/// into a product with the weight laid out in the same (tap, channel) order. burn-flex's own
/// convolution runs a tiled im2col with one GEMM per tile; the single large product lets the
/// GEMM split the work over the cores (docs/PERFORMANCE.md, "What we tried for flex").
fn conv_as_product(conv: &Conv1d, x: Tensor<3>) -> Tensor<3> {
    let [batch, time, channels] = x.dims();
    let (kernel, stride) = (conv.kernel_size, conv.stride);
    if time < kernel {
        // No output frame: burn's convolution decides what that gives, as before.
        return conv.forward(x.swap_dims(1, 2)).swap_dims(1, 2);
    }
    let frames = (time - kernel) / stride + 1;
    let last_start = stride * (frames - 1);
    let taps: Vec<Tensor<3>> = (0..kernel)
        .map(|tap| {
            x.clone()
                .slice(s![.., tap..tap + last_start + 1; stride as isize, ..])
        })
        .collect();
    let unfolded = Tensor::cat(taps, 2).reshape([batch * frames, kernel * channels]);
    // [out, in, kernel] -> [kernel, in, out] -> [(tap, channel), out]
    let [out, _, _] = conv.weight.dims();
    let weight = conv
        .weight
        .val()
        .permute([2, 1, 0])
        .reshape([kernel * channels, out]);
    let y = unfolded.matmul(weight);
    let y = match &conv.bias {
        Some(bias) => y + bias.val().unsqueeze_dim(0),
        None => y,
    };
    y.reshape([batch, frames, out])
}

/// transformers' `GroupNorm(num_groups = channels)` on time-major input: each channel of each
/// example normalised over time (biased variance), then scaled and shifted per channel. Written
/// out rather than calling burn's `GroupNorm`, which wants channels first: the transposes there
/// and back left every later layer reading a non-contiguous tensor.
fn channel_norm_over_time(norm: &GroupNorm, x: Tensor<3>) -> Tensor<3> {
    let [_, _, channels] = x.dims();
    assert_eq!(
        norm.num_groups, channels,
        "the feature encoder's GroupNorm has one group per channel"
    );
    let centred = x.clone() - x.mean_dim(1);
    let variance = centred.clone().square().mean_dim(1);
    let normed = centred / (variance + norm.epsilon).sqrt();
    match (&norm.gamma, &norm.beta) {
        (Some(gamma), Some(beta)) => {
            normed * gamma.val().reshape([1, 1, channels]) + beta.val().reshape([1, 1, channels])
        }
        _ => normed,
    }
}

#[derive(Module, Debug)]
pub struct FeatureEncoder {
    pub conv_layers: Vec<ConvLayer>,
}

impl FeatureEncoder {
    pub fn new(config: &Wav2Vec2Config, device: &Device) -> Self {
        let norm = config
            .feat_extract_norm()
            .expect("a validated wav2vec2 config");
        let activation = Activation::parse(&config.feat_extract_activation)
            .expect("a validated wav2vec2 config");
        let conv_layers = (0..config.conv_dim.len())
            .map(|i| {
                let channels_in = if i == 0 { 1 } else { config.conv_dim[i - 1] };
                let channels = config.conv_dim[i];
                // transformers initialises these convs with kaiming_normal_ (fan in, gain √2).
                let conv = Conv1dConfig::new(channels_in, channels, config.conv_kernel[i])
                    .with_stride(config.conv_stride[i])
                    .with_bias(config.conv_bias)
                    .with_initializer(Initializer::KaimingNormal {
                        gain: 2f64.sqrt(),
                        fan_out_only: false,
                    })
                    .init(device);
                let layer_norm = match norm {
                    FeatExtractNorm::Group if i == 0 => Some(ConvNorm::Group(
                        GroupNormConfig::new(channels, channels).init(device),
                    )),
                    FeatExtractNorm::Group => None,
                    // nn.LayerNorm's default epsilon, not config.layer_norm_eps.
                    FeatExtractNorm::Layer => {
                        Some(ConvNorm::Layer(LayerNormConfig::new(channels).init(device)))
                    }
                };
                ConvLayer {
                    conv,
                    layer_norm,
                    activation,
                }
            })
            .collect();
        Self { conv_layers }
    }

    /// `[batch, samples]` to `[batch, frames, conv_dim[-1]]`.
    pub fn forward(&self, waveform: Tensor<2>) -> Tensor<3> {
        self.conv_layers
            .iter()
            .fold(waveform.unsqueeze_dim(2), |x, layer| layer.forward(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn values(t: Tensor<3>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// The product equals burn's own convolution, for wav2vec2's first layer (one input
    /// channel, kernel 10, stride 5), its later ones (kernel 3 and 2, stride 2), with and
    /// without bias, on lengths that leave input frames unread at the end.
    #[test]
    fn conv_as_product_equals_the_convolution() {
        let device = Device::default();
        for (channels_in, kernel, stride, bias, time) in [
            (1, 10, 5, false, 403),
            (6, 3, 2, true, 37),
            (6, 2, 2, false, 9),
            (4, 3, 2, true, 3),
        ] {
            let conv = Conv1dConfig::new(channels_in, 5, kernel)
                .with_stride(stride)
                .with_bias(bias)
                .init(&device);
            let x = Tensor::<3>::random([2, time, channels_in], Distribution::Default, &device);
            let expected = conv.forward(x.clone().swap_dims(1, 2)).swap_dims(1, 2);
            let got = conv_as_product(&conv, x);
            assert_eq!(
                got.dims(),
                expected.dims(),
                "kernel {kernel} stride {stride}"
            );
            for (a, b) in values(got).iter().zip(values(expected)) {
                assert!(
                    (a - b).abs() <= 1e-5,
                    "kernel {kernel} stride {stride}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn channel_norm_over_time_equals_group_norm() {
        let device = Device::default();
        let norm = GroupNormConfig::new(6, 6).init(&device);
        let x = Tensor::<3>::random([2, 11, 6], Distribution::Default, &device);
        let expected = norm.forward(x.clone().swap_dims(1, 2)).swap_dims(1, 2);
        let got = channel_norm_over_time(&norm, x);
        for (a, b) in values(got).iter().zip(values(expected)) {
            assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
        }
    }
}
