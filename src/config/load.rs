//! Layering of experiment sources and errors that point at the offending line.
//!
//! Precedence, lowest first: built-in defaults < `extends` files (depth first, in order) < the
//! file itself < `EMO_*` environment variables (`EMO_TRAIN__EPOCHS=3`) < `--set key=value`.
//! figment merges the layers and names the key that failed; we add the file and line by
//! re-reading the source with span information, because figment keeps no positions.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

use super::applicable::{dotted_keys, inapplicable_fusion_keys};
use super::error::{ConfigError, Located};
use super::experiment::Experiment;
use super::locate::{line_col, locate_key};
use super::validate::validate;

/// An experiment after layering and validation, with the files it came from.
#[derive(Debug, Clone)]
pub struct LoadedExperiment {
    pub experiment: Experiment,
    /// The file given on the command line.
    pub path: PathBuf,
    /// Its text, verbatim, for `config.toml` in the run directory.
    pub source_text: String,
    /// Every file that contributed, lowest precedence first (the extends chain, then the file).
    pub layers: Vec<PathBuf>,
    /// The `[sweep]` cell this experiment is, as `--set` assignments; empty for a file without
    /// a sweep.
    pub cell: Vec<String>,
}

/// Overrides that sit above the files: `--set key=value` pairs.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub set: Vec<String>,
}

/// Layer, deserialize and validate one experiment file; nothing is run.
pub fn load_experiment(
    path: &Path,
    overrides: &Overrides,
) -> Result<LoadedExperiment, ConfigError> {
    let source_text = read_source(path)?;
    let mut layers = Vec::new();
    collect_extends_chain(path, &mut Vec::new(), &mut layers)?;

    // The user's layers alone first: which keys they set (not the defaults) decides what is
    // refused as not applying to the chosen method.
    let mut user = Figment::new();
    for layer in &layers {
        user = user.merge(Toml::file_exact(layer));
    }
    user = user.merge(experiment_env());
    for assignment in &overrides.set {
        user = user.merge(Toml::string(&set_assignment_as_toml(assignment)?));
    }
    let figment = Figment::from(Serialized::defaults(default_layer())).merge(user.clone());

    let mut experiment: Experiment = figment
        .extract()
        .map_err(|e| ConfigError::from_figment(e, &layers))?;
    let set_keys = user
        .extract::<serde_json::Value>()
        .map(|v| dotted_keys(&v))
        .unwrap_or_default();
    // `extends` is consumed by layering; keep the file's own list for the record.
    experiment.extends = toml_extends(&source_text, path)?;
    absolutize_paths(&mut experiment);

    let mut problems = validate(&experiment);
    problems.extend(inapplicable_fusion_keys(&experiment, &set_keys));
    problems.extend(fold_problems(&experiment, &problems));
    problems.extend(stage_problems(&experiment, &set_keys, &problems));
    if !problems.is_empty() {
        return Err(ConfigError::Invalid(
            problems
                .into_iter()
                .map(|p| locate_problem(p, &layers, overrides))
                .collect(),
        ));
    }
    Ok(LoadedExperiment {
        experiment,
        path: path.to_path_buf(),
        source_text,
        layers,
        cell: Vec::new(),
    })
}

/// A finished run's `resolved.toml` as the run wrote it: the built-in defaults under the file
/// (a key added since the run takes its default), and neither `EMO_*` variables nor `--set`,
/// which would make it another experiment than the one the run trained. Validated like any
/// experiment file.
pub fn load_resolved(path: &Path) -> Result<Experiment, ConfigError> {
    read_source(path)?;
    let layers = [path.to_path_buf()];
    let figment =
        Figment::from(Serialized::defaults(default_layer())).merge(Toml::file_exact(path));
    let experiment: Experiment = figment
        .extract()
        .map_err(|e| ConfigError::from_figment(e, &layers))?;
    let problems = validate(&experiment);
    if !problems.is_empty() {
        return Err(ConfigError::Invalid(
            problems
                .into_iter()
                .map(|p| locate_problem(p, &layers, &Overrides::default()))
                .collect(),
        ));
    }
    Ok(experiment)
}

