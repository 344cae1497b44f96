//! Build-time facts the binary needs.
//!
//! `EMO_ENCODER_CODE`: a blake3 digest of the sources a frozen encoder's output depends on
//! (src/encoders, and the modules below it that compute part of that output: the pooling, the
//! token-wise `Linear`, the tokenization of texts) and of Cargo.lock (burn's kernels among the
//! dependencies). The feature cache keys frozen encoders' outputs on it, so any change to an
//! encoder's forward pass, or to the library that computes it, invalidates cached features
//! instead of silently reusing stale ones. The crate version alone would not: it stays the same
//! across such fixes.

use std::path::{Path, PathBuf};

/// What a frozen encoder's output is computed by, relative to the crate root (folders are
/// walked).
const ENCODER_SOURCES: [&str; 5] = [
    "src/encoders",
    "src/pooling.rs",
    "src/rows.rs",
    "src/data/tokenize.rs",
    "src/data/tokenize",
];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    for source in ENCODER_SOURCES {
        collect_files(&root.join(source), &mut files);
    }
    files.push(root.join("Cargo.lock"));
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue; // Cargo.lock is absent in some package builds
        };
        let relative = file.strip_prefix(&root).unwrap_or(file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    println!(
        "cargo:rustc-env=EMO_ENCODER_CODE={}",
        hasher.finalize().to_hex()
    );
    for source in ENCODER_SOURCES {
        println!("cargo:rerun-if-changed={source}");
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=build.rs");
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}
