//! A deterministic synthetic corpus in the exact KEMDy20 layout, so that the real loader reads
//! it and CI can train on it without any licensed data.
//!
//! The label is carried in complementary ways, so that a test can tell a working fusion from a
//! broken one:
//! - audible classes (angry, sad, happy) have their own prosody (pitch, loudness, syllable rate,
//!   contour) and neutral filler words;
//! - readable classes (surprise, fear, disgust) have class keywords in their transcript and the
//!   neutral prosody;
//! - neutral has both the neutral prosody and filler words.
//!
//! Text alone separates only {surprise, fear, disgust} from the rest, audio alone only {angry,
//! sad, happy}; only a model that uses both can separate all seven.
//!
//! With `faces = true` the corpus has video frames too (`synth_faces.rs`), which show happy and
//! angry apart, and angry takes happy's prosody: then only a model that also sees the faces
//! separates all seven.
//!
//! With `hcf = true` it also writes seed 001's hand-crafted feature files in its IEMOCAP layout
//! under `hcf/` (`synth_hcf.rs`), whose three streams split the classes among them.
//!
//! Valence and arousal (the evaluators' 1–5 ratings) follow the class's mean plus what the
//! audio of this utterance shows: arousal rises with its loudness, valence with its pitch
//! within the class's range. So a regression head can learn them beyond the class means, and
//! the random draws are exactly those of the classification corpus (same classes, audio, text).

pub use crate::config::dataset_options::SynthConfig;
use std::io::Write;
use std::path::Path;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use serde::{Deserialize, Serialize};

use super::error::DataError;

pub const CLASSES: [&str; 7] = [
    "neutral", "happy", "angry", "surprise", "sad", "fear", "disgust",
];
const PRIORS: [f64; 7] = [0.30, 0.1167, 0.1167, 0.1167, 0.1167, 0.1167, 0.1166];
const COMPLETE: &str = "SYNTH_COMPLETE.json";
const IN_PROGRESS: &str = ".synth_in_progress";
const EVALUATORS: usize = 10;
/// Share of rows whose evaluators split evenly between two classes (real KEMDy20: ~5%).
const TIE_SHARE: f64 = 0.05;

/// What was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthSummary {
    pub utterances: usize,
    /// Rows per Total-Evaluation class (single-label rows only).
    pub per_class: Vec<(String, usize)>,
    /// Rows whose Total Evaluation is a tie such as `happy;neutral`.
    pub multi_label_rows: usize,
}

#[derive(Serialize, Deserialize)]
struct Marker {
    config: SynthConfig,
    summary: SynthSummary,
}

/// The settings of a complete synthetic corpus at `root`, `None` if there is none. A folder
/// that holds another corpus is an error: generation never overwrites data it did not write.
pub fn existing_config(root: &Path) -> Result<Option<SynthConfig>, DataError> {
    let marker = root.join(COMPLETE);
    if marker.is_file() {
        let text = std::fs::read_to_string(&marker).map_err(|e| DataError::io(&marker, e))?;
        let parsed: Marker = serde_json::from_str(&text).map_err(|e| {
            DataError::format(&marker, format!("unreadable synthetic-corpus marker: {e}"))
        })?;
        return Ok(Some(parsed.config));
    }
    let foreign = root.join("annotation").exists() && !root.join(IN_PROGRESS).exists();
    if foreign {
        return Err(DataError::format(
            root,
            "holds a corpus that emo-run did not generate; refusing to write a synthetic corpus over it (remove [dataset.synthetic] to read it, or choose another root)",
        ));
    }
    Ok(None)
}

/// Write the corpus under `out` (created if needed); the completion marker is written last.
pub fn write_kemdy20(out: &Path, cfg: &SynthConfig) -> Result<SynthSummary, DataError> {
    std::fs::create_dir_all(out.join("annotation")).map_err(|e| DataError::io(out, e))?;
    write_file(&out.join(IN_PROGRESS), b"")?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut summary = SynthSummary {
        utterances: 0,
        per_class: CLASSES.iter().map(|c| (c.to_string(), 0)).collect(),
        multi_label_rows: 0,
    };
    let mut hcf_items = Vec::new();
    for session in 1..=cfg.sessions {
        write_session(out, cfg, session, &mut rng, &mut summary, &mut hcf_items)?;
    }
    if cfg.hcf {
        super::synth_hcf::write_hcf(&out.join("hcf"), &hcf_items, cfg.seed)?;
    }
    let marker = serde_json::to_vec_pretty(&Marker {
        config: cfg.clone(),
        summary: summary.clone(),
    })
    .expect("marker is JSON");
    write_file(&out.join(COMPLETE), &marker)?;
    std::fs::remove_file(out.join(IN_PROGRESS))
        .map_err(|e| DataError::io(out.join(IN_PROGRESS), e))?;
    Ok(summary)
}