/// The experiments a file stands for: itself, or one per cell of its `[sweep]` (each named
/// `<name>--<cell>`, its values set below the command line's `--set`). Every cell is loaded and
/// validated; the problems of all of them are reported together.
pub fn load_cells(
    path: &Path,
    overrides: &Overrides,
) -> Result<Vec<LoadedExperiment>, ConfigError> {
    let Some(sweep) = read_sweep(path)? else {
        return Ok(vec![load_experiment(path, overrides)?]);
    };
    let mut cells = Vec::new();
    let mut problems = Vec::new();
    for cell in sweep.cells() {
        let assignments = super::sweep::assignments(&cell);
        let layered = Overrides {
            set: assignments.iter().chain(&overrides.set).cloned().collect(),
        };
        match load_experiment(path, &layered) {
            Ok(mut loaded) => {
                loaded.experiment.name = format!(
                    "{}--{}",
                    loaded.experiment.name,
                    super::sweep::cell_label(&cell)
                );
                loaded.experiment.sweep = None;
                loaded.cell = assignments;
                cells.push(loaded);
            }
            Err(ConfigError::Invalid(found)) => {
                let label = super::sweep::cell_label(&cell);
                problems.extend(found.into_iter().map(|mut p| {
                    p.message = format!("{} (in sweep cell {label})", p.message);
                    p
                }));
            }
            Err(other) => return Err(other),
        }
    }
    if !problems.is_empty() {
        problems.dedup();
        return Err(ConfigError::Invalid(problems));
    }
    Ok(cells)
}

/// The `[sweep]` of the file itself, checked; `None` when it has none.
fn read_sweep(path: &Path) -> Result<Option<super::sweep::SweepConfig>, ConfigError> {
    let text = read_source(path)?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: e.to_string(),
    })?;
    let Some(value) = table.get("sweep") else {
        return Ok(None);
    };
    let located = |key: String, message: String| {
        let segments: Vec<String> = std::iter::once("sweep".to_string())
            .chain(key.split('.').next().map(String::from))
            .collect();
        let (line, column) = locate_key(&text, &segments).unwrap_or((0, 0));
        Located {
            file: Some(path.to_path_buf()),
            line,
            column,
            key: if key.is_empty() {
                "sweep".into()
            } else {
                format!("sweep.{key}")
            },
            message,
        }
    };
    let sweep: super::sweep::SweepConfig =
        value.clone().try_into().map_err(|e: toml::de::Error| {
            ConfigError::Invalid(vec![located(String::new(), e.message().to_string())])
        })?;
    let problems: Vec<Located> = sweep
        .problems()
        .into_iter()
        .map(|(key, message)| located(key, message))
        .collect();
    if !problems.is_empty() {
        return Err(ConfigError::Invalid(problems));
    }
    Ok((!sweep.is_empty()).then_some(sweep))
}

/// The built-in defaults as figment's lowest layer. `[fusion]` is left empty: each method's
/// keys take their defaults from the method's own keys struct, so the defaults of the default
/// method never mix into another method's table.
fn default_layer() -> serde_json::Value {
    let mut value = serde_json::to_value(Experiment::default()).unwrap_or_default();
    if let Some(root) = value.as_object_mut() {
        root.insert("fusion".into(), serde_json::json!({}));
    }
    value
}

/// What is wrong with the experiment each `[fold.<name>]` makes, beyond what is wrong with
/// the file's own (`base`): keyed `fold.<name>.<key>` where the fold sets the key.
fn fold_problems(exp: &Experiment, base: &[Located]) -> Vec<Located> {
    let mut out = Vec::new();
    for (name, over) in &exp.fold {
        let merged = match exp.for_fold(name) {
            Ok(m) => m,
            Err(message) => {
                out.push(Located::key_only(format!("fold.{name}"), message));
                continue;
            }
        };
        let set = over.dotted_keys();
        if set.contains("fusion.method") {
            out.push(Located::key_only(
                format!("fold.{name}.fusion.method"),
                "a fold cannot change the method: the folds of one run share their inputs and are averaged into one result. Compare methods with one file per method".into(),
            ));
            continue;
        }
        let mut found = validate(&merged);
        found.extend(inapplicable_fusion_keys(&merged, &set));
        for mut p in found {
            let seen = base
                .iter()
                .any(|b| b.key == p.key && b.message == p.message);
            if seen {
                continue;
            }
            if set
                .iter()
                .any(|k| p.key == *k || p.key.starts_with(&format!("{k}.")))
            {
                p.key = format!("fold.{name}.{}", p.key);
            } else {
                p.message = format!("{} (in fold {name})", p.message);
            }
            out.push(p);
        }
    }
    out
}

