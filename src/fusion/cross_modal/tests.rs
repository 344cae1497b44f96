use super::*;
use crate::fusion::blocks::test_support::{CLASSES, ramp, to_vec};
use crate::fusion::{FusionConfig, FusionMethod};

/// Seed 003's widths: frozen KoELECTRA-v3 states (768) and cached XLSR-large states (1024).
const ELECTRA: usize = 768;
const XLSR: usize = 1024;

fn spec(text: usize, audio: usize) -> FusionSpec {
    FusionSpec {
        config: FusionConfig::of(FusionMethod::CrossModal),
        dims: [(Modality::Text, text), (Modality::Audio, audio)].into(),
        text_tokens: 128,
        n_classes: CLASSES,
    }
}

fn count(layers: usize, variant: CrossModalVariant) -> usize {
    let keys = CrossModalKeys {
        layers,
        variant,
        ..Default::default()
    };
    CrossModal::new(&keys, &spec(ELECTRA, XLSR), &Device::default()).num_params()
}

/// B.4 and B.10: every count of the published table, from the layer shapes.
#[test]
fn parameter_counts_are_the_published_ones() {
    assert_eq!(count(3, CrossModalVariant::Both), 44_107_271);
    assert_eq!(count(1, CrossModalVariant::Both), 15_755_783);
    assert_eq!(count(1, CrossModalVariant::TextOnly), 8_273_159);
    assert_eq!(count(1, CrossModalVariant::AudioOnly), 8_273_159);
    assert_eq!(count(3, CrossModalVariant::TextOnly), 22_448_903);
    assert_eq!(count(3, CrossModalVariant::AudioOnly), 22_448_903);
}

fn small(variant: CrossModalVariant, key_padding_mask: bool) -> CrossModal {
    let keys = CrossModalKeys {
        layers: 2,
        heads: 2,
        ffn: 8,
        frames: 6,
        variant,
        key_padding_mask,
        head_hidden: 5,
        ..Default::default()
    };
    CrossModal::new(&keys, &spec(4, 3), &Device::default())
}

fn sequence(batch: usize, steps: usize, width: usize) -> Tensor<3> {
    ramp(batch * steps, width, &Device::default()).reshape([batch, steps, width])
}

#[test]
fn audio_is_zero_padded_or_truncated_to_frames() {
    let model = small(CrossModalVariant::Both, false);
    let (padded, lengths) = model.fit_frames(sequence(2, 4, 3), &[4, 2]);
    assert_eq!(padded.dims(), [2, 6, 3]);
    assert_eq!(lengths, [4, 2]);
    assert!(to_vec(padded.narrow(1, 4, 2)).iter().all(|&v| v == 0.0));
    let (truncated, lengths) = model.fit_frames(sequence(2, 9, 3), &[9, 7]);
    assert_eq!(truncated.dims(), [2, 6, 3]);
    assert_eq!(lengths, [6, 6]);
}

#[test]
fn every_variant_gives_logits_for_any_audio_length() {
    for variant in [
        CrossModalVariant::Both,
        CrossModalVariant::TextOnly,
        CrossModalVariant::AudioOnly,
    ] {
        for mask in [false, true] {
            let model = small(variant, mask);
            for frames in [3, 6, 10] {
                let logits = model.forward(
                    sequence(2, 5, 4),
                    &[5, 3],
                    sequence(2, frames, 3),
                    &[frames, 2],
                );
                assert_eq!(logits.dims(), [2, CLASSES]);
                assert!(to_vec(logits).iter().all(|v| v.is_finite()));
            }
        }
    }
}

#[test]
fn the_mask_changes_the_output_only_when_there_is_padding() {
    let text = sequence(2, 5, 4);
    let audio = sequence(2, 6, 3);
    let unmasked = small(CrossModalVariant::Both, false);
    let mut masked = small(CrossModalVariant::Both, false);
    masked.key_padding_mask = true;
    let masked = masked.load_record(unmasked.clone().into_record());
    let full = |m: &CrossModal, t: &[usize], a: &[usize]| {
        to_vec(m.forward(text.clone(), t, audio.clone(), a))
    };
    assert_eq!(
        full(&unmasked, &[5, 5], &[6, 6]),
        full(&masked, &[5, 5], &[6, 6])
    );
    assert_ne!(
        full(&unmasked, &[5, 2], &[6, 3]),
        full(&masked, &[5, 2], &[6, 3])
    );
}

#[test]
fn bad_keys_are_named() {
    let keys = CrossModalKeys {
        layers: 0,
        frames: 0,
        head_dropout: 1.0,
        ..Default::default()
    };
    let named: Vec<&str> = CrossModalMethod::problems(&keys, TaskShape::default())
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(named, ["layers", "frames", "head_dropout"]);
}

#[test]
fn heads_must_divide_the_text_width() {
    let keys = CrossModalKeys {
        heads: 5,
        ..Default::default()
    };
    let problems = CrossModalMethod::width_problems(&keys, &spec(ELECTRA, XLSR));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].0, "heads");
    assert!(problems[0].1.contains("768"), "{}", problems[0].1);
    assert!(
        CrossModalMethod::width_problems(&CrossModalKeys::default(), &spec(ELECTRA, XLSR))
            .is_empty()
    );
}

/// With `tokens` set, a row's logits are the same alone as in a batch padded to another row's
/// length, whatever its batch padded it with: unmasked, as the seed runs.
#[test]
fn a_rows_output_does_not_depend_on_its_batch() {
    let keys = CrossModalKeys {
        layers: 1,
        heads: 2,
        ffn: 8,
        frames: 6,
        tokens: 7,
        head_hidden: 5,
        ..Default::default()
    };
    let model = CrossModal::new(&keys, &spec(4, 3), &Device::default());
    // Row 0 is 3 tokens and 2 frames long; everything past that is "padding" with values.
    let (text, audio) = (sequence(2, 5, 4), sequence(2, 4, 3));
    let batch = to_vec(model.forward(text.clone(), &[3, 5], audio.clone(), &[2, 4]));
    let alone = to_vec(model.forward(
        text.narrow(0, 0, 1).narrow(1, 0, 3),
        &[3],
        audio.narrow(0, 0, 1).narrow(1, 0, 2),
        &[2],
    ));
    for (a, b) in alone.iter().zip(&batch[..CLASSES]) {
        assert!((a - b).abs() < 1e-5, "{alone:?} vs {batch:?}");
    }
}
