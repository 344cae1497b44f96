//! Training/evaluation behaviour, freezing and weight loading of the wav2vec2 model. Parity
//! with transformers itself is `tests/wav2vec2_parity.rs`.

use std::path::Path;

use burn::module::Param;
use burn::prelude::*;
use burn::store::{BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, SafetensorsStore, bridge};

use super::*;
use crate::params::ModuleParams;

fn tiny(stable: bool) -> Wav2Vec2Config {
    Wav2Vec2Config {
        conv_dim: vec![8, 8],
        conv_kernel: vec![10, 3],
        conv_stride: vec![5, 2],
        conv_bias: stable,
        feat_extract_norm: if stable { "layer" } else { "group" }.into(),
        hidden_size: 16,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 24,
        num_conv_pos_embeddings: 4,
        num_conv_pos_embedding_groups: 2,
        do_stable_layer_norm: stable,
        ..Default::default()
    }
}

/// Only the behaviour under test varies between passes: no dropout anywhere.
fn without_dropout(config: Wav2Vec2Config) -> Wav2Vec2Config {
    Wav2Vec2Config {
        hidden_dropout: 0.0,
        activation_dropout: 0.0,
        attention_dropout: 0.0,
        feat_proj_dropout: 0.0,
        ..config
    }
}

/// Two rows of 400 samples (39 frames), the second with 300 real ones.
fn input(device: &Device, lengths: Option<Vec<usize>>) -> Wav2Vec2Input {
    let samples: Vec<f32> = (0..800)
        .map(|i| ((i as f32) * 0.37).sin() * 0.5 + ((i % 13) as f32) * 0.01)
        .collect();
    Wav2Vec2Input {
        waveform: Tensor::from_data(TensorData::new(samples, [2, 400]), device),
        lengths,
    }
}

fn values<const D: usize>(x: Tensor<D>) -> Vec<f32> {
    x.into_data().try_to_vec_as::<f32>().unwrap()
}

fn all_values(output: Wav2Vec2Output) -> Vec<f32> {
    let mut out = values(output.extract_features);
    for h in output.hidden_states {
        out.extend(values(h));
    }
    out
}

#[test]
fn shapes_and_frame_lengths() {
    let config = tiny(false);
    let device = Device::default();
    let model = config.init(&device);
    let output = model.forward(input(&device, Some(vec![400, 300])));
    assert_eq!(output.extract_features.dims(), [2, 39, 8]);
    assert_eq!(output.hidden_states.len(), 3);
    assert!(output.hidden_states.iter().all(|h| h.dims() == [2, 39, 16]));
    assert_eq!(output.frame_lengths, vec![39, config.frames_for(300)]);
    assert_eq!(config.frames_for(300), 29);
    let unmasked = model.forward(input(&device, None));
    assert_eq!(unmasked.frame_lengths, vec![39, 39]);
}

#[test]
fn spec_augment_replaces_whole_spans_of_real_frames_with_the_embedding() {
    let device = Device::default().autodiff();
    let mut model = tiny(true).init(&device);
    model.masked_spec_embed = Some(Param::from_tensor(Tensor::full([16], 7.0, &device)));
    let hidden = Tensor::<3>::zeros([2, 39, 16], &device);
    let masked = values(model.spec_augment(hidden, &[39, 20]));
    for (row, lengths) in [(0, 39), (1, 20)] {
        let frames: Vec<bool> = (0..39)
            .map(|t| {
                let frame = &masked[(row * 39 + t) * 16..(row * 39 + t + 1) * 16];
                assert!(frame.iter().all(|&v| v == 0.0) || frame.iter().all(|&v| v == 7.0));
                frame[0] == 7.0
            })
            .collect();
        let count = frames.iter().filter(|&&m| m).count();
        // min_masks = 2 spans of mask_time_length = 10, possibly overlapping.
        assert!((10..=20).contains(&count), "row {row}: {count} masked");
        assert!(
            frames[lengths..].iter().all(|&m| !m),
            "row {row}: mask in padding"
        );
    }
}

