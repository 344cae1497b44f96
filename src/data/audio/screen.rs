//! Which utterances of a corpus have usable audio: the file decodes and holds samples.
//!
//! This depends on the dataset alone, never on the method or the encoders, and runs for every
//! experiment (text_only included). Otherwise a method that never reads audio would keep a row
//! that the others drop, and with k-fold protocols every fold's membership would shift: two
//! methods would be scored on different test sets.

use crate::data::corpus::Corpus;
use crate::data::parallel::{map_in_order, progress};
use crate::data::raw::{DropReason, strict_listing};

use super::decode_wav;

/// Why a clip cannot be used by any method, or `None` when it can.
fn unusable(path: &std::path::Path) -> Option<String> {
    match decode_wav(path) {
        Err(e) => Some(format!("unreadable audio: {e}")),
        Ok(wav) if wav.interleaved.is_empty() => Some("empty audio: no samples".into()),
        Ok(_) => None,
    }
}

/// Decode every example's clip once and drop (recording the reason) those that cannot be used;
/// with `strict`, any such clip is an error naming every file instead.
pub fn drop_unusable_audio(corpus: &mut Corpus, quiet: bool, strict: bool) -> anyhow::Result<()> {
    let bar = progress(corpus.examples.len(), "checking audio", quiet);
    let verdicts = map_in_order(&corpus.examples, &bar, |e| match unusable(&e.wav_path) {
        None => Ok(()),
        Some(reason) => Err(DropReason { path: None, reason }),
    });
    let (_, failures) = corpus.keep_usable(verdicts);
    if strict && !failures.is_empty() {
        anyhow::bail!(
            "dataset.strict is set and {} audio files could not be used:\n{}",
            failures.len(),
            strict_listing(&failures, failures.len())
        );
    }
    for failure in &failures {
        tracing::warn!(id = %failure.id, path = ?failure.path, reason = %failure.reason, "audio dropped");
    }
    corpus.dropped.extend(failures);
    anyhow::ensure!(
        !corpus.examples.is_empty(),
        "no audio file could be read; see the warnings above"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Example;

    fn example(id: &str, wav_path: std::path::PathBuf) -> Example {
        Example {
            id: id.into(),
            wav_path,
            ..Example::for_test(0, 0)
        }
    }

    #[test]
    fn unreadable_and_empty_clips_are_dropped_with_their_reason() {
        let dir = tempfile::tempdir().unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let write = |name: &str, n: usize| {
            let path = dir.path().join(name);
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            (0..n).for_each(|i| w.write_sample(i as i16).unwrap());
            w.finalize().unwrap();
            path
        };
        let good = write("good.wav", 100);
        let empty = write("empty.wav", 0);
        let broken = dir.path().join("broken.wav");
        std::fs::write(&broken, b"RIFF0000WAVEnot really").unwrap();
        let mut corpus = Corpus {
            classes: vec!["a".into(), "b".into()],
            examples: vec![
                example("g", good),
                example("e", empty),
                example("b", broken.clone()),
            ],
            dropped: vec![],
            rows_read: 3,
            ..Default::default()
        };
        let mut strict = corpus.clone();
        drop_unusable_audio(&mut corpus, true, false).unwrap();
        assert_eq!(corpus.examples.len(), 1);
        assert_eq!(corpus.dropped.len(), 2);
        assert!(corpus.dropped[0].reason.starts_with("empty audio"));
        assert!(corpus.dropped[1].reason.starts_with("unreadable audio"));
        let err = drop_unusable_audio(&mut strict, true, true).unwrap_err();
        assert!(
            err.to_string().contains(&broken.display().to_string()),
            "{err}"
        );
    }
}
