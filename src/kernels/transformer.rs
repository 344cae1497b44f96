//! burn's `TransformerEncoder`, run with this module's dropout and GELU.
//!
//! The module stays burn's (the same parameters, initialisation and records); only the forward
//! pass is written here, step for step as burn-nn 0.22's `TransformerEncoderLayer::forward` and
//! `MultiHeadAttention::forward`, so that its dropouts and its feed-forward GELU take the fast
//! forms on flex. In the quickstart they were a quarter of a training step on flex.

use burn::nn::Linear;
use burn::nn::activation::Activation;
use burn::nn::attention::MultiHeadAttention;
use burn::nn::transformer::{PositionWiseFeedForward, TransformerEncoder, TransformerEncoderLayer};
use burn::prelude::*;
use burn::tensor::activation::{quiet_softmax, softmax};

use super::{dropout, gelu::gelu};

/// `encoder` over `x` (`[batch, len, d_model]`), `mask_pad` (`[batch, len]`, true at padding)
/// kept out of every attention: burn's `encoder.forward(TransformerEncoderInput::new(x)
/// .mask_pad(mask_pad))`.
pub fn encode(
    encoder: &TransformerEncoder,
    x: Tensor<3>,
    mask_pad: Option<Tensor<2, Bool>>,
) -> Tensor<3> {
    encoder
        .layers
        .iter()
        .fold(x, |x, layer| encoder_layer(layer, x, mask_pad.clone()))
}

fn encoder_layer(
    layer: &TransformerEncoderLayer,
    x: Tensor<3>,
    mask_pad: Option<Tensor<2, Bool>>,
) -> Tensor<3> {
    // burn's names: norm_2 before attention in the pre-LN form, norm_1 before the feed-forward.
    let attention_input = match layer.norm_first {
        true => layer.norm_2.forward(x.clone()),
        false => x.clone(),
    };
    let attended = self_attention(&layer.mha, attention_input, mask_pad);
    let mut x = x + dropout::apply(&layer.dropout, attended);
    let ff_input = match layer.norm_first {
        true => layer.norm_1.forward(x.clone()),
        false => {
            x = layer.norm_1.forward(x);
            x.clone()
        }
    };
    let x = x + dropout::apply(&layer.dropout, feed_forward(&layer.pwff, ff_input));
    match layer.norm_first {
        true => x,
        false => layer.norm_2.forward(x),
    }
}

fn self_attention(
    mha: &MultiHeadAttention,
    x: Tensor<3>,
    mask_pad: Option<Tensor<2, Bool>>,
) -> Tensor<3> {
    let [batch, len, d_model] = x.dims();
    let heads = |linear: &Linear| {
        linear
            .forward(x.clone())
            .reshape([batch, len, mha.n_heads, mha.d_k])
            .swap_dims(1, 2)
    };
    let (query, key, value) = (heads(&mha.query), heads(&mha.key), heads(&mha.value));
    let mut scores = query
        .matmul(key.transpose())
        .div_scalar((mha.d_k as f32).sqrt());
    if let Some(mask) = mask_pad {
        scores = scores.mask_fill(mask.reshape([batch, 1, 1, len]), mha.min_float);
    }
    let weights = match mha.quiet_softmax {
        true => quiet_softmax(scores, 3),
        false => softmax(scores, 3),
    };
    let context = dropout::apply(&mha.dropout, weights)
        .matmul(value)
        .swap_dims(1, 2)
        .reshape([batch, len, d_model]);
    mha.output.forward(context)
}

fn feed_forward(pwff: &PositionWiseFeedForward, x: Tensor<3>) -> Tensor<3> {
    let h = pwff.linear_inner.forward(x);
    let h = match &pwff.activation {
        Activation::Gelu(_) => gelu(h),
        other => other.forward(h),
    };
    pwff.linear_outer.forward(dropout::apply(&pwff.dropout, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::activation::ActivationConfig;
    use burn::nn::transformer::{TransformerEncoderConfig, TransformerEncoderInput};
    use burn::tensor::Distribution;

    fn max_difference(a: Tensor<3>, b: Tensor<3>) -> f32 {
        (a - b).abs().max().into_scalar()
    }

    /// Outside training nothing is dropped, so the two forwards differ only by GELU's rounding.
    #[test]
    fn equals_burns_forward_in_both_norm_orders_and_activations() {
        let device = Device::default();
        for (norm_first, activation) in [
            (true, ActivationConfig::Gelu),
            (false, ActivationConfig::Gelu),
            (true, ActivationConfig::Relu),
        ] {
            let encoder = TransformerEncoderConfig::new(16, 32, 4, 2)
                .with_norm_first(norm_first)
                .with_activation(activation.clone())
                .init(&device);
            let x = Tensor::<3>::random([3, 5, 16], Distribution::Normal(0.0, 1.0), &device);
            let mask = Tensor::<2, Bool>::from_data(
                [
                    [false; 5],
                    [false, false, false, true, true],
                    [false, true, true, true, true],
                ],
                &device,
            );
            let ours = encode(&encoder, x.clone(), Some(mask.clone()));
            let burns = encoder.forward(TransformerEncoderInput::new(x).mask_pad(mask));
            let difference = max_difference(ours, burns);
            assert!(
                difference < 1e-5,
                "{norm_first} {activation:?}: {difference}"
            );
        }
    }

    #[test]
    fn training_drops_and_gradients_reach_every_layer() {
        let device = Device::default().autodiff();
        device.seed(3);
        let encoder = TransformerEncoderConfig::new(8, 16, 2, 1)
            .with_dropout(0.5)
            .init(&device);
        let x = Tensor::<3>::random([2, 4, 8], Distribution::Normal(0.0, 1.0), &device);
        let train = encode(&encoder, x.clone(), None);
        let evaluated = encode(&encoder.clone().no_grad(), x.clone().inner(), None);
        assert!(max_difference(train.clone().inner(), evaluated) > 1e-3);
        let grads = train.sum().backward();
        let layer = &encoder.layers[0];
        assert!(layer.mha.query.weight.grad(&grads).is_some());
        assert!(layer.pwff.linear_inner.weight.grad(&grads).is_some());
    }
}