#[test]
fn evaluation_is_deterministic_and_unmasked_training_is_not() {
    let config = without_dropout(Wav2Vec2Config {
        layerdrop: 0.0,
        ..tiny(true)
    });
    let train_device = Device::default().autodiff();
    let model = config.init(&train_device);
    let plain = model.valid();
    let plain_device = Device::default();
    let reference = all_values(plain.forward(input(&plain_device, None)));
    assert_eq!(
        reference,
        all_values(plain.forward(input(&plain_device, None)))
    );
    // A plain device never trains, even with the training flag on: no random draws.
    let flagged = config.init(&plain_device);
    assert!(flagged.training.is_enabled());
    let first = all_values(flagged.forward(input(&plain_device, None)));
    assert_eq!(
        first,
        all_values(flagged.forward(input(&plain_device, None)))
    );

    // On the training device with the flag on, SpecAugment masks: the outputs move.
    let trained = all_values(model.forward(input(&train_device, None)));
    let moved = reference
        .iter()
        .zip(&trained)
        .filter(|(a, b)| (*a - *b).abs() > 1e-4)
        .count();
    assert!(moved > 0, "SpecAugment changed nothing in training");
}

/// Layers skipped in one pass: a skipped post-LN layer leaves its input as its output.
fn skipped_layers(output: Wav2Vec2Output) -> usize {
    let states: Vec<Vec<f32>> = output.hidden_states.into_iter().map(values).collect();
    states.windows(2).filter(|w| w[0] == w[1]).count()
}

#[test]
fn layer_drop_skips_only_in_training() {
    let config = without_dropout(Wav2Vec2Config {
        layerdrop: 0.9,
        num_hidden_layers: 4,
        mask_time_prob: 0.0,
        ..tiny(false)
    });
    let device = Device::default().autodiff();
    let model = config.init(&device);
    let trained: usize = (0..5)
        .map(|_| skipped_layers(model.forward(input(&device, None))))
        .sum();
    assert!(trained > 0, "no layer dropped in 20 draws at p = 0.9");

    let eval = model.valid();
    let plain = Device::default();
    for _ in 0..5 {
        assert_eq!(skipped_layers(eval.forward(input(&plain, None))), 0);
    }
    // freeze() clears the training flag: even autodiff inputs then run every layer.
    let frozen_flag = model.clone().freeze();
    assert!(!frozen_flag.training.is_enabled());
    for _ in 0..5 {
        assert_eq!(skipped_layers(frozen_flag.forward(input(&device, None))), 0);
    }
}

/// Parameters of the tiny CNN, counted by hand: conv weights (no bias in the group variant),
/// GroupNorm(8) on the first conv only, or LayerNorm(8) and a bias after every conv.
fn cnn_params(stable: bool) -> usize {
    let weights = 8 * 10 + 8 * 8 * 3;
    if stable {
        weights + 2 * 8 + 2 * (2 * 8)
    } else {
        weights + 2 * 8
    }
}

#[test]
fn freezing_the_feature_encoder_freezes_exactly_the_cnn() {
    for stable in [false, true] {
        let device = Device::default().autodiff();
        let model = tiny(stable).init(&device);
        let before = ModuleParams::of("wav2vec2", &model);
        assert_eq!(before.trainable, before.total);

        let model = model.freeze_feature_encoder();
        let after = ModuleParams::of("wav2vec2", &model);
        assert_eq!(after.total, before.total);
        assert_eq!(after.total - after.trainable, cnn_params(stable));
        let cnn = ModuleParams::of("cnn", &model.feature_extractor);
        assert_eq!((cnn.total, cnn.trainable), (cnn_params(stable), 0));
        let projection = ModuleParams::of("projection", &model.feature_projection);
        assert_eq!(projection.trainable, 2 * 8 + 8 * 16 + 16);
        assert!(model.masked_spec_embed.as_ref().unwrap().is_require_grad());
    }
}

