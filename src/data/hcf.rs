//! `[dataset.hcf]`: seed 001's hand-crafted feature sequences (docs/DATASETS.md, Hand-crafted
//! features) as the corpus's pre-extracted text, audio and visual streams, one vector per word
//! or frame (`Corpus::features`, `[steps, width]` per utterance).
//!
//! The files hold every phase (`train`, `valid`, `test`); all are read and looked up by
//! utterance id, so the split stays `[split]`'s and every method of a comparison shares it.
//! Like `[dataset.faces]`, this depends on the dataset alone: an utterance the files do not
//! hold is dropped for every method, with its reason in data.json (`strict` makes it an error).
//!
//! Two things the seed leaves to chance are made definite here, and counted:
//! * an empty stream (a transcript without words, an utterance without video frames) becomes
//!   one zero step. The seed pads it to the batch's longest with zeros, which the LSTMs and the
//!   unmasked text transformer read exactly so; only LF-TRANS's masked audio/visual
//!   transformers then see one zero step where the seed masks every step but its CLS;
//! * NaN and ±inf (COVAREP writes -inf for silent frames) become 0, as CMU's own loaders do;
//!   the seed keeps them, and one of them turns a whole batch's loss into NaN.

mod iemocap;
mod mosei;

use std::collections::HashMap;

use super::corpus::Corpus;
use super::feature::CachedFeature;
use super::raw::{DropReason, STRICT_LISTED, strict_listing};
use crate::config::dataset_options::{HcfLayout, HcfOptions};
use crate::config::{DatasetConfig, Modality};

/// The seed's three phases; each has its own files.
const PHASES: [&str; 3] = ["train", "valid", "test"];

/// One utterance's three sequences as the files hold them, before the empty and non-finite
/// repairs: `[steps, width]` each, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct HcfRecord {
    pub text: CachedFeature,
    pub audio: CachedFeature,
    pub visual: CachedFeature,
}

/// Every utterance of the files, by id: its record, or why it has none (it is missing from
/// one of its phase's files).
pub type HcfTable = HashMap<String, Result<HcfRecord, DropReason>>;

/// What the repairs did, over the kept utterances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HcfRepairs {
    pub empty_streams: usize,
    pub non_finite: usize,
}

/// The reason recorded for an utterance the files do not hold.
const NOT_IN_FILES: &str = "not in the hand-crafted feature files";

/// Read the files under `options.root` and attach each utterance's sequences to `corpus`,
/// dropping those the files do not hold.
pub fn attach_hcf(
    corpus: &mut Corpus,
    ds: &DatasetConfig,
    options: &HcfOptions,
) -> anyhow::Result<()> {
    let layout = options.layout_for(ds.kind).ok_or_else(|| {
        anyhow::anyhow!("[dataset.hcf]: no layout for this corpus kind; set dataset.hcf.layout")
    })?;
    let [text_dim, audio_dim, visual_dim] = options.widths(layout);
    let mut table = match layout {
        HcfLayout::SeedIemocap => {
            let ids: Vec<&str> = corpus.examples.iter().map(|e| e.id.as_str()).collect();
            let columns = options.audio_columns.unwrap_or_default().columns();
            iemocap::read_table(&options.root, &ids, &columns)?
        }
        HcfLayout::SeedMosei => mosei::read_table(&options.root)?,
    };
    let mut repairs = HcfRepairs::default();
    let outcomes: Vec<Result<[CachedFeature; 3], DropReason>> = corpus
        .examples
        .iter()
        .map(|e| match table.remove(&e.id) {
            Some(Ok(record)) => Ok([
                repaired(record.text, text_dim, &mut repairs),
                repaired(record.audio, audio_dim, &mut repairs),
                repaired(record.visual, visual_dim, &mut repairs),
            ]),
            Some(Err(why)) => Err(why),
            None => Err(DropReason {
                path: Some(options.root.clone()),
                reason: NOT_IN_FILES.into(),
            }),
        })
        .collect();
    let (streams, failures) = corpus.keep_usable(outcomes);
    if ds.strict && !failures.is_empty() {
        anyhow::bail!(
            "dataset.strict is set and {} utterances are not in the hand-crafted feature files under {}:\n{}",
            failures.len(),
            options.root.display(),
            strict_listing(&failures, STRICT_LISTED)
        );
    }
    anyhow::ensure!(
        !corpus.examples.is_empty(),
        "[dataset.hcf]: none of the {} utterances of {} is in the feature files under {} (the files hold other ids; is layout {:?} right?)",
        failures.len(),
        ds.root.display(),
        options.root.display(),
        layout
    );
    if !failures.is_empty() {
        tracing::warn!(
            utterances = failures.len(),
            "utterances without hand-crafted features dropped (see data.json)"
        );
    }
    if repairs != HcfRepairs::default() {
        tracing::info!(
            empty_streams = repairs.empty_streams,
            non_finite_zeroed = repairs.non_finite,
            "hand-crafted features: empty streams given one zero step, NaN/inf set to 0"
        );
    }
    corpus.dropped.extend(failures);
    let mut by_stream: [Vec<CachedFeature>; 3] = Default::default();
    for [text, audio, visual] in streams {
        by_stream[0].push(text);
        by_stream[1].push(audio);
        by_stream[2].push(visual);
    }
    let [text, audio, visual] = by_stream;
    corpus.features = [
        (Modality::Text, text),
        (Modality::Audio, audio),
        (Modality::Visual, visual),
    ]
    .into();
    Ok(())
}

