//! IEMOCAP as released (`IEMOCAP_full_release/`, Busso et al. 2008), the raw corpus that seed 001
//! (docs/DATASETS.md, IEMOCAP) preprocesses:
//!
//! * `SessionN/dialog/EmoEvaluation/<dialog>.txt`: one block per utterance, a header line
//!   `[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]` (times, id, the
//!   majority categorical code, and valence/activation/dominance on 1–5) followed by the
//!   annotators' lines: `C-E1:\tNeutral state;\t()` (categorical; `E` evaluators, `F`/`M` the
//!   actors' self-assessment) and `A-E1:\tval 3; act 2; dom  2;\t()` (dimensional, unused here).
//! * `SessionN/sentences/wav/<dialog>/<id>.wav`.
//! * `SessionN/dialog/transcriptions/<dialog>.txt`: `Ses01F_impro01_F000 [006.2901-008.2357]:
//!   Excuse me.`, plus lines that are not annotated utterances (`M: ...`, `..._MXX0`), skipped.
//!
//! The seed's committed split lists (docs/DATASETS.md, IEMOCAP; `IEMOCAP_SPLIT/`) are read by [`iemocap_split_files`].

pub use crate::config::dataset_options::IemocapOptions;
pub use crate::config::dataset_options::{ClassMap, ClassMapPreset};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::error::DataError;
pub use super::raw::{DroppedRow, RawCorpus, RawUtterance};

/// Seed 001's `use_left`: the speaker of `Ses01F_impro01_F000` sits on the left half of the
/// video (and channel) when the id's last part starts with the first part's last letter, the
/// session's. It reads any id that way (`a_b` with `a` ending as `b` starts).
pub fn seed_speaker_on_left(id: &str) -> bool {
    let first = id.split('_').next().and_then(|p| p.chars().last());
    let last = id.rsplit('_').next().and_then(|p| p.chars().next());
    first.is_some() && first == last
}

/// IEMOCAP's categorical codes and the names the loader gives them.
const LABEL_NAMES: [(&str, &str); 11] = [
    ("neu", "neutral"),
    ("hap", "happy"),
    ("exc", "excited"),
    ("ang", "angry"),
    ("sad", "sad"),
    ("fru", "frustrated"),
    ("fea", "fear"),
    ("sur", "surprise"),
    ("dis", "disgust"),
    ("oth", "other"),
    ("xxx", "xxx"),
];

/// The words of the annotators' `C-` lines and the names they map to.
const VOTE_NAMES: [(&str, &str); 10] = [
    ("neutral state", "neutral"),
    ("happiness", "happy"),
    ("excited", "excited"),
    ("anger", "angry"),
    ("sadness", "sad"),
    ("frustration", "frustrated"),
    ("fear", "fear"),
    ("surprise", "surprise"),
    ("disgust", "disgust"),
    ("other", "other"),
];

impl ClassMap {
    pub fn four_class() -> Self {
        ClassMap::Preset(ClassMapPreset::FourClass)
    }

    pub fn six_class() -> Self {
        ClassMap::Preset(ClassMapPreset::SixClass)
    }

    pub fn none() -> Self {
        ClassMap::Preset(ClassMapPreset::None)
    }

