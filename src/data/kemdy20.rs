//! KEMDy20 on disk (docs/DATASETS.md, KEMDy20): `annotation/SessNN_eval.csv` with two header rows and 37
//! columns (3 Segment ID, 4 Emotion, 5 Valence, 6 Arousal, 7–36 ten evaluators × 3), and
//! `wav/SessionNN/<SegID>.wav` + `.txt`, the transcript in CP949 (the corpus was made on Korean
//! Windows). The same code reads the real corpus and the synthetic one.

pub use crate::config::dataset_options::TextRead;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::error::DataError;
pub use super::raw::{DroppedRow, RawCorpus, RawUtterance};

const COL_SEGMENT: usize = 3;
const COL_EMOTION: usize = 4;
const COL_VALENCE: usize = 5;
const COL_AROUSAL: usize = 6;
const COL_FIRST_EVALUATOR: usize = 7;
const EVALUATORS: usize = 10;
const HEADER_ROWS: usize = 2;

/// Read every `annotation/Sess*_eval.csv` under `root`, in file-name order.
pub fn load_kemdy20(
    root: &Path,
    text_read: TextRead,
    strip_tags: bool,
) -> Result<RawCorpus, DataError> {
    let mut corpus = RawCorpus::default();
    let mut seen = HashSet::new();
    for csv_path in annotation_files(root)? {
        let session = session_of_file(&csv_path)?;
        read_annotation(
            root,
            &csv_path,
            session,
            text_read,
            strip_tags,
            &mut seen,
            &mut corpus,
        )?;
    }
    Ok(corpus)
}

fn annotation_files(root: &Path) -> Result<Vec<PathBuf>, DataError> {
    list_annotation_files(
        root,
        ("Sess", "_eval.csv"),
        "SessNN_eval.csv",
        "no SessNN_eval.csv file; expected the KEMDy20 annotation folder",
    )
}

/// `<root>/annotation/<prefix>*<suffix>` in file-name order, for both KEMDy corpora: an
/// unlistable folder or no matching file is an error naming the folder and `expected`.
pub(super) fn list_annotation_files(
    root: &Path,
    (prefix, suffix): (&str, &str),
    pattern: &str,
    none_found: &str,
) -> Result<Vec<PathBuf>, DataError> {
    let dir = root.join("annotation");
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        DataError::format(
            &dir,
            format!(
                "cannot list the annotation folder ({e}); expected <root>/annotation/{pattern}"
            ),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DataError::format(&dir, none_found));
    }
    Ok(files)
}

fn session_of_file(path: &Path) -> Result<u32, DataError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.strip_prefix("Sess")
        .and_then(|rest| rest.split('_').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| DataError::format(path, "file name is not SessNN_eval.csv"))
}

#[allow(clippy::too_many_arguments)]
fn read_annotation(
    root: &Path,
    csv_path: &Path,
    session: u32,
    text_read: TextRead,
    strip_tags: bool,
    seen: &mut HashSet<String>,
    corpus: &mut RawCorpus,
) -> Result<(), DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(csv_path)
        .map_err(|e| DataError::format(csv_path, e.to_string()))?;
    for (index, record) in reader.records().enumerate().skip(HEADER_ROWS) {
        let line = index + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                corpus
                    .dropped
                    .push(malformed(csv_path, line, &e.to_string()));
                continue;
            }
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() <= COL_AROUSAL {
            corpus.dropped.push(malformed(
                csv_path,
                line,
                &format!("{} columns, expected 37", record.len()),
            ));
            continue;
        }
        let id = fix_session_prefix(record[COL_SEGMENT].trim(), session);
        match utterance(root, &record, &id, session, text_read, strip_tags) {
            Ok(u) if !seen.insert(u.id.clone()) => corpus.dropped.push(DroppedRow {
                id: u.id,
                path: Some(csv_path.to_path_buf()),
                reason: format!("duplicate segment id: line {line} repeats an earlier row"),
            }),
            Ok(u) => corpus.utterances.push(u),
            Err(dropped) => corpus.dropped.push(dropped),
        }
    }
    Ok(())
}

fn malformed(csv_path: &Path, line: usize, what: &str) -> DroppedRow {
    DroppedRow {
        id: format!(
            "{}:{line}",
            csv_path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
        ),
        path: Some(csv_path.to_path_buf()),
        reason: format!("malformed row: line {line}: {what}"),
    }
}

/// KEMDy20 v1.0's Sess17_eval.csv lists segments with other sessions' prefixes while the files
/// sit under Session17 (seed 004 and HumanUnderstandingOpen patch it the same way).
fn fix_session_prefix(id: &str, session: u32) -> String {
    let expected = format!("Sess{session:02}");
    match id.get(..6) {
        Some(prefix) if prefix.starts_with("Sess") && prefix != expected => {
            tracing::debug!(
                id,
                session,
                "segment prefix corrected to the file's session"
            );
            format!("{expected}{}", &id[6..])
        }
        _ => id.to_string(),
    }
}

