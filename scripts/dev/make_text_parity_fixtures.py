#!/usr/bin/env python3
"""Dev-only: write the Hugging Face text-encoder parity fixtures under tests/fixtures/hf/.

    pip install torch transformers tokenizers safetensors numpy
    python3 scripts/dev/make_text_parity_fixtures.py [--minilm /path/to/all-MiniLM-L6-v2]

For each family (bert, roberta, xlm-roberta, electra, albert) this writes a tiny random model
folder, `tests/fixtures/hf/<name>/`, holding what a real Hugging Face folder holds (config.json,
model.safetensors or pytorch_model.bin, tokenizer.json) plus `expected.json`: the sentences, the
ids and masks the Python tokenizer gives, and every hidden state and the pooler output of the
model in eval mode. `tests/hf_text_parity.rs` compares emo-run's burn encoders with these
numbers, so neither CI nor `cargo test` needs Python.

With `--minilm DIR` (default: $EMO_MINILM_DIR, else target/models/all-MiniLM-L6-v2, where
scripts/fetch_minilm.sh puts it; skipped when that is not a folder) it also writes
`tests/fixtures/hf/minilm_reference.json` from the real sentence-transformers model, which
`tests/minilm_reference.rs` checks when that model folder is available.

The tiny models are re-initialised with wider distributions than Hugging Face's std 0.02, so
that attention is peaked and every layer moves the hidden states: a masking or position bug
then shows up as a large difference instead of hiding under near-uniform attention.
Everything is seeded; re-running gives the same files.
"""
import argparse
import collections
import json
import math
import os
import pathlib
import re
import shutil

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AlbertConfig,
    AlbertModel,
    AutoModel,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    ElectraConfig,
    ElectraForPreTraining,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaModel,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/fixtures/hf"
SEED = 20260501
MAX_LEN = 12

CORPUS = [
    "i am so happy to see you again today",
    "this is the worst day of my life and i am angry",
    "she was surprised by the sudden news",
    "he feels sad and tired after the long meeting",
    "we are calm and neutral about the results",
    "they were afraid of the dark empty house",
    "what a wonderful surprise, thank you so much!",
    "do not talk to me like that, it makes me furious",
    "the weather is fine and the food was good",
    "nothing special happened, it was an ordinary evening",
]

# Batch rows of unequal length so padding is exercised; the last row is longer than MAX_LEN
# tokens and must be truncated; "zebra" is not in the corpus.
SENTENCES = [
    "i am happy",
    "she was sad about the zebra news",
    "this is the worst day of my life and i am angry and tired after the long meeting",
]

MINILM_SENTENCES = [
    "I am so happy to see you again.",
    "This is the worst day of my life.",
    "The meeting was moved to Thursday.",
]
MINILM_MAX_LEN = 12


def wordpiece_vocab():
    """A WordPiece vocabulary built by hand from the corpus. The WordPiece trainer orders its
    alphabet through a hash map, so its ids change from run to run; this does not: every
    character alone and as a `##` continuation, the words seen at least twice, a few suffixes.
    Rare words therefore split into pieces, and a word with an unseen letter becomes [UNK]."""
    words = [w for s in CORPUS for w in re.findall(r"\w+|[^\w\s]", s.lower())]
    chars = sorted({c for w in words for c in w})
    frequent = sorted(w for w, n in collections.Counter(words).items() if n >= 2 and len(w) > 1)
    suffixes = ["##ed", "##ing", "##ly", "##er", "##s"]
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars]
    tokens += frequent + suffixes
    return {t: i for i, t in enumerate(dict.fromkeys(tokens))}


