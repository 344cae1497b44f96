//! The JSON Schema of the experiment file, generated from the serde types so it cannot drift
//! (a test compares it with the committed `schemas/experiment.schema.json`).

use super::experiment::Experiment;

/// Pretty JSON Schema text, with a trailing newline, exactly as committed.
pub fn experiment_schema_json() -> String {
    let schema = schemars::schema_for!(Experiment);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON Schema always serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_matches_the_code() {
        let committed = include_str!("../../schemas/experiment.schema.json");
        let current = super::experiment_schema_json();
        assert!(
            committed == current,
            "schemas/experiment.schema.json is stale: run `cargo run -- schema > schemas/experiment.schema.json`"
        );
    }
}
