//! The stages of one run: their order, their identities, their folders, and the reuse of a
//! stage that another run of the same experiment already finished.
//!
//! A single-stage experiment is the stage `main` and keeps the plain layout. A multi-stage one
//! (`[[stages]]`, docs/STAGES.md) gives each stage `stages/<name>/` (its `resolved.toml`, its
//! `identity.toml`, `model.json`, `DONE`) beside `checkpoints/<name>/fold-<k>/`.
//!
//! A stage's identity is its own experiment's (the file with the stage's tables on top) plus
//! how it distills and the identity of the stage it distills from. Editing a student changes
//! the run's identity, hence its folder, but not the teacher's: the new run takes the finished
//! teacher from the old folder (hard links) instead of training it again.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::experiment::MAIN_STAGE;
use super::identity::{Identity, run_identity};
use crate::config::Experiment;
use crate::config::stages::DistillConfig;
use crate::data::plan::DataPlan;

pub const STAGES_DIR: &str = "stages";
const DONE: &str = "DONE";
const IDENTITY: &str = "identity.toml";

/// One stage, ready to run.
pub struct StagePlan {
    pub name: String,
    /// The experiment the stage trains (the file's, with the stage's tables on top).
    pub exp: Experiment,
    pub distill: Option<DistillConfig>,
    /// A later stage distills from this one.
    pub exports: bool,
    pub identity: Identity,
    /// Whether the run has named stages (and so `stages/<name>/` folders).
    pub named: bool,
}

/// The stages of `exp`, in the order they run.
pub fn stage_plans(exp: &Experiment, plan: &DataPlan) -> anyhow::Result<Vec<StagePlan>> {
    if !exp.has_stages() {
        return Ok(vec![StagePlan {
            name: MAIN_STAGE.into(),
            exp: exp.clone(),
            distill: None,
            exports: false,
            identity: run_identity(exp, plan)?,
            named: false,
        }]);
    }
    let order = exp.stage_order().map_err(anyhow::Error::msg)?;
    let mut plans: Vec<StagePlan> = Vec::new();
    for name in order {
        let config = exp.stage(&name).expect("ordered names are stages");
        let stage_exp = exp.for_stage(&name).map_err(anyhow::Error::msg)?;
        let producer = config.distill.as_ref().map(|d| {
            let p = plans.iter().find(|p| p.name == d.from);
            p.expect("a producer runs before its consumer")
                .identity
                .hash
                .clone()
        });
        let identity = stage_identity(&stage_exp, plan, config.distill.as_ref(), producer)?;
        plans.push(StagePlan {
            exports: !exp.consumers_of(&name).is_empty(),
            name,
            exp: stage_exp,
            distill: config.distill.clone(),
            identity,
            named: true,
        });
    }
    Ok(plans)
}

/// The stage's experiment identity, with `[stage]`: how it distills and from which identity.
fn stage_identity(
    exp: &Experiment,
    plan: &DataPlan,
    distill: Option<&DistillConfig>,
    producer: Option<String>,
) -> anyhow::Result<Identity> {
    let base = run_identity(exp, plan)?;
    let mut table: toml::Table = toml::from_str(&base.toml).context("re-reading an identity")?;
    if let (Some(distill), Some(producer)) = (distill, producer) {
        let mut stage = toml::Table::try_from(distill).context("serialising distill")?;
        stage.insert("from_identity".into(), producer.into());
        table.insert("distill".into(), stage.into());
    }
    let toml = toml::to_string(&table).context("serialising a stage identity")?;
    let hash = blake3::hash(toml.as_bytes()).to_hex()[..12].to_string();
    Ok(Identity { toml, hash })
}

impl StagePlan {
    /// `stages/<name>/` of a run with named stages.
    pub fn folder(&self, run: &Path) -> Option<PathBuf> {
        self.named.then(|| run.join(STAGES_DIR).join(&self.name))
    }

    /// The stage finished in `run` with this identity.
    pub fn is_done_in(&self, run: &Path) -> bool {
        let Some(dir) = self.folder(run) else {
            return false;
        };
        dir.join(DONE).exists()
            && std::fs::read_to_string(dir.join(IDENTITY)).is_ok_and(|t| t == self.identity.toml)
    }

    /// Write the stage's `resolved.toml` and `identity.toml`.
    pub fn write_files(&self, run: &Path) -> anyhow::Result<()> {
        let Some(dir) = self.folder(run) else {
            return Ok(());
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let resolved = super::identity::resolved_toml(&self.exp)?;
        crate::atomic::write_atomic(&dir.join("resolved.toml"), resolved.as_bytes())?;
        crate::atomic::write_atomic(&dir.join(IDENTITY), self.identity.toml.as_bytes())
    }

    pub fn mark_done(&self, run: &Path) -> anyhow::Result<()> {
        let Some(dir) = self.folder(run) else {
            return Ok(());
        };
        crate::atomic::write_atomic(&dir.join(DONE), chrono::Utc::now().to_rfc3339().as_bytes())
    }

    /// Another run folder of the same experiment (under `runs_dir/<name>/`) where this stage
    /// finished with the same identity, newest first.
    pub fn finished_elsewhere(&self, run: &Path) -> anyhow::Result<Option<PathBuf>> {
        let Some(parent) = run.parent() else {
            return Ok(None);
        };
        let mut others: Vec<PathBuf> = std::fs::read_dir(parent)
            .with_context(|| format!("listing {}", parent.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir() && p != run)
            .collect();
        others.sort();
        Ok(others.into_iter().rev().find(|p| self.is_done_in(p)))
    }

    /// Take the finished stage from `other` into `run`: its checkpoints and its folder, as
    /// hard links where the file system allows (copies otherwise).
    pub fn adopt(&self, other: &Path, run: &Path) -> anyhow::Result<()> {
        let checkpoints = |root: &Path| root.join("checkpoints").join(&self.name);
        link_tree(&checkpoints(other), &checkpoints(run))?;
        if let (Some(from), Some(to)) = (self.folder(other), self.folder(run)) {
            link_tree(&from, &to)?;
        }
        Ok(())
    }
}

/// Recreate the files of `from` under `to`, hard-linked (or copied across file systems).
fn link_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            link_tree(&src, &dst)?;
            continue;
        }
        if dst.exists() {
            std::fs::remove_file(&dst).with_context(|| format!("replacing {}", dst.display()))?;
        }
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst)
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tree_recreates_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        std::fs::create_dir_all(from.join("fold-1")).unwrap();
        std::fs::write(from.join("fold-1/best.safetensors"), b"w").unwrap();
        std::fs::write(from.join("x.json"), b"{}").unwrap();
        let to = dir.path().join("b/c");
        link_tree(&from, &to).unwrap();
        link_tree(&from, &to).unwrap(); // again: replaces, no error
        assert_eq!(
            std::fs::read(to.join("fold-1/best.safetensors")).unwrap(),
            b"w"
        );
        assert_eq!(std::fs::read(to.join("x.json")).unwrap(), b"{}");
    }
}
