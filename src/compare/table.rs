//! The report as text: aligned tables for the terminal, `report.md` and `report.csv`.

use std::fmt::Write as _;

use super::analysis::{Comparison, Report, Row};
use super::stats::{BOOTSTRAP_RESAMPLES, Interval};

/// A figure written next to the report, for `report.md` to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What it shows (`learning curves`, ...).
    pub caption: String,
    /// The run it belongs to (`None` for the figures of all runs).
    pub run: Option<String>,
    /// Path relative to the report folder, with `/` separators.
    pub path: String,
}

/// A table of text cells; `right` marks the columns of numbers.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    fn aligned(&self) -> String {
        let width = |c: usize| {
            std::iter::once(&self.header[c])
                .chain(self.rows.iter().map(|r| &r[c]))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    let pad = " ".repeat(widths[c] - cell.chars().count());
                    if self.right[c] {
                        format!("{pad}{cell}")
                    } else {
                        format!("{cell}{pad}")
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        let mut out = String::new();
        for cells in [&self.header, &rule].into_iter().chain(&self.rows) {
            out.push_str(&line(cells));
            out.push('\n');
        }
        out
    }

    fn markdown(&self) -> String {
        let escape = |cell: &String| cell.replace('|', "\\|");
        let line = |cells: &[String]| {
            format!(
                "| {} |\n",
                cells.iter().map(escape).collect::<Vec<_>>().join(" | ")
            )
        };
        let rule: Vec<String> = self
            .right
            .iter()
            .map(|&r| if r { "---:" } else { "---" }.to_string())
            .collect();
        let mut out = line(&self.header);
        out.push_str(&line(&rule));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

const MISSING: &str = "–";

fn mean_std_text(value: Option<(f64, f64)>) -> String {
    value.map_or(MISSING.into(), |(m, s)| format!("{m:.4} ± {s:.4}"))
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds with two decimals below 10 s (a tiny run's 0.04 s is not "0.0 s"), one above.
fn seconds_text(wall: Option<f64>) -> String {
    match wall {
        None => MISSING.into(),
        Some(s) if s < 10.0 => format!("{s:.2} s"),
        Some(s) => format!("{s:.1} s"),
    }
}

/// `0.6812 [0.6342, 0.7290]`, with signs when `signed` (differences).
fn interval_text(interval: &Interval, signed: bool) -> String {
    let number = |v: f64| {
        if signed {
            format!("{v:+.4}")
        } else {
            format!("{v:.4}")
        }
    };
    match (interval.low, interval.high) {
        (Some(low), Some(high)) => format!(
            "{} [{}, {}]",
            number(interval.estimate),
            number(low),
            number(high)
        ),
        _ => format!(
            "{} [no interval: n = {}]",
            number(interval.estimate),
            interval.n
        ),
    }
}

fn comparison_text(comparison: &Comparison, metric: &str) -> String {
    match comparison {
        Comparison::Baseline => "baseline".into(),
        Comparison::Paired(interval) => {
            format!(
                "{} over {} folds",
                interval_text(interval, true),
                interval.n
            )
        }
        Comparison::FoldsDiffer => "folds differ: not compared".into(),
        Comparison::NoMetric => format!("no {metric}: not compared"),
    }
}

fn main_table(report: &Report) -> Table {
    let mut header: Vec<String> = vec!["run".into(), "method".into()];
    header.extend(report.headline.iter().cloned());
    header.extend([
        "folds".into(),
        "trainable params".into(),
        "train time".into(),
    ]);
    let rows = report
        .rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.name.clone(), row.method.clone()];
            cells.extend(row.metrics.iter().map(|&m| mean_std_text(m)));
            cells.push(row.folds.to_string());
            cells.push(row.trainable.map_or(MISSING.into(), thousands));
            cells.push(seconds_text(row.wall_s));
            cells
        })
        .collect();
    let mut right = vec![false, false];
    right.extend(std::iter::repeat_n(true, report.headline.len() + 3));
    Table {
        header,
        rows,
        right,
    }
}

fn statistics_table(report: &Report) -> Table {
    let metric = &report.metric;
    Table {
        header: vec![
            "run".into(),
            format!("{metric} pooled [95% bootstrap CI]"),
            format!("Δ {metric} vs baseline [95% t-interval]"),
        ],
        rows: report
            .rows
            .iter()
            .map(|row| {
                vec![
                    row.name.clone(),
                    row.pooled
                        .as_ref()
                        .map_or(MISSING.into(), |i| interval_text(i, false)),
                    comparison_text(&row.comparison, metric),
                ]
            })
            .collect(),
        right: vec![false, false, false],
    }
}

fn statistics_note(report: &Report) -> String {
    format!(
        "{metric} pooled: over the test utterances of all folds together, with a percentile \
         bootstrap 95% interval ({BOOTSTRAP_RESAMPLES} resamples of the utterances, fixed seed). \
         Δ: the run's {metric} minus the baseline's ({baseline}), fold by fold, as a mean with \
         a 95% Student t-interval over the folds; only runs tested on exactly the baseline's \
         folds (identical folds.parquet membership) are compared.",
        metric = report.metric,
        baseline = report.baseline
    )
}

fn skipped_lines(report: &Report) -> Vec<String> {
    report
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.path.display(), s.reason))
        .collect()
}

