//! WordPiece tokenizer trained on a fold's training transcripts (no pretrained vocabulary is
//! available offline), saved as a Hugging Face `tokenizer.json` so the run can be reloaded.

use std::collections::BTreeMap;
use std::path::Path;

use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{
    AddedToken, Normalizer, OffsetReferential, OffsetType, PaddingDirection, PaddingParams,
    PaddingStrategy, PreTokenizedString, PreTokenizer, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

use crate::config::TokenizerConfig;

mod vocab;

const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
pub const PAD_ID: u32 = 0;

/// Token ids and attention mask of one utterance, already padded to `max_len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub mask: Vec<bool>,
}

/// Train a BERT-style WordPiece tokenizer on `texts` with fixed-length padding and truncation.
///
/// A pure function of its arguments, so a rerun gets a byte-identical `tokenizer.json`: the
/// vocabulary comes from `vocab::learn_vocabulary`, not the `tokenizers` crate's
/// `WordPieceTrainer`, which breaks ties between equally frequent pieces in hash-map order,
/// i.e. differently in every process (see `vocab`).
pub fn train_wordpiece<'a>(
    texts: impl Iterator<Item = &'a str>,
    cfg: &TokenizerConfig,
    max_len: usize,
) -> anyhow::Result<Tokenizer> {
    let mut tokenizer = Tokenizer::new(wordpiece_with_vocab(Default::default())?);
    // strip_accents = false: NFD would split Hangul syllables into jamo.
    tokenizer.with_normalizer(Some(BertNormalizer::new(true, true, Some(false), true)));
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    let word_counts = count_words(&tokenizer, texts)?;
    let pieces = vocab::learn_vocabulary(
        &word_counts,
        &vocab::VocabTarget {
            special: &SPECIAL,
            size: cfg.vocab,
            min_frequency: cfg.min_frequency,
        },
    );
    tokenizer.with_model(canonical_ids(pieces)?);
    // As `Tokenizer::train` does: special tokens in a text are matched whole, never split.
    let special: Vec<AddedToken> = SPECIAL.iter().map(|t| AddedToken::from(*t, true)).collect();
    tokenizer.add_special_tokens(&special);
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

/// How often each word occurs in `texts`, the words cut by `tokenizer`'s own normalizer and
/// pre-tokenizer so that they are exactly those the encoder will look up (the same steps
/// `Tokenizer::train` feeds its trainer with).
fn count_words<'a>(
    tokenizer: &Tokenizer,
    texts: impl Iterator<Item = &'a str>,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for text in texts {
        for word in pre_tokenized_words(tokenizer, text)? {
            *counts.entry(word).or_default() += 1;
        }
    }
    Ok(counts)
}

fn pre_tokenized_words(tokenizer: &Tokenizer, text: &str) -> anyhow::Result<Vec<String>> {
    let mut words = PreTokenizedString::from(text);
    if let Some(normalizer) = tokenizer.get_normalizer() {
        words
            .normalize(|n| normalizer.normalize(n))
            .map_err(|e| anyhow::anyhow!("normalizing {text:?}: {e}"))?;
    }
    if let Some(pre_tokenizer) = tokenizer.get_pre_tokenizer() {
        pre_tokenizer
            .pre_tokenize(&mut words)
            .map_err(|e| anyhow::anyhow!("pre-tokenizing {text:?}: {e}"))?;
    }
    Ok(words
        .get_splits(OffsetReferential::Original, OffsetType::Byte)
        .into_iter()
        .map(|(word, _, _)| word.to_owned())
        .collect())
}

/// Number the learned pieces special tokens first, then by text, so that the ids depend on
/// the vocabulary alone (not on the order the pieces were learned in), and a resumed run gets
/// the same model.
fn canonical_ids(mut pieces: Vec<String>) -> anyhow::Result<WordPiece> {
    let rank = |t: &str| {
        SPECIAL
            .iter()
            .position(|s| *s == t)
            .unwrap_or(SPECIAL.len())
    };
    pieces.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    wordpiece_with_vocab(pieces.into_iter().zip(0u32..).collect())
}

fn wordpiece_with_vocab(vocab: ahash::AHashMap<String, u32>) -> anyhow::Result<WordPiece> {
    WordPiece::builder()
        .vocab(vocab)
        .unk_token("[UNK]".into())
        .continuing_subword_prefix(vocab::CONTINUATION.into())
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
    crate::atomic::write_atomic(path, json.as_bytes())
}

