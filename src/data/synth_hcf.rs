//! The synthetic corpus's hand-crafted feature files (`[dataset.synthetic] hcf = true`), in
//! seed 001's IEMOCAP layout (`hcf/{train,valid,test}_{text,audio,video}_features.pt`, read by
//! `[dataset.hcf] layout = "seed_iemocap"`), so that CI trains the LF baselines through the
//! real loader.
//!
//! Each stream carries part of the label as a class direction added to every word or frame
//! under noise, split so that only all three streams together separate the seven classes:
//!
//! | stream | classes it tells apart                                   |
//! |--------|----------------------------------------------------------|
//! | text   | surprise, fear, disgust, each from the rest              |
//! | audio  | sad; happy and angry (together); the rest                |
//! | visual | happy; angry; the rest                                   |
//!
//! The audio vectors have the seed's 763 rows, the signal in rows 0–33 (kept by every column
//! choice but `no_bbe`, which keeps 22–33 of them); the video vectors have 40 values, of which
//! the loader keeps the last 35, where the signal is. Only the speaker's side (`use_left`)
//! carries it, the other side is noise, so reading the wrong side learns nothing. A few
//! transcripts have no words and a few utterances no video frames, as in the real files.
//!
//! Everything draws from generators of its own, seeded by the corpus seed (the directions) and
//! by the corpus seed and the id (each utterance), so the rest of the corpus is the same draw
//! for draw whether these files are written or not. Which phase file holds an utterance is the
//! id's hash; the loader reads all three.

use std::io::BufWriter;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::cmu_pickle::synth::normal;
use super::error::DataError;
use super::iemocap::seed_speaker_on_left;
use super::pickle::write::{F32Array, Node, write_pickle};
use super::synth::{CLASSES, utterance_seed};
use crate::config::dataset_options::hcf_layout::{IEMOCAP_AUDIO_MIN_COLUMNS, TEXT_DIM, VISUAL_DIM};

/// One written utterance, as the feature files need it.
pub struct HcfItem {
    pub id: String,
    pub class: usize,
    pub seconds: f32,
}

/// Feature frames per second of audio and video.
const FRAMES_PER_SECOND: f32 = 5.0;
/// Audio rows that carry the class (band energies and MFCCs in the real files).
const AUDIO_SIGNAL_ROWS: usize = 34;
/// Values per written video frame (the loader keeps the last 35).
const VIDEO_VALUES: usize = 40;
/// Length of every class direction, and the noise per value.
const SIGNAL: f32 = 3.0;
const NOISE: f32 = 0.5;

/// Which class direction a stream shows for `class` (classes a stream cannot tell apart share
/// one).
fn shown(stream: Stream, class: usize) -> usize {
    let name = CLASSES[class];
    let index = |n: &str| CLASSES.iter().position(|&c| c == n).expect("a class");
    match (stream, name) {
        (Stream::Text, "surprise" | "fear" | "disgust") => class,
        (Stream::Text, _) => index("neutral"),
        (Stream::Audio, "sad") => class,
        (Stream::Audio, "happy" | "angry") => index("happy"),
        (Stream::Audio, _) => index("neutral"),
        (Stream::Visual, "happy" | "angry") => class,
        (Stream::Visual, _) => index("neutral"),
    }
}

#[derive(Clone, Copy)]
enum Stream {
    Text,
    Audio,
    Visual,
}

/// A fixed direction of length [`SIGNAL`] per class and stream.
struct Directions {
    text: Vec<Vec<f32>>,
    audio: Vec<Vec<f32>>,
    visual: Vec<Vec<f32>>,
}

impl Directions {
    fn draw(corpus_seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(corpus_seed ^ 0x6863_665f_6469_7273);
        let mut draw = |dim: usize| -> Vec<Vec<f32>> {
            (0..CLASSES.len())
                .map(|_| {
                    let v: Vec<f32> = (0..dim).map(|_| normal(&mut rng)).collect();
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.iter().map(|x| x * SIGNAL / norm).collect()
                })
                .collect()
        };
        Self {
            text: draw(TEXT_DIM),
            audio: draw(AUDIO_SIGNAL_ROWS),
            visual: draw(VISUAL_DIM),
        }
    }
}

/// A pickled dict's entries, by id.
type DictEntries = Vec<(Vec<u8>, Node)>;

