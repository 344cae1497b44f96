//! The report's PNG figures, one file per kind: learning curves and confusion matrices per run,
//! and a bar chart of all runs.
//!
//! plotters draws into an RGB buffer with DejaVu Sans, bundled in the binary
//! (assets/fonts/, its licence beside it), so figures look the same on every machine and
//! need no system fonts; `png.rs` encodes the buffer. Nothing depends on time or the machine, so
//! the same runs give byte-identical files.

mod bars;
mod confusion;
mod curves;
mod label;
mod png;

use std::path::Path;
use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

pub use bars::{Bar, draw_bars};
pub use confusion::draw_confusion;
pub use curves::draw_curves;

/// The font every text of a figure uses.
pub const FONT: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Register the bundled font under [`FONT`] (once per process).
fn register_bundled_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bytes are a valid TrueType file checked in with the code; a failure here is a
        // broken build, and the figures would come out without text.
        if register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            tracing::error!("the bundled font does not load; figures will lack text");
        }
    });
}

pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draw a `width` x `height` figure with `draw` on a white background and write it to `path`
/// as an 8-bit RGB PNG.
pub fn render(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    register_bundled_font();
    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&area).map_err(|e| anyhow!("drawing {}: {e:#}", path.display()))?;
        area.present()
            .map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    }
    let png = png::encode_rgb(&pixels, width, height)?;
    crate::atomic::write_atomic(path, &png)
}

/// A plotters error as an anyhow one (plotters' errors borrow the backend's error type).
pub fn plot_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plotting failed: {e:?}")
}

/// Text of `size` pixels in the bundled font, for what plotters draws itself (tick labels,
/// axis names).
pub fn text(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// One colour per fold or run, distinct for the first ten (the Tableau palette).
pub fn series_color(index: usize) -> RGBColor {
    const TABLEAU: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = TABLEAU[index % TABLEAU.len()];
    RGBColor(r, g, b)
}

/// A file name made of `name`: letters, digits and `._=,+-` kept, anything else `_`.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=,+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_stems_keep_cell_names_readable() {
        assert_eq!(
            super::file_stem("methods--fusion.method=early_fusion,seed=1 @2024"),
            "methods--fusion.method=early_fusion,seed=1__2024"
        );
        assert_eq!(super::file_stem("ccc/valence"), "ccc_valence");
    }
}