/// A generator seed of its own for what is written per utterance (its frames, its feature
/// files): the corpus seed mixed with the hash of `key` (the id, salted per kind of file), so
/// that writing those files leaves the corpus's own draws as they are.
pub(super) fn utterance_seed(corpus_seed: u64, key: &str) -> u64 {
    let hash = blake3::hash(key.as_bytes());
    let bytes: [u8; 8] = hash.as_bytes()[..8].try_into().expect("eight bytes");
    corpus_seed ^ u64::from_le_bytes(bytes)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| DataError::io(path, e))
}

fn write_session(
    out: &Path,
    cfg: &SynthConfig,
    session: u32,
    rng: &mut ChaCha8Rng,
    summary: &mut SynthSummary,
    hcf_items: &mut Vec<super::synth_hcf::HcfItem>,
) -> Result<(), DataError> {
    let wav_dir = out.join("wav").join(format!("Session{session:02}"));
    std::fs::create_dir_all(&wav_dir).map_err(|e| DataError::io(&wav_dir, e))?;
    let mut csv = header_rows();
    let mut clock = 0.0f64;
    let mut counters = std::collections::HashMap::new();
    let users = [
        format!("User{:03}F", 2 * session - 1),
        format!("User{:03}M", 2 * session),
    ];
    for k in 0..cfg.utterances_per_session {
        let script = 1 + k * 6 / cfg.utterances_per_session.max(1);
        let user = &users[(k % 2) as usize];
        let n = counters.entry((script, user.clone())).or_insert(0u32);
        *n += 1;
        let id = format!("Sess{session:02}_script{script:02}_{user}_{n:03}");
        let class = draw_class(rng);
        let seconds = rng.random_range(cfg.min_seconds..=cfg.max_seconds);
        let voice = if cfg.faces && CLASSES[class] == "angry" {
            happy_class()
        } else {
            class
        };
        let (audio, audible) = synthesize_audio(voice, seconds, cfg.sample_rate, rng);
        write_wav(&wav_dir.join(format!("{id}.wav")), &audio, cfg.sample_rate)?;
        if cfg.faces {
            super::synth_faces::write_frames(&wav_dir.join(&id), &id, class, seconds, cfg.seed)?;
        }
        if cfg.hcf {
            hcf_items.push(super::synth_hcf::HcfItem {
                id: id.clone(),
                class,
                seconds,
            });
        }
        write_file(
            &wav_dir.join(format!("{id}.txt")),
            &encode_cp949(&transcript(class, rng)),
        )?;
        let votes = evaluator_votes(class, audible, rng);
        let total = total_evaluation(&votes, rng);
        if total.contains(';') {
            summary.multi_label_rows += 1;
        } else {
            summary.per_class[class].1 += 1;
        }
        summary.utterances += 1;
        let (start, end) = (clock, clock + seconds as f64);
        clock = end + 0.5;
        csv.push_str(&data_row(k + 1, start, end, &id, &total, &votes));
    }
    write_file(
        &out.join("annotation")
            .join(format!("Sess{session:02}_eval.csv")),
        csv.as_bytes(),
    )
}

fn happy_class() -> usize {
    CLASSES
        .iter()
        .position(|&c| c == "happy")
        .expect("a class of the corpus")
}

fn header_rows() -> String {
    let mut first = String::from("Numb,WAV, ,Segment ID,Total Evaluation, , ");
    let mut second = String::from(" ,start,end, ,Emotion,Valence,Arousal");
    for e in 1..=EVALUATORS {
        let gender = if e % 2 == 1 { 'F' } else { 'M' };
        first.push_str(&format!(",Eval{e:02}{gender}, , "));
        second.push_str(",Emotion,Valence,Arousal");
    }
    format!("{first}\n{second}\n")
}

/// One vote: (emotion as the evaluator wrote it, valence 1–5, arousal 1–5).
type Vote = (usize, u8, u8);

