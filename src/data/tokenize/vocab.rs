//! A deterministic WordPiece vocabulary learner.
//!
//! Hand-written because the `tokenizers` crate's `WordPieceTrainer` (a wrapper around its
//! `BpeTrainer`, `models/bpe/trainer.rs`) is not a function of its input alone:
//! - `BpeTrainer::feed` collects the word counts in an `AHashMap`, and `tokenize_words` walks
//!   that map to give every `##c` piece its id in first-seen order. ahash is seeded from a
//!   runtime RNG, so these ids change from process to process;
//! - `do_train` pops merges from a heap ordered by count and then by the pair's *ids*, so ties
//!   between equally frequent pairs (common in Hangul, where syllables recur in many words) are
//!   broken by that process-dependent id order, and so is which pieces make the cut at
//!   `vocab_size`;
//! - the heap is filled by draining `AHashMap`s (`where_to_update`), so even equal keys enter
//!   in a process-dependent order.
//!
//! Feeding the library trainer in a fixed order cannot help, since the order it depends on is
//! that of its own hash maps. So the same algorithm is done here with every choice decided by a
//! total order: the merge of the most frequent adjacent pair, ties broken by the pair's text.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// Marks a piece that continues a word, as BERT's (and the library trainer's) WordPiece does.
pub(super) const CONTINUATION: &str = "##";

/// What the vocabulary learner is asked for.
pub(super) struct VocabTarget<'a> {
    /// Always in the vocabulary, first and in this order.
    pub special: &'a [&'a str],
    /// Merging stops once the vocabulary has this many pieces. The single characters (and their
    /// `##` forms) are never cut, as in the library trainer with its default `limit_alphabet`.
    pub size: usize,
    /// A merge needs at least this many occurrences in the counted words.
    pub min_frequency: u64,
}

/// The pieces of a WordPiece vocabulary learned from `word_counts` (word -> occurrences), in the
/// order they were added: special tokens, the characters, their `##` forms, then the merges.
pub(super) fn learn_vocabulary(
    word_counts: &BTreeMap<String, u64>,
    target: &VocabTarget<'_>,
) -> Vec<String> {
    let mut pieces = Pieces::default();
    for special in target.special {
        pieces.intern(special);
    }
    add_alphabet(word_counts.keys(), &mut pieces);
    let mut words: Vec<Word> = word_counts
        .iter()
        .map(|(text, &count)| Word::split_into_characters(text, count, &mut pieces))
        .collect();
    let mut pairs = PairCounts::default();
    for (index, word) in words.iter().enumerate() {
        pairs.add_word(word, index, &pieces);
    }
    // A pair seen zero times is no merge even with `min_frequency = 0`.
    let min_count = target.min_frequency.max(1);
    while pieces.len() < target.size {
        let Some(best) = pairs.most_frequent() else {
            break;
        };
        if best.count.0 < min_count {
            break;
        }
        let merged = pieces.intern(&join_pieces(&best.left, &best.right));
        for index in pairs.words_containing(best.pair) {
            let word = &mut words[index];
            pairs.remove_word(word, &pieces);
            word.merge(best.pair, merged);
            pairs.add_word(word, index, &pieces);
        }
    }
    pieces.texts.iter().map(|t| t.to_string()).collect()
}

/// Every character of every word, in character order, as the library trainer adds them.
fn add_alphabet<'a>(words: impl Iterator<Item = &'a String>, pieces: &mut Pieces) {
    let alphabet: BTreeSet<char> = words.flat_map(|w| w.chars()).collect();
    for c in alphabet {
        pieces.intern(c.encode_utf8(&mut [0; 4]));
    }
}

/// `left` followed by `right` without its `##`: "가" + "##나" = "가나", "##가" + "##나" = "##가나".
fn join_pieces(left: &str, right: &str) -> String {
    format!(
        "{left}{}",
        right.strip_prefix(CONTINUATION).unwrap_or(right)
    )
}

/// The vocabulary so far: piece texts by id, and ids by text.
#[derive(Default)]
struct Pieces {
    texts: Vec<Rc<str>>,
    ids: HashMap<Rc<str>, u32>,
}

impl Pieces {
    /// The id of `text`, added at the end if new.
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.texts.len()).expect("fewer than 2^32 pieces");
        let text: Rc<str> = Rc::from(text);
        self.texts.push(Rc::clone(&text));
        self.ids.insert(text, id);
        id
    }

    fn text(&self, id: u32) -> &Rc<str> {
        &self.texts[id as usize]
    }

    fn len(&self) -> usize {
        self.texts.len()
    }
}

type Pair = (u32, u32);

/// One distinct word as its current pieces, with how often it occurs.
struct Word {
    symbols: Vec<u32>,
    count: u64,
}

