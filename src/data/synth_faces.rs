//! The synthetic corpus's video frames (`[dataset.synthetic] faces = true`): 96 × 96 RGB PNG
//! frames at 30 fps, the smallest frame on which seed 001's left-shifted fallback crop fits.
//!
//! The "face" is a texture over the whole frame, so that every crop sees it: happy utterances
//! show warm horizontal stripes, angry ones red vertical stripes, every other class a plain grey
//! face. Pixel noise and a per-utterance brightness shift keep it from being a lookup. Together
//! with the corpus giving angry happy's prosody, the faces carry what neither text nor audio
//! does: only a three-modality model separates all seven classes.
//!
//! The frames draw from their own generator, seeded by the corpus seed and the utterance id, so
//! the rest of the corpus is the same draw for draw whether frames are written or not.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::error::DataError;
use super::synth::{CLASSES, utterance_seed};

/// Side of the written frames.
pub const FRAME_SIZE: u32 = 96;
/// Frames per second of the written video (what seed 001's frame step assumes).
pub const FPS: f32 = 30.0;

/// The look of one class's face.
#[derive(Clone, Copy)]
struct Look {
    base: [f32; 3],
    stripes: Stripes,
}

#[derive(Clone, Copy, PartialEq)]
enum Stripes {
    None,
    /// Horizontal, with this period in pixels.
    Rows(usize),
    /// Vertical, with this period in pixels.
    Columns(usize),
}

fn look(class: usize) -> Look {
    match CLASSES[class] {
        "happy" => Look {
            base: [200.0, 160.0, 110.0],
            stripes: Stripes::Rows(8),
        },
        "angry" => Look {
            base: [190.0, 70.0, 70.0],
            stripes: Stripes::Columns(4),
        },
        _ => Look {
            base: [150.0, 130.0, 120.0],
            stripes: Stripes::None,
        },
    }
}

/// Write the frames of one `seconds`-long utterance of `class` into `dir` as `image_<i>.png`.
pub fn write_frames(
    dir: &Path,
    id: &str,
    class: usize,
    seconds: f32,
    corpus_seed: u64,
) -> Result<(), DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let mut rng = ChaCha8Rng::seed_from_u64(utterance_seed(corpus_seed, id));
    let brightness: f32 = rng.random_range(-20.0..20.0);
    let count = (seconds * FPS).round().max(1.0) as usize;
    for i in 0..count {
        let pixels = frame_pixels(look(class), brightness, &mut rng);
        let path = dir.join(format!("image_{i}.png"));
        image::save_buffer(
            &path,
            &pixels,
            FRAME_SIZE,
            FRAME_SIZE,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| DataError::format(&path, format!("could not write a frame: {e}")))?;
    }
    Ok(())
}

fn frame_pixels(look: Look, brightness: f32, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let side = FRAME_SIZE as usize;
    let mut pixels = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        for x in 0..side {
            let dark = match look.stripes {
                Stripes::None => false,
                Stripes::Rows(period) => (y / (period / 2)) % 2 == 0,
                Stripes::Columns(period) => (x / (period / 2)) % 2 == 0,
            };
            let shade = if dark { -60.0 } else { 0.0 };
            for c in 0..3 {
                let noise: f32 = rng.random_range(-25.0..25.0);
                let value = look.base[c] + shade + brightness + noise;
                pixels.push(value.clamp(0.0, 255.0) as u8);
            }
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str) -> usize {
        CLASSES.iter().position(|&c| c == name).unwrap()
    }

    /// Mean of the red channel minus the mean of green, and how much rows vs columns vary: the
    /// statistics a face CNN can pick up.
    fn stripes_along_rows(pixels: &[u8]) -> (f32, f32) {
        let side = FRAME_SIZE as usize;
        let value = |y: usize, x: usize| f32::from(pixels[(y * side + x) * 3 + 1]);
        let row_means: Vec<f32> = (0..side)
            .map(|y| (0..side).map(|x| value(y, x)).sum::<f32>() / side as f32)
            .collect();
        let column_means: Vec<f32> = (0..side)
            .map(|x| (0..side).map(|y| value(y, x)).sum::<f32>() / side as f32)
            .collect();
        let spread = |v: &[f32]| {
            let mean = v.iter().sum::<f32>() / v.len() as f32;
            v.iter().map(|a| (a - mean).abs()).sum::<f32>() / v.len() as f32
        };
        (spread(&row_means), spread(&column_means))
    }

    #[test]
    fn happy_angry_and_the_rest_look_apart() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let happy = frame_pixels(look(class("happy")), 0.0, &mut rng);
        let angry = frame_pixels(look(class("angry")), 0.0, &mut rng);
        let sad = frame_pixels(look(class("sad")), 0.0, &mut rng);
        let (rows, columns) = stripes_along_rows(&happy);
        assert!(rows > 20.0 && columns < 5.0, "{rows} {columns}");
        let (rows, columns) = stripes_along_rows(&angry);
        assert!(columns > 20.0 && rows < 5.0, "{rows} {columns}");
        let (rows, columns) = stripes_along_rows(&sad);
        assert!(rows < 5.0 && columns < 5.0, "{rows} {columns}");
    }

    #[test]
    fn frames_are_a_function_of_the_seed_and_id() {
        let dir = tempfile::tempdir().unwrap();
        write_frames(&dir.path().join("a"), "u1", 1, 0.5, 7).unwrap();
        write_frames(&dir.path().join("b"), "u1", 1, 0.5, 7).unwrap();
        write_frames(&dir.path().join("c"), "u2", 1, 0.5, 7).unwrap();
        let read = |d: &str| std::fs::read(dir.path().join(d).join("image_3.png")).unwrap();
        assert_eq!(read("a"), read("b"));
        assert_ne!(read("a"), read("c"));
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 15);
    }
}
