//! KEMDy19 on disk (docs/DATASETS.md, KEMDy19; docs/methods/seed-004-etri.md#data): `annotation/SessionNN_F_res.csv` and
//! `SessionNN_M_res.csv`, two header rows and 43 columns (9 Segment ID, 10 Emotion, 11 Valence,
//! 12 Arousal of the "Total Evaluation", 13–42 ten evaluators × (Emotion, Valence, Arousal)),
//! and `wav/SessionNN/<SegID minus its last 5 chars>/<SegID>.wav` + `.txt`, the transcript in
//! UTF-8.
//!
//! Both annotation files of a session list *every* segment of the session (the F and M files
//! differ in the wearer of the bio-signal sensors), with labels that agree on only about half
//! the segments. [`AnnotationRows`] chooses which rows become utterances.

pub use crate::config::dataset_options::AnnotationRows;
pub use crate::config::dataset_options::Kemdy19Options;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::error::DataError;
use super::kemdy20::{split_labels, strip_transcript_tags};
pub use super::raw::{DroppedRow, RawCorpus, RawUtterance};

const COL_SEGMENT: usize = 9;
const COL_EMOTION: usize = 10;
const COL_VALENCE: usize = 11;
const COL_AROUSAL: usize = 12;
const COL_FIRST_EVALUATOR: usize = 13;
const EVALUATORS: usize = 10;
const COLUMNS: usize = 43;
const HEADER_ROWS: usize = 2;
/// `_F001`: what `SegID[:-5]` strips to name the dialogue folder.
const SEGMENT_SUFFIX_LEN: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gender {
    F,
    M,
}

impl Gender {
    fn from_letter(letter: char) -> Option<Self> {
        match letter {
            'F' => Some(Gender::F),
            'M' => Some(Gender::M),
            _ => None,
        }
    }

    fn letter(self) -> char {
        match self {
            Gender::F => 'F',
            Gender::M => 'M',
        }
    }
}

/// `annotation/SessionNN_<F|M>_res.csv`.
struct AnnotationFile {
    path: PathBuf,
    session: u32,
    gender: Gender,
}

/// A readable annotation row, before the choice between the F and M rows.
struct AnnotationRow {
    segment: String,
    speaker: Gender,
    file_gender: Gender,
    session: u32,
    line: usize,
    csv_path: PathBuf,
    record: csv::StringRecord,
}

impl AnnotationRow {
    fn is_speakers_own(&self) -> bool {
        self.speaker == self.file_gender
    }

    /// The segment id, suffixed `@F`/`@M` when the row comes from the other speaker's file.
    fn utterance_id(&self) -> String {
        if self.is_speakers_own() {
            self.segment.clone()
        } else {
            format!("{}@{}", self.segment, self.file_gender.letter())
        }
    }
}

/// Read every `annotation/Session*_{F,M}_res.csv` under `root`, in file-name order (the order
/// etri_multimodal's sorted glob gives, which its contiguous folds depend on).
pub fn load_kemdy19(root: &Path, opts: &Kemdy19Options) -> Result<RawCorpus, DataError> {
    let mut corpus = RawCorpus::default();
    let mut rows = Vec::new();
    for file in annotation_files(root)? {
        rows.extend(read_annotation(&file, &mut corpus.dropped)?);
    }
    for row in select_rows(rows, opts.annotation_rows, &mut corpus.dropped) {
        match utterance(root, &row, opts.strip_tags) {
            Ok(u) => corpus.utterances.push(u),
            Err(dropped) => corpus.dropped.push(dropped),
        }
    }
    Ok(corpus)
}

fn annotation_files(root: &Path) -> Result<Vec<AnnotationFile>, DataError> {
    let paths = super::kemdy20::list_annotation_files(
        root,
        ("Session", "_res.csv"),
        "SessionNN_F_res.csv",
        "no SessionNN_F_res.csv / SessionNN_M_res.csv file; expected the KEMDy19 annotation folder",
    )?;
    paths.into_iter().map(parse_file_name).collect()
}

