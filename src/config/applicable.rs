//! Keys that the chosen fusion method does not read.
//!
//! A key the method ignores is refused when the user sets it (in a file, an `EMO_*` variable or
//! `--set`), even to its default value: a config that says `proj_dim = 64` for `early_fusion`
//! reads as if it mattered, and a comparison would silently run something else than it says.
//! Defaults that nobody wrote are not keys the user set, so they are never refused.

use std::collections::BTreeSet;

use super::error::Located;
use super::experiment::Experiment;
use crate::fusion::{FusionConfig, FusionMethod};

/// Whether the `[fusion]` settings read `key`: the method's keys struct has it, and the
/// method's own choices (its head) do not leave it unread. Validation, the resolved config,
/// `emo-run methods` and the docs all follow this rule, which follows the registry.
pub fn reads(fusion: &FusionConfig, key: &str) -> bool {
    fusion.method().has_key(key) && !fusion.unread().contains(&key)
}

/// The methods whose keys include `key`, as a sentence: `early_fusion, late_fusion`.
pub fn readers(key: &str) -> String {
    FusionMethod::ALL
        .iter()
        .filter(|m| m.has_key(key))
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A problem for every `fusion.*` key in `set_keys` (dotted keys the user set) that the method
/// does not read.
pub fn inapplicable_fusion_keys(exp: &Experiment, set_keys: &BTreeSet<String>) -> Vec<Located> {
    let method = exp.fusion.method();
    set_keys
        .iter()
        .filter_map(|k| k.strip_prefix("fusion."))
        .filter(|key| !reads(&exp.fusion, key))
        .map(|key| Located {
            file: None,
            line: 0,
            column: 0,
            key: format!("fusion.{key}"),
            message: if method.has_key(key) {
                format!(
                    "is not read by method = {} with {}; remove it, or choose the setting that reads it",
                    method.name(),
                    own_choices(&exp.fusion)
                )
            } else {
                format!(
                    "is not read by method = {}; it belongs to {}. Remove it, or move it to the file of the method that reads it",
                    method.name(),
                    readers(key)
                )
            },
        })
        .collect()
}

/// The settings that decide which keys a method reads (its `head`), as `head = seed000`.
fn own_choices(fusion: &FusionConfig) -> String {
    let keys = fusion.keys_value();
    match keys.get("head").and_then(|v| v.as_str()) {
        Some(head) => format!("head = {head}"),
        None => "these settings".into(),
    }
}

/// Every dotted key of a nested JSON object (leaves only): `{"a": {"b": 1}}` gives `a.b`.
pub fn dotted_keys(value: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect(value, String::new(), &mut out);
    out
}

fn collect(value: &serde_json::Value, prefix: String, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                collect(v, key, out);
            }
        }
        _ => {
            out.insert(prefix);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_key_of_another_method_is_refused_with_the_methods_that_read_it() {
        let mut exp = Experiment::default();
        let problems = inapplicable_fusion_keys(
            &exp,
            &keys(&[
                "fusion.method",
                "fusion.proj_dim",
                "fusion.hidden",
                "train.epochs",
            ]),
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "fusion.proj_dim");
        assert!(
            problems[0].message.contains("rsa_cfn"),
            "{}",
            problems[0].message
        );

        exp.fusion = FusionConfig::of(FusionMethod::RsaCfn);
        let problems = inapplicable_fusion_keys(&exp, &keys(&["fusion.proj_dim", "fusion.hidden"]));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "fusion.hidden");
    }

    #[test]
    fn dotted_keys_name_the_leaves() {
        let value =
            serde_json::json!({"fusion": {"method": "x", "proj_dim": 3}, "seed": 1, "e": {}});
        assert_eq!(
            dotted_keys(&value),
            keys(&["e", "fusion.method", "fusion.proj_dim", "seed"])
        );
    }
}