/// Ids `[rows, max_len]` of `indices` and their real token counts (also what frozen text
/// extraction feeds the encoder).
pub fn text_arrays(
    encoded: &[Encoded],
    indices: &[usize],
) -> (burn::tensor::TensorData, Vec<usize>) {
    let len = encoded[indices[0]].ids.len();
    let mut ids = Vec::with_capacity(indices.len() * len);
    let mut lengths = Vec::with_capacity(indices.len());
    for &i in indices {
        ids.extend(encoded[i].ids.iter().map(|&id| id as i64));
        lengths.push(encoded[i].mask.iter().filter(|&&m| m).count());
    }
    (
        burn::tensor::TensorData::new(ids, [indices.len(), len]),
        lengths,
    )
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

    /// A few hundred short sentences from eight syllables: many subwords occur equally often, so
    /// every tie between merges and at the vocabulary cut is exercised.
    fn hangul_tie_corpus() -> Vec<String> {
        use rand::seq::IndexedRandom;
        use rand::{Rng, SeedableRng};
        const SYLLABLES: [&str; 8] = ["가", "나", "다", "라", "마", "바", "사", "아"];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        (0..300)
            .map(|_| {
                let words: Vec<String> = (0..rng.random_range(2..=5))
                    .map(|_| {
                        (0..rng.random_range(1..=4))
                            .map(|_| *SYLLABLES.choose(&mut rng).expect("syllable"))
                            .collect()
                    })
                    .collect();
                words.join(" ")
            })
            .collect()
    }

    /// Small enough that the cut at `vocab` falls among equally frequent pieces.
    fn tie_config() -> TokenizerConfig {
        TokenizerConfig {
            vocab: 120,
            min_frequency: 2,
            ..Default::default()
        }
    }

    /// blake3 of the tokenizer.json of the tie corpus, for several vocabulary sizes: each cut
    /// lands among other equally frequent pieces, so a tie broken by chance shows up for sure.
    fn tie_corpus_digest() -> String {
        let texts = hangul_tie_corpus();
        let mut hasher = blake3::Hasher::new();
        for vocab in (80..=400).step_by(20) {
            let cfg = TokenizerConfig {
                vocab,
                min_frequency: 1,
                ..Default::default()
            };
            let tok = train_wordpiece(texts.iter().map(String::as_str), &cfg, 16).unwrap();
            hasher.update(tok.to_string(true).unwrap().as_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }

    #[test]
    fn same_texts_give_the_same_tokenizer_json_within_a_process() {
        let first = tie_corpus_digest();
        for _ in 0..3 {
            assert_eq!(first, tie_corpus_digest(), "tokenizer.json changed");
        }
    }

    /// Set in the child processes of `same_texts_give_the_same_tokenizer_json_across_processes`.
    const DIGEST_CHILD: &str = "EMO_RUN_TOKENIZER_DIGEST_CHILD";
    const DIGEST_LINE: &str = "tokenizer-json-blake3=";

    /// Not a check of its own: the child half of the cross-process test. Prints the digest of
    /// the tie corpus's tokenizer.json files when `DIGEST_CHILD` is set, does nothing otherwise.
    #[test]
    fn tokenizer_json_digest_for_parent_process() {
        if std::env::var_os(DIGEST_CHILD).is_some() {
            println!("{DIGEST_LINE}{}", tie_corpus_digest());
        }
    }

    /// Hash maps are seeded per process (ahash's runtime RNG), so only separate processes show
    /// an order dependence for sure: train in two fresh copies of this test binary and compare.
    #[test]
    fn same_texts_give_the_same_tokenizer_json_across_processes() {
        let digests: Vec<String> = (0..2).map(|_| digest_from_child_process()).collect();
        assert_eq!(
            digests[0], digests[1],
            "tokenizer.json differs between processes"
        );
    }

    fn digest_from_child_process() -> String {
        let module = module_path!()
            .split_once("::")
            .expect("crate::module path")
            .1;
        let test = format!("{module}::tokenizer_json_digest_for_parent_process");
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &test, "--nocapture", "--test-threads=1"])
            .env(DIGEST_CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {stdout}");
        // libtest prints the test's name on the same line, before the digest.
        let digest = stdout
            .split_once(DIGEST_LINE)
            .and_then(|(_, rest)| rest.split_whitespace().next());
        digest
            .unwrap_or_else(|| panic!("no digest in the child's output: {stdout}"))
            .to_string()
    }

    #[test]
    fn vocabulary_has_special_tokens_first_and_stays_within_its_size() {
        let texts = hangul_tie_corpus();
        let cfg = tie_config();
        let tok = train_wordpiece(texts.iter().map(String::as_str), &cfg, 16).unwrap();
        for (id, special) in (0u32..).zip(SPECIAL) {
            assert_eq!(tok.token_to_id(special), Some(id), "{special}");
        }
        let size = tok.get_vocab_size(true);
        assert!(
            size <= cfg.vocab,
            "{size} pieces, at most {} asked",
            cfg.vocab
        );
        assert!(size > 60, "merges were learned: {size} pieces");
    }

    #[test]
    fn hangul_text_encodes_without_unknown_tokens() {
        let texts = hangul_tie_corpus();
        let tok = train_wordpiece(texts.iter().map(String::as_str), &tie_config(), 16).unwrap();
        let unk = tok.token_to_id("[UNK]").unwrap();
        for text in texts.iter().take(50) {
            let enc = encode(&tok, text).unwrap();
            assert!(!enc.ids.contains(&unk), "{text:?} -> {:?}", enc.ids);
        }
    }
}
