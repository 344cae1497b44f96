//! A user's own corpus, listed in a manifest (DESIGN.md: bring your own data without writing a
//! loader): CSV with a header row (`.csv`) or one JSON object per line (`.jsonl`).
//!
//! Columns/keys: `id`, `audio`, `text`, `label`, and optionally `valence`, `arousal`, `speaker`,
//! `session`; other columns are ignored. `label` holds one label, several joined by
//! [`ManifestOptions::labels_separator`], or (JSONL only) an array of labels. A relative `audio`
//! path is relative to the manifest's folder. A CSV header without a required column is a fatal
//! error; every unusable row goes to `dropped` with the manifest's path and the line number.
//!
//! New utterances to score (`emo-run predict --manifest`) use the same format without labels
//! ([`load_unlabelled`]): the id column may be called `utterance_id`, and only the columns the
//! model reads (text, audio) are required.

pub use crate::config::dataset_options::ManifestOptions;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::error::DataError;
pub use super::raw::{DroppedRow, RawCorpus, RawUtterance};

const ID: &str = "id";
const VALENCE: &str = "valence";
const AROUSAL: &str = "arousal";
const SPEAKER: &str = "speaker";
const SESSION: &str = "session";
/// The speaker of rows that name none: they all share one speaker group.
const UNKNOWN_SPEAKER: &str = "unknown";

/// One manifest row's fields as text, whichever format it came from; `None` = absent/blank.
#[derive(Debug, Default)]
struct ManifestRow {
    id: Option<String>,
    audio: Option<String>,
    text: Option<String>,
    labels: Vec<String>,
    valence: Option<String>,
    arousal: Option<String>,
    speaker: Option<String>,
    session: Option<String>,
}

/// Why a row was dropped: a short kind (`missing label`) and what exactly.
struct RowError {
    id: Option<String>,
    kind: &'static str,
    detail: String,
}

impl RowError {
    fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        RowError {
            id: None,
            kind,
            detail: detail.into(),
        }
    }
}

/// A row as read from the file, with its 1-based line number.
type NumberedRow = (usize, Result<ManifestRow, RowError>);

/// What the rows of a manifest must hold: a corpus needs every field, new utterances to score
/// need no label and only the inputs the model reads.
#[derive(Debug, Clone, Copy)]
struct Schema {
    labels: bool,
    text: bool,
    audio: bool,
}

impl Schema {
    const CORPUS: Schema = Schema {
        labels: true,
        text: true,
        audio: true,
    };
}

/// The id column of a manifest of new utterances may carry the name `predictions.parquet`
/// gives it.
const UTTERANCE_ID: &str = "utterance_id";

/// Read the manifest at `path`; the format follows its extension.
pub fn load_manifest(path: &Path, opts: &ManifestOptions) -> Result<RawCorpus, DataError> {
    load_with(path, opts, Schema::CORPUS)
}

/// Read a manifest of new utterances to score: labels are not read (and valence, arousal,
/// speaker and session neither); `text` and `audio` say whether the model reads them, and so
/// whether each row must have them. A missing one is left empty.
pub fn load_unlabelled(
    path: &Path,
    opts: &ManifestOptions,
    text: bool,
    audio: bool,
) -> Result<RawCorpus, DataError> {
    let schema = Schema {
        labels: false,
        text,
        audio,
    };
    load_with(path, opts, schema)
}

fn load_with(path: &Path, opts: &ManifestOptions, schema: Schema) -> Result<RawCorpus, DataError> {
    let rows = match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => read_csv(path, opts, schema)?,
        Some("jsonl") => read_jsonl(path, opts, schema)?,
        _ => {
            return Err(DataError::format(
                path,
                "a manifest is a .csv or .jsonl file",
            ));
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut corpus = RawCorpus::default();
    let mut seen = HashSet::new();
    for (line, row) in rows {
        let result = row.and_then(|row| utterance(row, base, path, schema));
        match result {
            // The first row that names an id claims it.
            Ok(u) if !seen.insert(u.id.clone()) => {
                let dropped = RowError {
                    id: Some(u.id),
                    ..RowError::new("duplicate id", "an earlier row has this id")
                };
                corpus.dropped.push(dropped_row(path, line, dropped));
            }
            Ok(u) => corpus.utterances.push(u),
            Err(e) => {
                if let Some(id) = &e.id {
                    seen.insert(id.clone());
                }
                corpus.dropped.push(dropped_row(path, line, e));
            }
        }
    }
    Ok(corpus)
}

fn dropped_row(path: &Path, line: usize, e: RowError) -> DroppedRow {
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    let detail = if e.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", e.detail)
    };
    DroppedRow {
        id: e.id.unwrap_or_else(|| format!("{file}:{line}")),
        path: Some(path.to_path_buf()),
        reason: format!("{}: line {line}{detail}", e.kind),
    }
}

