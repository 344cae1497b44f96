//! `config.json` of a Hugging Face text-encoder folder, read the way `transformers` reads it:
//! keys the file leaves out (or sets to `null`) take the defaults of that model type's config
//! class, and keys this crate does not use are ignored.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::layer::Activation;

/// The architecture family, from `config.json`'s `model_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HfTextFamily {
    #[serde(rename = "bert")]
    Bert,
    #[serde(rename = "roberta")]
    Roberta,
    #[serde(rename = "xlm-roberta")]
    XlmRoberta,
    #[serde(rename = "electra")]
    Electra,
    #[serde(rename = "albert")]
    Albert,
}

impl HfTextFamily {
    pub const ALL: [HfTextFamily; 5] = [
        Self::Bert,
        Self::Roberta,
        Self::XlmRoberta,
        Self::Electra,
        Self::Albert,
    ];

    /// The `model_type` string Hugging Face writes for this family.
    pub fn model_type(self) -> &'static str {
        match self {
            Self::Bert => "bert",
            Self::Roberta => "roberta",
            Self::XlmRoberta => "xlm-roberta",
            Self::Electra => "electra",
            Self::Albert => "albert",
        }
    }

    pub fn from_model_type(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.model_type() == name)
    }

    /// Whether the base model (`BertModel`, `RobertaModel`, `AlbertModel`) carries a pooler.
    /// `ElectraModel` has none.
    pub fn has_pooler(self) -> bool {
        !matches!(self, Self::Electra)
    }
}

/// Serde mirror of the `config.json` keys the encoders use. `Default` is `BertConfig`'s
/// defaults; [`HfTextConfig::read`] starts from the defaults of the file's own model type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HfTextConfig {
    pub model_type: HfTextFamily,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: String,
    pub hidden_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub pad_token_id: usize,
    /// Width of the token embeddings when it differs from `hidden_size` (ELECTRA, ALBERT).
    pub embedding_size: Option<usize>,
    /// ALBERT: number of distinct layer groups the `num_hidden_layers` share.
    pub num_hidden_groups: usize,
    /// ALBERT: layers inside one group.
    pub inner_group_num: usize,
    pub position_embedding_type: String,
}

impl Default for HfTextConfig {
    fn default() -> Self {
        Self::defaults(HfTextFamily::Bert)
    }
}

impl HfTextConfig {
    /// The defaults of the `transformers` config class of `family`.
    pub fn defaults(family: HfTextFamily) -> Self {
        let bert = Self {
            model_type: family,
            vocab_size: 30522,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            embedding_size: None,
            num_hidden_groups: 1,
            inner_group_num: 1,
            position_embedding_type: "absolute".into(),
        };
        match family {
            HfTextFamily::Bert => bert,
            HfTextFamily::Roberta | HfTextFamily::XlmRoberta => Self {
                pad_token_id: 1,
                ..bert
            },
            HfTextFamily::Electra => Self {
                hidden_size: 256,
                num_attention_heads: 4,
                intermediate_size: 1024,
                embedding_size: Some(128),
                ..bert
            },
            HfTextFamily::Albert => Self {
                vocab_size: 30000,
                hidden_size: 4096,
                num_attention_heads: 64,
                intermediate_size: 16384,
                hidden_act: "gelu_new".into(),
                hidden_dropout_prob: 0.0,
                attention_probs_dropout_prob: 0.0,
                embedding_size: Some(128),
                ..bert
            },
        }
    }

