//! Seed 001's faces (docs/methods/seed-001-mme2e.md): which frames of an utterance are used, the
//! fallback face crop, and the per-channel normalisation before the face CNN.
//!
//! * Frames: every `int(img_interval / 1000 · 30)`-th frame from the first (the seed assumes
//!   30 fps): 0, 15, 30, … at the default 500 ms.
//! * Crop: where no detector finds a face the seed takes a 48 × 48 window with `off = (H -
//!   48) // 2` as `img[off:off+48, off-24:off+24]`: centred vertically but 24 px left of centre
//!   (rows 88–135 and columns 64–111 of a 224 × 224 frame). [`FaceCrop::SeedLeftShifted`]
//!   reproduces it; [`FaceCrop::Centre`] is the true centre crop.
//! * Normalisation: `(pixel - mean) / std` per RGB channel on the 0–255 scale, mean (159, 111,
//!   102), std (37, 33, 32), channel-first for the CNN.

pub use crate::config::dataset_options::{FACE_SIZE, FACE_VALUES};
const MEAN: [f32; 3] = [159.0, 111.0, 102.0];
const STD: [f32; 3] = [37.0, 33.0, 32.0];

/// The fallback crop when no face is detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceCrop {
    /// The seed's window, 24 px left of centre (its `crop_img_center`).
    SeedLeftShifted,
    /// A true centre crop.
    Centre,
}

/// An RGB frame, row-major `[height, width, 3]`, 0–255.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbFrame {
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
}

/// A frame too small for the crop.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "a {height}×{width} frame is too small for the {crop:?} 48×48 face crop (expected at least {min_height}×{min_width})"
)]
pub struct FrameTooSmall {
    pub height: usize,
    pub width: usize,
    pub min_height: usize,
    pub min_width: usize,
    pub crop: FaceCrop,
}

/// The seed's frame step at `img_interval_ms` (at least 1: the seed's `range` would refuse 0).
pub fn frame_step(img_interval_ms: u32) -> usize {
    ((img_interval_ms as f64 / 1000.0 * 30.0) as usize).max(1)
}

/// The indices of the frames used out of `frames`.
pub fn sampled_frames(frames: usize, img_interval_ms: u32) -> Vec<usize> {
    (0..frames).step_by(frame_step(img_interval_ms)).collect()
}

/// The 48 × 48 window's top-left corner (row, column) in a `height × width` frame.
fn crop_origin(
    height: usize,
    width: usize,
    crop: FaceCrop,
) -> Result<(usize, usize), FrameTooSmall> {
    let too_small = |min_height, min_width| FrameTooSmall {
        height,
        width,
        min_height,
        min_width,
        crop,
    };
    match crop {
        FaceCrop::SeedLeftShifted => {
            // The seed's offset comes from the height and serves both axes; its column window
            // starts 24 px before it, which must stay inside the frame (numpy would wrap a
            // negative start), and must end inside it.
            let off = height
                .checked_sub(FACE_SIZE)
                .ok_or(too_small(FACE_SIZE, 0))?
                / 2;
            let left = off
                .checked_sub(FACE_SIZE / 2)
                .ok_or(too_small(2 * FACE_SIZE, 0))?;
            if left + FACE_SIZE > width {
                return Err(too_small(height, left + FACE_SIZE));
            }
            Ok((off, left))
        }
        FaceCrop::Centre => {
            if height < FACE_SIZE || width < FACE_SIZE {
                return Err(too_small(FACE_SIZE, FACE_SIZE));
            }
            Ok(((height - FACE_SIZE) / 2, (width - FACE_SIZE) / 2))
        }
    }
}

/// The fallback face of `frame`, normalised, channel-first `[3, 48, 48]`.
pub fn fallback_face(frame: &RgbFrame, crop: FaceCrop) -> Result<Vec<f32>, FrameTooSmall> {
    let (top, left) = crop_origin(frame.height, frame.width, crop)?;
    let mut out = vec![0f32; 3 * FACE_SIZE * FACE_SIZE];
    for y in 0..FACE_SIZE {
        for x in 0..FACE_SIZE {
            let at = ((top + y) * frame.width + left + x) * 3;
            for c in 0..3 {
                out[(c * FACE_SIZE + y) * FACE_SIZE + x] =
                    (f32::from(frame.pixels[at + c]) - MEAN[c]) / STD[c];
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame whose pixel (y, x) holds (y, x, 7) in its three channels.
    fn coordinates(height: usize, width: usize) -> RgbFrame {
        let pixels = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| [y as u8, x as u8, 7]))
            .collect();
        RgbFrame {
            height,
            width,
            pixels,
        }
    }

    #[test]
    fn frames_every_15th_at_500_ms() {
        assert_eq!(frame_step(500), 15);
        assert_eq!(sampled_frames(46, 500), [0, 15, 30, 45]);
        assert_eq!(sampled_frames(0, 500), Vec::<usize>::new());
        assert_eq!(frame_step(10), 1);
    }

    #[test]
    fn the_seed_window_is_24_px_left_of_centre() {
        assert_eq!(
            crop_origin(224, 224, FaceCrop::SeedLeftShifted),
            Ok((88, 64))
        );
        assert_eq!(crop_origin(224, 224, FaceCrop::Centre), Ok((88, 88)));
        assert_eq!(
            crop_origin(360, 360, FaceCrop::SeedLeftShifted),
            Ok((156, 132))
        );
        assert!(crop_origin(60, 224, FaceCrop::SeedLeftShifted).is_err());
        assert!(crop_origin(47, 224, FaceCrop::Centre).is_err());
    }

    #[test]
    fn the_face_is_normalised_channel_first_from_the_window() {
        let face = fallback_face(&coordinates(224, 224), FaceCrop::SeedLeftShifted).unwrap();
        let at = |c: usize, y: usize, x: usize| face[(c * FACE_SIZE + y) * FACE_SIZE + x];
        // The window's pixel (0, 0) is the frame's (88, 64); (47, 47) is (135, 111).
        assert_eq!(at(0, 0, 0), (88.0 - 159.0) / 37.0);
        assert_eq!(at(1, 0, 0), (64.0 - 111.0) / 33.0);
        assert_eq!(at(0, 47, 47), (135.0 - 159.0) / 37.0);
        assert_eq!(at(1, 47, 47), (111.0 - 111.0) / 33.0);
        assert_eq!(at(2, 5, 9), (7.0 - 102.0) / 32.0);
    }
}
