//! `[[stages]]`: several models trained one after another on the same corpus and folds, each a
//! named stage with its own `encoders`, `fusion`, `task`, `train` and `seed` on top of the
//! file's, which may consume what an earlier stage produced (`distill`: the teacher's scores on
//! its training split). Seed 003 (Multi-Still) is the reason: a teacher, then three students
//! distilled from it, in one file (docs/STAGES.md).
//!
//! A stage cannot change `dataset` or `split`: every stage trains and is tested on the same
//! folds, which is what makes a distilled student comparable to its teacher and keeps the
//! teacher of a fold from ever having seen that fold's test utterances.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::experiment::{Experiment, TaskKind};
use super::fold_override::merge_into;

/// One named stage of a multi-stage experiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// The stage's name: its folder under `checkpoints/` and `stages/`, its value in the
    /// `stage` column of the tables. Letters, digits, `_` and `-`.
    pub name: String,
    /// Stages that must finish before this one starts (a `distill.from` stage is implied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// Train against an earlier stage's outputs as well as the task's targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distill: Option<DistillConfig>,
    /// Any `encoders.*` keys of this stage (`text = { init = "random" }`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub encoders: Map<String, Value>,
    /// Any `fusion.*` keys. With a `method` other than the file's, the stage's table replaces
    /// the file's instead of being merged onto it (another method's keys would not apply).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fusion: Map<String, Value>,
    /// Any `task.*` keys.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub task: Map<String, Value>,
    /// Any `train.*` keys.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub train: Map<String, Value>,
    /// The stage's seed (init, shuffles and dropout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// `distill = { from = "teacher", loss = "mse_logits", weight = 1.0, temperature = 1.0 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistillConfig {
    /// The producing stage: its selected weights of the same fold score this stage's training
    /// split once, before this stage trains.
    pub from: String,
    /// How the student's class logits are compared with the teacher's.
    #[serde(default)]
    pub loss: DistillLoss,
    /// Weight of the distillation term; the task's loss has weight 1 (seed 003: 1:1).
    #[serde(default = "one")]
    pub weight: f64,
    /// Softmax temperature of `kl` (ignored by `mse_logits`, which compares raw logits).
    #[serde(default = "one")]
    pub temperature: f64,
}

fn one() -> f64 {
    1.0
}

/// The distillation term.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistillLoss {
    /// Seed 003: the mean squared error between the student's and the teacher's raw logits.
    #[default]
    MseLogits,
    /// The textbook form (Hinton et al.): `T² · KL(softmax(t/T) ‖ softmax(s/T))`, averaged over
    /// the batch.
    Kl,
}

impl Experiment {
    /// Whether this file runs several stages.
    pub fn has_stages(&self) -> bool {
        !self.stages.is_empty()
    }

    /// The experiment stage `name` runs: the file's settings with the stage's tables on top,
    /// and no stages of its own.
    pub fn for_stage(&self, name: &str) -> Result<Experiment, String> {
        let mut base = self.clone();
        let stages = std::mem::take(&mut base.stages);
        let stage = stages
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| format!("no stage named `{name}`"))?;
        let mut value = serde_json::to_value(&base).map_err(|e| e.to_string())?;
        let root = value.as_object_mut().expect("an experiment is a table");
        if replaces_method(&base, stage) {
            root.insert("fusion".into(), Value::Object(stage.fusion.clone()));
        } else {
            merge_into(root, "fusion", &stage.fusion);
        }
        merge_into(root, "encoders", &stage.encoders);
        merge_into(root, "task", &stage.task);
        merge_into(root, "train", &stage.train);
        if let Some(seed) = stage.seed {
            root.insert("seed".into(), Value::from(seed));
        }
        serde_json::from_value(value).map_err(|e| format!("stages.{name}: {e}"))
    }

    /// The experiment of every stage in the order they run, or the file itself when it has no
    /// stages: every model the file trains.
    pub fn stage_experiments(&self) -> Result<Vec<Experiment>, String> {
        if !self.has_stages() {
            return Ok(vec![self.clone()]);
        }
        self.stage_order()?
            .iter()
            .map(|name| self.for_stage(name))
            .collect()
    }

    /// Stage names in the order they run: each after the stages it needs, otherwise in file
    /// order. `Err` names a cycle (the config check refuses it before this is called).
    pub fn stage_order(&self) -> Result<Vec<String>, String> {
        let needs: BTreeMap<&str, BTreeSet<&str>> = self
            .stages
            .iter()
            .map(|s| (s.name.as_str(), s.needs()))
            .collect();
        let mut done: Vec<String> = Vec::new();
        while done.len() < self.stages.len() {
            let next = self.stages.iter().find(|s| {
                !done.contains(&s.name)
                    && needs[s.name.as_str()]
                        .iter()
                        .all(|n| done.iter().any(|d| d == n))
            });
            match next {
                Some(stage) => done.push(stage.name.clone()),
                None => {
                    let stuck: Vec<&str> = self
                        .stages
                        .iter()
                        .filter(|s| !done.contains(&s.name))
                        .map(|s| s.name.as_str())
                        .collect();
                    return Err(format!(
                        "the stages {} wait for each other (a cycle in `after` / `distill.from`)",
                        stuck.join(", ")
                    ));
                }
            }
        }
        Ok(done)
    }

    /// The stages that distill from `name`.
    pub fn consumers_of(&self, name: &str) -> Vec<&StageConfig> {
        self.stages
            .iter()
            .filter(|s| s.distill.as_ref().is_some_and(|d| d.from == name))
            .collect()
    }

    pub fn stage(&self, name: &str) -> Option<&StageConfig> {
        self.stages.iter().find(|s| s.name == name)
    }
}

