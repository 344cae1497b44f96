//! `docs/CONFIG.md`, generated from the JSON Schema and the built-in defaults so that it lists
//! every key and cannot drift (a test compares it with the committed file).

use std::fmt::Write as _;

use serde_json::Value;

use super::experiment::Experiment;

/// The Markdown reference of every key.
pub fn config_reference_markdown() -> String {
    let schema = serde_json::to_value(schemars::schema_for!(Experiment)).expect("schema is JSON");
    let defaults = serde_json::to_value(Experiment::default()).expect("defaults are JSON");
    let mut md = String::from(
        "# Experiment file reference\n\n\
         Generated from the code by `emo-run schema --markdown`; do not edit by hand.\n\n\
         Layering, lowest first: built-in defaults < `extends` files < the file < `EMO_*`\n\
         environment variables (`EMO_TRAIN__EPOCHS=3`: `__` separates tables) < `--set key=value`.\n\
         Unknown keys are errors. Relative paths are taken from the working directory, except\n\
         `extends`, which is relative to the file that names it.\n\n",
    );
    let mut rows = Vec::new();
    walk(&schema, &schema, &defaults, "", &mut rows);
    // A nested table's rows come in the middle of its parent's; keep each section in one piece,
    // sections in the order they first appear.
    let section_of = |key: &str| {
        key.rsplit_once('.')
            .map_or("(top level)".to_string(), |(s, _)| format!("[{s}]"))
    };
    let mut order: Vec<String> = Vec::new();
    for (key, ..) in &rows {
        let section = section_of(key);
        if !order.contains(&section) {
            order.push(section);
        }
    }
    rows.sort_by_key(|(key, ..)| order.iter().position(|s| *s == section_of(key)));
    let mut table = String::new();
    let mut current = String::new();
    for (key, ty, default, doc) in rows {
        let section = section_of(&key);
        if section != current {
            if !current.is_empty() {
                table.push('\n');
            }
            let _ = writeln!(
                table,
                "## {section}\n\n| key | type | default | meaning |\n|---|---|---|---|"
            );
            current = section;
        }
        let _ = writeln!(table, "| `{key}` | {ty} | {default} | {doc} |");
    }
    md.push_str(&table);
    md.push('\n');
    md.push_str(&super::methods::markdown(&super::methods::methods()));
    md
}

type Row = (String, String, String, String);

fn walk(root: &Value, node: &Value, defaults: &Value, prefix: &str, rows: &mut Vec<Row>) {
    let node = resolve(root, node);
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        // A key of a method other than the default one has its default in its schema.
        let default = defaults
            .get(name)
            .or_else(|| prop.get("default"))
            .cloned()
            .unwrap_or(Value::Null);
        let target = object_target(root, prop);
        match target {
            Some(obj) if !default.is_null() || !is_optional(prop) => {
                walk(root, obj, &default, &key, rows)
            }
            Some(obj) => {
                rows.push((
                    key.clone(),
                    "table (optional)".into(),
                    "absent".into(),
                    describe(root, prop),
                ));
                walk(root, obj, &optional_table_defaults(&key), &key, rows);
            }
            None => rows.push((
                key,
                type_name(root, prop),
                show_default(&default),
                describe(root, prop),
            )),
        }
    }
}

/// Defaults of a table that is absent unless written (shown for when it is written).
fn optional_table_defaults(key: &str) -> Value {
    match key {
        "dataset.synthetic" => {
            serde_json::to_value(super::dataset_options::SynthConfig::default()).expect("JSON")
        }
        _ => Value::Null,
    }
}

/// Follow `$ref` and single-branch `anyOf` (schemars' encoding of `Option<T>`).
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        return root.get("$defs").and_then(|d| d.get(name)).unwrap_or(node);
    }
    node
}

fn is_optional(prop: &Value) -> bool {
    prop.get("anyOf").is_some()
}

