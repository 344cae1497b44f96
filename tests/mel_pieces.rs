//! Seed 001's audio input against torchaudio: `MelSpectrogram(sample_rate=16000,
//! win_length=400, n_fft=400)` of a 16 kHz clip (raw power, reflect-padded frames, HTK mel
//! bands, the empty lowest bands included) and the seed's `cutSpecToPieces(stride=32)`.
//!
//! `scripts/dev/make_mel_pieces_fixture.py` writes the fixture (pip install torch torchaudio
//! safetensors), so the test needs no Python. A log, a symmetric window, no centre padding, a
//! zero-padded centre, Slaney mel bands or a transposed piece each break the comparison.

use std::path::Path;

use burn::store::{ModuleStore, SafetensorsStore, bridge};
use emo_run::data::mel_pieces::{MelSpectrogramExtractor, PIECE_FRAMES, cut_into_pieces};

fn fixture(name: &str) -> (Vec<f32>, Vec<usize>) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mel_pieces/clip.safetensors");
    let mut store = SafetensorsStore::from_file(path);
    let snapshot = store
        .get_tensor(name)
        .expect("clip.safetensors reads")
        .unwrap_or_else(|| panic!("clip.safetensors has no {name}"));
    let data = bridge::to_data(snapshot).expect("tensor data");
    let shape = data.shape().to_vec();
    (data.try_to_vec::<f32>().expect("f32"), shape)
}

/// Within 1e-4 of each value plus 1e-6 of the largest (f32 transforms of different FFTs).
fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: sizes");
    let largest = want.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * w.abs() + 1e-6 * largest,
            "{what}[{i}]: {g} against torchaudio's {w}"
        );
    }
}

#[test]
fn the_mel_spectrogram_and_its_pieces_match_torchaudio() {
    let (clip, _) = fixture("clip");
    let (mel_want, mel_shape) = fixture("mel");
    let (pieces_want, pieces_shape) = fixture("pieces");
    let mel = MelSpectrogramExtractor::seed001(16_000)
        .compute(&clip)
        .expect("the clip is long enough");
    assert_eq!([mel.n_mels, mel.frames], [mel_shape[0], mel_shape[1]]);
    assert_close("mel", &mel.values, &mel_want);
    assert!(
        mel.values[..mel.frames].iter().all(|&v| v == 0.0),
        "the lowest band holds no frequency bin at 128 bands over 201 bins"
    );
    let (pieces, values) = cut_into_pieces(&mel, PIECE_FRAMES);
    assert_eq!(
        [pieces, 128, 32],
        [pieces_shape[0], pieces_shape[1], pieces_shape[2]]
    );
    assert_close("pieces", &values, &pieces_want);
}
