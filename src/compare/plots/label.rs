//! Text drawn glyph by glyph with ab_glyph, for every name and number the figures place
//! themselves (titles, class and run names, cell values, the legend).
//!
//! plotters 0.3.7's own ab_glyph text leaves out each glyph's left side bearing, so letters
//! sit unevenly ("an ger" for "anger") and names become hard to read at small sizes; here each
//! glyph is placed at its outline's real position. plotters still draws the axes' tick labels.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use anyhow::anyhow;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{Area, FONT_BYTES, plot_error};

fn font() -> anyhow::Result<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
        .ok_or_else(|| anyhow!("the bundled font does not load"))
}

/// How a text is drawn: size in pixels, colour, which point of its box the position names,
/// and whether it runs upwards (rotated a quarter turn to the left).
#[derive(Clone, Copy)]
pub struct Label {
    size: f32,
    color: RGBColor,
    h: HPos,
    v: VPos,
    upwards: bool,
}

impl Label {
    /// Black, the position at the text's top left.
    pub fn new(size: f32) -> Self {
        Self {
            size,
            color: BLACK,
            h: HPos::Left,
            v: VPos::Top,
            upwards: false,
        }
    }

    pub fn color(self, color: RGBColor) -> Self {
        Self { color, ..self }
    }

    /// The point of the text's box (before any rotation) that the position names.
    pub fn anchor(self, h: HPos, v: VPos) -> Self {
        Self { h, v, ..self }
    }

    /// Read from bottom to top.
    pub fn upwards(self) -> Self {
        Self {
            upwards: true,
            ..self
        }
    }

    /// Width in pixels of `text` (its length along the reading direction).
    pub fn width(&self, text: &str) -> u32 {
        font().map_or(0, |f| advance(f, self.size, text).ceil() as u32)
    }

    /// Draw `text` on `area` at pixel `at`.
    pub fn draw(&self, area: &Area, text: &str, at: (i32, i32)) -> anyhow::Result<()> {
        let font = font()?;
        let scaled = font.as_scaled(PxScale::from(self.size));
        let width = advance(font, self.size, text);
        let height = scaled.ascent() - scaled.descent();
        // The box's top left relative to the anchor, in the text's own frame.
        let left = match self.h {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let top = match self.v {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let mut caret = left;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                caret += scaled.kern(p, id);
            }
            previous = Some(id);
            let glyph = id.with_scale_and_position(
                PxScale::from(self.size),
                point(caret, top + scaled.ascent()),
            );
            caret += scaled.h_advance(id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue; // a space
            };
            let bounds = outline.px_bounds();
            let mut pixels = Vec::new();
            outline.draw(|x, y, coverage| {
                if coverage > 0.0 {
                    let local = (
                        bounds.min.x as i32 + x as i32,
                        bounds.min.y as i32 + y as i32,
                    );
                    pixels.push((self.place(at, local), coverage));
                }
            });
            for (pixel, coverage) in pixels {
                area.draw_pixel(pixel, &self.color.mix(coverage.min(1.0) as f64))
                    .map_err(plot_error)?;
            }
        }
        Ok(())
    }

    /// A pixel of the text's frame (x along the reading direction, y down the glyphs) on the
    /// figure.
    fn place(&self, (ax, ay): (i32, i32), (x, y): (i32, i32)) -> (i32, i32) {
        if self.upwards {
            (ax + y, ay - x)
        } else {
            (ax + x, ay + y)
        }
    }
}

/// Sum of advances and kerning of `text` at `size`.
fn advance(font: &FontRef<'static>, size: f32, text: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            width += scaled.kern(p, id);
        }
        previous = Some(id);
        width += scaled.h_advance(id);
    }
    width
}