/// The tables as the terminal shows them.
pub fn terminal(report: &Report) -> String {
    let mut out = main_table(report).aligned();
    out.push('\n');
    out.push_str(&statistics_table(report).aligned());
    let _ = writeln!(out, "\n{}", statistics_note(report));
    for line in skipped_lines(report) {
        let _ = writeln!(out, "skipped {line}");
    }
    out
}

/// `report.md`: the tables, what the intervals mean, the skipped paths and the figures.
pub fn markdown(report: &Report, figures: &[Figure]) -> String {
    let mut md = String::from("# Report\n\n");
    let _ = writeln!(
        md,
        "{} runs; test metrics as mean ± std over folds. Train time: training seconds summed \
         over folds. Parameters: trainable, of fold 1's model.\n",
        report.rows.len()
    );
    md.push_str(&main_table(report).markdown());
    let _ = writeln!(md, "\n## Statistics: {}\n", report.metric);
    md.push_str(&statistics_table(report).markdown());
    let _ = writeln!(md, "\n{}", statistics_note(report));
    if !report.skipped.is_empty() {
        md.push_str("\n## Skipped\n\n");
        for line in skipped_lines(report) {
            let _ = writeln!(md, "- {line}");
        }
    }
    if !figures.is_empty() {
        md.push_str("\n## Figures\n");
        let mut current: Option<&Option<String>> = None;
        for figure in figures {
            if current != Some(&figure.run) {
                if let Some(run) = &figure.run {
                    let _ = writeln!(md, "\n### {run}");
                }
                current = Some(&figure.run);
            }
            let _ = writeln!(md, "\n![{}]({})", figure.caption, figure.path);
        }
    }
    md
}

