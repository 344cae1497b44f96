//! All runs' metric as horizontal bars (mean over folds) with error bars (std over folds). The
//! bars lie down so that long run names read horizontally beside them; a prefix that every
//! name shares (a grid's `<name>--`) is written once in the title instead.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::label::Label;
use super::{plot_error, render, series_color, text};

const LABEL_SIZE: f32 = 15.0;
const TITLE_HEIGHT: i32 = 44;
const ROW_HEIGHT: u32 = 40;

/// One run's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub name: String,
    pub method: String,
    pub mean: f64,
    pub std: f64,
}

/// The prefix up to and including the last `--` that every name shares (`""` if none, or
/// for a single run, whose whole name is short enough).
pub fn shared_prefix(names: &[&str]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    if names.len() < 2 {
        return String::new();
    }
    let mut common = first.len();
    for name in &names[1..] {
        common = common.min(
            first
                .char_indices()
                .zip(name.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8()),
        );
    }
    match first[..common].rfind("--") {
        Some(at) => first[..at + 2].to_string(),
        None => String::new(),
    }
}

/// `figures/bars-<metric>.png`.
pub fn draw_bars(metric: &str, bars: &[Bar], path: &Path) -> anyhow::Result<()> {
    let names: Vec<&str> = bars.iter().map(|b| b.name.as_str()).collect();
    let prefix = shared_prefix(&names);
    let labels: Vec<&str> = names.iter().map(|n| &n[prefix.len()..]).collect();
    let label_width = labels
        .iter()
        .map(|l| Label::new(LABEL_SIZE).width(l))
        .max()
        .unwrap_or(0)
        + 24;
    let size = (
        (label_width + 700).max(900),
        140 + ROW_HEIGHT * bars.len() as u32,
    );
    let low = bars.iter().map(|b| b.mean - b.std).fold(0.0, f64::min);
    let high = bars.iter().map(|b| b.mean + b.std).fold(0.0, f64::max);
    // Room right of the longest bar for its "mean ± std" text, and a margin left of a
    // negative error bar so that it does not sit on the axis.
    let span = (high - low).max(1e-6);
    let left_margin = if low < 0.0 { 0.05 * span } else { 0.0 };
    let x_range = low - left_margin..high + 0.3 * span;
    let n = bars.len();
    let mut methods: Vec<&str> = Vec::new();
    for bar in bars {
        if !methods.contains(&bar.method.as_str()) {
            methods.push(&bar.method);
        }
    }
    let title = if prefix.is_empty() {
        format!("Test {metric}: mean ± std over folds")
    } else {
        format!("Test {metric}: mean ± std over folds (runs {prefix}…)")
    };
    render(path, size, |root| {
        Label::new(20.0).anchor(HPos::Center, VPos::Top).draw(
            root,
            &title,
            (size.0 as i32 / 2, 14),
        )?;
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .margin_top(TITLE_HEIGHT + 8)
            .x_label_area_size(50)
            .y_label_area_size(label_width)
            .build_cartesian_2d(x_range, -0.5..n as f64 - 0.5)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(metric)
            .x_label_formatter(&|x| format!("{x:.2}"))
            .label_style(text(14.0))
            .axis_desc_style(text(16.0))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(plot_error)?;
        for (i, bar) in bars.iter().enumerate() {
            // The first run at the top.
            let y = (n - 1 - i) as f64;
            let method = methods.iter().position(|m| *m == bar.method).unwrap_or(0);
            let fill = series_color(method).mix(0.8).filled();
            chart
                .draw_series([Rectangle::new(
                    [(0.0, y - 0.32), (bar.mean, y + 0.32)],
                    fill,
                )])
                .map_err(plot_error)?;
            chart
                .draw_series([ErrorBar::new_horizontal(
                    y,
                    bar.mean - bar.std,
                    bar.mean,
                    bar.mean + bar.std,
                    BLACK.stroke_width(2),
                    12,
                )])
                .map_err(plot_error)?;
            // Right of the error bar, and of the axis for a negative bar, so it never
            // covers the bar.
            let text_at = (bar.mean + bar.std.max(0.0)).max(0.0);
            let (end_x, row_y) = chart.backend_coord(&(text_at, y));
            Label::new(14.0).anchor(HPos::Left, VPos::Center).draw(
                root,
                &format!("{:.4} ± {:.4}", bar.mean, bar.std),
                (end_x + 10, row_y),
            )?;
            let (axis_x, _) = chart.backend_coord(&(chart.x_range().start, y));
            Label::new(LABEL_SIZE)
                .anchor(HPos::Right, VPos::Center)
                .draw(root, labels[i], (axis_x - 10, row_y))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::shared_prefix;

    #[test]
    fn the_shared_prefix_ends_at_the_cell_separator() {
        assert_eq!(
            shared_prefix(&[
                "methods--fusion.method=early_fusion,seed=1",
                "methods--fusion.method=late_fusion,seed=1"
            ]),
            "methods--"
        );
        assert_eq!(shared_prefix(&["a--x", "b--x"]), "");
        assert_eq!(shared_prefix(&["methods--x"]), "");
    }
}