    /// The map as label name → class name, or `None` when every label is kept as is.
    pub fn resolve(&self) -> Option<BTreeMap<String, String>> {
        let pairs: Vec<(String, String)> = match self {
            ClassMap::Preset(ClassMapPreset::None) => return None,
            ClassMap::Preset(ClassMapPreset::FourClass) => [
                ("neu", "neutral"),
                ("hap", "happy"),
                ("exc", "happy"),
                ("ang", "angry"),
                ("sad", "sad"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
            ClassMap::Preset(ClassMapPreset::SixClass) => {
                ["ang", "exc", "fru", "hap", "neu", "sad"]
                    .map(|code| (code.to_string(), label_name(code)))
                    .into()
            }
            ClassMap::Table(table) => table.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        Some(
            pairs
                .into_iter()
                .map(|(key, class)| (label_name(&key.to_lowercase()), class))
                .collect(),
        )
    }
}

/// Read the IEMOCAP release under `root` (the folder holding `Session1` … `Session5`), session by
/// session and dialog by dialog in name order.
pub fn load_iemocap(root: &Path, opts: &IemocapOptions) -> Result<RawCorpus, DataError> {
    let class_map = opts.class_map.resolve();
    let mut corpus = RawCorpus::default();
    let mut seen = HashSet::new();
    for (session, session_dir) in session_dirs(root, opts.sessions.as_deref())? {
        for eval_path in evaluation_files(&session_dir)? {
            let dialog = file_stem(&eval_path);
            if opts.improvised_only && !dialog.contains("_impro") {
                continue;
            }
            let files = DialogFiles::new(&session_dir, &dialog, eval_path);
            read_dialog(
                &files,
                session,
                opts,
                class_map.as_ref(),
                &mut seen,
                &mut corpus,
            )?;
        }
    }
    Ok(corpus)
}

/// The seed's committed split lists: `dir` is `IEMOCAP_SPLIT/` (or the repository's
/// `data split/IEMOCAP_split/`); split name → utterance ids.
pub fn iemocap_split_files(dir: &Path) -> Result<BTreeMap<String, Vec<String>>, DataError> {
    super::split_files::read_split_dir(dir)
}

/// `SessionN` folders under `root`, restricted to `wanted`; a wanted session that is not there
/// is an error (a typo in the config should not shrink the corpus silently).
fn session_dirs(root: &Path, wanted: Option<&[u32]>) -> Result<Vec<(u32, PathBuf)>, DataError> {
    let entries = std::fs::read_dir(root).map_err(|e| DataError::io(root, e))?;
    let mut sessions: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|p| {
            let n = p
                .file_name()?
                .to_str()?
                .strip_prefix("Session")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .collect();
    sessions.sort();
    if sessions.is_empty() {
        return Err(DataError::format(
            root,
            "no SessionN folder; expected the IEMOCAP_full_release folder",
        ));
    }
    let Some(wanted) = wanted else {
        return Ok(sessions);
    };
    if let Some(missing) = wanted
        .iter()
        .find(|w| !sessions.iter().any(|(n, _)| n == *w))
    {
        return Err(DataError::format(
            root,
            format!("sessions lists {missing} but there is no Session{missing} folder"),
        ));
    }
    sessions.retain(|(n, _)| wanted.contains(n));
    Ok(sessions)
}

/// The dialog files of `EmoEvaluation/`, skipping its sub-folders (`Categorical/`, ...) and the
/// macOS `._*` files some copies of the release carry.
fn evaluation_files(session_dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let dir = session_dir.join("dialog").join("EmoEvaluation");
    let entries = std::fs::read_dir(&dir).map_err(|e| DataError::io(&dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("Ses") && n.ends_with(".txt"))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

/// Where one dialog's annotation, transcript and audio live.
struct DialogFiles {
    dialog: String,
    evaluation: PathBuf,
    transcript: PathBuf,
    wav_dir: PathBuf,
}

impl DialogFiles {
    fn new(session_dir: &Path, dialog: &str, evaluation: PathBuf) -> Self {
        let transcript = session_dir
            .join("dialog")
            .join("transcriptions")
            .join(format!("{dialog}.txt"));
        DialogFiles {
            dialog: dialog.to_string(),
            evaluation,
            transcript,
            wav_dir: session_dir.join("sentences").join("wav").join(dialog),
        }
    }
}

fn read_dialog(
    files: &DialogFiles,
    session: u32,
    opts: &IemocapOptions,
    class_map: Option<&BTreeMap<String, String>>,
    seen: &mut HashSet<String>,
    corpus: &mut RawCorpus,
) -> Result<(), DataError> {
    let text = std::fs::read_to_string(&files.evaluation)
        .map_err(|e| DataError::io(&files.evaluation, e))?;
    let entries = parse_evaluation(&text, &files.evaluation, &mut corpus.dropped);
    // A dialog without its transcript file loses its utterances, each listed, rather than the run.
    let transcripts = read_transcripts(&files.transcript, opts.text_after_last_colon);
    for entry in entries {
        if !seen.insert(entry.id.clone()) {
            corpus.dropped.push(DroppedRow {
                id: entry.id,
                path: Some(files.evaluation.clone()),
                reason: format!(
                    "duplicate utterance id: line {} repeats an earlier block",
                    entry.line
                ),
            });
            continue;
        }
        match utterance(entry, files, session, class_map, &transcripts) {
            Ok(u) => corpus.utterances.push(u),
            Err(dropped) => corpus.dropped.push(dropped),
        }
    }
    Ok(())
}

/// One utterance block of an EmoEvaluation file.
#[derive(Debug, Clone, PartialEq)]
struct EvalEntry {
    id: String,
    code: String,
    valence: f32,
    arousal: f32,
    /// Vote names, one per label per annotator line.
    votes: Vec<String>,
    /// 1-based line of the header, for messages.
    line: usize,
}

/// Every well-formed block; a malformed header is pushed to `dropped` and its annotator lines
/// are skipped with it.
fn parse_evaluation(text: &str, path: &Path, dropped: &mut Vec<DroppedRow>) -> Vec<EvalEntry> {
    let mut entries: Vec<EvalEntry> = Vec::new();
    let mut in_valid_block = false;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim_end();
        if line.starts_with('[') {
            match parse_header(line, line_no) {
                Ok(entry) => {
                    entries.push(entry);
                    in_valid_block = true;
                }
                Err(what) => {
                    dropped.push(malformed(path, line_no, &what));
                    in_valid_block = false;
                }
            }
        } else if line.starts_with("C-")
            && in_valid_block
            && let Some(entry) = entries.last_mut()
        {
            entry.votes.extend(parse_vote_line(line));
        }
    }
    entries
}

/// `[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]`.
fn parse_header(line: &str, line_no: usize) -> Result<EvalEntry, String> {
    let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
    let [_times, id, code, vad] = fields[..] else {
        return Err(format!("{} tab-separated fields, expected 4", fields.len()));
    };
    let vad: Vec<f32> = vad
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|v| v.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("[V, A, D] is not three numbers: {vad} ({e})"))?;
    if vad.len() != 3 {
        return Err(format!("[V, A, D] has {} values, expected 3", vad.len()));
    }
    if id.is_empty() || code.is_empty() {
        return Err("empty utterance id or label".into());
    }
    Ok(EvalEntry {
        id: id.to_string(),
        code: code.to_lowercase(),
        valence: vad[0],
        arousal: vad[1],
        votes: Vec::new(),
        line: line_no,
    })
}

/// `C-E2:\tFrustration; Anger;\t(irritated)` → [frustrated, angry]. `Other:amused` counts as
/// `other`; a word outside the list is kept lowercased.
fn parse_vote_line(line: &str) -> Vec<String> {
    let Some((_annotator, rest)) = line.split_once(':') else {
        return Vec::new();
    };
    let labels = rest.split('(').next().unwrap_or("");
    labels
        .split(';')
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let word = if l.starts_with("other") { "other" } else { &l };
            VOTE_NAMES
                .iter()
                .find(|(w, _)| *w == word)
                .map_or(word.to_string(), |(_, name)| name.to_string())
        })
        .collect()
}

fn malformed(path: &Path, line: usize, what: &str) -> DroppedRow {
    DroppedRow {
        id: format!(
            "{}:{line}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
        ),
        path: Some(path.to_path_buf()),
        reason: format!("malformed row: line {line}: {what}"),
    }
}

/// Utterance id → text, or why the transcript file could not be read.
fn read_transcripts(
    path: &Path,
    after_last_colon: bool,
) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("missing transcript: {e}"))?;
    Ok(text
        .lines()
        .filter_map(|line| parse_transcript_line(line, after_last_colon))
        .collect())
}

