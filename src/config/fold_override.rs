//! `[fold.<name>]`: settings of one fold that differ from the rest of the file. Seed 002 tunes
//! each emotion of the per-emotion protocol separately (its table A.5: widths, rank, dropouts,
//! learning rates, batch size, decay, seed), and one file runs all four, so each emotion's
//! fold carries its own `fusion`, `train` and `seed` on top of the file's.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::experiment::Experiment;

/// Keys of one fold that override the file's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FoldOverride {
    /// Any `fusion.*` keys (`rank = 4`, `audio_hidden = 8`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fusion: Map<String, Value>,
    /// Any `train.*` keys (`batch_size = 64`, `optimizer = { lr = 3e-3 }`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub train: Map<String, Value>,
    /// The fold's seed (init, shuffles and dropout of this fold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl FoldOverride {
    /// Dotted keys this override sets, as `fusion.rank`, `train.optimizer.lr`, `seed`.
    pub fn dotted_keys(&self) -> std::collections::BTreeSet<String> {
        let value = serde_json::to_value(self).unwrap_or_default();
        super::applicable::dotted_keys(&value)
    }
}

impl Experiment {
    /// The experiment fold `name` runs: the file's settings with `[fold.<name>]` merged on top
    /// (tables merged key by key), and no fold tables of its own.
    pub fn for_fold(&self, name: &str) -> Result<Experiment, String> {
        let mut base = self.clone();
        let overrides = std::mem::take(&mut base.fold);
        let Some(over) = overrides.get(name) else {
            return Ok(base);
        };
        let mut value = serde_json::to_value(&base).map_err(|e| e.to_string())?;
        let root = value.as_object_mut().expect("an experiment is a table");
        merge_into(root, "fusion", &over.fusion);
        merge_into(root, "train", &over.train);
        if let Some(seed) = over.seed {
            root.insert("seed".into(), Value::from(seed));
        }
        serde_json::from_value(value).map_err(|e| format!("fold.{name}: {e}"))
    }
}

/// `over` merged onto the table `table` of `root` (created when absent), key by key.
pub(super) fn merge_into(root: &mut Map<String, Value>, table: &str, over: &Map<String, Value>) {
    let target = root
        .entry(table)
        .or_insert_with(|| Value::Object(Map::new()));
    merge(target, &Value::Object(over.clone()));
}

/// `over` merged onto `target`: tables key by key, anything else replaced.
fn merge(target: &mut Value, over: &Value) {
    match (target, over) {
        (Value::Object(t), Value::Object(o)) => {
            for (k, v) in o {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, o) => *t = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FusionConfig, FusionMethod};

    #[test]
    fn a_fold_gets_its_own_keys_on_top_of_the_file() {
        let mut exp = Experiment {
            fusion: FusionConfig::of(FusionMethod::Lmf),
            ..Default::default()
        };
        exp.train.optimizer.lr = 1e-3;
        let over: FoldOverride = serde_json::from_value(serde_json::json!({
            "fusion": {"rank": 16},
            "train": {"batch_size": 128, "optimizer": {"weight_decay": 0.002}},
            "seed": 7
        }))
        .unwrap();
        exp.fold.insert("happy".into(), over);
        let happy = exp.for_fold("happy").unwrap();
        let FusionConfig::Lmf(keys) = &happy.fusion else {
            panic!("{:?}", happy.fusion)
        };
        assert_eq!(keys.rank, 16);
        assert_eq!(happy.train.batch_size, 128);
        assert_eq!(happy.train.optimizer.weight_decay, 0.002);
        assert_eq!(
            happy.train.optimizer.lr, 1e-3,
            "untouched keys keep the file's"
        );
        assert_eq!(happy.seed, 7);
        assert!(happy.fold.is_empty());
        let sad = exp.for_fold("sad").unwrap();
        assert_eq!(sad.fusion, exp.fusion);
        assert_eq!(sad.seed, exp.seed);
    }

    #[test]
    fn a_wrong_value_in_a_fold_is_an_error_naming_the_fold() {
        let mut exp = Experiment {
            fusion: FusionConfig::of(FusionMethod::Lmf),
            ..Default::default()
        };
        let over: FoldOverride =
            serde_json::from_value(serde_json::json!({"fusion": {"rank": "four"}})).unwrap();
        exp.fold.insert("sad".into(), over);
        let err = exp.for_fold("sad").unwrap_err();
        assert!(err.starts_with("fold.sad"), "{err}");
    }
}