def wordpiece_tokenizer():
    tok = Tokenizer(models.WordPiece(wordpiece_vocab(), unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[(t, tok.token_to_id(t)) for t in ("[CLS]", "[SEP]")],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def byte_bpe_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.RobertaProcessing(
        sep=("</s>", tok.token_to_id("</s>")), cls=("<s>", tok.token_to_id("<s>"))
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_input_names=["input_ids", "attention_mask"],
    )


def unigram_vocab(specials, lowercase):
    """A Unigram vocabulary built by hand, for the same reason as `wordpiece_vocab` (the Unigram
    trainer's scores and piece order vary in the last digits from run to run): every character,
    the metaspace-prefixed words seen at least twice, and the character pairs seen at least three
    times, each scored by the log of its relative frequency in the corpus."""
    text = [s.lower() if lowercase else s for s in CORPUS]
    words = ["\u2581" + w for s in text for w in s.split()]
    counts = collections.Counter()
    for w in words:
        counts.update(w)
        counts[w] += 1
        counts.update(w[i : i + 2] for i in range(len(w) - 1))
    pieces = sorted(
        p for p, n in counts.items() if len(p) == 1 or (len(p) == 2 and n >= 3) or (len(p) > 2 and n >= 2)
    )
    total = sum(counts[p] for p in pieces)
    return [(t, 0.0) for t in specials] + [(p, math.log(counts[p] / total)) for p in pieces]


def unigram_tokenizer(specials, cls, sep, pad, unk, mask, lowercase):
    tok = Tokenizer(models.Unigram(unigram_vocab(specials, lowercase), unk_id=specials.index(unk)))
    if lowercase:
        tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=f"{cls} $A {sep} $B:1 {sep}:1",
        special_tokens=[(t, tok.token_to_id(t)) for t in (cls, sep)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token=unk,
        pad_token=pad,
        cls_token=cls,
        sep_token=sep,
        mask_token=mask,
        bos_token=cls,
        eos_token=sep,
    )


def xlmr_tokenizer():
    # XLM-R's special-token order: <s>=0, <pad>=1, </s>=2, <unk>=3, so pad id 1 as in the real one.
    fast = unigram_tokenizer(
        ["<s>", "<pad>", "</s>", "<unk>", "<mask>"], "<s>", "</s>", "<pad>", "<unk>", "<mask>", False
    )
    fast.model_input_names = ["input_ids", "attention_mask"]
    return fast


def albert_tokenizer():
    return unigram_tokenizer(
        ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"], "[CLS]", "[SEP]", "<pad>", "<unk>", "[MASK]", True
    )


def widen_init(model):
    """Replace HF's std-0.02 init by wider draws (see the module docstring)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p) if name.endswith("weight") else 0.2 * torch.randn_like(p))
            elif p.dim() == 1:
                p.copy_(0.2 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / p.shape[-1] ** 0.5 * 1.5)


def common(vocab, pad_id, **extra):
    base = dict(
        vocab_size=vocab,
        hidden_size=24,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=40,
        max_position_embeddings=20,
        pad_token_id=pad_id,
        attn_implementation="eager",
    )
    base.update(extra)
    return base


def build(name, tokenizer):
    """(saved model, encoder to run, token types used) for one fixture."""
    vocab, pad = len(tokenizer), tokenizer.pad_token_id
    if name == "bert":
        cfg = BertConfig(**common(vocab, pad, hidden_act="gelu", type_vocab_size=2))
        saved = BertForSequenceClassification(cfg)  # saved with the `bert.` prefix and a head
        return saved, saved.bert
    if name == "roberta":
        cfg = RobertaConfig(**common(vocab, pad, hidden_act="gelu_new", type_vocab_size=1))
        model = RobertaModel(cfg)
        return model, model
    if name == "xlm-roberta":
        cfg = XLMRobertaConfig(**common(vocab, pad, hidden_act="relu", type_vocab_size=1))
        saved = XLMRobertaForMaskedLM(cfg)  # `roberta.` prefix, LM head, and no pooler
        return saved, saved.roberta
    if name == "electra":
        cfg = ElectraConfig(**common(vocab, pad, hidden_act="gelu", type_vocab_size=2, embedding_size=16))
        saved = ElectraForPreTraining(cfg)  # `electra.` prefix and the discriminator head
        return saved, saved.electra
    if name == "albert":
        cfg = AlbertConfig(
            **common(
                vocab,
                pad,
                hidden_act="gelu_pytorch_tanh",
                type_vocab_size=2,
                embedding_size=12,
                num_hidden_layers=4,
                num_hidden_groups=2,
                inner_group_num=2,
            )
        )
        model = AlbertModel(cfg)
        return model, model
    raise ValueError(name)


TOKENIZERS = {
    "bert": wordpiece_tokenizer,
    "electra": wordpiece_tokenizer,
    "roberta": byte_bpe_tokenizer,
    "xlm-roberta": xlmr_tokenizer,
    "albert": albert_tokenizer,
}
# ELECTRA goes through the PyTorch pickle path; the others through safetensors.
PICKLED = {"electra"}


def rounded(t):
    """Flattened float32 values with 6 decimals, far finer than the 1e-4 tolerance."""
    return [round(v, 6) for v in t.detach().float().flatten().tolist()]


def tensor_json(t):
    return {"shape": list(t.shape), "data": rounded(t)}


def tokenize(tokenizer, sentences, max_len):
    return tokenizer(sentences, padding="max_length", truncation=True, max_length=max_len, return_tensors="pt")


def write_fixture(name):
    torch.manual_seed(SEED)
    folder = OUT / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)

    tokenizer = TOKENIZERS[name]()
    tokenizer.save_pretrained(folder)
    for extra in ("tokenizer_config.json", "special_tokens_map.json"):
        (folder / extra).unlink(missing_ok=True)  # only tokenizer.json is read; keep fixtures small

    saved, encoder = build(name, tokenizer)
    widen_init(saved)
    saved.eval()
    saved.save_pretrained(folder, safe_serialization=name not in PICKLED)
    (folder / "generation_config.json").unlink(missing_ok=True)

    # Reload through the generic API to prove the folder is a valid Hugging Face folder.
    reloaded_tok = AutoTokenizer.from_pretrained(folder)
    batch = tokenize(reloaded_tok, SENTENCES, MAX_LEN)
    assert batch["input_ids"].shape == (len(SENTENCES), MAX_LEN)
    assert batch["attention_mask"][-1].all(), "the last sentence must be truncated"
    assert not batch["attention_mask"][0].all(), "the first sentence must be padded"

    with torch.no_grad():
        out = encoder(**batch, output_hidden_states=True)
    pooler = getattr(out, "pooler_output", None)
    expected = {
        "family": name,
        "max_len": MAX_LEN,
        "sentences": SENTENCES,
        "input_ids": batch["input_ids"].tolist(),
        "attention_mask": batch["attention_mask"].tolist(),
        "token_type_ids": batch["token_type_ids"].tolist() if "token_type_ids" in batch else None,
        "hidden_states": [tensor_json(h) for h in out.hidden_states],
        "pooler": tensor_json(pooler) if pooler is not None else None,
    }
    (folder / "expected.json").write_text(json.dumps(expected) + "\n")
    keys = sorted(saved.state_dict().keys())
    print(f"{name}: {len(out.hidden_states)} hidden states, pooler={pooler is not None}, {len(keys)} keys")


def write_minilm(model_dir):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    batch = tokenize(tokenizer, MINILM_SENTENCES, MINILM_MAX_LEN)
    with torch.no_grad():
        last = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    mean = (last * mask).sum(1) / mask.sum(1)
    reference = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "max_len": MINILM_MAX_LEN,
        "sentences": MINILM_SENTENCES,
        "input_ids": batch["input_ids"].tolist(),
        "attention_mask": batch["attention_mask"].tolist(),
        "last_hidden_state": tensor_json(last),
        "mean_pooled": tensor_json(mean),
    }
    (OUT / "minilm_reference.json").write_text(json.dumps(reference) + "\n")
    print(f"minilm: ids {batch['input_ids'].shape}, hidden {tuple(last.shape)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Same lookup as tests/minilm_reference.rs, so one download serves both.
    parser.add_argument(
        "--minilm",
        default=os.environ.get("EMO_MINILM_DIR", str(ROOT / "target/models/all-MiniLM-L6-v2")),
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in TOKENIZERS:
        write_fixture(name)
    if pathlib.Path(args.minilm).is_dir():
        write_minilm(args.minilm)
    else:
        print(f"skipped minilm_reference.json: {args.minilm} is not a folder")


if __name__ == "__main__":
    main()
