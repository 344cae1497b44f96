//! The method registry. A fusion method is one file that defines its keys (a serde struct with
//! defaults and doc comments), its module, and an implementation of [`Method`] that says which
//! streams it takes and how its keys build the module; one line of [`registry!`] in
//! `fusion/mod.rs` registers it. From that list come `fusion.method`'s values
//! ([`FusionMethod`]), the typed `[fusion]` table ([`FusionConfig`], one variant per method
//! holding that method's keys), the run-time module ([`Fusion`]), the JSON Schema and docs of
//! `[fusion]`, `emo-run methods` and the validation of keys.

use std::collections::BTreeMap;
use std::fmt::Debug;

use burn::prelude::*;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{FusionInputs, FusionSpec};
use crate::modality::{Form, Modality};
use crate::params::ModuleParams;

/// The keys of one method's `[fusion]` table: every field has a default (`#[serde(default)]`)
/// and a doc comment, which the schema, docs/CONFIG.md and `emo-run methods` show.
pub trait MethodKeys:
    Default + Clone + Debug + PartialEq + Serialize + DeserializeOwned + JsonSchema
{
}

impl<T> MethodKeys for T where
    T: Default + Clone + Debug + PartialEq + Serialize + DeserializeOwned + JsonSchema
{
}

/// What the task asks of the method's output, for the methods whose checks depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskShape {
    /// Regression targets among the outputs (0 for classification and multi-label).
    pub regression_targets: usize,
    /// Whether class logits are among the outputs too.
    pub classes: bool,
}

/// The message of a head that erases the scale of regression outputs.
pub fn erases_regression_scale(what: &str, instead: &str) -> String {
    format!(
        "{what} layer-norms its outputs before averaging them, which erases the scale of regression values; use {instead}task.kind = \"classification\" or \"multilabel\""
    )
}

/// One fusion method: its keys, its module, the streams it takes.
pub trait Method {
    /// What the method is, in a sentence or two (the `fusion.method` docs).
    const SUMMARY: &'static str;
    /// The streams the method consumes and in which form, in its input order.
    const NEEDS: &'static [(Modality, Form)];
    type Keys: MethodKeys;
    type Module: Module + Debug;

    fn init(keys: &Self::Keys, spec: &FusionSpec, device: &Device) -> Self::Module;

    /// Logits `[batch, n_classes]` from the streams the method declared.
    fn forward(module: &Self::Module, inputs: &FusionInputs) -> Tensor<2>;

    /// Keys of the table that these keys' own choices leave unread (text_only's `hidden` under
    /// `head = "seed000"`): setting one is refused like a key of another method.
    fn unread(_keys: &Self::Keys) -> &'static [&'static str] {
        &[]
    }

    /// What is wrong with the keys' values, alone or for this task, as `(key, message)`.
    fn problems(_keys: &Self::Keys, _task: TaskShape) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// What is wrong with the keys for the streams' widths, which are known only once the
    /// encoders' configs are read (cross_modal's `heads` must divide the text width), as
    /// `(key, message)`.
    fn width_problems(_keys: &Self::Keys, _spec: &FusionSpec) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// A named group of parameters inside the module, for `train.optimizer.module_lr`
    /// (`fusion.<name>`).
    fn param_group(_module: &Self::Module, _name: &str) -> Option<burn::module::ParamGroup> {
        None
    }

    /// Parts of the module that its paper counts on their own (see `ModuleParams::parts`).
    fn parameter_parts(_module: &Self::Module) -> Vec<ModuleParams> {
        Vec::new()
    }

    /// The multiply-accumulates the method's passes computed since the last call and what its
    /// dense counterpart would have, `(computed, dense)`, then reset (mme2e_sparse); training
    /// logs their ratio per split and epoch.
    fn take_compute(_module: &Self::Module) -> Option<(u64, u64)> {
        None
    }

    /// A mean attention map the method accumulates over evaluation passes (rsa).
    fn attention_mean(_module: &Self::Module) -> Option<Tensor<2>> {
        None
    }

    /// Forget that accumulated map.
    fn reset_attention_mean(_module: &Self::Module) {}
}