impl StageConfig {
    /// The stages this one waits for.
    pub fn needs(&self) -> BTreeSet<&str> {
        self.after
            .iter()
            .map(String::as_str)
            .chain(self.distill.as_ref().map(|d| d.from.as_str()))
            .collect()
    }

    /// Dotted keys this stage sets, as `fusion.layers`, `train.epochs`, `seed`.
    pub fn dotted_keys(&self) -> BTreeSet<String> {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            for key in ["name", "after", "distill"] {
                map.remove(key);
            }
        }
        super::applicable::dotted_keys(&value)
    }
}

/// A stage's `fusion.method` that differs from the file's.
pub fn replaces_method(base: &Experiment, stage: &StageConfig) -> bool {
    stage
        .fusion
        .get("method")
        .and_then(Value::as_str)
        .is_some_and(|m| m != base.fusion.method().name())
}

/// What is wrong with the list of stages as a graph, keyed `stages.<name>...`: names, unknown
/// or cyclic dependencies, and a distillation its producer cannot feed. The stages' own
/// settings are checked by the loader, stage by stage.
pub fn graph_problems(exp: &Experiment) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let names: Vec<&str> = exp.stages.iter().map(|s| s.name.as_str()).collect();
    let known = names.join(", ");
    let mut seen = BTreeSet::new();
    for stage in &exp.stages {
        let key = format!("stages.{}", stage.name);
        if !valid_name(&stage.name) {
            out.push((
                "stages.name".into(),
                format!(
                    "found {:?}, expected a name of letters, digits, `_` and `-` (it names the stage's folders)",
                    stage.name
                ),
            ));
        }
        if !seen.insert(stage.name.as_str()) {
            out.push((
                format!("{key}.name"),
                "two stages have this name; each stage needs its own".into(),
            ));
        }
        for dep in &stage.after {
            if dep == &stage.name {
                out.push((
                    format!("{key}.after"),
                    "a stage cannot wait for itself".into(),
                ));
            } else if !names.contains(&dep.as_str()) {
                out.push((
                    format!("{key}.after"),
                    format!("no stage named `{dep}`; the stages are {known}"),
                ));
            }
        }
        if let Some(distill) = &stage.distill {
            out.extend(distill_problems(exp, stage, distill, &known));
        }
    }
    if out.is_empty()
        && let Err(cycle) = exp.stage_order()
    {
        out.push(("stages".into(), cycle));
    }
    out
}

fn distill_problems(
    exp: &Experiment,
    stage: &StageConfig,
    distill: &DistillConfig,
    known: &str,
) -> Vec<(String, String)> {
    let key = format!("stages.{}.distill", stage.name);
    let mut out = Vec::new();
    if distill.from == stage.name {
        out.push((
            format!("{key}.from"),
            "a stage cannot distill from itself".into(),
        ));
        return out;
    }
    if exp.stage(&distill.from).is_none() {
        out.push((
            format!("{key}.from"),
            format!("no stage named `{}`; the stages are {known}", distill.from),
        ));
        return out;
    }
    if !(distill.weight.is_finite() && distill.weight > 0.0) {
        out.push((
            format!("{key}.weight"),
            format!("found {}, expected a number above 0", distill.weight),
        ));
    }
    if !(distill.temperature.is_finite() && distill.temperature > 0.0) {
        out.push((
            format!("{key}.temperature"),
            format!("found {}, expected a number above 0", distill.temperature),
        ));
    }
    let (Ok(producer), Ok(consumer)) = (exp.for_stage(&distill.from), exp.for_stage(&stage.name))
    else {
        return out; // the loader reports the stage that does not build
    };
    if !has_class_logits(producer.task.kind) || !has_class_logits(consumer.task.kind) {
        out.push((
            format!("{key}.from"),
            format!(
                "distillation compares class logits, but stage `{}` has task.kind {:?} and stage `{}` {:?}; both need class outputs (classification, multilabel or multitask)",
                distill.from, producer.task.kind, stage.name, consumer.task.kind
            ),
        ));
    } else if has_regression(producer.task.kind) != has_regression(consumer.task.kind)
        || producer.task.kind != consumer.task.kind
    {
        out.push((
            format!("{key}.from"),
            format!(
                "stage `{}` (task.kind {:?}) cannot teach stage `{}` (task.kind {:?}): the outputs of both must have the same layout",
                distill.from, producer.task.kind, stage.name, consumer.task.kind
            ),
        ));
    }
    out
}