/// `Session03_F_res.csv` → session 3, gender F.
fn parse_file_name(path: PathBuf) -> Result<AnnotationFile, DataError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let parsed = name
        .strip_prefix("Session")
        .and_then(|rest| rest.strip_suffix("_res.csv"))
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(number, gender)| {
            let mut letters = gender.chars();
            let gender = Gender::from_letter(letters.next()?).filter(|_| letters.next().is_none());
            Some((number.parse().ok()?, gender?))
        });
    match parsed {
        Some((session, gender)) => Ok(AnnotationFile {
            path,
            session,
            gender,
        }),
        None => Err(DataError::format(
            &path,
            "file name is not SessionNN_F_res.csv or SessionNN_M_res.csv",
        )),
    }
}

/// The file's readable rows; malformed rows, unrecognised ids and repeats of an id already in
/// this file go to `dropped` (the first row of an id is kept; the real Session03_F_res.csv
/// repeats one).
fn read_annotation(
    file: &AnnotationFile,
    dropped: &mut Vec<DroppedRow>,
) -> Result<Vec<AnnotationRow>, DataError> {
    let csv_path = &file.path;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(csv_path)
        .map_err(|e| DataError::format(csv_path, e.to_string()))?;
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                dropped.push(malformed(csv_path, line, &e.to_string()));
                continue;
            }
        };
        if index < HEADER_ROWS {
            check_header(csv_path, index, &record)?;
            continue;
        }
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() <= COL_AROUSAL {
            let found = record.len();
            dropped.push(malformed(
                csv_path,
                line,
                &format!("{found} columns, expected {COLUMNS}"),
            ));
            continue;
        }
        let segment = record[COL_SEGMENT].trim().to_string();
        let Some(speaker) = speaker_letter(&segment) else {
            dropped.push(DroppedRow {
                id: segment.clone(),
                path: Some(csv_path.clone()),
                reason: format!(
                    "unrecognised segment id: line {line}: {segment:?} does not end in _F### or _M###"
                ),
            });
            continue;
        };
        if !seen.insert(segment.clone()) {
            dropped.push(DroppedRow {
                id: segment,
                path: Some(csv_path.clone()),
                reason: format!(
                    "duplicate segment id: line {line} repeats an earlier row of this file"
                ),
            });
            continue;
        }
        rows.push(AnnotationRow {
            segment,
            speaker,
            file_gender: file.gender,
            session: file.session,
            line,
            csv_path: csv_path.clone(),
            record,
        });
    }
    Ok(rows)
}

