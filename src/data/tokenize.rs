//! WordPiece tokenizer trained on a fold's training transcripts (no pretrained vocabulary is
//! available offline), saved as a Hugging Face `tokenizer.json` so the run can be reloaded.

use std::path::Path;

use tokenizers::models::TrainerWrapper;
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainerBuilder};
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{
    AddedToken, PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

use crate::config::TokenizerConfig;

const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
pub const PAD_ID: u32 = 0;

/// Token ids and attention mask of one utterance, already padded to `max_len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub mask: Vec<bool>,
}

/// Train a BERT-style WordPiece tokenizer on `texts` with fixed-length padding and truncation.
pub fn train_wordpiece<'a>(
    texts: impl Iterator<Item = &'a str> + Send,
    cfg: &TokenizerConfig,
    max_len: usize,
) -> anyhow::Result<Tokenizer> {
    let special: Vec<AddedToken> = SPECIAL.iter().map(|t| AddedToken::from(*t, true)).collect();
    let mut trainer: TrainerWrapper = WordPieceTrainerBuilder::new()
        .vocab_size(cfg.vocab)
        .min_frequency(cfg.min_frequency)
        .special_tokens(special)
        .show_progress(false)
        .build()
        .into();
    let model = WordPiece::builder()
        .unk_token("[UNK]".into())
        .build()
        .map_err(|e| anyhow::anyhow!("building WordPiece: {e}"))?;
    let mut tokenizer = Tokenizer::new(model);
    // strip_accents = false: NFD would split Hangul syllables into jamo.
    tokenizer.with_normalizer(Some(BertNormalizer::new(true, true, Some(false), true)));
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    tokenizer
        .train(&mut trainer, texts)
        .map_err(|e| anyhow::anyhow!("training the WordPiece tokenizer: {e}"))?;
    let canonical = canonical_ids(&tokenizer)?;
    tokenizer.with_model(canonical);
    let id = |t: &str| {
        tokenizer
            .token_to_id(t)
            .expect("special tokens are in the vocabulary")
    };
    let (cls, sep, pad) = (id("[CLS]"), id("[SEP]"), id("[PAD]"));
    tokenizer.with_post_processor(Some(BertProcessing::new(
        ("[SEP]".into(), sep),
        ("[CLS]".into(), cls),
    )));
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::Fixed(max_len),
        direction: PaddingDirection::Right,
        pad_to_multiple_of: None,
        pad_id: pad,
        pad_type_id: 0,
        pad_token: "[PAD]".into(),
    }));
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_len,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction: TruncationDirection::Right,
        }))
        .map_err(|e| anyhow::anyhow!("setting truncation: {e}"))?;
    Ok(tokenizer)
}

/// The trainer assigns ids in hash-map order, which changes from process to process; renumber
/// the learned pieces (special tokens first, then by text) so that the same training split
/// always gives the same ids, and a resumed run the same model.
fn canonical_ids(tokenizer: &Tokenizer) -> anyhow::Result<WordPiece> {
    let mut tokens: Vec<String> = tokenizer.get_vocab(false).into_keys().collect();
    tokens.sort_by(|a, b| {
        let rank = |t: &str| {
            SPECIAL
                .iter()
                .position(|s| *s == t)
                .unwrap_or(SPECIAL.len())
        };
        rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
    });
    let vocab: ahash::AHashMap<String, u32> = tokens.into_iter().zip(0u32..).collect();
    WordPiece::builder()
        .vocab(vocab)
        .unk_token("[UNK]".into())
        .build()
        .map_err(|e| anyhow::anyhow!("building WordPiece: {e}"))
}

pub fn encode(tokenizer: &Tokenizer, text: &str) -> anyhow::Result<Encoded> {
    let enc = tokenizer
        .encode(text, true)
        .map_err(|e| anyhow::anyhow!("tokenizing {text:?}: {e}"))?;
    Ok(Encoded {
        ids: enc.get_ids().to_vec(),
        mask: enc.get_attention_mask().iter().map(|&m| m == 1).collect(),
    })
}

pub fn save(tokenizer: &Tokenizer, path: &Path) -> anyhow::Result<()> {
    let json = tokenizer
        .to_string(true)
        .map_err(|e| anyhow::anyhow!("serialising tokenizer: {e}"))?;
    crate::run::atomic::write_atomic(path, json.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trains_pads_and_truncates_korean_text() {
        let texts = [
            "n/ 아 친구들도 정말 깜짝 놀랐어",
            "오늘 날씨가 좋아요",
            "정말 무서워 l/",
            "친구들도 좋아요",
        ];
        let cfg = TokenizerConfig {
            vocab: 200,
            min_frequency: 1,
            ..Default::default()
        };
        let tok = train_wordpiece(texts.iter().copied().cycle().take(40), &cfg, 8).unwrap();
        let enc = encode(&tok, "친구들도 좋아요").unwrap();
        assert_eq!(enc.ids.len(), 8);
        assert_eq!(enc.ids[0], tok.token_to_id("[CLS]").unwrap());
        assert!(
            enc.ids.contains(&tok.token_to_id("좋아요").unwrap()),
            "Hangul words stay whole: {:?}",
            tok.decode(&enc.ids, false)
        );
        assert_eq!(
            enc.mask.iter().filter(|&&m| m).count(),
            4,
            "[CLS] 친구들도 좋아요 [SEP]"
        );
        assert_eq!(*enc.ids.last().unwrap(), PAD_ID);
        let again = train_wordpiece(texts.iter().copied().cycle().take(40), &cfg, 8).unwrap();
        assert_eq!(
            tok.to_string(false).unwrap(),
            again.to_string(false).unwrap(),
            "training is deterministic"
        );
        let long = encode(&tok, &"좋아요 ".repeat(50)).unwrap();
        assert_eq!(long.ids.len(), 8);
        assert_eq!(long.ids[7], tok.token_to_id("[SEP]").unwrap());
    }
}