fn read_csv(
    path: &Path,
    opts: &ManifestOptions,
    schema: Schema,
) -> Result<Vec<NumberedRow>, DataError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| open_error(path, e))?;
    let header = reader
        .headers()
        .map_err(|e| DataError::format(path, format!("unreadable header row: {e}")))?
        .clone();
    let find = |name: &str| header.iter().position(|h| h.trim() == name);
    let required = |name: &str| {
        find(name).ok_or_else(|| {
            let found: Vec<&str> = header.iter().collect();
            DataError::format(
                path,
                format!("missing column {name:?} in the header (columns found: {found:?})"),
            )
        })
    };
    let id = match find(ID) {
        None if !schema.labels => find(UTTERANCE_ID).map_or_else(|| required(ID), Ok)?,
        _ => required(ID)?,
    };
    let column = |name: &str, needed: bool| {
        if needed {
            required(name).map(Some)
        } else {
            Ok(find(name))
        }
    };
    let columns = CsvColumns {
        id,
        audio: column(&opts.audio_column, schema.audio)?,
        text: column(&opts.text_column, schema.text)?,
        label: column(&opts.label_column, schema.labels)?,
        valence: find(VALENCE),
        arousal: find(AROUSAL),
        speaker: find(SPEAKER),
        session: find(SESSION),
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line() as usize);
                if record.iter().all(|cell| cell.trim().is_empty()) {
                    continue;
                }
                rows.push((line, Ok(columns.row(&record, &opts.labels_separator))));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                rows.push((line, Err(RowError::new("malformed row", e.to_string()))));
            }
        }
    }
    Ok(rows)
}

/// A missing manifest is an I/O error; the csv crate wraps it.
fn open_error(path: &Path, e: csv::Error) -> DataError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        other => DataError::format(path, format!("{other:?}")),
    }
}

/// Where each field sits in a CSV record.
struct CsvColumns {
    id: usize,
    audio: Option<usize>,
    text: Option<usize>,
    label: Option<usize>,
    valence: Option<usize>,
    arousal: Option<usize>,
    speaker: Option<usize>,
    session: Option<usize>,
}

impl CsvColumns {
    fn row(&self, record: &csv::StringRecord, separator: &str) -> ManifestRow {
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
        };
        ManifestRow {
            id: cell(Some(self.id)),
            audio: cell(self.audio),
            // Where the text column exists (checked with the header), a blank cell is empty text.
            text: self.text.map(|i| cell(Some(i)).unwrap_or_default()),
            labels: split_labels(
                self.label.and_then(|i| record.get(i)).unwrap_or(""),
                separator,
            ),
            valence: cell(self.valence),
            arousal: cell(self.arousal),
            speaker: cell(self.speaker),
            session: cell(self.session),
        }
    }
}

fn read_jsonl(
    path: &Path,
    opts: &ManifestOptions,
    schema: Schema,
) -> Result<Vec<NumberedRow>, DataError> {
    let content = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    Ok(content
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| (index + 1, json_row(line, opts, schema)))
        .collect())
}

fn json_row(line: &str, opts: &ManifestOptions, schema: Schema) -> Result<ManifestRow, RowError> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| RowError::new("invalid JSON", e.to_string()))?;
    let serde_json::Value::Object(object) = value else {
        return Err(RowError::new("not a JSON object", ""));
    };
    let field = |key: &str| json_scalar(object.get(key), key);
    let id = match field(ID)? {
        None if !schema.labels => field(UTTERANCE_ID)?,
        id => id,
    };
    let with_id = |e: RowError| RowError {
        id: id.clone(),
        ..e
    };
    Ok(ManifestRow {
        audio: field(&opts.audio_column).map_err(with_id)?,
        text: field(&opts.text_column).map_err(with_id)?,
        labels: match schema.labels {
            true => json_labels(object.get(&opts.label_column), opts).map_err(with_id)?,
            false => Vec::new(),
        },
        valence: field(VALENCE).map_err(with_id)?,
        arousal: field(AROUSAL).map_err(with_id)?,
        speaker: field(SPEAKER).map_err(with_id)?,
        session: field(SESSION).map_err(with_id)?,
        id,
    })
}