/// Generates the enums of every registered method from one list of `Variant(MethodType)`:
/// the variant's snake_case name is the method's `fusion.method` value.
macro_rules! registry {
    ($($variant:ident($method:ty)),* $(,)?) => {
        /// The value of `fusion.method`.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum FusionMethod {
            $($variant),*
        }

        impl FusionMethod {
            /// Every method, in the order `emo-run methods` lists them.
            pub const ALL: &'static [FusionMethod] = &[$(FusionMethod::$variant),*];

            /// The streams the method consumes and in which form, in its input order.
            pub fn needs(self) -> &'static [($crate::modality::Modality, $crate::modality::Form)] {
                match self {
                    $(FusionMethod::$variant => <$method as $crate::fusion::registry::Method>::NEEDS),*
                }
            }

            /// What the method is.
            pub fn summary(self) -> &'static str {
                match self {
                    $(FusionMethod::$variant => <$method as $crate::fusion::registry::Method>::SUMMARY),*
                }
            }

            /// The method with every key at its default.
            pub fn default_config(self) -> FusionConfig {
                match self {
                    $(FusionMethod::$variant => FusionConfig::$variant(Default::default())),*
                }
            }

            /// The JSON Schema of the method's keys.
            pub fn keys_schema(self) -> serde_json::Value {
                match self {
                    $(FusionMethod::$variant => serde_json::to_value(
                        schemars::schema_for!(<$method as $crate::fusion::registry::Method>::Keys),
                    )
                    .unwrap_or_default()),*
                }
            }
        }

        /// The `[fusion]` table: the method and the keys it reads.
        #[derive(Debug, Clone, PartialEq)]
        pub enum FusionConfig {
            $($variant(<$method as $crate::fusion::registry::Method>::Keys)),*
        }

        impl FusionConfig {
            pub fn method(&self) -> FusionMethod {
                match self {
                    $(FusionConfig::$variant(_) => FusionMethod::$variant),*
                }
            }

            /// The keys of the method, as a JSON object.
            pub fn keys_value(&self) -> serde_json::Value {
                match self {
                    $(FusionConfig::$variant(k) => serde_json::to_value(k).unwrap_or_default()),*
                }
            }

            fn from_keys(method: FusionMethod, keys: serde_json::Value) -> Result<Self, serde_json::Error> {
                match method {
                    $(FusionMethod::$variant => {
                        serde_json::from_value(keys).map(FusionConfig::$variant)
                    }),*
                }
            }

            /// Keys these settings leave unread (see [`Method::unread`]).
            pub fn unread(&self) -> &'static [&'static str] {
                match self {
                    $(FusionConfig::$variant(k) => <$method as $crate::fusion::registry::Method>::unread(k)),*
                }
            }

            /// What is wrong with the keys' values, as `(key, message)`.
            pub fn problems(
                &self,
                task: $crate::fusion::registry::TaskShape,
            ) -> Vec<(&'static str, String)> {
                match self {
                    $(FusionConfig::$variant(k) => <$method as $crate::fusion::registry::Method>::problems(k, task)),*
                }
            }

            /// What is wrong with the keys for the widths of `spec`, as `(key, message)`.
            pub fn width_problems(
                &self,
                spec: &$crate::fusion::FusionSpec,
            ) -> Vec<(&'static str, String)> {
                match self {
                    $(FusionConfig::$variant(k) => <$method as $crate::fusion::registry::Method>::width_problems(k, spec)),*
                }
            }

            /// The module, at the sizes of `spec`.
            pub fn init(&self, spec: &$crate::fusion::FusionSpec, device: &burn::prelude::Device) -> Fusion {
                match self {
                    $(FusionConfig::$variant(k) => {
                        Fusion::$variant(<$method as $crate::fusion::registry::Method>::init(k, spec, device))
                    }),*
                }
            }
        }

        /// The fusion module of a model: one variant per method.
        // Boxing the variants would buy nothing: one Fusion exists per model.
        #[allow(clippy::large_enum_variant)]
        #[derive(Module, Debug)]
        pub enum Fusion {
            $($variant(<$method as $crate::fusion::registry::Method>::Module)),*
        }

        impl Fusion {
            /// The method this module is (`fusion.method`).
            pub fn method(&self) -> FusionMethod {
                match self {
                    $(Fusion::$variant(_) => FusionMethod::$variant),*
                }
            }

            /// Logits `[batch, n_classes]` from the streams the method declared.
            pub fn forward(&self, inputs: &$crate::fusion::FusionInputs) -> burn::prelude::Tensor<2> {
                match self {
                    $(Fusion::$variant(m) => <$method as $crate::fusion::registry::Method>::forward(m, inputs)),*
                }
            }

            /// The parameters of a named group inside the method, for
            /// `train.optimizer.module_lr` (`fusion.factors`: lmf's three modality factors).
            pub fn param_group(&self, name: &str) -> Option<burn::module::ParamGroup> {
                match self {
                    $(Fusion::$variant(m) => <$method as $crate::fusion::registry::Method>::param_group(m, name)),*
                }
            }

            /// Parts of the method that its paper counts on their own.
            pub fn parameter_parts(&self) -> Vec<$crate::params::ModuleParams> {
                match self {
                    $(Fusion::$variant(m) => <$method as $crate::fusion::registry::Method>::parameter_parts(m)),*
                }
            }

            /// MACs computed and dense MACs since the last call (mme2e_sparse; see
            /// [`Method::take_compute`]), `None` for every other method.
            pub fn take_compute(&self) -> Option<(u64, u64)> {
                match self {
                    $(Fusion::$variant(m) => <$method as $crate::fusion::registry::Method>::take_compute(m)),*
                }
            }

            /// rsa's mean attention map `[D, D]` over the evaluation samples since the last
            /// reset (`fusion.rsa_attention_mean`); `None` for every other method.
            pub fn attention_mean(&self) -> Option<burn::prelude::Tensor<2>> {
                match self {
                    $(Fusion::$variant(m) => <$method as $crate::fusion::registry::Method>::attention_mean(m)),*
                }
            }

            /// Forget rsa's accumulated attention maps; a no-op for every other method.
            pub fn reset_attention_mean(&self) {
                match self {
                    $(Fusion::$variant(m) => <$method as $crate::fusion::registry::Method>::reset_attention_mean(m)),*
                }
            }
        }
    };
}

