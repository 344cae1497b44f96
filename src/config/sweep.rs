//! `[sweep]`: one file that stands for many experiments (cells). A paper's table is a grid of
//! methods x seeds x a few hyperparameters, and published baselines are often "the best of N
//! random draws", so a sweep combines three parts:
//!
//! - `grid`: every combination of its lists (the cartesian product);
//! - `zip`: lists of one length, taken position by position;
//! - `random`: `draws` seeded random draws, each key from a list or a range.
//!
//! Cells are the product of the three parts (each absent part counts as one empty choice), in
//! the order random draw, zip row, grid combination, with the grid's last key varying fastest.
//! Each cell is the file with its values set as `--set` assignments would set them, below the
//! command line's own `--set`, and validated like any file.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `[sweep]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SweepConfig {
    /// Every combination of these lists, by dotted key: `{ "fusion.method" = ["early_fusion",
    /// "late_fusion"], seed = [1, 2] }` gives four cells.
    pub grid: BTreeMap<String, Vec<Value>>,
    /// Lists of one length, taken position by position: `{ "train.optimizer.lr" = [1e-3, 1e-4],
    /// "train.batch_size" = [32, 64] }` gives two cells.
    pub zip: BTreeMap<String, Vec<Value>>,
    /// Seeded random draws.
    pub random: Option<RandomSweep>,
}

/// `[sweep.random]`: `draws` cells, each key drawn from its list or range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RandomSweep {
    /// How many cells to draw.
    pub draws: usize,
    /// Seed of the draws (the same seed draws the same cells).
    #[serde(default)]
    pub seed: u64,
    /// What each dotted key is drawn from: a list (`["a", "b"]`, uniformly) or a range
    /// (`{ min = 1e-4, max = 1e-2, log = true }`; `integer = true` draws whole numbers).
    pub keys: BTreeMap<String, Choice>,
}

/// Where a random key's values come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Choice {
    List(Vec<Value>),
    Range(Range),
}

/// A range of numbers, both ends included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: f64,
    pub max: f64,
    /// Uniform in log space (learning rates, weight decays); needs `min > 0`.
    #[serde(default)]
    pub log: bool,
    /// Whole numbers (batch sizes, widths).
    #[serde(default)]
    pub integer: bool,
}

/// One cell: the values it sets, by dotted key, in the sweep's key order.
pub type Cell = Vec<(String, Value)>;

impl SweepConfig {
    /// Whether the table sets anything at all.
    pub fn is_empty(&self) -> bool {
        self.grid.is_empty() && self.zip.is_empty() && self.random.is_none()
    }

    /// What is wrong with the table, as `(key under sweep, message)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, values) in &self.grid {
            if values.is_empty() {
                out.push((format!("grid.{key}"), "an empty list gives no cell".into()));
            }
        }
        let lengths: Vec<usize> = self.zip.values().map(Vec::len).collect();
        if lengths.iter().any(|&n| n != lengths[0]) || lengths.first() == Some(&0) {
            let listed: Vec<String> = self
                .zip
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.len()))
                .collect();
            out.push((
                "zip".into(),
                format!(
                    "expected lists of one non-zero length, found {}",
                    listed.join(", ")
                ),
            ));
        }
        if let Some(random) = &self.random {
            out.extend(random.problems());
        }
        let mut seen = BTreeMap::new();
        for (part, key) in self.keys() {
            if let Some(other) = seen.insert(key.clone(), part) {
                out.push((
                    format!("{part}.{key}"),
                    format!("is swept in `{other}` too; sweep each key in one part"),
                ));
            }
        }
        out
    }

    /// `(part, dotted key)` of every swept key.
    fn keys(&self) -> Vec<(&'static str, String)> {
        let mut keys: Vec<(&'static str, String)> = Vec::new();
        keys.extend(self.grid.keys().map(|k| ("grid", k.clone())));
        keys.extend(self.zip.keys().map(|k| ("zip", k.clone())));
        if let Some(r) = &self.random {
            keys.extend(r.keys.keys().map(|k| ("random", k.clone())));
        }
        keys
    }

    /// Every cell, in order (see the module doc). Call after [`SweepConfig::problems`] came
    /// back empty.
    pub fn cells(&self) -> Vec<Cell> {
        let draws = match &self.random {
            Some(r) => r.draw(),
            None => vec![Vec::new()],
        };
        let rows = zip_rows(&self.zip);
        let combos = grid_combinations(&self.grid);
        let mut cells = Vec::new();
        for draw in &draws {
            for row in &rows {
                for combo in &combos {
                    cells.push([draw.clone(), row.clone(), combo.clone()].concat());
                }
            }
        }
        cells
    }
}