fn data_row(number: u32, start: f64, end: f64, id: &str, total: &str, votes: &[Vote]) -> String {
    let mean =
        |f: fn(&Vote) -> u8| votes.iter().map(|v| f(v) as f64).sum::<f64>() / votes.len() as f64;
    let mut row = format!(
        "{number},{start:.4},{end:.4},{id},{total},{:.1},{:.1}",
        mean(|v| v.1),
        mean(|v| v.2)
    );
    for &(emotion, valence, arousal) in votes {
        row.push_str(&format!(",{},{valence},{arousal}", CLASSES[emotion]));
    }
    row.push('\n');
    row
}

fn draw_class(rng: &mut ChaCha8Rng) -> usize {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for (c, p) in PRIORS.iter().enumerate() {
        acc += p;
        if u < acc {
            return c;
        }
    }
    CLASSES.len() - 1
}

/// Ten votes where the true class is the strict mode, except for a `TIE_SHARE` of rows where
/// the evaluators split 5/5 with another class.
fn evaluator_votes(class: usize, audible: Audible, rng: &mut ChaCha8Rng) -> Vec<Vote> {
    let other = |rng: &mut ChaCha8Rng| (class + rng.random_range(1..CLASSES.len())) % CLASSES.len();
    let emotions: Vec<usize> = if rng.random_bool(TIE_SHARE) {
        let second = other(rng);
        let mut e: Vec<usize> = (0..EVALUATORS)
            .map(|i| if i < 5 { class } else { second })
            .collect();
        e.shuffle(rng);
        e
    } else {
        loop {
            let e: Vec<usize> = (0..EVALUATORS)
                .map(|_| {
                    if rng.random_bool(0.85) {
                        class
                    } else {
                        other(rng)
                    }
                })
                .collect();
            if strict_mode(&e) == Some(class) {
                break e;
            }
        }
    };
    let (valence, arousal) = VALENCE_AROUSAL[class];
    let valence = valence + AUDIBLE_SHIFT * audible.pitch as f64;
    let arousal = arousal + AUDIBLE_SHIFT * audible.loudness as f64;
    emotions
        .into_iter()
        .map(|e| (e, rating(valence, rng), rating(arousal, rng)))
        .collect()
}

/// Class means of valence and arousal on the 1–5 scale.
const VALENCE_AROUSAL: [(f64, f64); 7] = [
    (3.0, 3.0),
    (4.2, 3.6),
    (1.8, 4.3),
    (3.4, 4.0),
    (1.8, 2.0),
    (2.0, 3.8),
    (1.9, 3.2),
];

/// How far (on the 1–5 scale) the utterance's pitch and loudness move valence and arousal
/// from the class mean, at the ends of their ranges.
const AUDIBLE_SHIFT: f64 = 0.7;

/// What the listener hears of one utterance beyond its class, each in [-1, 1]: pitch within
/// the class's range and loudness within its ±3 dB gain spread.
#[derive(Debug, Clone, Copy)]
struct Audible {
    pitch: f32,
    loudness: f32,
}

fn rating(mean: f64, rng: &mut ChaCha8Rng) -> u8 {
    let noise: f64 = (0..4).map(|_| rng.random_range(-0.6..0.6)).sum::<f64>() / 2.0;
    (mean + noise).round().clamp(1.0, 5.0) as u8
}

fn counts(emotions: &[usize]) -> [usize; 7] {
    let mut c = [0; 7];
    emotions.iter().for_each(|&e| c[e] += 1);
    c
}

fn strict_mode(emotions: &[usize]) -> Option<usize> {
    let c = counts(emotions);
    let max = *c.iter().max()?;
    let modes: Vec<usize> = (0..7).filter(|&k| c[k] == max).collect();
    (modes.len() == 1).then(|| modes[0])
}

/// The modal votes joined with `;` in random order, and `disgust` spelled `disqust` as in the
/// real KEMDy20 Total Evaluation column.
fn total_evaluation(votes: &[Vote], rng: &mut ChaCha8Rng) -> String {
    let emotions: Vec<usize> = votes.iter().map(|v| v.0).collect();
    let c = counts(&emotions);
    let max = *c.iter().max().unwrap_or(&0);
    let mut modes: Vec<&str> = (0..7)
        .filter(|&k| c[k] == max)
        .map(|k| CLASSES[k])
        .collect();
    modes.shuffle(rng);
    modes
        .iter()
        .map(|m| if *m == "disgust" { "disqust" } else { m })
        .collect::<Vec<_>>()
        .join(";")
}