/// Write the nine files into `dir`.
pub fn write_hcf(dir: &Path, items: &[HcfItem], corpus_seed: u64) -> Result<(), DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let directions = Directions::draw(corpus_seed);
    let mut phases: [[DictEntries; 3]; 3] = Default::default();
    for item in items {
        let mut rng =
            ChaCha8Rng::seed_from_u64(utterance_seed(corpus_seed, &format!("hcf:{}", item.id)));
        let [text, audio, video] = utterance_nodes(item, &directions, &mut rng);
        let phase = &mut phases[phase_of(&item.id)];
        let key = item.id.as_bytes().to_vec();
        phase[0].push((key.clone(), text));
        phase[1].push((key.clone(), audio));
        phase[2].push((key, video));
    }
    for (phase, streams) in ["train", "valid", "test"].into_iter().zip(phases) {
        for (stream, entries) in ["text", "audio", "video"].into_iter().zip(streams) {
            let path = dir.join(format!("{phase}_{stream}_features.pt"));
            let file = std::fs::File::create(&path).map_err(|e| DataError::io(&path, e))?;
            write_pickle(&mut BufWriter::new(file), &Node::Dict(entries))
                .map_err(|e| DataError::io(&path, e))?;
        }
    }
    Ok(())
}

/// 70 % train, 10 % valid, 20 % test, by the id's hash.
fn phase_of(id: &str) -> usize {
    match blake3::hash(id.as_bytes()).as_bytes()[0] % 10 {
        0..=6 => 0,
        7 => 1,
        _ => 2,
    }
}

/// The text, audio and video entries of one utterance.
fn utterance_nodes(item: &HcfItem, directions: &Directions, rng: &mut ChaCha8Rng) -> [Node; 3] {
    let frames = (item.seconds * FRAMES_PER_SECOND).round().max(1.0) as usize;
    let words = if rng.random_bool(0.04) {
        0
    } else {
        rng.random_range(3..=9)
    };
    let video_frames = if rng.random_bool(0.04) { 0 } else { frames };
    let left = seed_speaker_on_left(&item.id);
    let text = {
        let direction = &directions.text[shown(Stream::Text, item.class)];
        let values = noisy_rows(words, direction, 0, TEXT_DIM, rng);
        array(vec![words, TEXT_DIM], values)
    };
    let audio = {
        let direction = &directions.audio[shown(Stream::Audio, item.class)];
        let silent = vec![0.0; AUDIO_SIGNAL_ROWS];
        let mut channels = Vec::new();
        for (side, carries) in [("L", left), ("R", !left)] {
            let shown = if carries { direction } else { &silent };
            let rows = noisy_rows(frames, shown, 0, IEMOCAP_AUDIO_MIN_COLUMNS, rng);
            let channel = array(
                vec![IEMOCAP_AUDIO_MIN_COLUMNS, frames],
                transposed(&rows, frames, IEMOCAP_AUDIO_MIN_COLUMNS),
            );
            channels.push((side.as_bytes().to_vec(), channel));
        }
        Node::Dict(channels)
    };
    let video = {
        let direction = &directions.visual[shown(Stream::Visual, item.class)];
        let silent = vec![0.0; VISUAL_DIM];
        let mut entries = Vec::new();
        for (side, carries) in [("L", left), ("R", !left)] {
            let shown = if carries { direction } else { &silent };
            let rows = noisy_rows(
                video_frames,
                shown,
                VIDEO_VALUES - VISUAL_DIM,
                VIDEO_VALUES,
                rng,
            );
            for (i, row) in rows.chunks(VIDEO_VALUES).enumerate() {
                let key = format!("image_{side}_{i}").into_bytes();
                entries.push((key, array(vec![VIDEO_VALUES], row.to_vec())));
            }
        }
        Node::Dict(entries)
    };
    [text, audio, video]
}

/// `count` rows of `width` noise values, `direction` added from column `offset` on.
fn noisy_rows(
    count: usize,
    direction: &[f32],
    offset: usize,
    width: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let mut values = Vec::with_capacity(count * width);
    for _ in 0..count {
        for column in 0..width {
            let signal = column
                .checked_sub(offset)
                .and_then(|c| direction.get(c))
                .copied()
                .unwrap_or(0.0);
            values.push(signal + NOISE * normal(rng));
        }
    }
    values
}

/// `[rows, columns]` row-major as `[columns, rows]`.
fn transposed(values: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..columns {
            out[c * rows + r] = values[r * columns + c];
        }
    }
    out
}

fn array(shape: Vec<usize>, values: Vec<f32>) -> Node {
    Node::Array(F32Array { shape, values })
}
