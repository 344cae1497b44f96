//! Seeding burn's RNG makes wav2vec2's training passes (SpecAugment spans, LayerDrop) repeat.
//! Alone in its test binary: the seed is process-wide, and a test drawing random numbers in
//! another thread between `seed` and `forward` would change the draws.

use burn::prelude::*;
use emo_run::encoders::wav2vec2::{Wav2Vec2Config, Wav2Vec2Input};

#[test]
fn seeding_the_device_reproduces_training_passes() {
    let config = Wav2Vec2Config {
        conv_dim: vec![8, 8],
        conv_kernel: vec![10, 3],
        conv_stride: vec![5, 2],
        hidden_size: 16,
        num_hidden_layers: 4,
        num_attention_heads: 2,
        intermediate_size: 24,
        num_conv_pos_embeddings: 4,
        num_conv_pos_embedding_groups: 2,
        layerdrop: 0.5,
        ..Default::default()
    };
    let device = Device::default().autodiff();
    let model = config.init(&device);
    let samples: Vec<f32> = (0..800).map(|i| ((i as f32) * 0.37).sin()).collect();
    let run = |seed: u64| {
        device.seed(seed);
        let output = model.forward(Wav2Vec2Input {
            waveform: Tensor::from_data(TensorData::new(samples.clone(), [2, 400]), &device),
            lengths: Some(vec![400, 300]),
        });
        output
            .last_hidden_state()
            .into_data()
            .try_to_vec_as::<f32>()
            .unwrap()
    };
    // burn initialises parameters lazily, on first use: a first pass draws the weights, so
    // that the seeded passes below differ only in SpecAugment, LayerDrop and dropout.
    run(0);
    assert_eq!(run(17), run(17));
    assert_ne!(run(17), run(18));
}
