//! The confusion matrix of one run over all folds' test predictions, twice side by side:
//! counts, and each true class's row normalised to shares. Drawn cell by cell in pixels so
//! that every cell holds its number and both axes name every class.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::label::Label;
use super::{Area, plot_error, render};

const LABEL_SIZE: f32 = 15.0;
const NUMBER_SIZE: f32 = 15.0;
const TITLE_HEIGHT: u32 = 50;
const PANEL_TOP: u32 = 60;
const GAP: u32 = 40;

/// Pixel geometry shared by both panels.
struct Layout {
    /// Side of one cell.
    cell: u32,
    /// Room left of the grid for the true classes' names.
    left: u32,
    /// Room under the grid for the predicted classes' names and the axis title.
    bottom: u32,
    n: u32,
    /// Predicted classes' names written vertically (they are wider than a cell).
    vertical_x_labels: bool,
}

impl Layout {
    fn new(classes: &[String], counts: &[Vec<u64>]) -> Self {
        let widest_label = classes
            .iter()
            .map(|c| Label::new(LABEL_SIZE).width(c))
            .max()
            .unwrap_or(0);
        let largest = counts.iter().flatten().max().copied().unwrap_or(0);
        let number = Label::new(NUMBER_SIZE);
        let widest_number = number.width(&largest.to_string()).max(number.width("0.00"));
        let cell = (widest_number + 20).max(64);
        let vertical_x_labels = widest_label + 8 > cell;
        let x_labels = if vertical_x_labels { widest_label } else { 20 };
        Self {
            cell,
            left: widest_label + 24,
            bottom: x_labels + 60,
            n: classes.len() as u32,
            vertical_x_labels,
        }
    }

    fn panel_width(&self) -> u32 {
        self.left + self.n * self.cell + GAP
    }

    fn size(&self) -> (u32, u32) {
        (
            2 * self.panel_width() + GAP,
            TITLE_HEIGHT + PANEL_TOP + self.n * self.cell + self.bottom,
        )
    }
}

/// `figures/confusion-<run>.png`: `counts[true][predicted]` over `classes`.
pub fn draw_confusion(
    name: &str,
    classes: &[String],
    counts: &[Vec<u64>],
    path: &Path,
) -> anyhow::Result<()> {
    let layout = Layout::new(classes, counts);
    let largest = counts.iter().flatten().max().copied().unwrap_or(0).max(1) as f64;
    let counted = |t: usize, p: usize| {
        let c = counts[t][p];
        (c.to_string(), c as f64 / largest)
    };
    let shared = |t: usize, p: usize| {
        let row: u64 = counts[t].iter().sum();
        if row == 0 {
            return ("–".to_string(), 0.0);
        }
        let share = counts[t][p] as f64 / row as f64;
        (format!("{share:.2}"), share)
    };
    render(path, layout.size(), |root| {
        let title = format!("Confusion matrix, test predictions of all folds: {name}");
        Label::new(22.0).anchor(HPos::Center, VPos::Top).draw(
            root,
            &title,
            (layout.size().0 as i32 / 2, 14),
        )?;
        let x0 = GAP as i32 / 2;
        panel(root, &layout, classes, x0, "counts", &counted)?;
        let x1 = x0 + layout.panel_width() as i32;
        panel(
            root,
            &layout,
            classes,
            x1,
            "row-normalised (share of each true class)",
            &shared,
        )
    })
}

/// White to dark blue, for a value in 0..=1.
fn shade(value: f64) -> RGBColor {
    let v = value.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * v).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

fn panel(
    root: &Area,
    layout: &Layout,
    classes: &[String],
    x0: i32,
    title: &str,
    cell_value: &dyn Fn(usize, usize) -> (String, f64),
) -> anyhow::Result<()> {
    let cell = layout.cell as i32;
    let (grid_x, grid_y) = (x0 + layout.left as i32, (TITLE_HEIGHT + PANEL_TOP) as i32);
    let grid = cell * layout.n as i32;
    let centered = |size: f32| Label::new(size).anchor(HPos::Center, VPos::Center);
    centered(17.0).draw(root, title, (grid_x + grid / 2, grid_y - 28))?;
    for (t, true_class) in classes.iter().enumerate() {
        for p in 0..classes.len() {
            let (label, value) = cell_value(t, p);
            let (x, y) = (grid_x + p as i32 * cell, grid_y + t as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                shade(value).filled(),
            ))
            .map_err(plot_error)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                WHITE.stroke_width(1),
            ))
            .map_err(plot_error)?;
            let ink = if value > 0.5 { WHITE } else { BLACK };
            centered(NUMBER_SIZE)
                .color(ink)
                .draw(root, &label, (x + cell / 2, y + cell / 2))?;
        }
        Label::new(LABEL_SIZE)
            .anchor(HPos::Right, VPos::Center)
            .draw(
                root,
                true_class,
                (grid_x - 10, grid_y + t as i32 * cell + cell / 2),
            )?;
    }
    for (p, predicted) in classes.iter().enumerate() {
        let x = grid_x + p as i32 * cell + cell / 2;
        let label = if layout.vertical_x_labels {
            // Upwards, ending under its column.
            Label::new(LABEL_SIZE)
                .upwards()
                .anchor(HPos::Right, VPos::Center)
        } else {
            Label::new(LABEL_SIZE).anchor(HPos::Center, VPos::Top)
        };
        label.draw(root, predicted, (x, grid_y + grid + 10))?;
    }
    let below_labels = grid_y + grid + layout.bottom as i32 - 22;
    centered(16.0).draw(root, "predicted", (grid_x + grid / 2, below_labels))?;
    Label::new(16.0)
        .anchor(HPos::Right, VPos::Bottom)
        .draw(root, "true", (grid_x - 10, grid_y - 8))
}