/// `Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.` → (id, text); `None` for lines without
/// the `id [start-end]:` shape.
fn parse_transcript_line(line: &str, after_last_colon: bool) -> Option<(String, String)> {
    let (id, rest) = line.split_once(' ')?;
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return None;
    }
    let (_stamp, text) = rest.split_once("]:")?;
    let text = if after_last_colon {
        text.rsplit(':').next().unwrap_or(text)
    } else {
        text
    };
    Some((id.to_string(), text.trim().to_string()))
}

fn utterance(
    entry: EvalEntry,
    files: &DialogFiles,
    session: u32,
    class_map: Option<&BTreeMap<String, String>>,
    transcripts: &Result<HashMap<String, String>, String>,
) -> Result<RawUtterance, DroppedRow> {
    let wav_path = files.wav_dir.join(format!("{}.wav", entry.id));
    let drop = |path: &Path, reason: String| DroppedRow {
        id: entry.id.clone(),
        path: Some(path.to_path_buf()),
        reason,
    };
    let Some(emotion) = map_label(&label_name(&entry.code), class_map) else {
        return Err(drop(
            &files.evaluation,
            format!("label {} not in class_map", entry.code),
        ));
    };
    let Some(speaker) = speaker_of(&entry.id, session) else {
        return Err(drop(
            &files.evaluation,
            "no speaker: the id does not end in _F<turn> or _M<turn>".into(),
        ));
    };
    if !wav_path.is_file() {
        return Err(drop(&wav_path, "missing audio: no such file".into()));
    }
    let text = match transcripts {
        Err(reason) => return Err(drop(&files.transcript, reason.clone())),
        Ok(lines) => lines.get(&entry.id).cloned().ok_or_else(|| {
            drop(
                &files.transcript,
                format!(
                    "missing transcript: no line for this id in {}.txt",
                    files.dialog
                ),
            )
        })?,
    };
    let votes = entry
        .votes
        .iter()
        .filter_map(|v| map_label(v, class_map))
        .collect();
    Ok(RawUtterance {
        id: entry.id,
        session,
        speaker,
        wav_path,
        txt_path: files.transcript.clone(),
        text,
        emotions: vec![emotion],
        valence: Some(entry.valence),
        arousal: Some(entry.arousal),
        votes,
    })
}

