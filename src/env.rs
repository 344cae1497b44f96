//! `env.json`: what produced a run, so a number can be traced to a binary, a commit and a device.

use serde::Serialize;

use crate::config::Experiment;

#[derive(Debug, Clone, Serialize)]
pub struct RunEnv {
    pub emo_run_version: &'static str,
    pub git_revision: Option<String>,
    pub burn_version: &'static str,
    pub backend: String,
    pub device: String,
    pub features: Vec<&'static str>,
    pub host: Option<String>,
    pub os: &'static str,
    pub arch: &'static str,
    pub cpus: usize,
    pub seed: u64,
    pub started_utc: String,
    pub command_line: Vec<String>,
}

pub fn describe(exp: &Experiment) -> RunEnv {
    RunEnv {
        emo_run_version: env!("CARGO_PKG_VERSION"),
        git_revision: option_env!("EMO_RUN_GIT_REVISION")
            .map(String::from)
            .or_else(git_revision),
        burn_version: "0.22.1",
        backend: crate::device::parse_device(&exp.device)
            .map(|d| d.feature().to_string())
            .unwrap_or_default(),
        device: exp.device.clone(),
        features: enabled_features(),
        host: hostname::get().ok().and_then(|h| h.into_string().ok()),
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        seed: exp.seed,
        started_utc: chrono::Utc::now().to_rfc3339(),
        command_line: std::env::args().collect(),
    }
}

fn enabled_features() -> Vec<&'static str> {
    let mut features = Vec::new();
    if cfg!(feature = "flex") {
        features.push("flex");
    }
    if cfg!(feature = "cuda") {
        features.push("cuda");
    }
    if cfg!(feature = "tch") {
        features.push("tch");
    }
    features
}

/// The working tree's commit, when emo-run runs from a git checkout.
fn git_revision() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