fn has_class_logits(kind: TaskKind) -> bool {
    !matches!(kind, TaskKind::Regression)
}

fn has_regression(kind: TaskKind) -> bool {
    matches!(kind, TaskKind::Regression | TaskKind::Multitask)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FusionConfig, FusionMethod};

    fn stage(name: &str, after: &[&str], distill: Option<&str>) -> StageConfig {
        StageConfig {
            name: name.into(),
            after: after.iter().map(|s| s.to_string()).collect(),
            distill: distill.map(|from| DistillConfig {
                from: from.into(),
                loss: DistillLoss::MseLogits,
                weight: 1.0,
                temperature: 1.0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_stage_gets_its_tables_on_top_of_the_file() {
        let mut exp = Experiment::default();
        exp.train.epochs = 7;
        let mut student = stage("student", &[], Some("teacher"));
        student.train.insert("batch_size".into(), Value::from(3));
        student.seed = Some(9);
        exp.stages = vec![stage("teacher", &[], None), student];
        let s = exp.for_stage("student").unwrap();
        assert_eq!(
            (s.train.batch_size, s.train.epochs, s.seed),
            (3, 7, 9),
            "untouched keys keep the file's"
        );
        assert!(s.stages.is_empty());
        assert_eq!(exp.for_stage("teacher").unwrap().train, exp.train);
        assert!(exp.for_stage("nobody").is_err());
    }

    #[test]
    fn another_method_replaces_the_fusion_table() {
        let exp = Experiment {
            fusion: FusionConfig::of(FusionMethod::Lmf),
            stages: vec![StageConfig {
                name: "b".into(),
                fusion: serde_json::from_value(serde_json::json!({"method": "early_fusion"}))
                    .unwrap(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let b = exp.for_stage("b").unwrap();
        assert_eq!(b.fusion.method(), FusionMethod::EarlyFusion);
    }

    #[test]
    fn stages_run_after_what_they_need_and_cycles_are_refused() {
        let exp = Experiment {
            stages: vec![
                stage("s1", &[], Some("t")),
                stage("t", &[], None),
                stage("s2", &["s1"], None),
            ],
            ..Default::default()
        };
        assert_eq!(exp.stage_order().unwrap(), ["t", "s1", "s2"]);
        assert!(graph_problems(&exp).is_empty());
        let cyclic = Experiment {
            stages: vec![stage("a", &["b"], None), stage("b", &[], Some("a"))],
            ..Default::default()
        };
        let problems = graph_problems(&cyclic);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].1.contains("a, b"), "{problems:?}");
    }

    #[test]
    fn unknown_names_duplicates_and_bad_weights_are_named() {
        let mut bad = stage("s", &["ghost"], Some("nobody"));
        bad.name = "s".into();
        let mut weighted = stage("w", &[], Some("t"));
        weighted.distill.as_mut().unwrap().weight = 0.0;
        let exp = Experiment {
            stages: vec![
                stage("t", &[], None),
                stage("t", &[], None),
                bad,
                weighted,
                stage("a b", &[], None),
            ],
            ..Default::default()
        };
        let keys: Vec<String> = graph_problems(&exp).into_iter().map(|p| p.0).collect();
        for expected in [
            "stages.t.name",
            "stages.s.after",
            "stages.s.distill.from",
            "stages.w.distill.weight",
            "stages.name",
        ] {
            assert!(keys.iter().any(|k| k == expected), "{expected}: {keys:?}");
        }
    }

    #[test]
    fn a_regression_stage_cannot_teach() {
        let mut teacher = stage("t", &[], None);
        teacher
            .task
            .insert("kind".into(), Value::from("regression"));
        let exp = Experiment {
            stages: vec![teacher, stage("s", &[], Some("t"))],
            ..Default::default()
        };
        let problems = graph_problems(&exp);
        assert!(
            problems
                .iter()
                .any(|(k, m)| k == "stages.s.distill.from" && m.contains("class logits")),
            "{problems:?}"
        );
    }
}