impl Word {
    /// One piece per character: the first as is, the others with the `##` prefix.
    fn split_into_characters(text: &str, count: u64, pieces: &mut Pieces) -> Self {
        let symbols = text
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let prefix = if i == 0 { "" } else { CONTINUATION };
                pieces.intern(&format!("{prefix}{c}"))
            })
            .collect();
        Self { symbols, count }
    }

    fn pairs(&self) -> impl Iterator<Item = Pair> + '_ {
        self.symbols.windows(2).map(|w| (w[0], w[1]))
    }

    /// Replaces every occurrence of `pair`, left to right and without overlap, by `merged`.
    fn merge(&mut self, pair: Pair, merged: u32) {
        let mut out = Vec::with_capacity(self.symbols.len());
        let mut i = 0;
        while i < self.symbols.len() {
            if i + 1 < self.symbols.len() && (self.symbols[i], self.symbols[i + 1]) == pair {
                out.push(merged);
                i += 2;
            } else {
                out.push(self.symbols[i]);
                i += 1;
            }
        }
        self.symbols = out;
    }
}

/// A merge candidate. The derived order is the total order the learner picks by: the highest
/// count first, then the pair's texts in lexicographic order (the ids only follow, and two
/// pairs never share both texts).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    count: Reverse<u64>,
    left: Rc<str>,
    right: Rc<str>,
    pair: Pair,
}

/// How often each adjacent pair occurs over all words, ranked, and which words hold it.
#[derive(Default)]
struct PairCounts {
    counts: HashMap<Pair, u64>,
    ranked: BTreeSet<Candidate>,
    /// Words that held the pair when it was counted (a superset once some were merged).
    words: HashMap<Pair, BTreeSet<usize>>,
}

impl PairCounts {
    fn most_frequent(&self) -> Option<Candidate> {
        self.ranked.first().cloned()
    }

    /// The words holding `pair`, in index order; it is forgotten since they are about to merge it.
    fn words_containing(&mut self, pair: Pair) -> Vec<usize> {
        self.words
            .remove(&pair)
            .map(|set| set.into_iter().collect())
            .unwrap_or_default()
    }

    fn add_word(&mut self, word: &Word, index: usize, pieces: &Pieces) {
        for pair in word.pairs() {
            self.words.entry(pair).or_default().insert(index);
            let count = self.counts.get(&pair).copied().unwrap_or(0);
            self.set_count(pair, count + word.count, pieces);
        }
    }

    fn remove_word(&mut self, word: &Word, pieces: &Pieces) {
        for pair in word.pairs() {
            let count = self.counts[&pair];
            self.set_count(pair, count - word.count, pieces);
        }
    }

    fn set_count(&mut self, pair: Pair, count: u64, pieces: &Pieces) {
        let candidate = |count| Candidate {
            count: Reverse(count),
            left: Rc::clone(pieces.text(pair.0)),
            right: Rc::clone(pieces.text(pair.1)),
            pair,
        };
        if let Some(old) = self.counts.insert(pair, count) {
            self.ranked.remove(&candidate(old));
        }
        if count > 0 {
            self.ranked.insert(candidate(count));
        } else {
            self.counts.remove(&pair);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(words: &[(&str, u64)]) -> BTreeMap<String, u64> {
        words.iter().map(|&(w, n)| (w.to_string(), n)).collect()
    }

    fn learn(words: &[(&str, u64)], size: usize, min_frequency: u64) -> Vec<String> {
        let target = VocabTarget {
            special: &["[PAD]", "[UNK]"],
            size,
            min_frequency,
        };
        learn_vocabulary(&counts(words), &target)
    }

    #[test]
    fn special_tokens_then_characters_then_continuations() {
        let vocab = learn(&[("나가", 1), ("가", 1)], 0, 1);
        assert_eq!(vocab, ["[PAD]", "[UNK]", "가", "나", "##가"]);
    }

    #[test]
    fn equally_frequent_pairs_merge_in_text_order() {
        // "가"+"##나" and "나"+"##가" both occur twice: the cut after one merge keeps "가나".
        let words = [("나가", 2), ("가나", 2)];
        let vocab = learn(&words, 7, 1);
        assert_eq!(vocab[2..], ["가", "나", "##나", "##가", "가나"]);
        let vocab = learn(&words, 8, 1);
        assert_eq!(vocab.last().unwrap(), "나가");
    }

    #[test]
    fn the_most_frequent_pair_merges_first_and_continuations_keep_their_prefix() {
        let vocab = learn(&[("가나다", 1), ("나다", 3)], 100, 1);
        let merges = &vocab[vocab.iter().position(|p| p == "##다").unwrap() + 1..];
        // "##나"+"##다" (1) ties "가"+"##나" (1) and wins on text order ("##" < "가").
        assert_eq!(merges, ["나다", "##나다", "가나다"]);
    }

    #[test]
    fn pairs_rarer_than_min_frequency_do_not_merge() {
        let vocab = learn(&[("가나", 2), ("다라", 1)], 100, 2);
        assert!(vocab.contains(&"가나".to_string()));
        assert!(!vocab.contains(&"다라".to_string()));
    }

    #[test]
    fn repeated_characters_merge_without_overlap() {
        let mut pieces = Pieces::default();
        let mut word = Word::split_into_characters("가가가가가", 1, &mut pieces);
        let pair = (pieces.intern("##가"), pieces.intern("##가"));
        let merged = pieces.intern("##가가");
        word.merge(pair, merged);
        assert_eq!(word.symbols, [pieces.intern("가"), merged, merged]);
    }
}