/// `exc` → `excited`; an unknown code is kept as it is.
fn label_name(code: &str) -> String {
    LABEL_NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code.to_string(), |(_, name)| name.to_string())
}

/// The class of a label name under the map; `None` when the map leaves it out.
fn map_label(name: &str, class_map: Option<&BTreeMap<String, String>>) -> Option<String> {
    match class_map {
        None => Some(name.to_string()),
        Some(map) => map.get(name).cloned(),
    }
}

/// The speaker is the gender letter of the last id part (`..._M000` is the male actor), which
/// differs from the dialog name's letter (`Ses01F_impro01` is the session where the female actor
/// wore the motion-capture markers) for half the turns.
fn speaker_of(id: &str, session: u32) -> Option<String> {
    let turn = id.rsplit('_').next()?;
    let mut chars = turn.chars();
    let gender = chars.next().filter(|g| matches!(g, 'F' | 'M'))?;
    chars.next()?;
    Some(format!("Ses{session:02}{gender}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// `Session1/dialog/EmoEvaluation/Ses01F_impro01.txt`.
    const IMPRO01_EVAL: &str = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral state;\t()
C-E3:\tNeutral state;\t()
C-F1:\tNeutral state;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[7.5712 - 10.4750]\tSes01F_impro01_M000\tfru\t[2.0000, 3.5000, 3.5000]
C-E1:\tFrustration; Anger;\t()
C-E3:\tFrustration;\t()
C-M1:\tAnger;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[10.0100 - 11.3925]\tSes01F_impro01_F001\txxx\t[2.5000, 3.0000, 3.0000]
C-E1:\tNeutral state;\t()
C-E2:\tFrustration;\t()
C-E4:\tSadness;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[14.8872 - 18.0175]\tSes01F_impro01_M001\tang\t[1.5000, 4.0000, 4.0000]
C-E1:\tAnger;\t()
C-E2:\tAnger; Frustration;\t()
C-F1:\tFrustration;\t()
A-E3:\tval 3; act 2; dom  2;\t()

";

    /// `Session1/dialog/EmoEvaluation/Ses01F_script01_1.txt`.
    const SCRIPT01_EVAL: &str = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[3.1000 - 5.0000]\tSes01F_script01_1_F000\thap\t[4.0000, 3.5000, 3.0000]
C-E1:\tHappiness;\t()
C-E2:\tHappiness; Excited;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[5.2000 - 7.0000]\tSes01F_script01_1_M000\texc\t[4.5000, 4.0000, 3.5000]
C-E1:\tExcited;\t()
C-E2:\tHappiness;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[7.5000 - 9.0000]\tSes01F_script01_1_F001\tsad\t[1.5000, 2.0000, 2.0000]
C-E1:\tSadness;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[9.5000 - 11.0000]\tSes01F_script01_1_M001\tsur\t[3.5000, 4.0000, 2.5000]
C-E1:\tSurprise;\t()
C-E3:\tSurprise; Happiness;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[11.5000 - 12.5000]\tSes01F_script01_1_F002\tneu\t[3.0000, 2.0000, 2.5000]
C-E1:\tNeutral state;\t()
A-E3:\tval 3; act 2; dom  2;\t()

";

    /// `Session2/dialog/EmoEvaluation/Ses02M_impro03.txt`; line 17 is a malformed header.
    const IMPRO03_EVAL: &str = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[2.0000 - 4.0000]\tSes02M_impro03_F000\tsad\t[1.0000, 1.5000, 2.0000]
C-E1:\tSadness;\t()
C-M1:\tSadness;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[4.5000 - 6.0000]\tSes02M_impro03_M000\tneu\t[3.0000, 2.5000, 3.0000]
C-E2:\tNeutral state;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[6.5000 - 8.0000]\tSes02M_impro03_M001\toth\t[3.0000, 3.0000, 3.0000]
C-E1:\tOther:amused;\t()
C-E2:\tNeutral state;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[8.5000 - 9.0000]\tSes02M_impro03_F002\tneu\t[2.5000, 2.5000]
C-E1:\tNeutral state;\t()

[9.5000 - 11.0000]\tSes02M_impro03_F001\thap\t[4.0000, 3.0000, 3.0000]
C-E1:\tHappiness;\t()
C-E3:\tHappiness;\t()
A-E3:\tval 3; act 2; dom  2;\t()

";

    /// `Session2/dialog/EmoEvaluation/Ses02M_script02_2.txt`; its transcript file is missing.
    const SCRIPT02_EVAL: &str = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[1.0000 - 2.0000]\tSes02M_script02_2_F000\tdis\t[1.5000, 3.0000, 3.0000]
C-E1:\tDisgust;\t()
A-E3:\tval 3; act 2; dom  2;\t()

[2.5000 - 4.0000]\tSes02M_script02_2_M000\tfea\t[2.0000, 4.0000, 1.5000]
C-E1:\tFear;\t()
A-E3:\tval 3; act 2; dom  2;\t()

";

    /// `Session1/dialog/transcriptions/Ses01F_impro01.txt`.
    const IMPRO01_TRANSCRIPT: &str = "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.
Ses01F_impro01_M000 [007.5712-010.4750]: Do you have your forms?
M: [BREATHING]
Ses01F_impro01_F001 [010.0100-011.3925]: Yeah.
Ses01F_impro01_MXX0 [012.0000-013.0000]: Hm.
Ses01F_impro01_M001 [014.8872-018.0175]: Listen: I waited an hour.
";

    /// `Session1/dialog/transcriptions/Ses01F_script01_1.txt`: no line for F002.
    const SCRIPT01_TRANSCRIPT: &str = "Ses01F_script01_1_F000 [003.1000-005.0000]: What a day.
Ses01F_script01_1_M000 [005.2000-007.0000]: We won!
Ses01F_script01_1_F001 [007.5000-009.0000]: I miss him.
Ses01F_script01_1_M001 [009.5000-011.0000]: Really?
";

    /// `Session2/dialog/transcriptions/Ses02M_impro03.txt`.
    const IMPRO03_TRANSCRIPT: &str = "Ses02M_impro03_F000 [002.0000-004.0000]: He's gone.
Ses02M_impro03_M000 [004.5000-006.0000]: I know.
Ses02M_impro03_M001 [006.5000-008.0000]: Ha, sure.
F: [LAUGHTER]
Ses02M_impro03_F002 [008.5000-009.0000]: Okay.
Ses02M_impro03_F001 [009.5000-011.0000]: That's great news.
";

    /// Two sessions, four dialogs, 15 utterance blocks and one malformed header:
    ///
    /// | dialog | id → code | trouble |
    /// |---|---|---|
    /// | Ses01F_impro01 | F000 neu, M000 fru, F001 xxx, M001 ang | |
    /// | Ses01F_script01_1 | F000 hap, M000 exc, F001 sad, M001 sur, F002 neu | F001 has no wav, F002 no transcript line |
    /// | Ses02M_impro03 | F000 sad, M000 neu, M001 oth, F001 hap, malformed header | |
    /// | Ses02M_script02_2 | F000 dis, M000 fea | no transcript file |
    pub(crate) fn write_fixture(root: &Path) {
        let files = [
            (
                "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt",
                IMPRO01_EVAL,
            ),
            (
                "Session1/dialog/EmoEvaluation/Ses01F_script01_1.txt",
                SCRIPT01_EVAL,
            ),
            (
                "Session2/dialog/EmoEvaluation/Ses02M_impro03.txt",
                IMPRO03_EVAL,
            ),
            (
                "Session2/dialog/EmoEvaluation/Ses02M_script02_2.txt",
                SCRIPT02_EVAL,
            ),
            (
                "Session1/dialog/transcriptions/Ses01F_impro01.txt",
                IMPRO01_TRANSCRIPT,
            ),
            (
                "Session1/dialog/transcriptions/Ses01F_script01_1.txt",
                SCRIPT01_TRANSCRIPT,
            ),
            (
                "Session2/dialog/transcriptions/Ses02M_impro03.txt",
                IMPRO03_TRANSCRIPT,
            ),
            // Noise the release carries next to the dialog files.
            (
                "Session1/dialog/EmoEvaluation/Categorical/Ses01F_impro01_e1_cat.txt",
                "Ses01F_impro01_F000 :Neutral state; ()\n",
            ),
            (
                "Session2/dialog/EmoEvaluation/._Ses02M_impro03.txt",
                "\0\u{5}\u{16}\u{7}",
            ),
        ];
        for (path, text) in files {
            write(&root.join(path), text);
        }
        let wavs = [
            (
                "Session1",
                "Ses01F_impro01",
                &["F000", "M000", "F001", "M001"][..],
            ),
            (
                "Session1",
                "Ses01F_script01_1",
                &["F000", "M000", "M001", "F002"][..],
            ),
            (
                "Session2",
                "Ses02M_impro03",
                &["F000", "M000", "M001", "F001", "F002"][..],
            ),
            ("Session2", "Ses02M_script02_2", &["F000", "M000"][..]),
        ];
        for (session, dialog, turns) in wavs {
            for turn in turns {
                let path = format!("{session}/sentences/wav/{dialog}/{dialog}_{turn}.wav");
                crate::data::audio::write_test_wav(&root.join(path));
            }
        }
    }

    fn fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path());
        dir
    }

    fn load(root: &Path, class_map: ClassMap) -> RawCorpus {
        let opts = IemocapOptions {
            class_map,
            ..IemocapOptions::default()
        };
        load_iemocap(root, &opts).unwrap()
    }

    fn class_counts(corpus: &RawCorpus) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for u in &corpus.utterances {
            assert_eq!(u.emotions.len(), 1, "{}", u.id);
            *counts.entry(u.emotions[0].clone()).or_default() += 1;
        }
        counts
    }

    fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn reasons(corpus: &RawCorpus) -> BTreeMap<String, String> {
        corpus
            .dropped
            .iter()
            .map(|d| (d.id.clone(), d.reason.clone()))
            .collect()
    }

    fn find<'a>(corpus: &'a RawCorpus, id: &str) -> &'a RawUtterance {
        corpus.utterances.iter().find(|u| u.id == id).unwrap()
    }

    /// The rows every preset loses for want of files or form.
    fn assert_file_drops(corpus: &RawCorpus, root: &Path) {
        let by_id: BTreeMap<&str, &DroppedRow> =
            corpus.dropped.iter().map(|d| (d.id.as_str(), d)).collect();
        let no_wav = by_id["Ses01F_script01_1_F001"];
        assert_eq!(no_wav.reason, "missing audio: no such file");
        assert_eq!(
            no_wav.path.as_deref(),
            Some(
                root.join("Session1/sentences/wav/Ses01F_script01_1/Ses01F_script01_1_F001.wav")
                    .as_path()
            )
        );
        assert_eq!(
            by_id["Ses01F_script01_1_F002"].reason,
            "missing transcript: no line for this id in Ses01F_script01_1.txt"
        );
        let bad = by_id["Ses02M_impro03.txt:17"];
        assert!(
            bad.reason.starts_with("malformed row: line 17: [V, A, D]"),
            "{}",
            bad.reason
        );
    }

    #[test]
    fn four_class_merges_excited_into_happy_and_lists_every_drop() {
        let dir = fixture();
        let corpus = load(dir.path(), ClassMap::four_class());
        assert_eq!(
            class_counts(&corpus),
            counts(&[("angry", 1), ("happy", 3), ("neutral", 2), ("sad", 1)])
        );
        assert_eq!(corpus.dropped.len(), 9);
        let reasons = reasons(&corpus);
        for (id, code) in [
            ("Ses01F_impro01_M000", "fru"),
            ("Ses01F_impro01_F001", "xxx"),
            ("Ses01F_script01_1_M001", "sur"),
            ("Ses02M_impro03_M001", "oth"),
            ("Ses02M_script02_2_F000", "dis"),
            ("Ses02M_script02_2_M000", "fea"),
        ] {
            assert_eq!(reasons[id], format!("label {code} not in class_map"));
        }
        assert_file_drops(&corpus, dir.path());
        // Votes follow the map: excited → happy, frustrated left out.
        assert_eq!(
            find(&corpus, "Ses01F_script01_1_M000").votes,
            vec!["happy", "happy"]
        );
        assert_eq!(
            find(&corpus, "Ses01F_impro01_M001").votes,
            vec!["angry", "angry"]
        );
    }

    #[test]
    fn six_class_is_seed_001s_set_with_excited_apart() {
        let dir = fixture();
        let corpus = load(dir.path(), ClassMap::six_class());
        assert_eq!(
            class_counts(&corpus),
            counts(&[
                ("angry", 1),
                ("excited", 1),
                ("frustrated", 1),
                ("happy", 2),
                ("neutral", 2),
                ("sad", 1)
            ])
        );
        assert_eq!(corpus.dropped.len(), 8);
        let reasons = reasons(&corpus);
        for (id, code) in [
            ("Ses01F_impro01_F001", "xxx"),
            ("Ses01F_script01_1_M001", "sur"),
            ("Ses02M_impro03_M001", "oth"),
            ("Ses02M_script02_2_F000", "dis"),
            ("Ses02M_script02_2_M000", "fea"),
        ] {
            assert_eq!(reasons[id], format!("label {code} not in class_map"));
        }
        assert_file_drops(&corpus, dir.path());
        assert_eq!(
            find(&corpus, "Ses01F_impro01_M000").votes,
            vec!["frustrated", "angry", "frustrated", "angry"]
        );
        assert_eq!(
            find(&corpus, "Ses01F_script01_1_M000").votes,
            vec!["excited", "happy"]
        );
    }

    #[test]
    fn none_keeps_every_label_and_only_file_problems_drop() {
        let dir = fixture();
        let corpus = load(dir.path(), ClassMap::none());
        assert_eq!(
            class_counts(&corpus),
            counts(&[
                ("angry", 1),
                ("excited", 1),
                ("frustrated", 1),
                ("happy", 2),
                ("neutral", 2),
                ("other", 1),
                ("sad", 1),
                ("surprise", 1),
                ("xxx", 1)
            ])
        );
        assert_eq!(corpus.dropped.len(), 5);
        assert_file_drops(&corpus, dir.path());
        let transcript = dir
            .path()
            .join("Session2/dialog/transcriptions/Ses02M_script02_2.txt");
        for id in ["Ses02M_script02_2_F000", "Ses02M_script02_2_M000"] {
            let row = corpus.dropped.iter().find(|d| d.id == id).unwrap();
            assert!(
                row.reason.starts_with("missing transcript: "),
                "{}",
                row.reason
            );
            assert_eq!(row.path.as_deref(), Some(transcript.as_path()));
        }
        assert_eq!(
            find(&corpus, "Ses02M_impro03_M001").votes,
            vec!["other", "neutral"]
        );
        assert_eq!(
            find(&corpus, "Ses01F_impro01_M001").votes,
            vec!["angry", "angry", "frustrated", "frustrated"]
        );
    }

    #[test]
    fn a_custom_table_accepts_codes_and_names() {
        let dir = fixture();
        let table = [
            ("ang", "negative"),
            ("frustrated", "negative"),
            ("hap", "positive"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let corpus = load(dir.path(), ClassMap::Table(table.into()));
        assert_eq!(
            class_counts(&corpus),
            counts(&[("negative", 2), ("positive", 2)])
        );
    }

    #[test]
    fn speaker_session_text_and_dimensions() {
        let dir = fixture();
        let corpus = load(dir.path(), ClassMap::none());
        let f_dialog_m_speaker = find(&corpus, "Ses01F_impro01_M000");
        assert_eq!(f_dialog_m_speaker.speaker, "Ses01M");
        assert_eq!(f_dialog_m_speaker.session, 1);
        assert_eq!(f_dialog_m_speaker.text, "Do you have your forms?");
        assert_eq!(f_dialog_m_speaker.valence, Some(2.0));
        assert_eq!(f_dialog_m_speaker.arousal, Some(3.5));
        assert_eq!(
            f_dialog_m_speaker.wav_path,
            dir.path()
                .join("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M000.wav")
        );
        assert_eq!(
            f_dialog_m_speaker.txt_path,
            dir.path()
                .join("Session1/dialog/transcriptions/Ses01F_impro01.txt")
        );
        let m_dialog_f_speaker = find(&corpus, "Ses02M_impro03_F000");
        assert_eq!(m_dialog_f_speaker.speaker, "Ses02F");
        assert_eq!(m_dialog_f_speaker.session, 2);
        assert_eq!(
            (m_dialog_f_speaker.valence, m_dialog_f_speaker.arousal),
            (Some(1.0), Some(1.5))
        );
        assert_eq!(find(&corpus, "Ses01F_impro01_F000").speaker, "Ses01F");
        assert_eq!(find(&corpus, "Ses02M_impro03_M000").speaker, "Ses02M");
        assert_eq!(
            find(&corpus, "Ses01F_impro01_M001").text,
            "Listen: I waited an hour."
        );
        let speakers: HashSet<&str> = corpus
            .utterances
            .iter()
            .map(|u| u.speaker.as_str())
            .collect();
        assert_eq!(
            speakers,
            HashSet::from(["Ses01F", "Ses01M", "Ses02F", "Ses02M"])
        );
    }

    #[test]
    fn session_and_improvised_filters() {
        let dir = fixture();
        let opts = IemocapOptions {
            class_map: ClassMap::none(),
            sessions: Some(vec![2]),
            ..IemocapOptions::default()
        };
        let corpus = load_iemocap(dir.path(), &opts).unwrap();
        assert_eq!(corpus.utterances.len(), 4);
        assert!(corpus.utterances.iter().all(|u| u.session == 2));
        assert_eq!(corpus.dropped.len(), 3);

        let opts = IemocapOptions {
            improvised_only: true,
            ..IemocapOptions::default()
        };
        let corpus = load_iemocap(dir.path(), &opts).unwrap();
        assert_eq!(
            class_counts(&corpus),
            counts(&[("angry", 1), ("happy", 1), ("neutral", 2), ("sad", 1)])
        );
        assert_eq!(corpus.dropped.len(), 4);
        assert!(corpus.utterances.iter().all(|u| u.id.contains("_impro")));

        let opts = IemocapOptions {
            sessions: Some(vec![3]),
            ..IemocapOptions::default()
        };
        let err = load_iemocap(dir.path(), &opts).unwrap_err().to_string();
        assert!(err.contains("no Session3 folder"), "{err}");
    }

    #[test]
    fn seed_001_text_quirk_cuts_at_the_last_colon() {
        let dir = fixture();
        let opts = IemocapOptions {
            text_after_last_colon: true,
            ..IemocapOptions::default()
        };
        let corpus = load_iemocap(dir.path(), &opts).unwrap();
        assert_eq!(
            find(&corpus, "Ses01F_impro01_M001").text,
            "I waited an hour."
        );
        assert_eq!(find(&corpus, "Ses01F_impro01_F000").text, "Excuse me.");
    }

    #[test]
    fn a_missing_root_or_evaluation_folder_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_iemocap(&dir.path().join("nope"), &IemocapOptions::default()).is_err());
        assert!(load_iemocap(dir.path(), &IemocapOptions::default()).is_err());
        std::fs::create_dir_all(dir.path().join("Session1/dialog")).unwrap();
        let err = load_iemocap(dir.path(), &IemocapOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("EmoEvaluation"), "{err}");
    }

    #[test]
    fn options_read_from_toml_with_presets_or_tables() {
        let opts: IemocapOptions =
            toml::from_str("class_map = \"six_class\"\nsessions = [1, 2]").unwrap();
        assert_eq!(opts.class_map, ClassMap::six_class());
        assert_eq!(opts.sessions, Some(vec![1, 2]));
        let opts: IemocapOptions = toml::from_str("[class_map]\nexc = \"happy\"").unwrap();
        assert_eq!(
            opts.class_map.resolve().unwrap(),
            BTreeMap::from([("excited".to_string(), "happy".to_string())])
        );
        assert!(toml::from_str::<IemocapOptions>("class_maps = \"none\"").is_err());
        assert_eq!(IemocapOptions::default().class_map, ClassMap::four_class());
    }

    #[test]
    fn split_files_are_read_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("train_split.txt"),
            "Ses01F_impro01_F000\nSes01F_impro01_M000\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("valid_split.txt"), "Ses02M_impro03_F000\n").unwrap();
        std::fs::write(dir.path().join("test_split.txt"), "Ses02M_impro03_M000\n").unwrap();
        let splits = iemocap_split_files(dir.path()).unwrap();
        assert_eq!(
            splits["train"],
            vec!["Ses01F_impro01_F000", "Ses01F_impro01_M000"]
        );
        assert_eq!(splits["valid"], vec!["Ses02M_impro03_F000"]);
        assert_eq!(splits["test"], vec!["Ses02M_impro03_M000"]);
    }
}
