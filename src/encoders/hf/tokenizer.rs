//! The tokenizer of a Hugging Face folder (`tokenizer.json`), set to pad on the right to a fixed
//! length and to truncate there, like `tokenizer(..., padding="max_length", truncation=True,
//! max_length=max_len)` in `transformers`.

use std::path::Path;

use anyhow::{Context, bail};
use tokenizers::{
    PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

/// Pad tokens of the families supported, tried in order when the folder does not name one.
const KNOWN_PAD_TOKENS: [&str; 2] = ["[PAD]", "<pad>"];

/// See [`super::load_tokenizer`].
pub fn load(dir: &Path, max_len: usize) -> anyhow::Result<Tokenizer> {
    let path = dir.join("tokenizer.json");
    if !path.is_file() {
        bail!(
            "no tokenizer.json in {} (only fast-tokenizer folders are supported)",
            dir.display()
        );
    }
    let mut tokenizer = Tokenizer::from_file(&path)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let (pad_token, pad_id) = pad_token(dir, &tokenizer)?;
    let pad_type_id = tokenizer.get_padding().map_or(0, |p| p.pad_type_id);
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::Fixed(max_len),
        direction: PaddingDirection::Right,
        pad_to_multiple_of: None,
        pad_id,
        pad_type_id,
        pad_token,
    }));
    tokenizer
        .with_truncation(Some(TruncationParams {
            direction: TruncationDirection::Right,
            max_length: max_len,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        }))
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("cannot truncate {} at {max_len}", path.display()))?;
    Ok(tokenizer)
}

/// The pad token and its id: from tokenizer.json's own padding settings, else the `pad_token`
/// of special_tokens_map.json, else a conventional pad token present in the vocabulary.
fn pad_token(dir: &Path, tokenizer: &Tokenizer) -> anyhow::Result<(String, u32)> {
    if let Some(p) = tokenizer.get_padding() {
        return Ok((p.pad_token.clone(), p.pad_id));
    }
    let named = special_tokens_map_pad(dir)?;
    let candidates = named.iter().map(String::as_str).chain(KNOWN_PAD_TOKENS);
    for token in candidates {
        if let Some(id) = tokenizer.token_to_id(token) {
            return Ok((token.to_string(), id));
        }
    }
    bail!(
        "the tokenizer in {} has no pad token (none in tokenizer.json or special_tokens_map.json, and none of {} in its vocabulary)",
        dir.display(),
        KNOWN_PAD_TOKENS.join(", ")
    )
}

/// `pad_token` of special_tokens_map.json, written either as a string or as `{"content": …}`.
fn special_tokens_map_pad(dir: &Path) -> anyhow::Result<Option<String>> {
    let path = dir.join("special_tokens_map.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let map: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))?;
    let pad = &map["pad_token"];
    Ok(pad
        .as_str()
        .or_else(|| pad["content"].as_str())
        .map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_tokenizer_json_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path(), 8).unwrap_err().to_string();
        assert!(err.contains("tokenizer.json"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }

    #[test]
    fn special_tokens_map_names_the_pad_token_in_either_form() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("special_tokens_map.json");
        std::fs::write(&path, r#"{"pad_token": "<p>"}"#).unwrap();
        assert_eq!(
            special_tokens_map_pad(dir.path()).unwrap().as_deref(),
            Some("<p>")
        );
        std::fs::write(
            &path,
            r#"{"pad_token": {"content": "[P]", "lstrip": false}}"#,
        )
        .unwrap();
        assert_eq!(
            special_tokens_map_pad(dir.path()).unwrap().as_deref(),
            Some("[P]")
        );
    }
}