/// What is wrong with the stages: the graph (names, dependencies, distillation), then the
/// experiment each stage makes, beyond what is wrong with the file's own (`base`), keyed
/// `stages.<name>.<key>` where the stage sets the key.
fn stage_problems(
    exp: &Experiment,
    file_keys: &std::collections::BTreeSet<String>,
    base: &[Located],
) -> Vec<Located> {
    let mut out: Vec<Located> = super::stages::graph_problems(exp)
        .into_iter()
        .map(|(key, message)| Located::key_only(key, message))
        .collect();
    for stage in &exp.stages {
        let name = &stage.name;
        let merged = match exp.for_stage(name) {
            Ok(m) => m,
            Err(message) => {
                out.push(Located::key_only(format!("stages.{name}"), message));
                continue;
            }
        };
        let own = stage.dotted_keys();
        // The file's fusion keys do not reach a stage that names another method.
        let replaced = super::stages::replaces_method(exp, stage);
        let set: std::collections::BTreeSet<String> = file_keys
            .iter()
            .filter(|k| !k.starts_with("stages"))
            .filter(|k| !(replaced && k.starts_with("fusion.")))
            .cloned()
            .chain(own.iter().cloned())
            .collect();
        let mut found = validate(&merged);
        found.extend(inapplicable_fusion_keys(&merged, &set));
        found.extend(fold_problems(&merged, &[]));
        for mut p in found {
            if base
                .iter()
                .any(|b| b.key == p.key && b.message == p.message)
            {
                continue;
            }
            if own
                .iter()
                .any(|k| p.key == *k || p.key.starts_with(&format!("{k}.")))
            {
                p.key = format!("stages.{name}.{}", p.key);
            } else {
                p.message = format!("{} (in stage {name})", p.message);
            }
            out.push(p);
        }
    }
    out
}

/// `EMO_<TABLE>__<KEY>=value` variables whose first segment names a top-level key of the
/// experiment. Other `EMO_*` variables (test switches, tool settings) are not config and are
/// left alone rather than rejected as unknown keys.
fn experiment_env() -> Env {
    const TOP_LEVEL: [&str; 12] = [
        "name", "extends", "seed", "device", "dataset", "split", "encoders", "fusion", "task",
        "train", "fold", "stages",
    ];
    Env::prefixed("EMO_")
        .filter(|key| {
            let first = key.as_str().split("__").next().unwrap_or_default();
            TOP_LEVEL.iter().any(|k| first.eq_ignore_ascii_case(k))
        })
        .split("__")
}

fn read_source(path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    check_syntax(path, &text)?;
    Ok(text)
}

/// Catch TOML syntax errors ourselves: toml's parser gives a span, figment only a message.
fn check_syntax(path: &Path, text: &str) -> Result<(), ConfigError> {
    if let Err(e) = toml::de::DeTable::parse(text) {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        return Err(ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        });
    }
    Ok(())
}

/// Depth-first: a file's `extends` come before it, so the file itself wins over its bases.
fn collect_extends_chain(
    path: &Path,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> Result<(), ConfigError> {
    let canonical = path.canonicalize().map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if stack.contains(&canonical) {
        return Err(ConfigError::ExtendsCycle {
            chain: stack.iter().chain([&canonical]).cloned().collect(),
        });
    }
    let text = read_source(path)?;
    stack.push(canonical.clone());
    for base in toml_extends(&text, path)? {
        let resolved = path.parent().unwrap_or(Path::new(".")).join(&base);
        if !resolved.is_file() {
            let (line, column) = locate_key(&text, &["extends".to_string()]).unwrap_or((0, 0));
            return Err(ConfigError::Invalid(vec![Located {
                file: Some(path.to_path_buf()),
                line,
                column,
                key: "extends".into(),
                message: format!(
                    "file {} (resolved to {}) does not exist; expected a path relative to {}",
                    base.display(),
                    resolved.display(),
                    path.display()
                ),
            }]));
        }
        collect_extends_chain(&resolved, stack, out)?;
    }
    stack.pop();
    if !out.contains(&canonical) {
        out.push(canonical);
    }
    Ok(())
}

/// The `extends` list of one file, read before layering so that bases can be found.
fn toml_extends(text: &str, path: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: e.message().to_string(),
    })?;
    match table.get("extends") {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(s) => Ok(PathBuf::from(s)),
                other => Err(extends_type_error(text, path, other)),
            })
            .collect(),
        Some(other) => Err(extends_type_error(text, path, other)),
    }
}