const FILLER: [&str; 30] = [
    "오늘",
    "그냥",
    "우리",
    "학교",
    "친구",
    "집에",
    "가서",
    "밥을",
    "먹고",
    "그래서",
    "이제",
    "내일",
    "아침",
    "회사",
    "버스",
    "타고",
    "했어",
    "있어",
    "그거",
    "이야기",
    "그런데",
    "동생",
    "엄마",
    "전화",
    "주말",
    "같이",
    "영화",
    "보고",
    "시간",
    "커피",
];
const KEYWORDS: [(usize, [&str; 4]); 3] = [
    (3, ["깜짝", "정말?", "어머", "세상에"]),
    (5, ["무서워", "겁나", "떨려", "불안해"]),
    (6, ["역겨워", "징그러워", "더러워", "끔찍해"]),
];
const TAGS: [&str; 7] = ["n/", "l/", "b/", "c/", "u/", "o/", "s/"];

/// Filler words, plus one or two class keywords for readable classes, KEMDy's inline tags now
/// and then, and a comma in about a fifth of the lines (seed 000 cuts at the first comma).
fn transcript(class: usize, rng: &mut ChaCha8Rng) -> String {
    let mut words: Vec<String> = (0..rng.random_range(3..=7))
        .map(|_| FILLER.choose(rng).expect("filler").to_string())
        .collect();
    if let Some((_, keys)) = KEYWORDS.iter().find(|(c, _)| *c == class) {
        for _ in 0..rng.random_range(1..=2) {
            let at = rng.random_range(0..=words.len());
            words.insert(at, keys.choose(rng).expect("keyword").to_string());
        }
    }
    if rng.random_bool(0.2) {
        let at = rng.random_range(0..words.len());
        words[at].push(',');
    }
    if rng.random_bool(0.3) {
        words.insert(0, TAGS.choose(rng).expect("tag").to_string());
    }
    if rng.random_bool(0.3) {
        words.push(TAGS.choose(rng).expect("tag").to_string());
    }
    words.join(" ")
}

fn encode_cp949(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::EUC_KR.encode(text);
    let mut bytes = bytes.into_owned();
    bytes.extend_from_slice(b"\r\n");
    bytes
}

/// Prosody of a class: pitch range (Hz), amplitude, syllables per second, pitch rise over the
/// clip (fraction).
struct Prosody {
    pitch: (f32, f32),
    amplitude: f32,
    syllable_rate: f32,
    rise: f32,
}

fn prosody(class: usize) -> Prosody {
    match CLASSES[class] {
        "angry" => Prosody {
            pitch: (260.0, 300.0),
            amplitude: 0.6,
            syllable_rate: 6.5,
            rise: 0.0,
        },
        "sad" => Prosody {
            pitch: (90.0, 110.0),
            amplitude: 0.08,
            syllable_rate: 2.5,
            rise: -0.1,
        },
        "happy" => Prosody {
            pitch: (200.0, 230.0),
            amplitude: 0.3,
            syllable_rate: 4.5,
            rise: 0.3,
        },
        _ => Prosody {
            pitch: (140.0, 170.0),
            amplitude: 0.25,
            syllable_rate: 4.0,
            rise: 0.0,
        },
    }
}