pub(crate) use registry;

use super::{FusionConfig, FusionMethod};

impl FusionMethod {
    /// The name the experiment file writes (`early_fusion`).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }

    /// Whether the method consumes `modality` at all.
    pub fn uses(self, modality: Modality) -> bool {
        self.needs().iter().any(|(m, _)| *m == modality)
    }

    /// The form in which the method takes `modality`, if it takes it.
    pub fn form_of(self, modality: Modality) -> Option<Form> {
        self.needs()
            .iter()
            .find(|(m, _)| *m == modality)
            .map(|(_, f)| *f)
    }

    /// The `fusion.*` keys the method reads (under some choice of its own keys), by name.
    pub fn keys(self) -> &'static [&'static str] {
        &table_names(self)[1..]
    }

    /// Whether the method reads `key` under some choice of its own keys.
    pub fn has_key(self, key: &str) -> bool {
        table_names(self).contains(&key)
    }
}

/// The `properties` of an object schema, flattened structs (`allOf`) included, by name.
pub fn properties(schema: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    collect_properties(schema, schema, &mut out);
    out
}

fn collect_properties(root: &Value, node: &Value, out: &mut BTreeMap<String, Value>) {
    let node = match node.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs").and_then(|d| d.get(name)))
            .unwrap_or(node),
        None => node,
    };
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    for list in ["allOf", "anyOf"] {
        for sub in node
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect_properties(root, sub, out);
        }
    }
}

impl Default for FusionConfig {
    fn default() -> Self {
        FusionMethod::EarlyFusion.default_config()
    }
}

impl FusionConfig {
    /// The settings of `method` with every key at its default.
    pub fn of(method: FusionMethod) -> Self {
        method.default_config()
    }
}