/// `report.csv`: one row per run, one column per number (means and stds apart).
pub fn csv(report: &Report) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let metric = &report.metric;
    let mut header: Vec<String> = vec!["run".into(), "method".into(), "path".into()];
    for m in &report.headline {
        header.push(format!("{m}_mean"));
        header.push(format!("{m}_std"));
    }
    header.extend(
        [
            "folds",
            "trainable_params",
            "train_seconds",
            &format!("{metric}_pooled"),
            &format!("{metric}_pooled_low"),
            &format!("{metric}_pooled_high"),
            "comparison",
            &format!("{metric}_diff_mean"),
            &format!("{metric}_diff_low"),
            &format!("{metric}_diff_high"),
        ]
        .map(String::from),
    );
    writer.write_record(&header)?;
    for row in &report.rows {
        writer.write_record(csv_cells(row))?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

fn number(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

fn csv_cells(row: &Row) -> Vec<String> {
    let mut cells = vec![
        row.name.clone(),
        row.method.clone(),
        row.path.display().to_string(),
    ];
    for m in &row.metrics {
        cells.push(number(m.map(|(mean, _)| mean)));
        cells.push(number(m.map(|(_, std)| std)));
    }
    cells.push(row.folds.to_string());
    cells.push(row.trainable.map_or(String::new(), |n| n.to_string()));
    cells.push(number(row.wall_s));
    cells.push(number(row.pooled.map(|i| i.estimate)));
    cells.push(number(row.pooled.and_then(|i| i.low)));
    cells.push(number(row.pooled.and_then(|i| i.high)));
    let (kind, diff) = match &row.comparison {
        Comparison::Baseline => ("baseline", None),
        Comparison::Paired(interval) => ("paired", Some(interval)),
        Comparison::FoldsDiffer => ("folds differ", None),
        Comparison::NoMetric => ("no metric", None),
    };
    cells.push(kind.into());
    cells.push(number(diff.map(|i| i.estimate)));
    cells.push(number(diff.and_then(|i| i.low)));
    cells.push(number(diff.and_then(|i| i.high)));
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let row = |name: &str, comparison| Row {
            name: name.into(),
            path: format!("runs/{name}/id").into(),
            method: "late_fusion".into(),
            metrics: vec![Some((0.61234, 0.05)), None],
            folds: 5,
            trainable: Some(1_234_567),
            wall_s: Some(12.345),
            pooled: Some(Interval {
                estimate: 0.6,
                low: Some(0.55),
                high: Some(0.65),
                n: 385,
            }),
            comparison,
        };
        Report {
            metric: "weighted_f1".into(),
            headline: vec!["weighted_f1".into(), "ccc".into()],
            baseline: "a".into(),
            rows: vec![
                row("a", Comparison::Baseline),
                row(
                    "b,seed=1",
                    Comparison::Paired(Interval {
                        estimate: 0.01,
                        low: Some(-0.02),
                        high: Some(0.04),
                        n: 5,
                    }),
                ),
                row("c", Comparison::FoldsDiffer),
            ],
            skipped: vec![],
        }
    }

    #[test]
    fn the_terminal_table_is_aligned() {
        let text = terminal(&report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "run       method           weighted_f1  ccc  folds  trainable params  train time"
        );
        assert_eq!(
            lines[2],
            "a         late_fusion  0.6123 ± 0.0500    –      5         1,234,567      12.3 s"
        );
        // The statistics table: each column starts where its header does.
        let column = |line: &str, cell: &str| line[..line.find(cell).unwrap()].chars().count();
        let header = lines[lines.iter().rposition(|l| l.starts_with("run ")).unwrap()];
        let b = lines.iter().rfind(|l| l.starts_with("b,seed=1")).unwrap();
        let c = lines.iter().rfind(|l| l.starts_with("c ")).unwrap();
        assert_eq!(
            column(header, "Δ"),
            column(b, "+0.0100 [-0.0200, +0.0400] over 5 folds")
        );
        assert_eq!(column(header, "Δ"), column(c, "folds differ: not compared"));
        assert_eq!(
            column(header, "weighted_f1 pooled"),
            column(c, "0.6000 [0.5500, 0.6500]")
        );
    }

    #[test]
    fn markdown_and_csv_rows() {
        let figures = [Figure {
            caption: "learning curves".into(),
            run: Some("a".into()),
            path: "figures/curves-a.png".into(),
        }];
        let md = markdown(&report(), &figures);
        assert!(md.contains("| a | late_fusion | 0.6123 ± 0.0500 | – | 5 | 1,234,567 | 12.3 s |"));
        assert!(md.contains("| ---: |"));
        assert!(md.contains("### a\n\n![learning curves](figures/curves-a.png)"));
        let csv = csv(&report()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "run,method,path,weighted_f1_mean,weighted_f1_std,ccc_mean,ccc_std,folds,trainable_params,train_seconds,weighted_f1_pooled,weighted_f1_pooled_low,weighted_f1_pooled_high,comparison,weighted_f1_diff_mean,weighted_f1_diff_low,weighted_f1_diff_high"
        );
        assert_eq!(
            lines[2],
            "\"b,seed=1\",late_fusion,\"runs/b,seed=1/id\",0.61234,0.05,,,5,1234567,12.345,0.6,0.55,0.65,paired,0.01,-0.02,0.04"
        );
    }
}