/// An empty sequence as one zero step of `width`; NaN and ±inf as 0.
fn repaired(mut feature: CachedFeature, width: usize, repairs: &mut HcfRepairs) -> CachedFeature {
    if feature.values.is_empty() {
        repairs.empty_streams += 1;
        return CachedFeature::new(vec![1, width], vec![0.0; width]);
    }
    for value in feature.values.iter_mut().filter(|v| !v.is_finite()) {
        *value = 0.0;
        repairs.non_finite += 1;
    }
    feature
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatasetKind;
    use crate::data::Example;
    use crate::data::pickle::write::{F32Array, Node, write_pickle};

    fn array(shape: &[usize], values: Vec<f32>) -> Node {
        Node::Array(F32Array {
            shape: shape.to_vec(),
            values,
        })
    }

    fn write(path: &std::path::Path, root: &Node) {
        let mut bytes = Vec::new();
        write_pickle(&mut bytes, root).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn options(root: &std::path::Path, layout: Option<HcfLayout>) -> HcfOptions {
        HcfOptions {
            root: root.to_path_buf(),
            layout,
            audio_columns: None,
        }
    }

    fn dataset(kind: DatasetKind) -> DatasetConfig {
        DatasetConfig {
            kind,
            ..Default::default()
        }
    }

    fn corpus_of(ids: &[&str]) -> Corpus {
        Corpus {
            classes: vec!["x".into(), "y".into()],
            examples: ids
                .iter()
                .enumerate()
                .map(|(i, id)| Example {
                    id: id.to_string(),
                    ..Example::for_test(i, 0)
                })
                .collect(),
            rows_read: ids.len(),
            ..Default::default()
        }
    }

    /// An audio channel `[763, frames]` whose value at (row, frame) is `row + 1000·frame + base`.
    fn audio_channel(frames: usize, base: f32) -> Node {
        let rows = crate::config::dataset_options::hcf_layout::IEMOCAP_AUDIO_MIN_COLUMNS;
        let values = (0..rows)
            .flat_map(|r| (0..frames).map(move |f| r as f32 + 1000.0 * f as f32 + base))
            .collect();
        array(&[rows, frames], values)
    }

    /// IEMOCAP's layout: the speaker's side of audio and video, the seed's columns, the last 35
    /// video values, frames past `len / 2` and missing keys skipped; an utterance missing from
    /// one file, or from all, dropped with its reason.
    #[test]
    fn iemocap_files_give_the_speakers_side_and_the_seeds_columns() {
        let dir = tempfile::tempdir().unwrap();
        let left = "Ses01F_impro01_F000";
        let right = "Ses01F_impro01_M001";
        let partial = "Ses01F_impro01_M002";
        let key = |id: &str| id.as_bytes().to_vec();
        let words = |n: usize| array(&[n, 300], (0..n * 300).map(|i| i as f32).collect());
        let text = Node::Dict(vec![
            (key(left), words(2)),
            (key(right), Node::List(vec![])),
            (key(partial), words(1)),
        ]);
        let sides = |l: f32, r: f32| {
            Node::Dict(vec![
                (b"L".to_vec(), audio_channel(3, l)),
                (b"R".to_vec(), audio_channel(3, r)),
            ])
        };
        let audio = Node::Dict(vec![
            (key(left), sides(0.0, 0.5)),
            (key(right), sides(0.0, 0.5)),
            (key(partial), sides(0.0, 0.5)),
        ]);
        let frame = |v: f32| array(&[40], (0..40).map(|i| v + i as f32).collect());
        // Four entries: frames 0 and 1 of each side are read; image_L_1 is missing, so the left
        // side has one frame; image_R_5 lies past len / 2 and is not read.
        let video = |_: ()| {
            Node::Dict(vec![
                (b"image_L_0".to_vec(), frame(100.0)),
                (b"image_R_0".to_vec(), frame(200.0)),
                (b"image_R_1".to_vec(), frame(300.0)),
                (b"image_R_5".to_vec(), frame(400.0)),
            ])
        };
        let video_file = Node::Dict(vec![(key(left), video(())), (key(right), video(()))]);
        for (stream, node) in [("text", &text), ("audio", &audio), ("video", &video_file)] {
            write(
                &dir.path().join(format!("train_{stream}_features.pt")),
                node,
            );
            for phase in ["valid", "test"] {
                let path = dir.path().join(format!("{phase}_{stream}_features.pt"));
                write(&path, &Node::Dict(vec![]));
            }
        }
        let mut corpus = corpus_of(&[left, right, partial, "Ses02M_script01_F003"]);
        let (ds, options) = (dataset(DatasetKind::Iemocap), options(dir.path(), None));
        attach_hcf(&mut corpus, &ds, &options).unwrap();
        let ids: Vec<&str> = corpus.examples.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, [left, right]);
        let reasons: Vec<&str> = corpus.dropped.iter().map(|d| d.reason.as_str()).collect();
        assert!(reasons[0].contains("not in this file"), "{reasons:?}");
        assert!(
            corpus.dropped[0]
                .path_display()
                .ends_with("train_video_features.pt")
        );
        assert_eq!(reasons[1], NOT_IN_FILES);

        let text = &corpus.features[&Modality::Text];
        assert_eq!(text[0].shape, [2, 300]);
        assert_eq!(text[1], CachedFeature::new(vec![1, 300], vec![0.0; 300]));
        let audio = &corpus.features[&Modality::Audio];
        assert_eq!(audio[0].shape, [3, 144]);
        // Frame 1 of the left channel: columns 0..34, then 655.., then 100 and 101.
        let frame_1 = &audio[0].values[144..288];
        assert_eq!(frame_1[0], 1000.0);
        assert_eq!(frame_1[33], 1033.0);
        assert_eq!(frame_1[34], 1655.0);
        assert_eq!(frame_1[142..], [1100.0, 1101.0]);
        // The right speaker reads the R channel.
        assert_eq!(audio[1].values[0], 0.5);
        let visual = &corpus.features[&Modality::Visual];
        assert_eq!(visual[0].shape, [1, 35]);
        assert_eq!(visual[0].values[0], 105.0);
        assert_eq!(visual[1].shape, [2, 35]);
        assert_eq!(visual[1].values[35], 305.0);
    }

    #[test]
    fn mosei_files_give_every_stored_step_by_id() {
        let dir = tempfile::tempdir().unwrap();
        for (phase, ids) in [
            ("train", vec!["a_0", "b_1"]),
            ("valid", vec!["c_2"]),
            ("test", vec![]),
        ] {
            let n = ids.len();
            let root = Node::Dict(vec![
                (
                    b"id".to_vec(),
                    Node::List(
                        ids.iter()
                            .map(|id| Node::Bytes(id.as_bytes().to_vec()))
                            .collect(),
                    ),
                ),
                (b"text".to_vec(), array(&[n, 2, 300], vec![1.0; n * 600])),
                (
                    b"audio".to_vec(),
                    array(&[n, 3, 74], (0..n * 222).map(|i| i as f32).collect()),
                ),
                (
                    b"vision".to_vec(),
                    array(&[n, 3, 35], vec![f32::NEG_INFINITY; n * 105]),
                ),
            ]);
            write(
                &dir.path().join(format!("mosei_senti_hcf_{phase}.pkl")),
                &root,
            );
        }
        let mut corpus = corpus_of(&["b_1", "c_2"]);
        let (ds, options) = (dataset(DatasetKind::Mosei), options(dir.path(), None));
        attach_hcf(&mut corpus, &ds, &options).unwrap();
        assert!(corpus.dropped.is_empty());
        let audio = &corpus.features[&Modality::Audio];
        assert_eq!(audio[0].shape, [3, 74]);
        assert_eq!(audio[0].values[0], 222.0, "b_1 is the second row of train");
        assert_eq!(audio[1].values[0], 0.0, "c_2 is the first row of valid");
        // COVAREP's -inf (here in vision) becomes 0.
        assert!(
            corpus.features[&Modality::Visual][0]
                .values
                .iter()
                .all(|&v| v == 0.0)
        );

        std::fs::remove_file(dir.path().join("mosei_senti_hcf_test.pkl")).unwrap();
        let err = attach_hcf(&mut corpus_of(&["b_1"]), &ds, &options).unwrap_err();
        assert!(
            format!("{err:#}").contains("mosei_senti_hcf_test.pkl"),
            "{err:#}"
        );
    }

    #[test]
    fn a_wrong_width_names_the_file_and_the_utterance() {
        let dir = tempfile::tempdir().unwrap();
        let id = "Ses01F_impro01_F000";
        let text = Node::Dict(vec![(
            id.as_bytes().to_vec(),
            array(&[2, 50], vec![0.0; 100]),
        )]);
        let audio = Node::Dict(vec![(
            id.as_bytes().to_vec(),
            Node::Dict(vec![(b"L".to_vec(), audio_channel(1, 0.0))]),
        )]);
        let video = Node::Dict(vec![(id.as_bytes().to_vec(), Node::Dict(vec![]))]);
        for phase in ["train", "valid", "test"] {
            for (stream, node) in [("text", &text), ("audio", &audio), ("video", &video)] {
                write(
                    &dir.path().join(format!("{phase}_{stream}_features.pt")),
                    node,
                );
            }
        }
        let (ds, options) = (dataset(DatasetKind::Iemocap), options(dir.path(), None));
        let err = attach_hcf(&mut corpus_of(&[id]), &ds, &options).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains(id) && message.contains("50 values, expected 300"),
            "{message}"
        );
    }

    /// The synthetic corpus's files read back through the loader: every utterance kept, the
    /// widths of the seed, and the class visible on the speaker's side only.
    #[test]
    fn synthetic_files_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let ids = [
            "Sess01_script01_User001F_001",
            "Sess01_script01_User002M_001",
        ];
        let items: Vec<crate::data::synth_hcf::HcfItem> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| crate::data::synth_hcf::HcfItem {
                id: id.to_string(),
                class: i,
                seconds: 1.0,
            })
            .collect();
        crate::data::synth_hcf::write_hcf(dir.path(), &items, 7).unwrap();
        let mut corpus = corpus_of(&ids);
        let ds = dataset(DatasetKind::Kemdy20);
        let options = options(dir.path(), Some(HcfLayout::SeedIemocap));
        attach_hcf(&mut corpus, &ds, &options).unwrap();
        assert_eq!(corpus.examples.len(), 2);
        assert_eq!(corpus.features[&Modality::Audio][0].shape, [5, 144]);
        assert_eq!(corpus.features[&Modality::Visual][1].shape[1], 35);
        let mut again = corpus_of(&ids);
        crate::data::synth_hcf::write_hcf(dir.path(), &items, 7).unwrap();
        attach_hcf(&mut again, &ds, &options).unwrap();
        assert_eq!(
            again.features, corpus.features,
            "the files are a function of the seed"
        );
    }

    #[test]
    fn empty_streams_get_one_zero_step_and_non_finite_values_become_zero() {
        let mut repairs = HcfRepairs::default();
        let empty = repaired(CachedFeature::new(vec![0, 3], vec![]), 3, &mut repairs);
        assert_eq!(empty, CachedFeature::new(vec![1, 3], vec![0.0; 3]));
        let bad = CachedFeature::new(vec![1, 3], vec![f32::NEG_INFINITY, 1.0, f32::NAN]);
        let fixed = repaired(bad, 3, &mut repairs);
        assert_eq!(fixed.values, [0.0, 1.0, 0.0]);
        assert_eq!(
            repairs,
            HcfRepairs {
                empty_streams: 1,
                non_finite: 2
            }
        );
    }
}
