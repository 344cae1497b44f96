//! The command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{LoadedExperiment, Overrides, load_cells, load_experiment};
use crate::data::plan::{DataPlan, plan_folds, usable_corpus};
use crate::run::experiment::{RunOptions, resolved_toml, run_experiment};

#[derive(Parser, Debug)]
#[command(
    name = "emo-run",
    version,
    about = "Run multimodal (speech + text) emotion-recognition experiments from TOML files",
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  emo-run experiments/quickstart.toml\n  emo-run experiments/*.toml --set train.epochs=3\n  emo-run validate experiments/quickstart.toml\n  emo-run inspect experiments/quickstart.toml --json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Experiment files to run, in order.
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Run again even when a finished run of the same resolved config exists.
    #[arg(long)]
    pub force: bool,
    /// Run up to N experiments (files, sweep cells) at once, each in its own process, the CPU
    /// cores shared out between them. A failed one is reported and the others go on.
    /// Default: 1, or one per device of --devices.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Place the experiments on these devices, one list entry per process slot, round robin
    /// when --jobs is larger (`--devices cuda:0,cuda:1`); each runs as with --device.
    #[arg(
        long,
        value_name = "DEVICE,...",
        value_delimiter = ',',
        conflicts_with = "device"
    )]
    pub devices: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Override a key: `--set train.epochs=3` (repeatable; wins over files and EMO_* variables).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    pub set: Vec<String>,
    /// Compute device: flex | cuda:N | tch | tch-cuda:N (same as `--set device=...`).
    #[arg(long, global = true)]
    pub device: Option<String>,
    /// Stop before training when any row or clip of the corpus was dropped (same as
    /// `--set dataset.strict=true`); data.json still lists them.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Where run directories go.
    #[arg(long, default_value = "runs", global = true)]
    pub runs_dir: PathBuf,
    /// Feature cache of frozen encoders (default: `<runs-dir>/.feature-cache`); share it
    /// between experiments to compute each utterance's features once.
    #[arg(long, global = true)]
    pub cache_dir: Option<PathBuf>,
    /// No progress bars; warnings and errors only.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Log as JSON lines (for clusters and log collectors).
    #[arg(long, global = true)]
    pub json_logs: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one experiment of a file: the file itself, or cell INDEX of its `[sweep]` (the
    /// order `emo-run plan` lists).
    Cell {
        file: PathBuf,
        #[arg(long, default_value_t = 0)]
        index: usize,
        /// Run again even when a finished run of the same resolved config exists.
        #[arg(long)]
        force: bool,
    },
    /// List the experiments the files stand for (one per `[sweep]` cell) without running them:
    /// name, identity hash and whether a finished run exists under --runs-dir.
    Plan {
        files: Vec<PathBuf>,
        /// One JSON array of cells.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        slurm: crate::run::slurm::SlurmOptions,
    },
    /// Where each cell of a Slurm manifest (`plan --slurm`) stands: done, running, failed,
    /// interrupted or pending, from the run folders.
    Status {
        manifest: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Parse, layer and validate experiment files; print each resolved config.
    Validate { files: Vec<PathBuf> },
    /// Dataset summary and the model's modules with parameter counts.
    Inspect {
        file: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Every fusion method: the streams it takes and the `fusion.*` keys it reads.
    Methods {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the experiment file.
    Schema {
        /// Print the Markdown key reference (docs/CONFIG.md) instead.
        #[arg(long)]
        markdown: bool,
    },
    /// One encoder's hidden states for one input, as a float32 .npy (to check a model folder).
    Embed {
        /// Hugging Face model folder (config.json, weights, tokenizer.json for text).
        model_dir: PathBuf,
        /// Text to encode with a text encoder (bert, roberta, xlm-roberta, electra, albert).
        #[arg(long, conflicts_with = "wav", required_unless_present = "wav")]
        text: Option<String>,
        /// WAV file to encode with wav2vec2.
        #[arg(long)]
        wav: Option<PathBuf>,
        /// Output .npy: [tokens_or_frames, hidden], or [hidden] with --pooling.
        #[arg(long)]
        out: PathBuf,
        /// Hidden state: 0 = embeddings, 1..=L the layers, negative from the end.
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        layer: i64,
        /// Pool to one vector: mean | mean_unmasked | cls | first | last | pooler (default: none,
        /// the whole sequence of real tokens or frames).
        #[arg(long, value_parser = parse_pooling)]
        pooling: Option<crate::config::Pooling>,
        /// Tokens at most, special tokens included (text).
        #[arg(long, default_value_t = 128)]
        max_len: usize,
    },
    /// Compare finished runs: a table of their test metrics with intervals, report.md,
    /// report.csv and PNG figures (docs/GRIDS.md, "Report").
    Report(crate::compare::ReportArgs),
    /// Score new utterances with one fold's selected weights of a finished run: the emotion
    /// distribution (and valence/arousal where trained) of --wav/--text, or a parquet of every
    /// row of --manifest (docs/PREDICT.md).
    #[command(
        after_help = "Examples:\n  emo-run predict runs/tiny/RUN --wav a.wav --text \"so happy\"\n  emo-run predict runs/tiny/RUN --fold 2 --json --wav a.wav --text \"so happy\"\n  emo-run predict runs/tiny/RUN --manifest new.csv --out preds.parquet"
    )]
    Predict(crate::infer::predict::PredictArgs),
    /// Score the selected weights of finished runs on each fold's test split again: loss,
    /// accuracy, weighted precision/recall/F1 (x100), the std of the per-class recalls, the
    /// trainable parameters and the inference time of the whole test split. A stage's row is the
    /// mean over its folds (as summary.json). The time covers batching the prepared inputs and
    /// the model's forward pass (loss and scores read back included), after one untimed warm-up
    /// batch, summed over the folds; not reading the corpus, decoding audio, log-mel,
    /// tokenisation, frozen encoders' features or loading weights (docs/PREDICT.md).
    Eval(crate::infer::eval::EvalArgs),
    /// Write a synthetic corpus in a real corpus layout.
    Synth {
        /// Layout to write (only kemdy20 for now).
        #[arg(value_parser = ["kemdy20"])]
        layout: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 10)]
        sessions: u32,
        #[arg(long, default_value_t = 40)]
        utterances_per_session: u32,
    },
}

impl Common {
    fn overrides(&self) -> Overrides {
        let mut set = Vec::new();
        if let Some(device) = &self.device {
            set.push(format!("device={device}"));
        }
        if self.strict {
            set.push("dataset.strict=true".into());
        }
        set.extend(self.set.iter().cloned());
        Overrides { set }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::logging::init(cli.common.quiet, cli.common.json_logs);
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let overrides = cli.common.overrides();
    match cli.command {
        Some(Command::Validate { files }) => validate(&files, &overrides),
        Some(Command::Plan { files, json, slurm }) => {
            plan(&files, &overrides, &cli.common, json, &slurm)
        }
        Some(Command::Status { manifest, json }) => {
            print!("{}", crate::run::status::report(&manifest, json)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Inspect { file, json }) => {
            let loaded = load(&file, &overrides)?;
            let ins = crate::inspect::inspect(&loaded)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&ins)?);
            } else {
                print!("{}", crate::inspect::render(&ins));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Methods { json }) => {
            let listed = crate::config::methods::methods();
            if json {
                println!("{}", serde_json::to_string_pretty(&listed)?);
            } else {
                print!("{}", crate::config::methods::render(&listed));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Schema { markdown }) => {
            if markdown {
                print!("{}", crate::config::docs::config_reference_markdown());
            } else {
                print!("{}", crate::config::schema::experiment_schema_json());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Embed {
            model_dir,
            text,
            wav,
            out,
            layer,
            pooling,
            max_len,
        }) => {
            let input = match (text, wav) {
                (Some(text), None) => crate::embed::EmbedInput::Text(text),
                (None, Some(wav)) => crate::embed::EmbedInput::Wav(wav),
                _ => anyhow::bail!("embed needs exactly one of --text and --wav"),
            };
            let request = crate::embed::EmbedRequest {
                model_dir,
                input,
                layer,
                pooling,
                max_len,
            };
            let device = crate::device::DeviceChoice::Flex.device()?;
            let feature = crate::embed::embed(&request, &device)?;
            crate::embed::write_npy(&feature, &out)?;
            println!("wrote {} with shape {:?}", out.display(), feature.shape);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Synth {
            layout: _,
            out,
            seed,
            sessions,
            utterances_per_session,
        }) => {
            let cfg = crate::data::synth::SynthConfig {
                seed,
                sessions,
                utterances_per_session,
                ..Default::default()
            };
            let summary = crate::data::synth::write_kemdy20(&out, &cfg)?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Report(args)) => {
            crate::compare::report(&args)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Predict(args)) => {
            crate::infer::predict::predict(&args, &infer_options(&cli.common, "predict")?)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Eval(args)) => {
            crate::infer::eval::eval(&args, &infer_options(&cli.common, "eval")?)?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let parallel = Parallel::new(cli.jobs, cli.devices, &overrides)?;
            run_files(&cli.files, &overrides, &cli.common, cli.force, &parallel)
        }
        Some(Command::Cell { file, index, force }) => {
            crate::run::pool::exit_with_parent();
            if crate::run::slurm::is_manifest(&file) {
                return run_manifest_cell(&file, index, &overrides, &cli.common, force);
            }
            let mut cells = load_cells(&file, &overrides)?;
            anyhow::ensure!(
                index < cells.len(),
                "{} has {} experiment(s) (`emo-run plan` lists them); --index {index} is past the last",
                file.display(),
                cells.len()
            );
            let cell = cells.swap_remove(index);
            run_loaded(vec![cell], &cli.common, force)
        }
    }
}

/// `emo-run cell MANIFEST --index I` (a Slurm array task): the planned cell, with the
/// manifest's overrides, runs and cache folders.
fn run_manifest_cell(
    manifest: &Path,
    index: usize,
    overrides: &Overrides,
    common: &Common,
    force: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        overrides.set.is_empty(),
        "{}: a manifest fixes the cell's overrides; plan again to change them",
        manifest.display()
    );
    let hash_of = |cell: &LoadedExperiment| {
        let mut hashes = cell_hashes(std::slice::from_ref(cell), common.quiet)?;
        Ok(hashes.remove(0))
    };
    crate::run::slurm::run_task(manifest, index, hash_of, |planned, cell| {
        let common = Common {
            runs_dir: planned.runs_dir.clone(),
            cache_dir: Some(planned.cache_dir.clone()),
            ..common.clone()
        };
        run_loaded(vec![cell], &common, force)
    })
}

/// The identity hash each experiment's run folder is named by; every hash the command line
/// shows or checks comes from here. The identity fingerprints the data, so every input is
/// checked and every corpus read first (a synthetic one generated).
fn cell_hashes(loaded: &[LoadedExperiment], quiet: bool) -> anyhow::Result<Vec<String>> {
    let plans = prepare_inputs(loaded, quiet)?;
    loaded
        .iter()
        .zip(&plans)
        .map(|(exp, data)| Ok(crate::run::identity::run_identity(&exp.experiment, data)?.hash))
        .collect()
}

/// `--pooling` takes the config's names (`mean`, `mean_unmasked`, ...).
fn parse_pooling(text: &str) -> Result<crate::config::Pooling, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|_| {
        format!(
            "found {text:?}, expected one of mean, mean_unmasked, cls, first, last, pooler, none"
        )
    })
}

fn load(file: &Path, overrides: &Overrides) -> anyhow::Result<LoadedExperiment> {
    Ok(load_experiment(file, overrides)?)
}

/// Validate all files before reporting, so one call lists every broken file.
fn validate(files: &[PathBuf], overrides: &Overrides) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !files.is_empty(),
        "validate needs at least one experiment file"
    );
    let mut failed = 0;
    for file in files {
        match load_cells(file, overrides) {
            Ok(cells) => {
                for loaded in cells {
                    println!(
                        "# {}{} is valid; resolved:\n{}",
                        file.display(),
                        cell_suffix(&loaded),
                        resolved_toml(&loaded.experiment)?
                    );
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} experiment files are invalid", files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Every file is loaded and validated before the first one starts: a broken file never lets
/// the others run half-way.
fn run_files(
    files: &[PathBuf],
    overrides: &Overrides,
    common: &Common,
    force: bool,
    parallel: &Parallel,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !files.is_empty(),
        "no experiment file given; try `emo-run experiments/quickstart.toml` or `emo-run --help`"
    );
    let loaded = load_all(files, overrides)?;
    if !parallel.devices.is_empty() || (parallel.jobs > 1 && loaded.len() > 1) {
        return run_in_processes(&loaded, overrides, common, force, parallel);
    }
    run_loaded(loaded, common, force)
}

/// How many experiments run at once, and on which devices.
struct Parallel {
    jobs: usize,
    /// Slot `k` runs on `devices[k % len]`; empty: each experiment's own `device`.
    devices: Vec<String>,
}

impl Parallel {
    fn new(
        jobs: Option<usize>,
        devices: Vec<String>,
        overrides: &Overrides,
    ) -> anyhow::Result<Self> {
        let jobs = jobs.unwrap_or(devices.len().max(1));
        anyhow::ensure!(jobs >= 1, "--jobs 0: expected at least one process");
        anyhow::ensure!(
            devices.is_empty()
                || !overrides
                    .set
                    .iter()
                    .any(|s| s.trim_start().starts_with("device")),
            "--devices places each experiment on a device; it cannot be combined with --set device=..."
        );
        for device in &devices {
            crate::device::parse_device(device)
                .map_err(anyhow::Error::msg)
                .and_then(|d| d.device())
                .with_context(|| format!("--devices: {device:?}"))?;
        }
        Ok(Self { jobs, devices })
    }
}

/// Check and plan every experiment, then run them one after another in this process. A failed
/// experiment is reported and the rest go on; the exit status is the number that failed.
fn run_loaded(
    loaded: Vec<LoadedExperiment>,
    common: &Common,
    force: bool,
) -> anyhow::Result<ExitCode> {
    // Corpus and weights too, for every file, before the first one starts.
    for exp in &loaded {
        crate::run::experiment::check_inputs_exist(&exp.experiment)
            .with_context(|| format!("{} cannot run here", exp.path.display()))?;
        crate::device::parse_device(&exp.experiment.device)
            .map_err(anyhow::Error::msg)
            .and_then(|d| d.device())
            .with_context(|| format!("{}: key `device`", exp.path.display()))?;
    }
    // Then each file's corpus and folds: a degenerate combination (too many folds, a class the
    // corpus lacks, an empty split) stops here, before any run directory exists.
    let plans = plan_all(&loaded, common.quiet)?;
    announce_sequences(&loaded, &cache_dir(common))?;
    let opts = RunOptions {
        runs_dir: common.runs_dir.clone(),
        cache_dir: cache_dir(common),
        force,
        quiet: common.quiet,
    };
    let mut failed = 0;
    for (exp, plan) in loaded.iter().zip(&plans) {
        let outcome = match run_experiment(exp, plan, &opts) {
            Ok(outcome) => outcome,
            Err(e) => {
                failed += 1;
                eprintln!(
                    "error: running {}{}: {e:#}",
                    exp.path.display(),
                    cell_suffix(exp)
                );
                continue;
            }
        };
        if outcome.skipped {
            println!(
                "{}: already finished in {}",
                exp.experiment.name,
                outcome.path.display()
            );
            continue;
        }
        let resumed = if outcome.resumed {
            "resumed an interrupted run; "
        } else {
            ""
        };
        for summary in &outcome.summaries {
            let line: Vec<String> = summary
                .test
                .iter()
                .map(|m| format!("{} {:.4} ± {:.4}", m.metric, m.mean, m.std))
                .collect();
            let stage = match outcome.summaries.len() {
                1 => String::new(),
                _ => format!(" [{}]", summary.stage),
            };
            println!(
                "{}{stage}: {resumed}test {} ({} rows dropped, listed in data.json) -> {}",
                exp.experiment.name,
                line.join(", "),
                outcome.dropped,
                outcome.path.display()
            );
        }
    }
    Ok(failures(failed, loaded.len()))
}

/// Exit status 0, or the number of experiments that failed (at most 255), with a summary line
/// when more than one ran.
fn failures(failed: usize, total: usize) -> ExitCode {
    if failed == 0 {
        return ExitCode::SUCCESS;
    }
    if total > 1 {
        eprintln!("{failed} of {total} experiments failed");
    }
    ExitCode::from(failed.min(255) as u8)
}

/// `--jobs N`: every experiment checked and planned here first (so a synthetic corpus is
/// generated once and a broken one stops everything before it starts), then each run by `emo-run
/// cell` in a process of its own, N at a time.
fn run_in_processes(
    loaded: &[LoadedExperiment],
    overrides: &Overrides,
    common: &Common,
    force: bool,
    parallel: &Parallel,
) -> anyhow::Result<ExitCode> {
    let jobs = parallel.jobs;
    prepare_inputs(loaded, common.quiet)?;
    announce_sequences(loaded, &cache_dir(common))?;
    let exe = std::env::current_exe().context("finding the emo-run executable")?;
    let threads = crate::run::pool::threads_per_job(jobs).to_string();
    let mut index_in_file: std::collections::HashMap<&PathBuf, usize> = Default::default();
    let processes: Vec<crate::run::pool::Job> = loaded
        .iter()
        .map(|exp| {
            let index = index_in_file.entry(&exp.path).or_insert(0);
            let mut command = std::process::Command::new(&exe);
            command
                .arg("cell")
                .arg(&exp.path)
                .args(["--index", &index.to_string(), "--quiet", "--runs-dir"])
                .arg(&common.runs_dir)
                .arg("--cache-dir")
                .arg(cache_dir(common))
                .env("RAYON_NUM_THREADS", &threads);
            *index += 1;
            for assignment in &overrides.set {
                command.args(["--set", assignment]);
            }
            if force {
                command.arg("--force");
            }
            if common.json_logs {
                command.arg("--json-logs");
            }
            crate::run::pool::Job {
                label: exp.experiment.name.clone(),
                command,
            }
        })
        .collect();
    let place = |job: &mut crate::run::pool::Job, slot: usize| {
        if let Some(device) = parallel.devices.get(slot % parallel.devices.len().max(1)) {
            job.command.args(["--device", device]);
            tracing::info!(experiment = %job.label, "starting on {device}");
        }
    };
    let failed = crate::run::pool::run_jobs(processes, jobs, place, |label, status| match status {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("error: {label} failed ({s})"),
        Err(e) => eprintln!("error: {label} did not start: {e}"),
    });
    Ok(failures(failed, loaded.len()))
}

/// Before experiments start in processes of their own (`--jobs`, Slurm tasks): check every
/// input and read every corpus here, so that a synthetic corpus is generated once, not by many
/// processes at the same time, and a broken one stops everything before it starts.
fn prepare_inputs(loaded: &[LoadedExperiment], quiet: bool) -> anyhow::Result<Vec<DataPlan>> {
    for exp in loaded {
        crate::run::experiment::check_inputs_exist(&exp.experiment)
            .with_context(|| format!("{} cannot run here", exp.path.display()))?;
    }
    plan_all(loaded, quiet)
}

/// `predict` and `eval` read a run's `resolved.toml` as it is: an override would describe
/// another model than the one its weights belong to.
fn infer_options(common: &Common, command: &str) -> anyhow::Result<crate::infer::InferOptions> {
    anyhow::ensure!(
        common.set.is_empty() && !common.strict,
        "{command} uses the run's resolved.toml as it was trained; --set and --strict do not apply (only --device, --cache-dir and --quiet do)"
    );
    Ok(crate::infer::InferOptions {
        device: common.device.clone(),
        cache_dir: cache_dir(common),
        quiet: common.quiet,
    })
}

/// Before the first cell runs: every cell's frozen encoders that it takes as whole sequences,
/// announced to the shared feature cache, so that the cells that pool the same encoders store
/// the sequences they compute and each encoder runs once (`run::inputs::announce_sequences`).
fn announce_sequences(loaded: &[LoadedExperiment], cache_dir: &Path) -> anyhow::Result<()> {
    for exp in loaded {
        let choice = crate::device::parse_device(&exp.experiment.device)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("{}: key `device`", exp.path.display()))?;
        crate::run::inputs::announce_sequences(&exp.experiment, cache_dir, choice.backend_name())
            .with_context(|| format!("{}: preparing the feature cache", exp.path.display()))?;
    }
    Ok(())
}

/// The feature cache folder: `--cache-dir`, or `<runs-dir>/.feature-cache`.
fn cache_dir(common: &Common) -> PathBuf {
    common
        .cache_dir
        .clone()
        .unwrap_or_else(|| common.runs_dir.join(".feature-cache"))
}

/// Every experiment the files stand for (one per `[sweep]` cell), all loaded and validated.
fn load_all(files: &[PathBuf], overrides: &Overrides) -> anyhow::Result<Vec<LoadedExperiment>> {
    let mut all = Vec::new();
    for file in files {
        all.extend(load_cells(file, overrides)?);
    }
    Ok(all)
}

/// ` (cell fusion.method="lmf" seed=2)` for a sweep cell, nothing otherwise.
fn cell_suffix(loaded: &LoadedExperiment) -> String {
    if loaded.cell.is_empty() {
        String::new()
    } else {
        format!(" (cell {})", loaded.cell.join(" "))
    }
}

/// `emo-run plan`: every experiment the files stand for, with the run folder it would use and
/// whether a finished run of it exists; nothing is run.
fn plan(
    files: &[PathBuf],
    overrides: &Overrides,
    common: &Common,
    json: bool,
    slurm: &crate::run::slurm::SlurmOptions,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(!files.is_empty(), "plan needs at least one experiment file");
    let loaded = load_all(files, overrides)?;
    if slurm.slurm {
        return write_slurm_array(files, loaded, overrides, common, slurm);
    }
    let hashes = cell_hashes(&loaded, common.quiet)?;
    let mut rows = Vec::new();
    for (index, (exp, hash)) in loaded.iter().zip(hashes).enumerate() {
        let finished =
            crate::run::dir::finished_run(&common.runs_dir, &exp.experiment.name, &hash)?;
        rows.push(serde_json::json!({
            "index": index,
            "file": exp.path,
            "name": exp.experiment.name,
            "set": exp.cell,
            "identity": hash,
            "finished": finished,
        }));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    for row in &rows {
        let finished = row["finished"]
            .as_str()
            .map_or("pending".to_string(), |p| format!("finished in {p}"));
        println!(
            "{:>4}  {}  {}  [{}]",
            row["index"],
            row["name"].as_str().unwrap_or_default(),
            row["identity"].as_str().unwrap_or_default(),
            finished
        );
    }
    println!("{} experiments", rows.len());
    Ok(ExitCode::SUCCESS)
}

/// `emo-run plan --slurm`: the manifest and sbatch script of the (validated) cells.
fn write_slurm_array(
    files: &[PathBuf],
    loaded: Vec<LoadedExperiment>,
    overrides: &Overrides,
    common: &Common,
    slurm: &crate::run::slurm::SlurmOptions,
) -> anyhow::Result<ExitCode> {
    let hashes = cell_hashes(&loaded, common.quiet)?;
    announce_sequences(&loaded, &cache_dir(common))?;
    let cells: Vec<(LoadedExperiment, String)> = loaded.into_iter().zip(hashes).collect();
    let manifest = crate::run::slurm::Manifest::new(
        &cells,
        &overrides.set,
        &common.runs_dir,
        &cache_dir(common),
    )?;
    let out = (slurm.out.clone())
        .unwrap_or_else(|| crate::run::slurm::default_out_dir(&common.runs_dir, files));
    let exe = std::env::current_exe().context("finding the emo-run executable")?;
    let script = crate::run::slurm::write_array(&manifest, slurm, &out, &exe)?;
    print!(
        "{}",
        crate::run::slurm::how_to_submit(&manifest, &script, &exe)
    );
    Ok(ExitCode::SUCCESS)
}

/// The data plan of every file; files that read the same dataset share one pass over it.
fn plan_all(loaded: &[LoadedExperiment], quiet: bool) -> anyhow::Result<Vec<DataPlan>> {
    let mut corpora: std::collections::HashMap<String, crate::data::Corpus> = Default::default();
    loaded
        .iter()
        .map(|exp| {
            let dataset = &exp.experiment.dataset;
            let key = serde_json::to_string(dataset)?;
            if !corpora.contains_key(&key) {
                let corpus = usable_corpus(dataset, quiet)
                    .with_context(|| format!("{}: reading the corpus", exp.path.display()))?;
                corpora.insert(key.clone(), corpus);
            }
            plan_folds(&exp.experiment, corpora[&key].clone())
                .with_context(|| format!("{} cannot run on this corpus", exp.path.display()))
        })
        .collect()
}