#[test]
fn key_remapper_accepts_both_weight_norm_namings_and_the_head_prefix() {
    let tensor =
        |name: &str| bridge::from_data(TensorData::new(vec![0f32], [1]), name.to_string(), None);
    let names = [
        "wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0",
        "wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1",
        "encoder.pos_conv_embed.conv.weight_g",
        "encoder.pos_conv_embed.conv.weight_v",
        "wav2vec2.feature_projection.projection.weight",
        "lm_head.weight",
    ];
    let (remapped, _) = key_remapper().remap(names.iter().map(|n| tensor(n)).collect());
    let remapped: Vec<String> = remapped.into_iter().map(|t| t.name).collect();
    assert_eq!(
        remapped,
        [
            "encoder.pos_conv_embed.conv.weight_g",
            "encoder.pos_conv_embed.conv.weight_v",
            "encoder.pos_conv_embed.conv.weight_g",
            "encoder.pos_conv_embed.conv.weight_v",
            "feature_projection.projection.weight",
            "lm_head.weight",
        ]
    );
    assert_eq!(
        hf_key("encoder.PostLn.layers.0.layer_norm.gamma"),
        "encoder.layers.0.layer_norm.weight"
    );
    assert_eq!(
        hf_key("feature_extractor.conv_layers.0.layer_norm.Group.beta"),
        "feature_extractor.conv_layers.0.layer_norm.bias"
    );
}

/// Save `model` as a transformers checkpoint would name it, with `rewrites` applied to the
/// names, into `dir/model.safetensors`.
fn save_hf(model: &Wav2Vec2Model, dir: &Path, rewrites: Vec<(&str, &str)>) {
    let mut store = SafetensorsStore::from_file(dir.join("model.safetensors"))
        .with_to_adapter(BurnToPyTorchAdapter)
        .skip_enum_variants(true)
        .remap(KeyRemapper::from_patterns(rewrites).unwrap());
    model.save_into(&mut store).unwrap();
}

#[test]
fn loads_both_namings_with_or_without_prefix() {
    let device = Device::default();
    for stable in [false, true] {
        let config = tiny(stable);
        let source = config.init(&device);
        let expected = all_values(source.forward(input(&device, Some(vec![400, 300]))));
        let layouts = [
            vec![
                (r"^", "wav2vec2."),
                (r"weight_g$", "parametrizations.weight.original0"),
                (r"weight_v$", "parametrizations.weight.original1"),
            ],
            vec![],
        ];
        for rewrites in layouts {
            let dir = tempfile::tempdir().unwrap();
            save_hf(&source, dir.path(), rewrites);
            let loaded = load_pretrained(dir.path(), &config, &device).unwrap();
            let got = all_values(loaded.forward(input(&device, Some(vec![400, 300]))));
            assert_eq!(got, expected, "stable = {stable}");
        }
    }
}

#[test]
fn missing_weights_name_the_folder_and_the_keys() {
    let device = Device::default();
    let config = tiny(false);
    let source = config.init(&device);
    let dir = tempfile::tempdir().unwrap();
    save_hf(
        &source,
        dir.path(),
        vec![
            (r"^encoder\.layers\.1\.final_layer_norm\.", "elsewhere."),
            (r"^masked_spec_embed$", "not_needed"),
        ],
    );
    let err = format!(
        "{:#}",
        load_pretrained(dir.path(), &config, &device).unwrap_err()
    );
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    assert!(
        err.contains("encoder.layers.1.final_layer_norm.weight"),
        "{err}"
    );
    assert!(
        err.contains("encoder.layers.1.final_layer_norm.bias"),
        "{err}"
    );
    // masked_spec_embed may be absent, as transformers re-initialises it.
    assert!(!err.contains("masked_spec_embed"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let err = format!(
        "{:#}",
        load_pretrained(empty.path(), &config, &device).unwrap_err()
    );
    assert!(err.contains("pytorch_model.bin") && err.contains(&empty.path().display().to_string()));
}

#[test]
fn gradients_reach_weight_norm_g_and_v_but_not_a_frozen_cnn() {
    let device = Device::default().autodiff();
    let model = tiny(false).init(&device).freeze_feature_encoder();
    let output = model.forward(input(&device, Some(vec![400, 300])));
    let grads = output.last_hidden_state().powi_scalar(2).mean().backward();
    let conv = match &model.encoder {
        Encoder::PostLn(e) => &e.pos_conv_embed.conv,
        Encoder::StableLayerNorm(e) => &e.pos_conv_embed.conv,
    };
    assert!(conv.weight_g.val().grad(&grads).is_some());
    assert!(conv.weight_v.val().grad(&grads).is_some());
    assert!(
        model
            .feature_projection
            .projection
            .weight
            .val()
            .grad(&grads)
            .is_some()
    );
    let cnn = &model.feature_extractor.conv_layers[0].conv.weight;
    assert!(cnn.val().grad(&grads).is_none());
}
