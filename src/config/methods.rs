//! The method registry as users see it: every `fusion.method`, the streams it takes and the
//! `fusion.*` keys it reads, with their defaults and docs. Derived from the registry (each
//! method's summary, streams and keys struct, whose doc comments come through its JSON
//! Schema), so `emo-run methods`, docs/CONFIG.md and validation cannot disagree.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::fusion::FusionMethod;
use crate::fusion::registry::properties;

/// One method, as `emo-run methods` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct MethodInfo {
    pub method: String,
    pub summary: String,
    /// `(modality, form)` in the method's input order.
    pub streams: Vec<(String, String)>,
    pub keys: Vec<KeyInfo>,
}

/// One `fusion.*` key a method reads.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub key: String,
    pub default: Value,
    pub doc: String,
}

/// Every registered method.
pub fn methods() -> Vec<MethodInfo> {
    FusionMethod::ALL
        .iter()
        .map(|&method| {
            let defaults = method.default_config().keys_value();
            MethodInfo {
                method: method.name(),
                summary: method.summary().to_string(),
                streams: method
                    .needs()
                    .iter()
                    .map(|(m, f)| (m.name().to_string(), f.name().to_string()))
                    .collect(),
                keys: properties(&method.keys_schema())
                    .into_iter()
                    .map(|(key, schema)| KeyInfo {
                        default: defaults.get(&key).cloned().unwrap_or(Value::Null),
                        doc: one_line(
                            schema
                                .get("description")
                                .and_then(Value::as_str)
                                .unwrap_or_default(),
                        ),
                        key,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The listing `emo-run methods` prints.
pub fn render(methods: &[MethodInfo]) -> String {
    let mut out = String::new();
    for m in methods {
        let _ = writeln!(out, "{}\n  streams: {}", m.method, streams(m));
        let _ = writeln!(out, "  {}", one_line(&m.summary));
        if m.keys.is_empty() {
            let _ = writeln!(out, "  keys: none");
        }
        for k in &m.keys {
            let _ = writeln!(out, "  fusion.{} = {}", k.key, show(&k.default));
        }
        out.push('\n');
    }
    out
}

/// The Markdown table of methods for docs/CONFIG.md.
pub fn markdown(methods: &[MethodInfo]) -> String {
    let mut md = String::from(
        "## Methods\n\n`emo-run methods` prints this list. Setting a `fusion.*` key that the \
         chosen method does not read is an error that names the methods that read it.\n\n\
         | `fusion.method` | streams | keys it reads | what it is |\n|---|---|---|---|\n",
    );
    for m in methods {
        let keys: Vec<String> = m.keys.iter().map(|k| format!("`{}`", k.key)).collect();
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} |",
            m.method,
            streams(m),
            if keys.is_empty() {
                "none".to_string()
            } else {
                keys.join(", ")
            },
            one_line(&m.summary).replace('|', "\\|")
        );
    }
    md
}

/// `audio (pooled), visual (pooled), text (sequence)`.
fn streams(m: &MethodInfo) -> String {
    let each: Vec<String> = m
        .streams
        .iter()
        .map(|(modality, form)| format!("{modality} ({form})"))
        .collect();
    each.join(", ")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "unset".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_is_listed_with_its_streams_summary_and_own_keys() {
        let listed = methods();
        assert_eq!(listed.len(), FusionMethod::ALL.len());
        for m in &listed {
            assert!(!m.summary.is_empty(), "{} has no doc", m.method);
            assert!(!m.streams.is_empty(), "{} takes no stream", m.method);
        }
        let lmf = listed.iter().find(|m| m.method == "lmf").unwrap();
        let keys: Vec<&str> = lmf.keys.iter().map(|k| k.key.as_str()).collect();
        assert!(
            keys.contains(&"rank") && !keys.contains(&"post_fusion_dim"),
            "{keys:?}"
        );
        assert_eq!(
            lmf.streams,
            [
                ("audio", "pooled"),
                ("visual", "pooled"),
                ("text", "sequence")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let early = listed.iter().find(|m| m.method == "early_fusion").unwrap();
        let keys: Vec<&str> = early.keys.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(keys, ["dropout", "head", "hidden", "order"]);
        let text = render(&listed);
        assert!(text.contains("fusion.rank = 4"), "{text}");
    }
}
