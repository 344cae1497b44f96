//! Keys that the chosen fusion method does not read.
//!
//! A key the method ignores is refused when the user sets it (in a file, an `EMO_*` variable or
//! `--set`), even to its default value: a config that says `proj_dim = 64` for `early_fusion`
//! reads as if it mattered, and a comparison would silently run something else than it says.
//! Defaults that nobody wrote are not keys the user set, so they are never refused.

use std::collections::BTreeSet;

use super::error::Located;
use super::experiment::{Experiment, FusionHead, FusionMethod};
use super::names::serde_name;

/// Which `fusion.*` keys `method` (with its `head`) reads. This rule is the one place that
/// ties keys to methods: validation, the resolved config, `emo-run methods` and the docs
/// derive from it.
pub fn reads(method: FusionMethod, head: FusionHead, key: &str) -> bool {
    use FusionMethod::*;
    let headed = matches!(method, EarlyFusion | LateFusion | TextOnly | AudioOnly);
    let mlp = (headed && head == FusionHead::Mlp) || method == VisualOnly;
    let linear = matches!(method, TextOnly | AudioOnly) && head == FusionHead::Linear;
    let subnets = matches!(method, Lmf | Tfn);
    match key {
        "method" => true,
        "head" => headed,
        "hidden" => mlp,
        "dropout" => mlp || linear,
        // hybrid_fusion's early branch is seed 000's early head, which reads the order.
        "order" => matches!(method, EarlyFusion | HybridFusion),
        "proj_dim" => matches!(method, RsaCfn | HybridFusion),
        "rsa_attention_mean" => method == Rsa,
        "mixer_dim" | "mixer_audio_tokens" | "mixer_pad_batch" => method == MlpMixer,
        "audio_hidden" | "visual_hidden" | "text_hidden" | "text_out" | "audio_dropout"
        | "visual_dropout" | "text_dropout" => subnets,
        "rank" => method == Lmf,
        "post_fusion_dim" | "post_fusion_dropout" | "tfn_output" => method == Tfn,
        _ => true, // unknown keys are refused by deserialisation with their own message
    }
}

const HEADS: [FusionHead; 3] = [FusionHead::Mlp, FusionHead::Seed000, FusionHead::Linear];

/// The methods that read `key`, as a sentence, each with the heads under which it reads the
/// key when that is not every head: `early_fusion (head = mlp), visual_only`.
pub fn readers(key: &str) -> String {
    let mut names = Vec::new();
    for method in FusionMethod::ALL {
        let heads: Vec<FusionHead> = HEADS
            .into_iter()
            .filter(|&h| reads(method, h, key))
            .collect();
        if heads.is_empty() {
            continue;
        }
        let conditional = heads.len() < HEADS.len();
        names.push(if conditional {
            let heads: Vec<String> = heads.iter().map(serde_name).collect();
            format!("{} (head = {})", method.name(), heads.join(" or "))
        } else {
            method.name()
        });
    }
    names.join(", ")
}

/// The `fusion.*` keys `method` reads under some head, in `keys` order (the config's own).
pub fn keys_of(method: FusionMethod, keys: &[String]) -> Vec<String> {
    keys.iter()
        .filter(|k| k.as_str() != "method")
        .filter(|k| HEADS.into_iter().any(|h| reads(method, h, k)))
        .cloned()
        .collect()
}

/// A problem for every `fusion.*` key in `set_keys` (dotted keys the user set) that the method
/// does not read.
pub fn inapplicable_fusion_keys(exp: &Experiment, set_keys: &BTreeSet<String>) -> Vec<Located> {
    let (method, head) = (exp.fusion.method, exp.fusion.head);
    set_keys
        .iter()
        .filter_map(|k| k.strip_prefix("fusion."))
        .filter(|key| !reads(method, head, key))
        .map(|key| Located {
            file: None,
            line: 0,
            column: 0,
            key: format!("fusion.{key}"),
            message: format!(
                "is not read by method = {}{}; it belongs to {}. Remove it, or move it to the file of the method that reads it",
                method.name(),
                if matches!(key, "hidden" | "dropout") {
                    format!(" with head = {}", serde_name(&head))
                } else {
                    String::new()
                },
                readers(key)
            ),
        })
        .collect()
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
        exp.fusion.method = FusionMethod::EarlyFusion;
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

        exp.fusion.method = FusionMethod::RsaCfn;
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