/// The object schema behind a property, if it is a table.
fn object_target<'a>(root: &'a Value, prop: &'a Value) -> Option<&'a Value> {
    let candidates: Vec<&Value> = match prop.get("anyOf").and_then(Value::as_array) {
        Some(branches) => branches.iter().collect(),
        None => vec![prop],
    };
    candidates
        .into_iter()
        .map(|c| resolve(root, c))
        .find(|c| c.get("properties").is_some())
}

fn type_name(root: &Value, prop: &Value) -> String {
    let node = resolve(root, prop);
    if let Some(options) = enum_values(root, node) {
        return format!("one of {}", options.join(", "));
    }
    // `anyOf` on the property is schemars' `Option<T>`; on the referenced type, an untagged
    // enum (such as `"mix"` or a channel index). Only a `null` branch makes the key optional.
    if let Some(branches) = prop
        .get("anyOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Value::as_array)
    {
        let is_null = |b: &&Value| b.get("type").and_then(Value::as_str) == Some("null");
        let names: Vec<String> = branches
            .iter()
            .filter(|b| !is_null(b))
            .map(|b| type_name(root, b))
            .collect();
        let optional = if branches.iter().any(|b| is_null(&b)) {
            " (optional)"
        } else {
            ""
        };
        return format!("{}{optional}", names.join(" or "));
    }
    match node.get("type") {
        Some(Value::String(t)) if t == "array" => {
            let item = node
                .get("items")
                .map(|i| type_name(root, i))
                .unwrap_or_default();
            format!("list of {item}")
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "value".into(),
    }
}

/// `enum` of plain strings, or `oneOf` of documented constants (schemars' encoding of a
/// documented unit enum).
fn enum_values(root: &Value, node: &Value) -> Option<Vec<String>> {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return Some(
            values
                .iter()
                .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
                .collect(),
        );
    }
    let branches = node.get("oneOf").and_then(Value::as_array)?;
    let mut out = Vec::new();
    for b in branches {
        let b = resolve(root, b);
        if let Some(c) = b.get("const").and_then(Value::as_str) {
            out.push(format!("`{c}`"));
        } else if let Some(values) = b.get("enum").and_then(Value::as_array) {
            out.extend(
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|v| format!("`{v}`")),
            );
        } else {
            return None;
        }
    }
    Some(out)
}

/// The property's own doc, then its type's doc and each enum variant's doc.
fn describe(root: &Value, prop: &Value) -> String {
    let own = prop
        .get("description")
        .and_then(Value::as_str)
        .map(String::from);
    let target = resolve(root, prop);
    let mut parts: Vec<String> = own.into_iter().collect();
    if parts.is_empty()
        && let Some(d) = target.get("description").and_then(Value::as_str)
    {
        parts.push(d.to_string());
    }
    if let Some(branches) = target.get("oneOf").and_then(Value::as_array) {
        for b in branches {
            if let (Some(c), Some(d)) = (
                b.get("const").and_then(Value::as_str),
                b.get("description").and_then(Value::as_str),
            ) {
                parts.push(format!("`{c}`: {d}"));
            }
        }
    }
    parts.join(" ").replace('\n', " ").replace('|', "\\|")
}

fn show_default(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        other => format!("`{}`", other.to_string().replace('|', "\\|")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_reference_matches_the_code() {
        let committed = include_str!("../../docs/CONFIG.md");
        assert!(
            committed == super::config_reference_markdown(),
            "docs/CONFIG.md is stale: run `cargo run -- schema --markdown > docs/CONFIG.md`"
        );
    }

    #[test]
    fn lists_nested_and_inline_table_keys() {
        let md = super::config_reference_markdown();
        for key in [
            "`train.optimizer.lr`",
            "`dataset.synthetic.seed`",
            "`encoders.text.tokenizer.vocab`",
            "`fusion.method`",
            "`encoders.audio.input.channel`",
        ] {
            assert!(md.contains(key), "{key} missing");
        }
    }
}
