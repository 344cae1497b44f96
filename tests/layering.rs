//! One-way modules: every module of src/ may use only the modules below it in the layer order of
//! docs/ARCHITECTURE.md. The test reads the `crate::` paths of every source file and fails on a
//! path that reaches up (or sideways into another module of the same layer), naming the file
//! and line. A new top-level module must be given its layer here. A second test keeps burn's
//! forms that `kernels` replaces on flex out of the rest of src/.

use std::path::{Path, PathBuf};

/// Layers, lowest first. A module may use modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    &[
        "alloc", "atomic", "device", "kernels", "lock", "logging", "modality", "params", "pooling",
        "rows",
    ],
    &["fusion"],
    &["config"],
    &["metrics"],
    &["data"],
    &["encoders"],
    &["batch"],
    &["model"],
    &["task"],
    &["report"],
    &["train"],
    &["env"],
    &["run", "inspect", "embed"],
    &["compare", "infer"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of src/ belongs to (`src/data/folds.rs` -> `data`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a line without its comment and string literals, so that prose and messages
/// that mention a path do not count.
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                chars.next();
            }
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            _ if !in_string => code.push(c),
            _ => {}
        }
    }
    code
}

/// Every `crate::<name>` in `code`.
fn crate_paths(code: &str) -> Vec<String> {
    code.match_indices("crate::")
        .filter(|(at, _)| {
            // `$crate::` and `some_crate::` are other crates' paths.
            !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
        })
        .map(|(at, m)| {
            code[at + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            problems.push(format!(
                "{}: module `{module}` has no layer in tests/layering.rs (and docs/ARCHITECTURE.md)",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for used in crate_paths(&code_of(line)) {
                let Some(layer) = layer_of(&used) else {
                    continue; // an item of lib.rs, not a module
                };
                if used != module && layer >= own {
                    problems.push(format!(
                        "{}:{}: `{module}` (layer {own}) uses `{used}` (layer {layer}): {}",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "modules reach up the layer order:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_path_reader_ignores_comments_strings_and_other_crates() {
    assert_eq!(
        crate_paths(&code_of("use crate::data::Corpus; // crate::run")),
        ["data"]
    );
    assert!(crate_paths(&code_of(r#"let s = "crate::train";"#)).is_empty());
    assert!(crate_paths(&code_of("$crate::x!(); emo_crate::y")).is_empty());
    assert_eq!(
        crate_paths(&code_of(r#"f("a\"b", crate::model::X)"#)),
        ["model"]
    );
}

/// burn's forms that src/kernels replaces (slower on flex, where the kernels draw and compute in
/// bulk); each still works, so only this test notices a new call.
const REPLACED_BY_KERNELS: [&str; 5] = [
    "dropout.forward(",
    "drop.forward(",
    "activation::gelu(",
    "Gelu::new(",
    "TransformerEncoderInput",
];

#[test]
fn src_uses_the_kernels_instead_of_burns_forms() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|file| module_of(&src, file) != "kernels")
        .filter_map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            // Whitespace removed, so that a call broken over lines is seen too.
            let code: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let found: Vec<_> = REPLACED_BY_KERNELS
                .iter()
                .filter(|form| code.contains(*form))
                .collect();
            (!found.is_empty()).then(|| format!("{}: {found:?}", file.display()))
        })
        .collect();
    assert!(offenders.is_empty(), "use crate::kernels: {offenders:?}");
}