/// A voiced, speech-like signal: harmonics of a drifting F0, shaped into syllables, with short
/// silences at both ends and a little noise.
fn synthesize_audio(
    class: usize,
    seconds: f32,
    rate: u32,
    rng: &mut ChaCha8Rng,
) -> (Vec<f32>, Audible) {
    let p = prosody(class);
    let n = (seconds * rate as f32) as usize;
    let f0 = rng.random_range(p.pitch.0..p.pitch.1);
    let gain_db: f32 = rng.random_range(-3.0..3.0);
    let gain = p.amplitude * 10f32.powf(gain_db / 20.0);
    let audible = Audible {
        pitch: 2.0 * (f0 - p.pitch.0) / (p.pitch.1 - p.pitch.0) - 1.0,
        loudness: gain_db / 3.0,
    };
    let syllable_rate = p.syllable_rate * rng.random_range(0.9..1.1);
    let (lead, tail) = (
        rng.random_range(0.05..0.15) * rate as f32,
        rng.random_range(0.05..0.15) * rate as f32,
    );
    let voiced = (lead as usize, n.saturating_sub(tail as usize));
    let mut phase = 0.0f32;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f32 / rate as f32;
        let progress = i as f32 / n.max(1) as f32;
        let pitch = f0
            * (1.0 + p.rise * progress)
            * (1.0 + 0.01 * (2.0 * std::f32::consts::PI * 5.0 * t).sin());
        phase += 2.0 * std::f32::consts::PI * pitch / rate as f32;
        let envelope = if (voiced.0..voiced.1).contains(&i) {
            (std::f32::consts::PI * syllable_rate * t).sin().powi(2)
        } else {
            0.0
        };
        let harmonics: f32 = (1..=6).map(|h| (phase * h as f32).sin() / h as f32).sum();
        let noise = rng.random_range(-1.0f32..1.0) * 0.005;
        out.push((gain * envelope * harmonics * 0.5 + noise).clamp(-1.0, 1.0));
    }
    (out, audible)
}