/// The first header row names column 9 `Segment ID`; anything else is not a KEMDy19 file.
fn check_header(
    csv_path: &Path,
    index: usize,
    record: &csv::StringRecord,
) -> Result<(), DataError> {
    let cell = record.get(COL_SEGMENT).unwrap_or("").trim();
    if index == 0 && cell != "Segment ID" {
        return Err(DataError::format(
            csv_path,
            format!(
                "header row 1 has {cell:?} in column {COL_SEGMENT}, expected \"Segment ID\" (a KEMDy19 annotation file has {COLUMNS} columns)"
            ),
        ));
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

/// `Sess01_impro01_F001` → F: the letter after the last `_`, followed by the number.
fn speaker_letter(segment: &str) -> Option<Gender> {
    let (_, last) = segment.rsplit_once('_')?;
    let mut chars = last.chars();
    let gender = Gender::from_letter(chars.next()?)?;
    let number = chars.as_str();
    // Exactly `_F001`: the dialogue folder is the id minus these 5 characters.
    (number.len() + 2 == SEGMENT_SUFFIX_LEN && number.chars().all(|c| c.is_ascii_digit()))
        .then_some(gender)
}

/// Apply [`AnnotationRows`]. Under `speaker_only`, a segment whose speaker's file does not list
/// it is reported once, with the file that does.
fn select_rows(
    rows: Vec<AnnotationRow>,
    mode: AnnotationRows,
    dropped: &mut Vec<DroppedRow>,
) -> Vec<AnnotationRow> {
    if mode == AnnotationRows::Both {
        return rows;
    }
    let with_speaker_row: HashSet<String> = rows
        .iter()
        .filter(|r| r.is_speakers_own())
        .map(|r| r.segment.clone())
        .collect();
    let (kept, others): (Vec<_>, Vec<_>) =
        rows.into_iter().partition(AnnotationRow::is_speakers_own);
    for row in others {
        if !with_speaker_row.contains(&row.segment) {
            dropped.push(DroppedRow {
                id: row.segment.clone(),
                path: Some(row.csv_path.clone()),
                reason: format!(
                    "no row in the speaker's file Session{:02}_{}_res.csv: only line {} of the other file lists it",
                    row.session,
                    row.speaker.letter(),
                    row.line
                ),
            });
        }
    }
    kept
}

fn utterance(
    root: &Path,
    row: &AnnotationRow,
    strip_tags: bool,
) -> Result<RawUtterance, DroppedRow> {
    let id = row.utterance_id();
    let record = &row.record;
    let dialogue = &row.segment[..row.segment.len() - SEGMENT_SUFFIX_LEN];
    let folder = root
        .join("wav")
        .join(format!("Session{:02}", row.session))
        .join(dialogue);
    let wav_path = folder.join(format!("{}.wav", row.segment));
    let txt_path = folder.join(format!("{}.txt", row.segment));
    let drop = |path: &Path, reason: String| DroppedRow {
        id: id.clone(),
        path: Some(path.to_path_buf()),
        reason,
    };
    let emotions = split_labels(&record[COL_EMOTION]);
    if emotions.is_empty() {
        return Err(drop(
            &row.csv_path,
            format!(
                "empty label: line {}: the Total Evaluation emotion cell is blank",
                row.line
            ),
        ));
    }
    let valence =
        rating(&record[COL_VALENCE], "valence", row.line).map_err(|r| drop(&row.csv_path, r))?;
    let arousal =
        rating(&record[COL_AROUSAL], "arousal", row.line).map_err(|r| drop(&row.csv_path, r))?;
    if !wav_path.is_file() {
        return Err(drop(&wav_path, "missing audio: no such file".into()));
    }
    let text = read_transcript(&txt_path, strip_tags).map_err(|reason| drop(&txt_path, reason))?;
    let votes = (0..EVALUATORS)
        .filter_map(|e| record.get(COL_FIRST_EVALUATOR + 3 * e))
        .flat_map(split_labels)
        .collect();
    Ok(RawUtterance {
        id,
        session: row.session,
        speaker: format!("Sess{:02}_{}", row.session, row.speaker.letter()),
        wav_path,
        txt_path,
        text,
        emotions,
        valence,
        arousal,
        votes,
    })
}

/// A Total Evaluation mean: blank → None; anything else must be a number.
fn rating(cell: &str, what: &str, line: usize) -> Result<Option<f32>, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    cell.parse()
        .map(Some)
        .map_err(|_| format!("unparsable {what}: line {line}: {cell:?}"))
}

/// The first line, as etri_multimodal's `readline()` reads it (tags kept unless `strip_tags`).
fn read_transcript(path: &Path, strip_tags: bool) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("missing transcript: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| "undecodable transcript: not valid UTF-8".to_string())?;
    let line = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("")
        .trim();
    Ok(if strip_tags {
        strip_transcript_tags(line)
    } else {
        line.to_string()
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Row 1 of the real files: blank cells under the two-column groups, `Total Evaluation`
    /// and every evaluator spanning three columns (43 in all).
    fn header_rows() -> String {
        let evaluators: String = (1..=EVALUATORS)
            .map(|e| format!(",Eval{e:02}F,,"))
            .collect();
        let row1 =
            format!("Numb,Wav,,ECG,,E4-EDA,,E4-TEMP,,Segment ID,Total Evaluation,,{evaluators}");
        let row2 = format!(
            ",start,end,start,end,start,end,start,end,,Emotion,Valence,Arousal{}",
            ",Emotion,Valence,Arousal".repeat(EVALUATORS)
        );
        format!("{row1}\n{row2}\n")
    }

    /// A 43-column data row; the evaluators vote `emotion`'s first label (capitalised, as
    /// some evaluator cells are) six times and `neutral` four times.
    fn data_row(numb: usize, id: &str, emotion: &str, valence: &str, arousal: &str) -> String {
        let first = emotion.split(';').next().unwrap_or("");
        let vote = |e: usize| {
            if e < 6 {
                first.to_uppercase()
            } else {
                "neutral".into()
            }
        };
        let evaluators: String = (0..EVALUATORS)
            .map(|e| format!(",{},3,3", vote(e)))
            .collect();
        format!("{numb},0.1,2.5,0,0,0,0,0,0,{id},{emotion},{valence},{arousal}{evaluators}")
    }

    fn write_annotation(root: &Path, name: &str, rows: &[String]) {
        let dir = root.join("annotation");
        std::fs::create_dir_all(&dir).unwrap();
        let body: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(dir.join(name), header_rows() + &body).unwrap();
    }

    /// `wav/SessionNN/<dialogue>/<id>.wav` and/or `.txt`.
    fn write_segment(root: &Path, id: &str, wav: bool, txt: Option<&str>) {
        let session = &id[4..6];
        let folder = root
            .join("wav")
            .join(format!("Session{session}"))
            .join(&id[..id.len() - 5]);
        std::fs::create_dir_all(&folder).unwrap();
        if wav {
            crate::data::audio::write_test_wav(&folder.join(format!("{id}.wav")));
        }
        if let Some(text) = txt {
            std::fs::write(folder.join(format!("{id}.txt")), text).unwrap();
        }
    }

    /// Two sessions. Per file:
    /// * Session01_F: F001 neutral, F002 happy;neutral (tie), M001 angry, M002 sad,
    ///   script01_F001 surprise (no wav), a repeat of F001, a 3-column row;
    /// * Session01_M: F001 happy, F002 happy, M001 angry, M002 (blank label),
    ///   script01_F001 fear (no wav), F003 sad (only in the M file);
    /// * Session02_F: F001 disgust, M001 neutral (no txt);
    /// * Session02_M: F001 disgust, M001 neutral (no txt), a blank row, a bad id.
    pub(crate) fn write_fixture(root: &Path) {
        write_annotation(
            root,
            "Session01_F_res.csv",
            &[
                data_row(1, "Sess01_impro01_F001", "neutral", "3.1", ""),
                data_row(2, "Sess01_impro01_F002", "happy;neutral", "3.5", "3"),
                data_row(3, "Sess01_impro01_M001", "Angry", "1.8", "4.1"),
                data_row(4, "Sess01_impro01_M002", "sad", "2", "2"),
                data_row(5, "Sess01_script01_F001", "surprise", "3", "4"),
                data_row(6, "Sess01_impro01_F001", "happy", "3", "3"),
                "7,0.1,0.2".into(),
            ],
        );
        write_annotation(
            root,
            "Session01_M_res.csv",
            &[
                data_row(1, "Sess01_impro01_F001", "happy", "3.6", "3.2"),
                data_row(2, "Sess01_impro01_F002", "happy", "3.4", "3"),
                data_row(3, "Sess01_impro01_M001", "angry", "1.9", "4"),
                data_row(4, "Sess01_impro01_M002", "", "2", "2"),
                data_row(5, "Sess01_script01_F001", "fear", "2", "4"),
                data_row(6, "Sess01_impro01_F003", "sad", "2.2", "2.4"),
            ],
        );
        write_annotation(
            root,
            "Session02_F_res.csv",
            &[
                data_row(1, "Sess02_script01_F001", "disgust", "1.5", "3"),
                data_row(2, "Sess02_script01_M001", "neutral", "3", "3"),
            ],
        );
        write_annotation(
            root,
            "Session02_M_res.csv",
            &[
                data_row(1, "Sess02_script01_F001", "disgust", "1.4", "3"),
                data_row(2, "Sess02_script01_M001", "neutral", "3", "3"),
                ",".repeat(COLUMNS - 1),
                data_row(4, "Sess02_bogus", "neutral", "3", "3"),
            ],
        );
        write_segment(
            root,
            "Sess01_impro01_F001",
            true,
            Some("n/ 아 친구들도? l/\n두 번째 줄"),
        );
        for id in [
            "Sess01_impro01_F002",
            "Sess01_impro01_M001",
            "Sess01_impro01_M002",
            "Sess01_impro01_F003",
            "Sess02_script01_F001",
        ] {
            write_segment(root, id, true, Some("그래, 알았어"));
        }
        write_segment(root, "Sess01_script01_F001", false, Some("대본"));
        write_segment(root, "Sess02_script01_M001", true, None);
    }

    fn load(mode: AnnotationRows, strip_tags: bool) -> RawCorpus {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path());
        let opts = Kemdy19Options {
            annotation_rows: mode,
            strip_tags,
        };
        // The tempdir goes away on return; the tests compare names and reasons, not files.
        load_kemdy19(dir.path(), &opts).unwrap()
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
                let kind = d.reason.split(':').next().unwrap_or("").to_string();
                (d.id.clone(), kind)
            })
            .collect()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn counts(items: &[(&str, usize)]) -> BTreeMap<String, usize> {
        items.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    /// Rows every mode reports: the repeat, the short row, the bad id.
    const FILE_LEVEL_DROPS: [(&str, &str); 3] = [
        ("Sess01_impro01_F001", "duplicate segment id"),
        ("Session01_F_res.csv:9", "malformed row"),
        ("Sess02_bogus", "unrecognised segment id"),
    ];

    #[test]
    fn speaker_only_keeps_one_row_per_segment() {
        let corpus = load(AnnotationRows::SpeakerOnly, false);
        let ids: Vec<&str> = corpus.utterances.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "Sess01_impro01_F001",
                "Sess01_impro01_F002",
                "Sess01_impro01_M001",
                "Sess02_script01_F001"
            ]
        );
        assert_eq!(
            label_counts(&corpus),
            counts(&[
                ("neutral", 1),
                ("happy;neutral", 1),
                ("angry", 1),
                ("disgust", 1)
            ])
        );
        let mut expected = pairs(&FILE_LEVEL_DROPS);
        expected.extend(pairs(&[
            ("Sess01_script01_F001", "missing audio"),
            ("Sess01_impro01_M002", "empty label"),
            ("Sess02_script01_M001", "missing transcript"),
            (
                "Sess01_impro01_F003",
                "no row in the speaker's file Session01_F_res.csv",
            ),
        ]));
        assert_eq!(sorted(reasons(&corpus)), sorted(expected));
    }

    #[test]
    fn both_keeps_every_row_with_suffixed_ids() {
        let corpus = load(AnnotationRows::Both, false);
        assert_eq!(corpus.utterances.len(), 10);
        assert_eq!(
            label_counts(&corpus),
            counts(&[
                ("neutral", 1),
                ("happy;neutral", 1),
                ("angry", 2),
                ("sad", 2),
                ("happy", 2),
                ("disgust", 2)
            ])
        );
        let ids: HashSet<&str> = corpus.utterances.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids.len(), 10, "ids are unique");
        for id in [
            "Sess01_impro01_F001",
            "Sess01_impro01_F001@M",
            "Sess01_impro01_M001@F",
            "Sess01_impro01_F003@M",
            "Sess02_script01_F001@M",
        ] {
            assert!(ids.contains(id), "{id}");
        }
        let listener = corpus
            .utterances
            .iter()
            .find(|u| u.id == "Sess01_impro01_F001@M")
            .unwrap();
        assert_eq!(
            (listener.emotions.clone(), listener.speaker.as_str()),
            (vec!["happy".to_string()], "Sess01_F")
        );
        assert!(
            listener
                .wav_path
                .ends_with("wav/Session01/Sess01_impro01/Sess01_impro01_F001.wav")
        );
        let mut expected = pairs(&FILE_LEVEL_DROPS);
        expected.extend(pairs(&[
            ("Sess01_script01_F001", "missing audio"),
            ("Sess01_script01_F001@M", "missing audio"),
            ("Sess01_impro01_M002", "empty label"),
            ("Sess02_script01_M001@F", "missing transcript"),
            ("Sess02_script01_M001", "missing transcript"),
        ]));
        assert_eq!(sorted(reasons(&corpus)), sorted(expected));
    }

    #[test]
    fn fields_votes_and_transcripts() {
        let corpus = load(AnnotationRows::SpeakerOnly, false);
        let u = &corpus.utterances[0];
        assert_eq!(u.id, "Sess01_impro01_F001");
        assert_eq!((u.session, u.speaker.as_str()), (1, "Sess01_F"));
        assert_eq!((u.valence, u.arousal), (Some(3.1), None));
        assert_eq!(u.text, "n/ 아 친구들도? l/");
        assert!(
            u.wav_path
                .ends_with("wav/Session01/Sess01_impro01/Sess01_impro01_F001.wav")
        );
        assert!(
            u.txt_path
                .ends_with("wav/Session01/Sess01_impro01/Sess01_impro01_F001.txt")
        );
        assert_eq!(u.votes.len(), EVALUATORS);
        assert_eq!(u.votes.iter().filter(|v| *v == "neutral").count(), 10);
        let angry = &corpus.utterances[2];
        assert_eq!(angry.emotions, vec!["angry"]);
        assert_eq!(angry.votes.iter().filter(|v| *v == "angry").count(), 6);
        assert_eq!(angry.speaker, "Sess01_M");
        let stripped = load(AnnotationRows::SpeakerOnly, true);
        assert_eq!(stripped.utterances[0].text, "아 친구들도?");
        assert_eq!(stripped.utterances[1].text, "그래, 알았어");
    }

    #[test]
    fn missing_folder_and_foreign_header_are_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_kemdy19(dir.path(), &Kemdy19Options::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot list the annotation folder"),
            "{err}"
        );
        std::fs::create_dir(dir.path().join("annotation")).unwrap();
        let err = load_kemdy19(dir.path(), &Kemdy19Options::default()).unwrap_err();
        assert!(err.to_string().contains("no SessionNN_F_res.csv"), "{err}");
        std::fs::write(
            dir.path().join("annotation/Session01_F_res.csv"),
            "Numb,WAV, ,Segment ID,Total Evaluation\n",
        )
        .unwrap();
        let err = load_kemdy19(dir.path(), &Kemdy19Options::default()).unwrap_err();
        assert!(err.to_string().contains("expected \"Segment ID\""), "{err}");
    }

    #[test]
    fn ids_file_names_and_options() {
        assert_eq!(speaker_letter("Sess01_impro01_F001"), Some(Gender::F));
        assert_eq!(speaker_letter("Sess01_script01_M012"), Some(Gender::M));
        assert_eq!(speaker_letter("Sess01_script01_X001"), None);
        assert_eq!(speaker_letter("Sess01_bogus"), None);
        assert_eq!(speaker_letter("Sess01_F01"), None);
        let file = parse_file_name(PathBuf::from("a/Session03_M_res.csv")).unwrap();
        assert_eq!((file.session, file.gender), (3, Gender::M));
        assert!(parse_file_name(PathBuf::from("Session03_X_res.csv")).is_err());
        let opts: Kemdy19Options = toml::from_str("annotation_rows = \"both\"").unwrap();
        assert_eq!(opts.annotation_rows, AnnotationRows::Both);
        assert_eq!(
            Kemdy19Options::default().annotation_rows,
            AnnotationRows::SpeakerOnly
        );
        assert!(toml::from_str::<Kemdy19Options>("strip = true").is_err());
    }

    fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
        v.sort();
        v
    }
}