/// A string or number as text; absent or null → None (an empty string stays empty).
fn json_scalar(value: Option<&serde_json::Value>, key: &str) -> Result<Option<String>, RowError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(RowError::new(
            "bad field",
            format!("{key:?} must be a string or a number, not {other}"),
        )),
    }
}

/// `"happy;sad"` (split) or `["happy", "sad"]` (not split further).
fn json_labels(
    value: Option<&serde_json::Value>,
    opts: &ManifestOptions,
) -> Result<Vec<String>, RowError> {
    let key = &opts.label_column;
    match value {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::String(s)) => Ok(split_labels(s, &opts.labels_separator)),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                serde_json::Value::String(s) => Ok(normalise_label(s)),
                other => Err(RowError::new(
                    "bad field",
                    format!("{key:?} array holds {other}, not a string"),
                )),
            })
            .filter(|label| !matches!(label, Ok(l) if l.is_empty()))
            .collect(),
        Some(other) => Err(RowError::new(
            "bad field",
            format!("{key:?} must be a string or an array of strings, not {other}"),
        )),
    }
}

fn split_labels(cell: &str, separator: &str) -> Vec<String> {
    cell.split(separator)
        .map(normalise_label)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Labels are lowercase everywhere (`RawUtterance::emotions`).
fn normalise_label(label: &str) -> String {
    label.trim().to_lowercase()
}

fn utterance(
    row: ManifestRow,
    base: &Path,
    manifest: &Path,
    schema: Schema,
) -> Result<RawUtterance, RowError> {
    let Some(id) = row.id else {
        return Err(RowError::new("missing id", ""));
    };
    let fail = |kind, detail: String| RowError {
        id: Some(id.clone()),
        ..RowError::new(kind, detail)
    };
    let audio = match (row.audio, schema.audio) {
        (Some(audio), _) => Some(audio),
        (None, true) => return Err(fail("missing audio path", String::new())),
        (None, false) => None,
    };
    let text = match (row.text, schema.text) {
        (Some(text), _) => text,
        (None, true) => return Err(fail("missing text", String::new())),
        (None, false) => String::new(),
    };
    if schema.labels && row.labels.is_empty() {
        return Err(fail("missing label", String::new()));
    }
    // New utterances to score carry no annotation: their other fields are not read.
    let (valence, arousal, session) = if schema.labels {
        let valence = number(row.valence.as_deref()).map_err(|d| fail("unparsable valence", d))?;
        let arousal = number(row.arousal.as_deref()).map_err(|d| fail("unparsable arousal", d))?;
        let session = match row.session.as_deref() {
            None => 0,
            Some(s) => s
                .parse()
                .map_err(|_| fail("unparsable session", format!("{s:?}")))?,
        };
        (valence, arousal, session)
    } else {
        (None, None, 0)
    };
    let wav_path: PathBuf = audio.map(|a| base.join(a)).unwrap_or_default();
    if schema.audio && !wav_path.is_file() {
        return Err(fail(
            "missing audio",
            format!("{}: no such file", wav_path.display()),
        ));
    }
    Ok(RawUtterance {
        id: id.clone(),
        session,
        speaker: row.speaker.unwrap_or_else(|| UNKNOWN_SPEAKER.into()),
        wav_path,
        txt_path: manifest.to_path_buf(),
        text,
        emotions: row.labels,
        valence,
        arousal,
        votes: Vec::new(),
    })
}

fn number(cell: Option<&str>) -> Result<Option<f32>, String> {
    match cell {
        None => Ok(None),
        Some(s) => match s.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(format!("{s:?}")),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// `audio/u1.wav` … for the given names, plus an absolute-path clip `abs.wav`.
    fn write_audio(root: &Path, names: &[&str]) -> PathBuf {
        std::fs::create_dir_all(root.join("audio")).unwrap();
        for name in names {
            crate::data::audio::write_test_wav(&root.join("audio").join(format!("{name}.wav")));
        }
        let abs = root.join("abs.wav");
        crate::data::audio::write_test_wav(&abs);
        abs
    }

    /// Lines: 1 header; 2 u1; 3 u2 (text spans lines 3–4); 5 missing audio file; 6 no label;
    /// 7 no id; 8 bad valence; 9 repeats u1; 10 blank; 11 u8 (absolute path, no session);
    /// 12 bad session.
    pub(crate) fn write_csv(root: &Path) -> PathBuf {
        let abs = write_audio(root, &["u1", "u2", "u4", "u5", "u6", "u9"]);
        let lines = [
            "id,audio,text,label,valence,arousal,speaker,session,extra".to_string(),
            "u1,audio/u1.wav,\"Hello, world\",Happy,3.5,2,spk1,1,x".into(),
            "u2,audio/u2.wav,\"two\nlines\",neutral; Sad,,,spk1,1,".into(),
            "u3,audio/missing.wav,text,angry,,,spk2,2,".into(),
            "u4,audio/u4.wav,text,,,,spk2,2,".into(),
            ",audio/u5.wav,text,happy,,,,,".into(),
            "u6,audio/u6.wav,text,happy,high,,,,".into(),
            "u1,audio/u1.wav,again,sad,,,,,".into(),
            ",,,,,,,,".into(),
            format!("u8,{},,angry,,,,,", abs.display()),
            "u9,audio/u9.wav,text,sad,,,,x,".into(),
        ];
        let path = root.join("manifest.csv");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    }

    /// Lines: 1 j1; 2 j2 (array label, numbers); 3 blank; 4 not JSON; 5 an array; 6 no text;
    /// 7 label array of numbers; 8 bad valence; 9 repeats j1; 10 missing audio file.
    fn write_jsonl(root: &Path) -> PathBuf {
        write_audio(root, &["u1", "u2"]);
        let lines = [
            r#"{"id":"j1","audio":"audio/u1.wav","text":"hi","label":"Happy"}"#,
            r#"{"id":"j2","audio":"audio/u2.wav","text":"","label":["neutral","Sad"],"valence":3.5,"arousal":null,"speaker":"s","session":2}"#,
            "",
            "not json",
            "[1,2]",
            r#"{"id":"j3","audio":"audio/u2.wav","label":"sad"}"#,
            r#"{"id":"j4","audio":"audio/u2.wav","text":"x","label":[1]}"#,
            r#"{"id":"j5","audio":"audio/u2.wav","text":"x","label":"sad","valence":"x"}"#,
            r#"{"id":"j1","audio":"audio/u2.wav","text":"x","label":"sad"}"#,
            r#"{"id":"j6","audio":"nope.wav","text":"x","label":"sad"}"#,
        ];
        let path = root.join("manifest.jsonl");
        std::fs::write(&path, lines.join("\n")).unwrap();
        path
    }

    fn label_counts(corpus: &RawCorpus) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for u in &corpus.utterances {
            *counts.entry(u.emotions.join(";")).or_insert(0) += 1;
        }
        counts
    }

    fn reasons(corpus: &RawCorpus) -> Vec<(String, String)> {
        corpus
            .dropped
            .iter()
            .map(|d| {
                let kind_and_line: Vec<&str> = d.reason.splitn(3, ':').take(2).collect();
                (d.id.clone(), kind_and_line.join(":"))
            })
            .collect()
    }

    fn expect(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn csv_rows_kept_and_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_csv(dir.path());
        let corpus = load_manifest(&path, &ManifestOptions::default()).unwrap();
        let ids: Vec<&str> = corpus.utterances.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, vec!["u1", "u2", "u8"]);
        let expected: BTreeMap<String, usize> = [("happy", 1), ("neutral;sad", 1), ("angry", 1)]
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect();
        assert_eq!(label_counts(&corpus), expected);
        assert_eq!(
            reasons(&corpus),
            expect(&[
                ("u3", "missing audio: line 5"),
                ("u4", "missing label: line 6"),
                ("manifest.csv:7", "missing id: line 7"),
                ("u6", "unparsable valence: line 8"),
                ("u1", "duplicate id: line 9"),
                ("u9", "unparsable session: line 12"),
            ])
        );
        assert!(
            corpus
                .dropped
                .iter()
                .all(|d| d.path.as_deref() == Some(&*path))
        );
        assert!(
            corpus.dropped[0]
                .reason
                .contains("audio/missing.wav: no such file")
        );
        let u1 = &corpus.utterances[0];
        assert_eq!(u1.text, "Hello, world");
        assert_eq!((u1.valence, u1.arousal), (Some(3.5), Some(2.0)));
        assert_eq!((u1.speaker.as_str(), u1.session), ("spk1", 1));
        assert_eq!(u1.wav_path, dir.path().join("audio/u1.wav"));
        assert_eq!(u1.txt_path, path);
        assert_eq!(corpus.utterances[1].text, "two\nlines");
        let u8 = &corpus.utterances[2];
        assert_eq!(
            (u8.text.as_str(), u8.session, u8.speaker.as_str()),
            ("", 0, "unknown")
        );
        assert_eq!(u8.wav_path, dir.path().join("abs.wav"));
    }

    #[test]
    fn jsonl_rows_kept_and_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_jsonl(dir.path());
        let corpus = load_manifest(&path, &ManifestOptions::default()).unwrap();
        let ids: Vec<&str> = corpus.utterances.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, vec!["j1", "j2"]);
        let j2 = &corpus.utterances[1];
        assert_eq!(j2.emotions, vec!["neutral", "sad"]);
        assert_eq!((j2.valence, j2.arousal), (Some(3.5), None));
        assert_eq!((j2.speaker.as_str(), j2.session), ("s", 2));
        assert_eq!(corpus.utterances[0].emotions, vec!["happy"]);
        assert_eq!(
            reasons(&corpus),
            expect(&[
                ("manifest.jsonl:4", "invalid JSON: line 4"),
                ("manifest.jsonl:5", "not a JSON object: line 5"),
                ("j3", "missing text: line 6"),
                ("j4", "bad field: line 7"),
                ("j5", "unparsable valence: line 8"),
                ("j1", "duplicate id: line 9"),
                ("j6", "missing audio: line 10"),
            ])
        );
    }

    #[test]
    fn options_rename_columns_and_change_the_separator() {
        let dir = tempfile::tempdir().unwrap();
        write_audio(dir.path(), &["a"]);
        let path = dir.path().join("m.csv");
        std::fs::write(
            &path,
            "id,wav,transcript,emotion\na,audio/a.wav,hi,happy|sad;x\n",
        )
        .unwrap();
        let err = load_manifest(&path, &ManifestOptions::default()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("missing column \"audio\""), "{message}");
        assert!(
            message.contains(r#"["id", "wav", "transcript", "emotion"]"#),
            "{message}"
        );
        let opts = ManifestOptions {
            labels_separator: "|".into(),
            audio_column: "wav".into(),
            text_column: "transcript".into(),
            label_column: "emotion".into(),
        };
        let corpus = load_manifest(&path, &opts).unwrap();
        assert_eq!(corpus.utterances[0].emotions, vec!["happy", "sad;x"]);
        assert_eq!(corpus.utterances[0].text, "hi");
        let parsed: ManifestOptions = toml::from_str("labels_separator = \",\"").unwrap();
        assert_eq!(
            (
                parsed.labels_separator.as_str(),
                parsed.audio_column.as_str()
            ),
            (",", "audio")
        );
        assert!(toml::from_str::<ManifestOptions>("separator = \",\"").is_err());
    }

    #[test]
    fn new_utterances_need_no_label_and_only_the_inputs_the_model_reads() {
        let dir = tempfile::tempdir().unwrap();
        write_audio(dir.path(), &["u1"]);
        let csv = dir.path().join("new.csv");
        std::fs::write(
            &csv,
            "utterance_id,audio,text\na,audio/u1.wav,hi\nb,audio/gone.wav,yo\n",
        )
        .unwrap();
        let opts = ManifestOptions::default();
        let both = load_unlabelled(&csv, &opts, true, true).unwrap();
        assert_eq!(both.utterances.len(), 1);
        assert_eq!(reasons(&both), expect(&[("b", "missing audio: line 3")]));
        let text_only = load_unlabelled(&csv, &opts, true, false).unwrap();
        let texts: Vec<&str> = text_only
            .utterances
            .iter()
            .map(|u| u.text.as_str())
            .collect();
        assert_eq!(texts, ["hi", "yo"]);
        // JSONL: `id` or `utterance_id`; a column the model does not read may be absent.
        let jsonl = dir.path().join("new.jsonl");
        std::fs::write(&jsonl, "{\"utterance_id\":\"a\",\"audio\":\"audio/u1.wav\"}\n{\"id\":\"b\",\"audio\":\"audio/u1.wav\",\"label\":7}\n").unwrap();
        let audio_only = load_unlabelled(&jsonl, &opts, false, true).unwrap();
        let ids: Vec<&str> = audio_only
            .utterances
            .iter()
            .map(|u| u.id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        // A corpus manifest keeps its own columns: `id`, not `utterance_id`.
        let err = load_manifest(&csv, &opts).unwrap_err().to_string();
        assert!(err.contains("missing column \"id\""), "{err}");
    }

    #[test]
    fn unknown_extension_and_missing_file_are_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("m.txt");
        std::fs::write(&txt, "id\n").unwrap();
        let err = load_manifest(&txt, &ManifestOptions::default()).unwrap_err();
        assert!(err.to_string().contains(".csv or .jsonl"), "{err}");
        for name in ["none.csv", "none.jsonl"] {
            let err = load_manifest(&dir.path().join(name), &ManifestOptions::default());
            assert!(matches!(err, Err(DataError::Io { .. })), "{name}: {err:?}");
        }
    }
}
