//! The repository must make sense on its own: no text file may point at one development
//! machine's folders (home directories, a scratch workspace) or at design notes that live
//! outside the repository. Whatever a user needs to understand a switch is in docs/ (the
//! seed pages in docs/methods/); tools find their interpreter and models through arguments
//! or environment variables.

use std::path::{Path, PathBuf};

/// Where the repository's own text lives (relative to the crate root). Build outputs (`target/`),
/// corpora (`data/`) and run folders (`runs/`) are not walked: they are the user's, not ours.
const ROOTS: [&str; 12] = [
    "src",
    "docs",
    "experiments",
    "scripts",
    "bench",
    "benches",
    "tests",
    "schemas",
    "models",
    ".ci",
    "README.md",
    "Cargo.toml",
];

const SKIP_DIRS: [&str; 4] = ["target", ".git", "data", "runs"];

/// Text files by extension; `.ci/run` has none.
const EXTENSIONS: [&str; 6] = ["rs", "md", "toml", "py", "sh", "json"];

/// Split so that this file does not match itself.
const FORBIDDEN: [&str; 5] = [
    concat!("/wo", "rk/"),
    concat!("/ro", "ot/"),
    concat!("/ho", "me/"),
    concat!("shared", "/spec"),
    concat!("../", "shared"),
];

fn is_checked(path: &Path, root: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap();
    // models/<name>/ holds downloaded checkpoints next to the committed config.json; only
    // the committed files are ours.
    if rel.starts_with("models") {
        return rel == Path::new("models/README.md") || rel.ends_with("config.json");
    }
    // bench/out/ holds the benchmarks' raw results (ignored by git), which name this machine's
    // paths by nature.
    if rel.starts_with("bench/out") {
        return false;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) => EXTENSIONS.contains(&ext),
        None => rel.starts_with(".ci"),
    }
}

fn walk(path: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if SKIP_DIRS.contains(&name) {
            return;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for entry in entries {
            walk(&entry, root, out);
        }
    } else if path.is_file() && is_checked(path, root) {
        out.push(path.to_path_buf());
    }
}

#[test]
fn no_file_points_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for top in ROOTS {
        walk(&root.join(top), root, &mut files);
    }
    assert!(
        files.len() > 100,
        "walked only {} files: is the crate root right?",
        files.len()
    );
    let mut found = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue; // not UTF-8: not one of our text files
        };
        for (n, line) in text.lines().enumerate() {
            for needle in FORBIDDEN {
                if line.contains(needle) {
                    let rel = file.strip_prefix(root).unwrap().display();
                    found.push(format!("{rel}:{}: {needle:?} in {:?}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} line(s) name a development machine's folders or a document users do not have; \
         move the facts into docs/ (docs/methods/ for the seeds) and cite that, and let tools \
         take paths as arguments or environment variables:\n{}",
        found.len(),
        found.join("\n")
    );
}