fn extends_type_error(text: &str, path: &Path, found: &toml::Value) -> ConfigError {
    let (line, column) = locate_key(text, &["extends".to_string()]).unwrap_or((0, 0));
    ConfigError::Invalid(vec![Located {
        file: Some(path.to_path_buf()),
        line,
        column,
        key: "extends".into(),
        message: format!(
            "found {} {found}, expected a list of file paths",
            found.type_str()
        ),
    }])
}

/// `train.epochs=3` → `train.epochs = 3`; a value that is not TOML is taken as a string, so
/// `--set fusion.method=late_fusion` needs no quotes.
fn set_assignment_as_toml(assignment: &str) -> Result<String, ConfigError> {
    let (key, value) = assignment
        .split_once('=')
        .ok_or_else(|| ConfigError::BadSet {
            assignment: assignment.to_string(),
            message: "expected key=value, e.g. train.epochs=3".into(),
        })?;
    let key = key.trim();
    let valid_key = !key.is_empty()
        && key.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if !valid_key {
        return Err(ConfigError::BadSet {
            assignment: assignment.to_string(),
            message: format!("`{key}` is not a dotted key like train.optimizer.lr"),
        });
    }
    let literal = format!("{key} = {}", value.trim());
    if toml::from_str::<toml::Table>(&literal).is_ok() {
        Ok(literal)
    } else {
        Ok(format!(
            "{key} = {}",
            toml::Value::String(value.trim().to_string())
        ))
    }
}

/// Attach where a validation problem's key was set: the `--set` assignment or `EMO_*` variable
/// that sets it (they win over the files), else the highest-precedence file that sets it, with
/// its line. A key none of them sets is a built-in default.
fn locate_problem(mut problem: Located, layers: &[PathBuf], overrides: &Overrides) -> Located {
    if let Some(origin) = override_origin(&problem.key, overrides) {
        problem.file = Some(PathBuf::from(origin));
        return problem;
    }
    let path: Vec<String> = problem.key.split('.').map(String::from).collect();
    for layer in layers.iter().rev() {
        let Ok(text) = std::fs::read_to_string(layer) else {
            continue;
        };
        if let Some((line, column)) = locate_key(&text, &path) {
            problem.file = Some(layer.clone());
            problem.line = line;
            problem.column = column;
            return problem;
        }
    }
    problem
}

/// Paths are relative to the working directory; the resolved config holds them absolute, so
/// that `resolved.toml` runs as it is from any folder (the run directory included).
/// The `--set` assignment (the last one wins) or `EMO_*` variable that sets `key`, or a table
/// that holds it, or a key inside it.
fn override_origin(key: &str, overrides: &Overrides) -> Option<String> {
    let related = |set: &str| {
        set == key || key.starts_with(&format!("{set}.")) || set.starts_with(&format!("{key}."))
    };
    if let Some(assignment) = overrides.set.iter().rev().find(|a| {
        a.split_once('=')
            .is_some_and(|(set, _)| related(set.trim()))
    }) {
        return Some(format!("--set {assignment}"));
    }
    let variable = format!("EMO_{}", key.replace('.', "__").to_uppercase());
    std::env::var_os(&variable).map(|_| variable)
}

fn absolutize_paths(exp: &mut Experiment) {
    exp.dataset.root = absolutize(&exp.dataset.root);
    for extra in &mut exp.dataset.also {
        extra.root = absolutize(&extra.root);
    }
    if let Some(hcf) = &mut exp.dataset.hcf {
        hcf.root = absolutize(&hcf.root);
    }
    for path in [&mut exp.encoders.text.path, &mut exp.encoders.audio.path]
        .into_iter()
        .flatten()
    {
        *path = absolutize(path);
    }
    if let Some(files) = &mut exp.split.files {
        files.train = absolutize(&files.train);
        files.test = absolutize(&files.test);
        if let Some(valid) = &mut files.valid {
            *valid = absolutize(valid);
        }
    }
}

fn absolutize(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_that_are_not_toml_become_strings() {
        assert_eq!(
            set_assignment_as_toml("fusion.method=late_fusion").unwrap(),
            "fusion.method = \"late_fusion\""
        );
        assert_eq!(
            set_assignment_as_toml("train.epochs=3").unwrap(),
            "train.epochs = 3"
        );
    }

    #[test]
    fn set_without_equals_is_rejected() {
        assert!(set_assignment_as_toml("train.epochs").is_err());
        assert!(set_assignment_as_toml("train..epochs=3").is_err());
    }
}