fn utterance(
    root: &Path,
    record: &csv::StringRecord,
    id: &str,
    session: u32,
    text_read: TextRead,
    strip_tags: bool,
) -> Result<RawUtterance, DroppedRow> {
    let folder = root.join("wav").join(format!("Session{session:02}"));
    let wav_path = folder.join(format!("{id}.wav"));
    let txt_path = folder.join(format!("{id}.txt"));
    let drop = |path: &Path, reason: String| DroppedRow {
        id: id.to_string(),
        path: Some(path.to_path_buf()),
        reason,
    };
    let emotions = split_labels(&record[COL_EMOTION]);
    if emotions.is_empty() {
        return Err(drop(
            &wav_path,
            "empty label: the Total Evaluation emotion cell is blank".into(),
        ));
    }
    if !wav_path.is_file() {
        return Err(drop(&wav_path, "missing audio: no such file".into()));
    }
    let text = read_transcript(&txt_path, text_read, strip_tags)
        .map_err(|reason| drop(&txt_path, reason))?;
    let votes = (0..EVALUATORS)
        .filter_map(|e| record.get(COL_FIRST_EVALUATOR + 3 * e))
        .flat_map(split_labels)
        .collect();
    Ok(RawUtterance {
        id: id.to_string(),
        session,
        speaker: speaker_of(id, session),
        wav_path,
        txt_path,
        text,
        emotions,
        valence: record[COL_VALENCE].trim().parse().ok(),
        arousal: record[COL_AROUSAL].trim().parse().ok(),
        votes,
    })
}

/// `happy;neutral` → [happy, neutral]; KEMDy20's Total Evaluation spells disgust `disqust`.
pub(super) fn split_labels(cell: &str) -> Vec<String> {
    cell.split(';')
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .map(|l| {
            if l == "disqust" {
                "disgust".to_string()
            } else {
                l
            }
        })
        .collect()
}

/// `Sess01_script01_User002M_001` → `Sess01_User002M`.
fn speaker_of(id: &str, session: u32) -> String {
    let user = id
        .split('_')
        .find(|part| part.starts_with("User"))
        .unwrap_or("unknown");
    format!("Sess{session:02}_{user}")
}

fn read_transcript(path: &Path, mode: TextRead, strip_tags: bool) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("missing transcript: {e}"))?;
    let (text, had_errors) = encoding_rs::EUC_KR.decode_without_bom_handling(&bytes);
    if had_errors {
        return Err("undecodable transcript: not valid CP949".into());
    }
    let line = text.lines().next().unwrap_or("").trim();
    let line = match mode {
        TextRead::FullLine => line,
        TextRead::CsvFirstField => line.split(',').next().unwrap_or("").trim(),
    };
    Ok(if strip_tags {
        strip_transcript_tags(line)
    } else {
        line.to_string()
    })
}

/// Remove KEMDy's inline tags (`b/ c/ l/ n/ u/ o/ s/`, and the `+`/`*` markers) and collapse
/// spaces.
pub fn strip_transcript_tags(text: &str) -> String {
    const TAGS: [&str; 7] = ["b/", "c/", "l/", "n/", "u/", "o/", "s/"];
    text.split_whitespace()
        .filter_map(|word| {
            let word = TAGS
                .iter()
                .fold(word.to_string(), |w, tag| w.replace(tag, ""));
            let word = word.trim_matches(['+', '*']).to_string();
            (!word.is_empty()).then_some(word)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_split_lowercased_and_respelled() {
        assert_eq!(split_labels("happy;neutral"), vec!["happy", "neutral"]);
        assert_eq!(split_labels("disqust"), vec!["disgust"]);
        assert!(split_labels(" ").is_empty());
    }

    #[test]
    fn sess17_prefix_fix_and_speaker() {
        assert_eq!(
            fix_session_prefix("Sess16_script01_User001F_001", 17),
            "Sess17_script01_User001F_001"
        );
        assert_eq!(
            fix_session_prefix("Sess17_script01_User001F_001", 17),
            "Sess17_script01_User001F_001"
        );
        assert_eq!(
            speaker_of("Sess01_script01_User002M_001", 1),
            "Sess01_User002M"
        );
    }

    #[test]
    fn tags_are_stripped() {
        assert_eq!(
            strip_transcript_tags("n/ 아 친구들도? l/ c/"),
            "아 친구들도?"
        );
        assert_eq!(strip_transcript_tags("o/어 그래 b/"), "어 그래");
    }
}