impl RandomSweep {
    fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.draws == 0 {
            out.push((
                "random.draws".into(),
                "found 0, expected at least one draw".into(),
            ));
        }
        if self.keys.is_empty() {
            out.push((
                "random.keys".into(),
                "expected at least one key to draw".into(),
            ));
        }
        for (key, choice) in &self.keys {
            let problem = match choice {
                Choice::List(values) if values.is_empty() => Some("an empty list".to_string()),
                Choice::Range(r) if !(r.min.is_finite() && r.max.is_finite() && r.min <= r.max) => {
                    Some(format!(
                        "expected finite min <= max, found {} and {}",
                        r.min, r.max
                    ))
                }
                Choice::Range(r) if r.log && r.min <= 0.0 => {
                    Some(format!("log = true needs min > 0, found {}", r.min))
                }
                Choice::Range(r) if r.integer && r.min.ceil() > r.max.floor() => Some(format!(
                    "integer = true, but no whole number lies in [{}, {}]",
                    r.min, r.max
                )),
                _ => None,
            };
            if let Some(message) = problem {
                out.push((format!("random.keys.{key}"), message));
            }
        }
        out
    }

    /// `draws` cells from the seed; each draw takes its keys in name order.
    fn draw(&self) -> Vec<Cell> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        (0..self.draws)
            .map(|_| {
                self.keys
                    .iter()
                    .map(|(key, choice)| (key.clone(), choice.draw(&mut rng)))
                    .collect()
            })
            .collect()
    }
}

impl Choice {
    fn draw(&self, rng: &mut ChaCha8Rng) -> Value {
        match self {
            Choice::List(values) => values[rng.random_range(0..values.len())].clone(),
            Choice::Range(r) if r.integer => {
                Value::from(rng.random_range(r.min.ceil() as i64..=r.max.floor() as i64))
            }
            Choice::Range(r) => {
                let u: f64 = rng.random();
                let x = if r.log {
                    (r.min.ln() + u * (r.max.ln() - r.min.ln())).exp()
                } else {
                    r.min + u * (r.max - r.min)
                };
                Value::from(x.clamp(r.min, r.max))
            }
        }
    }
}

fn zip_rows(zip: &BTreeMap<String, Vec<Value>>) -> Vec<Cell> {
    let n = zip.values().map(Vec::len).next().unwrap_or(0);
    if n == 0 {
        return vec![Vec::new()];
    }
    (0..n)
        .map(|i| zip.iter().map(|(k, v)| (k.clone(), v[i].clone())).collect())
        .collect()
}

fn grid_combinations(grid: &BTreeMap<String, Vec<Value>>) -> Vec<Cell> {
    let mut combos: Vec<Cell> = vec![Vec::new()];
    for (key, values) in grid {
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut cell = prefix.clone();
                    cell.push((key.clone(), v.clone()));
                    cell
                })
            })
            .collect();
    }
    combos
}

/// A cell's values as `--set` assignments (`fusion.method="late_fusion"`).
pub fn assignments(cell: &Cell) -> Vec<String> {
    cell.iter()
        .map(|(key, value)| {
            let literal = toml::Value::try_from(value)
                .map(|v| v.to_string())
                .unwrap_or_else(|_| value.to_string());
            format!("{key}={literal}")
        })
        .collect()
}