impl Serialize for FusionConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let keys = self.keys_value();
        let fields = keys.as_object().cloned().unwrap_or_default();
        // `method` first, then the keys by name.
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("method", &self.method())?;
        for &key in self.method().keys() {
            if let Some(value) = fields.get(key).filter(|v| !v.is_null()) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FusionConfig {
    /// `method` (default `early_fusion`) picks the keys struct. A key that another method
    /// reads is left for validation, which refuses it with the methods that read it and its
    /// line; a key that no method reads is an unknown field here.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = Map::<String, Value>::deserialize(deserializer)?;
        let method = match table.remove("method") {
            None => FusionMethod::EarlyFusion,
            Some(value) => FusionMethod::deserialize(value).map_err(|e| {
                D::Error::custom(format!(
                    "method: {}",
                    e.to_string().replace("variant", "value")
                ))
            })?,
        };
        let own = method.keys();
        let mut keys = Map::new();
        for (key, value) in table {
            if own.contains(&key.as_str()) {
                keys.insert(key, value);
            } else if !FusionMethod::ALL.iter().any(|m| m.has_key(&key)) {
                return Err(D::Error::unknown_field(&key, table_names(method)));
            }
        }
        FusionConfig::from_keys(method, Value::Object(keys.clone())).map_err(|e| {
            D::Error::custom(culprit(method, &keys).unwrap_or_default() + &e.to_string())
        })
    }
}

/// `"<key>: "` for the first key whose value alone fails to deserialise, so the message names
/// it (the whole table is deserialised at once, so serde_json's error does not).
fn culprit(method: FusionMethod, keys: &Map<String, Value>) -> Option<String> {
    keys.iter()
        .find(|(k, v)| {
            let one = Map::from_iter([((*k).clone(), (*v).clone())]);
            FusionConfig::from_keys(method, Value::Object(one)).is_err()
        })
        .map(|(k, _)| format!("{k}: "))
}

/// `method` and then the keys of `method` by name, read from its keys struct's schema once per
/// process. `'static` because serde's unknown-field error takes such a list: leaked once per
/// method, a handful of short strings for the life of the process.
fn table_names(method: FusionMethod) -> &'static [&'static str] {
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<BTreeMap<FusionMethod, &'static [&'static str]>>> =
        OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    names.entry(method).or_insert_with(|| {
        let list: Vec<&'static str> = std::iter::once("method".to_string())
            .chain(properties(&method.keys_schema()).into_keys())
            .map(|k| &*Box::leak(k.into_boxed_str()))
            .collect();
        Box::leak(list.into_boxed_slice())
    })
}

impl JsonSchema for FusionMethod {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FusionMethod".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let variants: Vec<Value> = FusionMethod::ALL
            .iter()
            .map(|m| {
                serde_json::json!({
                    "type": "string",
                    "const": m.name(),
                    "description": m.summary(),
                })
            })
            .collect();
        schemars::json_schema!({ "oneOf": variants })
    }
}

impl JsonSchema for FusionConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FusionConfig".into()
    }

    /// One object with `method` and every method's keys, each key's description ending in the
    /// methods that read it and its default (per method when they differ).
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut props = Map::new();
        let mut method =
            serde_json::to_value(generator.subschema_for::<FusionMethod>()).unwrap_or_default();
        if let Value::Object(m) = &mut method {
            m.insert(
                "description".into(),
                "The fusion method; `emo-run methods` lists each one's streams and keys.".into(),
            );
        }
        props.insert("method".into(), method);
        for (key, (schema, readers)) in key_catalogue() {
            let mut schema = schema;
            if let Value::Object(s) = &mut schema {
                let doc = s
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                s.insert(
                    "description".into(),
                    format!("{doc} Read by {}.", readers.join(", "))
                        .trim()
                        .into(),
                );
            }
            props.insert(key, schema);
        }
        schemars::json_schema!({
            "type": "object",
            "properties": props,
            "additionalProperties": false,
        })
    }
}