    /// Reads `dir/config.json`. Errors name the file, and the value for an unknown model type.
    pub fn read(dir: &Path) -> anyhow::Result<HfTextConfig> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the encoder config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses the text of a `config.json` (see [`HfTextConfig::read`]).
    pub fn parse(text: &str) -> anyhow::Result<HfTextConfig> {
        let serde_json::Value::Object(file) = serde_json::from_str(text)? else {
            bail!("expected a JSON object");
        };
        let family = match file.get("model_type") {
            Some(serde_json::Value::String(name)) => HfTextFamily::from_model_type(name)
                .with_context(|| {
                    format!(
                        "model_type {name:?} is not a supported text encoder (expected one of {})",
                        supported_model_types()
                    )
                })?,
            other => bail!(
                "model_type is {}, expected one of {}",
                other.map_or("missing".to_string(), |v| v.to_string()),
                supported_model_types()
            ),
        };
        let serde_json::Value::Object(mut merged) = serde_json::to_value(Self::defaults(family))?
        else {
            unreachable!("a struct serialises to a JSON object");
        };
        // `null` means "unset" in Hugging Face configs, so the class default stays.
        merged.extend(file.into_iter().filter(|(_, v)| !v.is_null()));
        let config: HfTextConfig = serde_json::from_value(serde_json::Value::Object(merged))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the modules assume, so that [`HfTextConfig::init`] cannot fail later.
    pub fn validate(&self) -> anyhow::Result<()> {
        Activation::parse(&self.hidden_act)?;
        if self.position_embedding_type != "absolute" {
            bail!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                self.position_embedding_type
            );
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            bail!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size,
                self.num_attention_heads
            );
        }
        let groups = self.num_hidden_groups;
        if self.family() == HfTextFamily::Albert
            && (groups == 0 || !self.num_hidden_layers.is_multiple_of(groups))
        {
            bail!(
                "num_hidden_layers {} is not a multiple of num_hidden_groups {groups}",
                self.num_hidden_layers
            );
        }
        Ok(())
    }

    pub fn family(&self) -> HfTextFamily {
        self.model_type
    }

    /// Width of the embedding layer: `embedding_size` where the family factorises it.
    pub fn embedding_width(&self) -> usize {
        match self.family() {
            HfTextFamily::Electra | HfTextFamily::Albert => {
                self.embedding_size.unwrap_or(self.hidden_size)
            }
            _ => self.hidden_size,
        }
    }

    pub fn activation(&self) -> Activation {
        Activation::parse(&self.hidden_act).expect("hidden_act checked by validate()")
    }
}

fn supported_model_types() -> String {
    HfTextFamily::ALL.map(HfTextFamily::model_type).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_take_the_defaults_of_the_model_type() {
        let c = HfTextConfig::parse(
            r#"{"model_type": "roberta", "hidden_size": 64,
            "num_attention_heads": 4, "architectures": ["X"], "pad_token_id": null}"#,
        )
        .unwrap();
        assert_eq!(c.family(), HfTextFamily::Roberta);
        assert_eq!(c.hidden_size, 64);
        assert_eq!(c.pad_token_id, 1, "RobertaConfig's default pad id");
        let a = HfTextConfig::parse(
            r#"{"model_type": "albert", "hidden_size": 64,
            "num_attention_heads": 4}"#,
        )
        .unwrap();
        assert_eq!(
            (a.embedding_width(), a.hidden_act.as_str()),
            (128, "gelu_new")
        );
        let b = HfTextConfig::parse(r#"{"model_type": "bert", "embedding_size": 8}"#).unwrap();
        assert_eq!(
            b.embedding_width(),
            768,
            "BERT never factorises its embeddings"
        );
    }

    #[test]
    fn unknown_model_type_names_the_value_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"model_type": "gpt2"}"#).unwrap();
        let err = format!("{:#}", HfTextConfig::read(dir.path()).unwrap_err());
        assert!(err.contains("\"gpt2\""), "{err}");
        assert!(err.contains("config.json"), "{err}");
        assert!(
            err.contains("xlm-roberta"),
            "lists the supported types: {err}"
        );
    }

    #[test]
    fn missing_file_and_missing_model_type_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", HfTextConfig::read(dir.path()).unwrap_err());
        assert!(err.contains(&dir.path().join("config.json").display().to_string()));
        let err = format!(
            "{:#}",
            HfTextConfig::parse(r#"{"hidden_size": 8}"#).unwrap_err()
        );
        assert!(err.contains("model_type is missing"), "{err}");
    }

    #[test]
    fn unsupported_settings_are_refused() {
        for (text, needle) in [
            (r#"{"model_type": "bert", "hidden_act": "swish"}"#, "swish"),
            (
                r#"{"model_type": "bert", "position_embedding_type": "relative_key"}"#,
                "relative_key",
            ),
            (
                r#"{"model_type": "bert", "hidden_size": 10, "num_attention_heads": 4}"#,
                "multiple",
            ),
        ] {
            let err = format!("{:#}", HfTextConfig::parse(text).unwrap_err());
            assert!(err.contains(needle), "{err}");
        }
    }
}
