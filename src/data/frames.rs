//! The visual stream of `[dataset.faces]`: each utterance's video frames found on disk, sampled
//! every `interval_ms`, decoded (the `image` crate: JPEG and PNG), cropped to a 48 × 48 face and
//! normalised (`faces.rs`), stored as the corpus's pre-extracted visual stream
//! (`Corpus::features`, one `[frames, 6912]` array per utterance).
//!
//! Where frames live, by corpus kind:
//! * `mosei`: seed 001's clip folder, `MOSEI_RAW_PROCESSED/<clip>/image_<i>.jpg`, beside
//!   `audio.wav`;
//! * `iemocap`: seed 001's processed folder, `<frames_root>/<dialog>/<utterance>/image_L_<i>.jpg`
//!   or `image_R_<i>.jpg`, the side of the speaker (`L` when the utterance's speaker letter is
//!   the session's, seed 001's `use_left`);
//! * `kemdy20`: a folder named as the clip without its extension, `wav/SessionNN/<id>/image_<i>.png`
//!   (what the synthetic corpus writes with `synthetic.faces`).
//!
//! Like the audio screen, this depends on the dataset alone: an utterance with no sampled frame
//! (seed 001 drops it from its batches) or a frame that does not decode is dropped for every
//! method, with its reason in data.json, so that all methods of a comparison share their folds.

use std::path::{Path, PathBuf};

use super::corpus::Corpus;
use super::faces::{FACE_SIZE, FACE_VALUES, FaceCrop, RgbFrame, fallback_face, sampled_frames};
use super::feature::CachedFeature;
use super::parallel::{map_in_order, progress};
use super::raw::{DropReason, STRICT_LISTED, strict_listing};
use crate::config::dataset_options::{FaceCropChoice, FacesOptions};
use crate::config::{DatasetConfig, DatasetKind, Modality};

/// The image files `<dir>/<prefix><i>.<jpg|jpeg|png>`, in the order of `i`.
pub fn numbered_images(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut frames: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            let name = path.file_name()?.to_str()?;
            let (stem, extension) = name.strip_prefix(prefix)?.rsplit_once('.')?;
            let image = ["jpg", "jpeg", "png"]
                .iter()
                .any(|e| extension.eq_ignore_ascii_case(e));
            Some((stem.parse().ok().filter(|_| image)?, path))
        })
        .collect();
    frames.sort();
    frames.into_iter().map(|(_, path)| path).collect()
}

/// The frames of utterance `id` whose clip is `wav_path`, in frame order.
pub fn utterance_frames(ds: &DatasetConfig, id: &str, wav_path: &Path) -> Vec<PathBuf> {
    match ds.kind {
        DatasetKind::Mosei => wav_path
            .parent()
            .map_or_else(Vec::new, |clip| numbered_images(clip, "image_")),
        DatasetKind::Iemocap => match (&ds.iemocap.frames_root, iemocap_place(id)) {
            (Some(root), Some((dialog, left))) => numbered_images(
                &root.join(dialog).join(id),
                if left { "image_L_" } else { "image_R_" },
            ),
            _ => Vec::new(),
        },
        _ => numbered_images(&wav_path.with_extension(""), "image_"),
    }
}

/// `Ses01F_impro01_F000` → (`Ses01F_impro01`, left): the dialog, and whether the speaker sits
/// on the left half of the video (the speaker's letter equals the session's, seed 001's
/// `use_left`).
fn iemocap_place(id: &str) -> Option<(&str, bool)> {
    let (dialog, _turn) = id.rsplit_once('_')?;
    Some((dialog, super::iemocap::seed_speaker_on_left(id)))
}