/// Every key of every method: its schema (the first method's that has it, with `$ref`s
/// inlined and its `default`) and the methods that read it.
pub fn key_catalogue() -> BTreeMap<String, (Value, Vec<String>)> {
    let mut out: BTreeMap<String, (Value, Vec<String>)> = BTreeMap::new();
    for &method in FusionMethod::ALL {
        let schema = method.keys_schema();
        let defaults = method.default_config().keys_value();
        for (key, prop) in properties(&schema) {
            let entry = out.entry(key.clone()).or_insert_with(|| {
                let mut prop = inline(&schema, &prop);
                if let (Value::Object(p), Some(d)) = (&mut prop, defaults.get(&key)) {
                    p.insert("default".into(), d.clone());
                }
                (prop, Vec::new())
            });
            entry.1.push(method.name());
        }
    }
    out
}

/// `prop` with a top-level `$ref` into `root`'s `$defs` replaced by its target (descriptions
/// of the property kept), so the schema stands alone.
fn inline(root: &Value, prop: &Value) -> Value {
    let target = prop
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs").and_then(|d| d.get(name)));
    match (target, prop) {
        (Some(Value::Object(t)), Value::Object(p)) => {
            let mut merged = t.clone();
            for (k, v) in p {
                if k != "$ref" {
                    merged.insert(k.clone(), v.clone());
                }
            }
            Value::Object(merged)
        }
        _ => prop.clone(),
    }
}

/// The keys of a method that has none: its seed fixed every size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NoKeys {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Value) -> Result<FusionConfig, String> {
        serde_json::from_value::<FusionConfig>(value).map_err(|e| e.to_string())
    }

    #[test]
    fn every_method_round_trips_through_its_table() {
        for &method in FusionMethod::ALL {
            let config = method.default_config();
            assert_eq!(config.method(), method);
            let table = serde_json::to_value(&config).unwrap();
            assert_eq!(table["method"], Value::String(method.name()));
            assert_eq!(parse(table).unwrap(), config, "{}", method.name());
            assert!(!method.summary().is_empty() && !method.needs().is_empty());
        }
    }

    #[test]
    fn a_table_without_method_is_early_fusion_and_missing_keys_take_defaults() {
        let config = parse(serde_json::json!({"hidden": 7})).unwrap();
        let FusionConfig::EarlyFusion(keys) = config else {
            panic!("{config:?}")
        };
        assert_eq!(keys.head.hidden, 7);
        assert_eq!(keys.head.dropout, 0.1);
        let lmf = parse(serde_json::json!({"method": "lmf", "rank": 8})).unwrap();
        let FusionConfig::Lmf(keys) = lmf else {
            panic!("{lmf:?}")
        };
        assert_eq!((keys.rank, keys.subnets.audio_hidden), (8, 4));
    }

    #[test]
    fn unknown_keys_and_wrong_values_name_the_key() {
        let err = parse(serde_json::json!({"method": "lmf", "rnak": 8})).unwrap_err();
        assert!(err.contains("rnak") && err.contains("rank"), "{err}");
        let err = parse(serde_json::json!({"method": "lmf", "rank": "four"})).unwrap_err();
        assert!(err.starts_with("rank: "), "{err}");
        let err = parse(serde_json::json!({"method": "lmff"})).unwrap_err();
        assert!(err.contains("lmff") && err.contains("tfn"), "{err}");
    }

    #[test]
    fn a_key_of_another_method_is_left_to_validation() {
        // Validation refuses it with the methods that read it (config::applicable); the
        // table itself still parses, so every problem of a file is reported at once.
        let config = parse(serde_json::json!({"method": "tfn", "rank": 2})).unwrap();
        assert_eq!(config, FusionMethod::Tfn.default_config());
    }

    #[test]
    fn the_catalogue_knows_every_key_and_who_reads_it() {
        let catalogue = key_catalogue();
        assert_eq!(catalogue["rank"].1, ["lmf"]);
        assert_eq!(catalogue["proj_dim"].1, ["rsa_cfn", "hybrid_fusion"]);
        assert_eq!(catalogue["post_fusion_dim"].0["default"], 32);
        for &method in FusionMethod::ALL {
            for &key in method.keys() {
                assert!(catalogue.contains_key(key), "{key}");
            }
        }
    }
}