fn write_wav(path: &Path, samples: &[f32], rate: u32) -> Result<(), DataError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer =
        hound::WavWriter::create(path, spec).map_err(|e| DataError::format(path, e.to_string()))?;
    for &s in samples {
        writer
            .write_sample((s * 32767.0).round() as i16)
            .map_err(|e| DataError::format(path, e.to_string()))?;
    }
    writer
        .finalize()
        .map_err(|e| DataError::format(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::kemdy20::{TextRead, load_kemdy20};

    fn small(seed: u64) -> SynthConfig {
        SynthConfig {
            sessions: 2,
            utterances_per_session: 30,
            min_seconds: 0.5,
            max_seconds: 0.8,
            seed,
            ..Default::default()
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_corpus() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        write_kemdy20(a.path(), &small(1)).unwrap();
        write_kemdy20(b.path(), &small(1)).unwrap();
        write_kemdy20(c.path(), &small(2)).unwrap();
        let csv = "annotation/Sess01_eval.csv";
        let wav = "wav/Session01/Sess01_script01_User001F_001.wav";
        assert_eq!(
            std::fs::read(a.path().join(csv)).unwrap(),
            std::fs::read(b.path().join(csv)).unwrap()
        );
        assert_eq!(
            std::fs::read(a.path().join(wav)).unwrap(),
            std::fs::read(b.path().join(wav)).unwrap()
        );
        assert_ne!(
            std::fs::read(a.path().join(csv)).unwrap(),
            std::fs::read(c.path().join(csv)).unwrap()
        );
        assert_eq!(existing_config(a.path()).unwrap(), Some(small(1)));
        assert!(!a.path().join(IN_PROGRESS).exists());
    }

    #[test]
    fn layout_headers_spelling_and_modal_votes_match_kemdy20() {
        let dir = tempfile::tempdir().unwrap();
        write_kemdy20(dir.path(), &small(5)).unwrap();
        let text = std::fs::read_to_string(dir.path().join("annotation/Sess02_eval.csv")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0]
                .starts_with("Numb,WAV, ,Segment ID,Total Evaluation, , ,Eval01F, , ,Eval02M, , ,")
        );
        assert!(lines[0].ends_with("Eval10M, , "));
        assert!(
            lines[1].starts_with(" ,start,end, ,Emotion,Valence,Arousal,Emotion,Valence,Arousal")
        );
        for line in &lines {
            assert_eq!(line.split(',').count(), 37, "37 columns: {line}");
        }
        for line in &lines[2..] {
            let cells: Vec<&str> = line.split(',').collect();
            let votes: Vec<&str> = (0..10).map(|e| cells[7 + 3 * e]).collect();
            assert!(
                !votes.contains(&"disqust"),
                "evaluators spell disgust correctly"
            );
            let mut modes: Vec<String> = {
                let mut counts = std::collections::BTreeMap::new();
                votes
                    .iter()
                    .for_each(|v| *counts.entry(v.to_string()).or_insert(0) += 1);
                let max = *counts.values().max().unwrap();
                counts
                    .into_iter()
                    .filter(|(_, n)| *n == max)
                    .map(|(k, _)| k)
                    .collect()
            };
            let mut total: Vec<String> = cells[4]
                .split(';')
                .map(|s| s.replace("disqust", "disgust"))
                .collect();
            modes.sort();
            total.sort();
            assert_eq!(total, modes, "Total Evaluation = modal votes: {line}");
            if cells[4].contains("disgust") {
                panic!("Total Evaluation must spell it disqust: {line}");
            }
            let mean_valence = (0..10)
                .map(|e| cells[8 + 3 * e].parse::<f64>().unwrap())
                .sum::<f64>()
                / 10.0;
            assert_eq!(cells[5], format!("{mean_valence:.1}"));
        }
    }

    #[test]
    fn audio_is_pcm16_mono_and_text_is_cp949() {
        let dir = tempfile::tempdir().unwrap();
        write_kemdy20(dir.path(), &small(3)).unwrap();
        let base = dir
            .path()
            .join("wav/Session01/Sess01_script01_User001F_001");
        let spec = hound::WavReader::open(base.with_extension("wav"))
            .unwrap()
            .spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (1, 16_000, 16)
        );
        let bytes = std::fs::read(base.with_extension("txt")).unwrap();
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "Hangul in CP949 is not UTF-8"
        );
        let (text, _, errors) = encoding_rs::EUC_KR.decode(&bytes);
        assert!(!errors && text.chars().any(|c| ('가'..='힣').contains(&c)));
    }

    #[test]
    fn loader_reads_it_back_with_every_row_accounted_for() {
        let dir = tempfile::tempdir().unwrap();
        let summary = write_kemdy20(
            dir.path(),
            &SynthConfig {
                sessions: 4,
                utterances_per_session: 50,
                min_seconds: 0.3,
                max_seconds: 0.4,
                ..Default::default()
            },
        )
        .unwrap();
        let corpus = load_kemdy20(dir.path(), TextRead::FullLine, false).unwrap();
        assert_eq!(corpus.utterances.len(), 200);
        assert!(corpus.dropped.is_empty());
        let ties = corpus
            .utterances
            .iter()
            .filter(|u| u.emotions.len() > 1)
            .count();
        assert_eq!(ties, summary.multi_label_rows);
        assert!((2..=20).contains(&ties), "tie share {ties}/200");
        assert!(
            corpus
                .utterances
                .iter()
                .all(|u| u.emotions.iter().all(|e| CLASSES.contains(&e.as_str())))
        );
        let neutral = corpus
            .utterances
            .iter()
            .filter(|u| u.emotions == ["neutral"])
            .count();
        assert!((35..=85).contains(&neutral), "neutral share {neutral}/200");
    }

    /// Audible classes differ where they should: angry is loud and high, sad quiet and low.
    #[test]
    fn prosody_cues_are_in_the_signal() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
        // Pitch by autocorrelation on the loudest 1024-sample window, lags for 70–400 Hz.
        let pitch = |x: &[f32]| {
            let start = (0..x.len() - 1024)
                .step_by(256)
                .max_by(|&a, &b| rms(&x[a..a + 1024]).total_cmp(&rms(&x[b..b + 1024])))
                .unwrap();
            let w = &x[start..start + 1024];
            let lag = (40..=228).max_by(|&a, &b| {
                let r = |l: usize| {
                    w[..1024 - l]
                        .iter()
                        .zip(&w[l..])
                        .map(|(p, q)| p * q)
                        .sum::<f32>()
                };
                r(a).total_cmp(&r(b))
            });
            16_000.0 / lag.unwrap() as f32
        };
        let angry = synthesize_audio(2, 1.0, 16_000, &mut rng).0;
        let neutral = synthesize_audio(0, 1.0, 16_000, &mut rng).0;
        let sad = synthesize_audio(4, 1.0, 16_000, &mut rng).0;
        assert!(rms(&angry) > rms(&neutral) && rms(&neutral) > rms(&sad));
        let (pa, pn, ps) = (pitch(&angry), pitch(&neutral), pitch(&sad));
        assert!(
            pa > 240.0 && (130.0..180.0).contains(&pn) && ps < 120.0,
            "pitches {pa} {pn} {ps}"
        );
    }

    #[test]
    fn refuses_to_overwrite_a_foreign_corpus() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("annotation")).unwrap();
        let err = existing_config(dir.path()).unwrap_err().to_string();
        assert!(err.contains("did not generate"), "{err}");
    }
}
