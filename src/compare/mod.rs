//! `emo-run report`: finished runs side by side (docs/GRIDS.md, "Report").
//!
//! `inputs` turns the command line's paths into run folders, `load` reads each one, `analysis`
//! computes the rows and statistics (`stats`, with `score` recomputing a metric over resampled
//! test predictions), `table` renders the terminal table, `report.md` and `report.csv`, and
//! `plots` draws the figures.

pub mod analysis;
pub mod inputs;
pub mod load;
pub mod plots;
pub mod score;
pub mod stats;
pub mod table;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use analysis::{Choices, Report};
use load::Run;
use table::Figure;

/// `emo-run report`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Run folders, experiment (cell) folders (their newest finished run), folders of
    /// experiment folders, or patterns such as 'runs/methods--*'.
    #[arg(required = true, value_name = "RUN_DIR|GLOB")]
    pub inputs: Vec<PathBuf>,
    /// Where report.md, report.csv and figures/ go.
    #[arg(long, default_value = "report", value_name = "DIR")]
    pub out: PathBuf,
    /// The run the others are compared with, fold by fold: its name or folder (default: the
    /// first run).
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<String>,
    /// The test metric of the statistics and the bar chart (default: the baseline's first
    /// headline metric, e.g. weighted_f1).
    #[arg(long, value_name = "M")]
    pub metric: Option<String>,
}

/// Read the runs, write `report.md`, `report.csv` and the figures into `--out`, and print the
/// table.
pub fn report(args: &ReportArgs) -> anyhow::Result<()> {
    let (folders, skipped) = inputs::find_runs(&args.inputs);
    if folders.is_empty() {
        let reasons: Vec<String> = skipped
            .iter()
            .map(|s| format!("  {}: {}", s.path.display(), s.reason))
            .collect();
        anyhow::bail!("no finished run to report on:\n{}", reasons.join("\n"));
    }
    let mut runs: Vec<Run> = Vec::new();
    for folder in &folders {
        runs.extend(load::load_runs(folder)?);
    }
    let choices = Choices {
        baseline: args.baseline.clone(),
        metric: args.metric.clone(),
    };
    let report = analysis::analyse(&runs, skipped, &choices)?;
    let figures = draw_figures(&runs, &report, &args.out)?;
    write(
        &args.out.join("report.md"),
        &table::markdown(&report, &figures),
    )?;
    write(&args.out.join("report.csv"), &table::csv(&report)?)?;
    print!("{}", table::terminal(&report));
    println!(
        "wrote report.md, report.csv and {} figures to {}",
        figures.len(),
        args.out.display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::atomic::write_atomic(path, text.as_bytes())
}

/// Every figure, into `out/figures/`: the bar chart, then each run's learning curves and (for
/// single-label classification) confusion matrix.
fn draw_figures(runs: &[Run], report: &Report, out: &Path) -> anyhow::Result<Vec<Figure>> {
    let dir = out.join("figures");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut figures = Vec::new();
    let bars: Vec<plots::Bar> = runs
        .iter()
        .zip(&report.rows)
        .filter_map(|(run, row)| {
            let m = run.metric(&report.metric)?;
            Some(plots::Bar {
                name: row.name.clone(),
                method: row.method.clone(),
                mean: m.mean,
                std: m.std,
            })
        })
        .collect();
    let bars_file = format!("bars-{}.png", plots::file_stem(&report.metric));
    plots::draw_bars(&report.metric, &bars, &dir.join(&bars_file))?;
    figures.push(Figure {
        caption: format!("test {} of every run", report.metric),
        run: None,
        path: format!("figures/{bars_file}"),
    });
    for (run, row) in runs.iter().zip(&report.rows) {
        let stem = plots::file_stem(&row.name);
        let curves = format!("curves-{stem}.png");
        plots::draw_curves(
            run,
            &row.name,
            curve_metric(run, report),
            &dir.join(&curves),
        )?;
        figures.push(Figure {
            caption: "learning curves".into(),
            run: Some(row.name.clone()),
            path: format!("figures/{curves}"),
        });
        if let Some(counts) = score::Scorer::new(run)?.confusion() {
            let confusion = format!("confusion-{stem}.png");
            plots::draw_confusion(&row.name, &run.classes, &counts, &dir.join(&confusion))?;
            figures.push(Figure {
                caption: "confusion matrix".into(),
                run: Some(row.name.clone()),
                path: format!("figures/{confusion}"),
            });
        }
    }
    Ok(figures)
}

/// The report's metric, or for a run of another task (a regression run among classifiers)
/// its own first headline metric, so that its curves are not empty.
fn curve_metric<'a>(run: &'a Run, report: &'a Report) -> &'a str {
    match (run.metric(&report.metric), run.summary.test.first()) {
        (None, Some(own)) => &own.metric,
        _ => &report.metric,
    }
}