/// A short name for a cell, for its run folder: `fusion.method=late_fusion,seed=2`, with
/// characters other than letters, digits and `._=,-` replaced by `-`.
pub fn cell_label(cell: &Cell) -> String {
    let parts: Vec<String> = cell
        .iter()
        .map(|(key, value)| {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{key}={shown}")
        })
        .collect();
    parts
        .join(",")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=,-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sweep(value: Value) -> SweepConfig {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn grid_is_the_cartesian_product_with_the_last_key_fastest() {
        let s = sweep(json!({"grid": {"fusion.method": ["a", "b"], "seed": [1, 2, 3]}}));
        assert!(s.problems().is_empty());
        let cells = s.cells();
        assert_eq!(cells.len(), 6);
        assert_eq!(
            assignments(&cells[1]),
            ["fusion.method=\"a\"", "seed=2"],
            "{cells:?}"
        );
        assert_eq!(cell_label(&cells[5]), "fusion.method=b,seed=3");
    }

    #[test]
    fn zip_takes_lists_position_by_position_and_refuses_unequal_lengths() {
        let s = sweep(
            json!({"zip": {"train.optimizer.lr": [0.001, 0.0001], "train.batch_size": [32, 64]}}),
        );
        let cells = s.cells();
        assert_eq!(cells.len(), 2);
        assert_eq!(
            assignments(&cells[1]),
            ["train.batch_size=64", "train.optimizer.lr=0.0001"]
        );
        let bad = sweep(json!({"zip": {"a": [1, 2], "b": [1]}}));
        assert_eq!(bad.problems()[0].0, "zip");
    }

    #[test]
    fn random_draws_are_seeded_in_range_and_combine_with_the_grid() {
        let s = sweep(json!({
            "grid": {"seed": [1, 2, 3]},
            "random": {"draws": 4, "seed": 9, "keys": {
                "train.optimizer.lr": {"min": 1e-4, "max": 1e-2, "log": true},
                "train.batch_size": {"min": 8, "max": 64, "integer": true},
                "fusion.method": ["early_fusion", "late_fusion"]
            }}
        }));
        assert!(s.problems().is_empty(), "{:?}", s.problems());
        let cells = s.cells();
        assert_eq!(cells.len(), 12, "4 draws x 3 seeds");
        assert_eq!(cells, s.cells(), "the same seed draws the same cells");
        for cell in &cells {
            let lr = cell
                .iter()
                .find(|(k, _)| k == "train.optimizer.lr")
                .unwrap()
                .1
                .as_f64();
            assert!((1e-4..=1e-2).contains(&lr.unwrap()));
            let bs = cell.iter().find(|(k, _)| k == "train.batch_size").unwrap();
            assert!((8..=64).contains(&bs.1.as_i64().unwrap()), "{bs:?}");
        }
        // Each draw is rerun with every seed of the grid.
        assert_eq!(cells[0][..3], cells[1][..3]);
        let mut other = s.clone();
        other.random.as_mut().unwrap().seed = 10;
        assert_ne!(other.cells(), cells);
    }

    #[test]
    fn broken_tables_name_the_key() {
        let s = sweep(json!({
            "grid": {"seed": [], "fusion.method": ["a"]},
            "random": {"draws": 0, "keys": {
                "fusion.method": ["b"],
                "train.optimizer.lr": {"min": 0.0, "max": 1.0, "log": true},
                "x": {"min": 2, "max": 1}
            }}
        }));
        let keys: Vec<String> = s.problems().into_iter().map(|(k, _)| k).collect();
        for expected in [
            "grid.seed",
            "random.draws",
            "random.keys.train.optimizer.lr",
            "random.keys.x",
            "random.fusion.method",
        ] {
            assert!(keys.iter().any(|k| k == expected), "{expected}: {keys:?}");
        }
    }
}
