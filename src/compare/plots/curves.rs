//! Learning curves of one run: train and valid loss, and the report's metric, per epoch; one
//! colour per fold, valid solid and train dashed.

use std::collections::BTreeSet;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::label::Label;
use super::{Area, plot_error, render, series_color, text};
use crate::compare::load::Run;

const SIZE: (u32, u32) = (1500, 560);
/// Width of the legend column right of both panels: outside the plots, it hides no curve.
const LEGEND_WIDTH: u32 = 190;

/// `figures/curves-<run>.png` for `run`, titled with `name`, the right panel showing `metric`.
pub fn draw_curves(run: &Run, name: &str, metric: &str, path: &Path) -> anyhow::Result<()> {
    let folds: Vec<u32> = run
        .epochs
        .iter()
        .map(|r| r.fold)
        .collect::<BTreeSet<u32>>()
        .into_iter()
        .collect();
    render(path, SIZE, |root| {
        Label::new(22.0).anchor(HPos::Center, VPos::Top).draw(
            root,
            &format!("Learning curves: {name}"),
            (SIZE.0 as i32 / 2, 12),
        )?;
        let (_, body) = root.split_vertically(48);
        let (plots, key) = body.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        let (left, right) = plots.split_horizontally((SIZE.0 - LEGEND_WIDTH) / 2);
        panel(&left, run, &folds, "loss")?;
        panel(&right, run, &folds, metric)?;
        legend(&key, run, &folds)
    })
}

/// The fold colours and the two line styles, top of the legend column.
fn legend(area: &Area, run: &Run, folds: &[u32]) -> anyhow::Result<()> {
    let row = |i: usize| 70 + 26 * i as i32;
    let entry = |i: usize, label: String, style: ShapeStyle, dashed: bool| {
        let y = row(i);
        let segments: Vec<(i32, i32)> = if dashed {
            vec![(10, 18), (24, 32)]
        } else {
            vec![(10, 32)]
        };
        for (from, to) in segments {
            area.draw(&PathElement::new(vec![(from, y), (to, y)], style))
                .map_err(plot_error)?;
        }
        Label::new(15.0)
            .anchor(HPos::Left, VPos::Center)
            .draw(area, &label, (42, y))
    };
    for (i, &fold) in folds.iter().enumerate() {
        entry(
            i,
            fold_label(run, fold),
            series_color(i).stroke_width(3),
            false,
        )?;
    }
    let gray = BLACK.mix(0.6).stroke_width(3);
    entry(folds.len() + 1, "valid".into(), gray, false)?;
    entry(folds.len() + 2, "train".into(), gray, true)
}

/// (epoch, value) points in epoch order.
type Line = Vec<(f64, f64)>;

/// One line of one fold and split.
fn line(run: &Run, fold: u32, split: &str, metric: &str) -> Line {
    let mut points: Vec<(f64, f64)> = run
        .epochs
        .iter()
        .filter(|r| r.fold == fold && r.split == split && r.metric == metric)
        .filter(|r| r.value.is_finite())
        .map(|r| (r.epoch as f64, r.value))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn fold_label(run: &Run, fold: u32) -> String {
    let name = run
        .summary
        .fold_names
        .get(fold as usize)
        .cloned()
        .unwrap_or_else(|| (fold + 1).to_string());
    format!("fold {name}")
}

/// A range around `values` with a 5% margin, never empty.
fn padded_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !low.is_finite() {
        return 0.0..1.0;
    }
    let margin = ((high - low) * 0.05).max(1e-3);
    (low - margin)..(high + margin)
}

fn panel(area: &Area, run: &Run, folds: &[u32], metric: &str) -> anyhow::Result<()> {
    let lines: Vec<(Line, Line)> = folds
        .iter()
        .map(|&f| (line(run, f, "train", metric), line(run, f, "valid", metric)))
        .collect();
    let all = lines
        .iter()
        .flat_map(|(train, valid)| train.iter().chain(valid));
    let y_range = padded_range(all.clone().map(|p| p.1));
    let last_epoch = all.map(|p| p.0).fold(1.0, f64::max);
    let (width, _) = area.dim_in_pixel();
    Label::new(18.0).anchor(HPos::Center, VPos::Top).draw(
        area,
        &format!("{metric} per epoch"),
        (width as i32 / 2, 0),
    )?;
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .margin_top(36)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0.5..last_epoch + 0.5, y_range)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(metric)
        .x_labels((last_epoch as usize).clamp(2, 12))
        .x_label_formatter(&|x| {
            // Epochs are whole numbers; the ticks between them stay unlabelled.
            if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.3}"))
        .label_style(text(14.0))
        .axis_desc_style(text(16.0))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    for (i, (train, valid)) in lines.iter().enumerate() {
        let color = series_color(i);
        let style = color.stroke_width(2);
        chart
            .draw_series(LineSeries::new(valid.iter().copied(), style))
            .map_err(plot_error)?;
        chart
            .draw_series(DashedLineSeries::new(train.iter().copied(), 6, 4, style))
            .map_err(plot_error)?;
        // Dots show every epoch, and a one-epoch run that has no line at all.
        let dots = train
            .iter()
            .chain(valid)
            .map(|&p| Circle::new(p, 3, color.filled()));
        chart.draw_series(dots).map_err(plot_error)?;
    }
    Ok(())
}