/// One normalised face `[3, 48, 48]` from the image at `path`.
pub fn load_face(path: &Path, crop: FaceCropChoice) -> Result<Vec<f32>, String> {
    let image = image::open(path).map_err(|e| format!("unreadable frame: {e}"))?;
    let rgb = image.to_rgb8();
    let frame = RgbFrame {
        height: rgb.height() as usize,
        width: rgb.width() as usize,
        pixels: rgb.into_raw(),
    };
    let crop = match crop {
        FaceCropChoice::SeedLeftShifted => FaceCrop::SeedLeftShifted,
        FaceCropChoice::Centre => FaceCrop::Centre,
        FaceCropChoice::Given if (frame.height, frame.width) == (FACE_SIZE, FACE_SIZE) => {
            FaceCrop::Centre
        }
        FaceCropChoice::Given => {
            return Err(format!(
                "a {}×{} frame under dataset.faces.crop = \"given\", which expects {FACE_SIZE}×{FACE_SIZE} face crops",
                frame.height, frame.width
            ));
        }
    };
    fallback_face(&frame, crop).map_err(|e| e.to_string())
}

/// The sampled faces of one utterance `[frames, 6912]`, or why it cannot be used (the path of
/// the frame that failed, or that none was found).
fn utterance_faces(
    frames: &[PathBuf],
    options: &FacesOptions,
) -> Result<CachedFeature, DropReason> {
    let picked = sampled_frames(frames.len(), options.interval_ms);
    if picked.is_empty() {
        return Err(DropReason {
            path: None,
            reason: NO_FRAME.into(),
        });
    }
    let mut values = Vec::with_capacity(picked.len() * FACE_VALUES);
    for &i in &picked {
        let face = load_face(&frames[i], options.crop).map_err(|reason| DropReason {
            path: Some(frames[i].clone()),
            reason,
        })?;
        values.extend(face);
    }
    Ok(CachedFeature::new(vec![picked.len(), FACE_VALUES], values))
}

/// The reason recorded for an utterance none of whose frames is sampled.
const NO_FRAME: &str = "no video frame";

