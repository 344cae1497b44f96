//! The CUDA path, compiled only with `--features cuda`: the tiny experiment trains end to end on
//! `cuda:0`. On a machine without an NVIDIA driver (CI) it prints why and passes, so the suite
//! stays green there; run it on a GPU machine with
//! `cargo test --features cuda --test cuda -- --nocapture`.
#![cfg(feature = "cuda")]

mod common;

use common::{bin, run, run_dirs, tiny_experiment};

/// Whether this machine has an NVIDIA driver to run CUDA kernels on.
fn has_nvidia_driver() -> bool {
    std::path::Path::new("/proc/driver/nvidia/version").exists()
}

#[test]
fn tiny_experiment_trains_on_cuda() {
    if !has_nvidia_driver() {
        eprintln!("skipped: no NVIDIA driver on this machine (/proc/driver/nvidia/version)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exp = tiny_experiment(dir.path(), "");
    let runs = dir.path().join("runs");
    let out = run(bin()
        .arg(&exp)
        .args(["--device", "cuda:0", "--quiet", "--runs-dir"])
        .arg(&runs));
    assert!(out.status.success());
    let run_dir = &run_dirs(&runs, "tiny")[0];
    assert!(run_dir.join("DONE").is_file());
    let env = std::fs::read_to_string(run_dir.join("env.json")).unwrap();
    assert!(env.contains("cuda"), "{env}");
}