/// Decode every utterance's sampled faces into `corpus.features` (visual), dropping (with the
/// reason) the utterances that have none or whose frame does not decode; with `strict`, any such
/// utterance is an error naming each one.
pub fn attach_faces(
    corpus: &mut Corpus,
    ds: &DatasetConfig,
    options: &FacesOptions,
    quiet: bool,
) -> anyhow::Result<()> {
    let bar = progress(corpus.examples.len(), "reading faces", quiet);
    let outcomes = map_in_order(&corpus.examples, &bar, |e| {
        utterance_faces(&utterance_frames(ds, &e.id, &e.wav_path), options)
    });
    let (faces, failures) = corpus.keep_usable(outcomes);
    if ds.strict && !failures.is_empty() {
        anyhow::bail!(
            "dataset.strict is set and {} utterances have no usable face frame:\n{}",
            failures.len(),
            strict_listing(&failures, STRICT_LISTED)
        );
    }
    let no_frames = failures.iter().filter(|d| d.reason == NO_FRAME).count();
    if no_frames > 0 {
        tracing::warn!(
            utterances = no_frames,
            "utterances without a sampled video frame dropped (see data.json)"
        );
    }
    for failure in failures.iter().filter(|d| d.reason != NO_FRAME) {
        tracing::warn!(id = %failure.id, path = ?failure.path, reason = %failure.reason, "frame unreadable; utterance dropped");
    }
    anyhow::ensure!(
        !corpus.examples.is_empty(),
        "[dataset.faces]: no utterance of {} has a usable video frame ({} dropped; the first: {} {})",
        ds.root.display(),
        failures.len(),
        failures.first().map_or("-".into(), |d| d.path_display()),
        failures.first().map_or("", |d| d.reason.as_str()),
    );
    corpus.dropped.extend(failures);
    corpus.features.insert(Modality::Visual, faces);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Example;

    fn write_png(path: &Path, height: u32, width: u32, value: u8) {
        let pixels = vec![value; (height * width * 3) as usize];
        image::save_buffer(path, &pixels, width, height, image::ExtendedColorType::Rgb8).unwrap();
    }

    #[test]
    fn images_are_listed_in_number_order_whatever_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "image_10.jpg",
            "image_2.png",
            "image_1.JPEG",
            "image_x.png",
            "other_3.png",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        std::fs::write(dir.path().join("image_4.txt"), b"").unwrap();
        let names: Vec<String> = numbered_images(dir.path(), "image_")
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["image_1.JPEG", "image_2.png", "image_10.jpg"]);
        assert!(numbered_images(&dir.path().join("absent"), "image_").is_empty());
    }

    #[test]
    fn iemocap_frames_follow_the_speaker_side() {
        assert_eq!(
            iemocap_place("Ses01F_impro01_F000"),
            Some(("Ses01F_impro01", true))
        );
        assert_eq!(
            iemocap_place("Ses01F_script01_1b_M003"),
            Some(("Ses01F_script01_1b", false))
        );
        let dir = tempfile::tempdir().unwrap();
        let folder = dir
            .path()
            .join("Ses02M_impro03")
            .join("Ses02M_impro03_M001");
        std::fs::create_dir_all(&folder).unwrap();
        for name in ["image_L_0.jpg", "image_R_0.jpg", "image_R_1.jpg"] {
            std::fs::write(folder.join(name), b"").unwrap();
        }
        let ds = DatasetConfig {
            kind: DatasetKind::Iemocap,
            iemocap: crate::config::dataset_options::IemocapOptions {
                frames_root: Some(dir.path().to_path_buf()),
                ..Default::default()
            },
            ..Default::default()
        };
        let frames = utterance_frames(&ds, "Ses02M_impro03_M001", Path::new("x.wav"));
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert!(frames[0].ends_with("image_L_0.jpg"));
    }

    #[test]
    fn given_crops_must_be_48_square() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.png");
        write_png(&small, 48, 48, 159);
        let face = load_face(&small, FaceCropChoice::Given).unwrap();
        assert_eq!(face.len(), FACE_VALUES);
        assert_eq!(face[0], 0.0, "159 is the red channel's mean");
        let large = dir.path().join("large.png");
        write_png(&large, 96, 96, 0);
        let err = load_face(&large, FaceCropChoice::Given).unwrap_err();
        assert!(err.contains("96×96") && err.contains("given"), "{err}");
        assert!(load_face(&large, FaceCropChoice::SeedLeftShifted).is_ok());
    }

    /// Utterances without frames or with a corrupt one are dropped with their reason, the
    /// others keep their faces in order; `strict` names the files instead.
    #[test]
    fn utterances_without_usable_frames_are_dropped_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let clip = |id: &str| dir.path().join(format!("{id}.wav"));
        let frames_of = |id: &str| {
            let folder = dir.path().join(id);
            std::fs::create_dir_all(&folder).unwrap();
            folder
        };
        // "a": 16 frames, of which 0 and 15 are sampled at 500 ms.
        let a = frames_of("a");
        for i in 0..16 {
            write_png(&a.join(format!("image_{i}.png")), 96, 96, i as u8);
        }
        // "b": no frame. "c": a corrupt sampled frame.
        let c = frames_of("c");
        std::fs::write(c.join("image_0.png"), b"not a png").unwrap();
        let examples = ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(i, id)| Example {
                id: id.to_string(),
                wav_path: clip(id),
                ..Example::for_test(i, 0)
            })
            .collect();
        let mut corpus = Corpus {
            classes: vec!["x".into(), "y".into()],
            examples,
            rows_read: 3,
            ..Default::default()
        };
        let ds = DatasetConfig {
            root: dir.path().to_path_buf(),
            ..Default::default()
        };
        let mut strict = corpus.clone();
        attach_faces(&mut corpus, &ds, &FacesOptions::default(), true).unwrap();
        assert_eq!(corpus.examples.len(), 1);
        let faces = &corpus.features[&Modality::Visual];
        assert_eq!(faces[0].shape, [2, FACE_VALUES]);
        // Frame 15's value 15, normalised on the red channel.
        assert_eq!(faces[0].values[FACE_VALUES], (15.0 - 159.0) / 37.0);
        let reasons: Vec<&str> = corpus.dropped.iter().map(|d| d.reason.as_str()).collect();
        assert_eq!(reasons[0], "no video frame");
        assert!(reasons[1].starts_with("unreadable frame"), "{reasons:?}");
        assert!(
            corpus.dropped[1]
                .path
                .as_ref()
                .unwrap()
                .ends_with("image_0.png")
        );
        let strict_ds = DatasetConfig { strict: true, ..ds };
        let err = attach_faces(&mut strict, &strict_ds, &FacesOptions::default(), true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2 utterances") && err.contains("image_0.png"),
            "{err}"
        );
    }
}
