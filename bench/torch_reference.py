#!/usr/bin/env python3
"""PyTorch half of the side-by-side benchmark (issue 6; forward rows: issue 4).

Implements the workloads of `benches/compare.rs` to the same definitions and prints one JSON line with
the same fields. One workload per process, so that the peak RSS (ru_maxrss) is that workload's.

  python bench/torch_reference.py --workload rsa_cfn --threads 2

* rsa_cfn, mlp_mixer: one training step of the head exactly as docs/methods/seed-000-rsa-cfn.md#heads (seed 000), on cached
  features held as host arrays; each step gathers its batch on the host, moves it to a tensor,
  runs forward, cross-entropy, backward and AdamW (lr 1e-5, weight decay 0.01).
* bert_*, w2v2_*: transformers' BertModel(BertConfig()) and Wav2Vec2Model(Wav2Vec2Config())
  with random weights; LayerDrop and SpecAugment off (as in emo-run's bench); train = forward +
  backward of mean(last_hidden_state) in train mode, forward = eval + inference_mode.
* matmul: one n x n float32 matrix product (n = --batch, default 2048) and its sum: the GEMM
  throughput of this CPU through PyTorch's BLAS (MKL on x86).
* linear_train(_flat), attention_train, gelu: minimal reproductions of where burn-flex is the
  limit inside the encoders (BERT's FFN projection and attention products, forward + backward;
  the exact GELU), see benches/compare.rs.
* quickstart: the same fold as emo-run's bench (its dump: texts, labels, split, raw log-mel
  frames, the fold's tokenizer.json), one epoch of an equivalent model (small pre-LN text
  transformer, 2-conv log-mel encoder + 1 transformer layer, early-fusion MLP), then validation,
  checkpoint, best reload, test and validation passes, as `FoldJob::run` does.
"""

import argparse
import json
import math
import os
import resource
import statistics
import tempfile
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# The no-grad context of the forward-only steps: inference_mode when timed; count_flops swaps in
# no_grad, since wav2vec2's weight-normed positional convolution fails under inference_mode
# inside FlopCounterMode.
NO_GRAD = [torch.inference_mode]

# Where the workloads run (`--device`): "cpu", or "cuda"/"cuda:N" for the GPU rows. Random inputs
# are drawn on the host from a seeded CPU generator and then moved, so that they do not depend
# on the device; models are built on it (torch.set_default_device).
DEVICE = [torch.device("cpu")]


def on_device(t):
    return t.to(DEVICE[0])

AUDIO_DIM, TEXT_DIM, TEXT_TOKENS, CLASSES = 1024, 768, 256, 7


# ---------------------------------------------------------------- seed 000 heads (docs/methods/seed-000-rsa-cfn.md#heads)


class ScalarSelfAttention(nn.Module):
    """SelfAttention(input_size=1, hidden=h): every feature of a vector is a token."""

    def __init__(self, hidden):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(1, hidden), nn.Linear(1, hidden), nn.Linear(1, 1)
        self.hidden = hidden

    def forward(self, v):
        x = v.unsqueeze(-1)
        p = torch.softmax(self.q(x) @ self.k(x).transpose(1, 2) / math.sqrt(self.hidden), -1)
        return (p @ self.v(x)).squeeze(-1), p


class RsaCfn(nn.Module):
    def __init__(self, p=128, classes=CLASSES):
        super().__init__()
        n = (p + 1) ** 2
        self.wav_proj, self.rnn_proj = nn.Linear(AUDIO_DIM, p), nn.Linear(TEXT_DIM, p)
        self.wave_attn, self.text_attn = ScalarSelfAttention(96), ScalarSelfAttention(96)
        self.wav_norm, self.rnn_norm = nn.LayerNorm(p), nn.LayerNorm(p)
        self.res1, self.res2 = nn.Linear(n, 1024), nn.Linear(n + 1024, n)
        self.cls = nn.Sequential(
            nn.Linear(n, 1024), nn.ReLU(), nn.Dropout(0.3), nn.Linear(1024, classes)
        )
        self.drop = nn.Dropout(0.3)

    def forward(self, t, a):
        pa, pt = self.wav_proj(a), self.rnn_proj(t)
        ha = self.wav_norm(self.wave_attn(pa)[0] + pa)
        ht = self.rnn_norm(self.text_attn(pt)[0] + pt)
        ones = torch.ones(a.shape[0], 1, dtype=ha.dtype)
        ha1, ht1 = torch.cat([ones, ha], 1), torch.cat([ones, ht], 1)
        z = (ha1[:, :, None] @ ht1[:, None, :]).reshape(a.shape[0], -1)
        r1 = self.drop(F.relu(self.res1(z)))
        r2 = self.drop(F.relu(self.res2(torch.cat([z, r1], 1))))
        return self.cls(z + r2)


class MixerMlp(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.a, self.b, self.drop = nn.Linear(width, width), nn.Linear(width, width), nn.Dropout(0.1)

    def forward(self, x):
        return self.drop(self.b(F.gelu(self.a(x))))


class MlpMixer(nn.Module):
    def __init__(self, d=256, audio_tokens=299, classes=CLASSES):
        super().__init__()
        self.audio_tokens = audio_tokens
        self.audio_proj, self.text_proj = nn.Linear(AUDIO_DIM, d), nn.Linear(TEXT_DIM, d)
        self.norm = nn.LayerNorm(d)
        self.token, self.channel = MixerMlp(TEXT_TOKENS + audio_tokens), MixerMlp(d)
        self.final = nn.LayerNorm(d)
        self.head = nn.Sequential(
            nn.Dropout(0.1), nn.Linear(d, 512), nn.GELU(), nn.Dropout(0.1), nn.Linear(512, classes)
        )

    def forward(self, t, a):
        ha = self.audio_proj(a)[:, : self.audio_tokens]
        if ha.shape[1] < self.audio_tokens:  # pad to the actual batch (seed 000's bug fixed: it pads for a fixed batch of 6)
            ha = F.pad(ha, (0, 0, 0, self.audio_tokens - ha.shape[1]))
        x = torch.cat([self.text_proj(t), ha], 1)
        y = self.token(self.norm(x).transpose(1, 2)).transpose(1, 2)
        x = x + y
        out = self.channel(self.norm(y)) + x  # the second LN reads y (verbatim)
        return self.head(self.final(out).mean(1))


def head_step(args, sequences):
    batch = args.batch or (6 if sequences else 4)
    model = MlpMixer() if sequences else RsaCfn()
    model.train()
    rng = np.random.default_rng(1)
    t_shape = (TEXT_TOKENS, TEXT_DIM) if sequences else (TEXT_DIM,)
    a_shape = (299, AUDIO_DIM) if sequences else (AUDIO_DIM,)
    # Cached features as host arrays, one per utterance, like the feature cache's entries.
    text = [rng.standard_normal(t_shape, dtype=np.float32) for _ in range(batch)]
    audio = [rng.standard_normal(a_shape, dtype=np.float32) for _ in range(batch)]
    labels = np.arange(batch) % CLASSES
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01, eps=1e-8)

    def step(i):
        order = [(j + i) % batch for j in range(batch)]
        t = on_device(torch.from_numpy(np.stack([text[j] for j in order])))
        a = on_device(torch.from_numpy(np.stack([audio[j] for j in order])))
        y = on_device(torch.from_numpy(labels[order]))
        loss = F.cross_entropy(model(t, a), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()

    return batch, step


# ---------------------------------------------------------------- encoders


def encoder(args, kind, train):
    import transformers

    if kind == "bert":
        batch = args.batch or 4
        config = transformers.BertConfig()
        model = transformers.BertModel(config)
        ids = torch.tensor(
            [(i * 7919) % config.vocab_size for i in range(batch * args.seq_len)]
        ).reshape(batch, args.seq_len)
        inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    else:
        batch = args.batch or 2
        config = transformers.Wav2Vec2Config(
            layerdrop=0.0, apply_spec_augment=False, mask_time_prob=0.0
        )
        model = transformers.Wav2Vec2Model(config)
        gen = torch.Generator().manual_seed(7)
        inputs = {"input_values": on_device(
            torch.randn(batch, args.samples, generator=gen, device="cpu") * 0.1)}
    model.train(train)

    def step(_):
        if train:
            model.zero_grad(set_to_none=True)
            loss = model(**inputs).last_hidden_state.mean()
            loss.backward()
            loss.item()
        else:
            with NO_GRAD[0]():
                model(**inputs).last_hidden_state.mean().item()

    return batch, step


# ---------------------------------------------------------------- matmul


def matmul(args):
    n = args.batch or 2048
    gen = torch.Generator().manual_seed(7)
    a = on_device(torch.randn(n, n, generator=gen, device="cpu"))
    b = on_device(torch.randn(n, n, generator=gen, device="cpu"))

    def step(_):
        with NO_GRAD[0]():
            (a @ b).sum().item()

    return n, step


# ---------------------------------------------------------------- reproductions


def linear_train(args):
    """BERT-base's FFN up-projection, 4 x 128 tokens, 768 -> 3072, forward + backward (emo-run's
    linear_train and linear_train_flat: PyTorch flattens the rows itself)."""
    b, t = args.batch or 4, args.seq_len
    gen = torch.Generator().manual_seed(7)
    x = on_device(torch.randn(b, t, 768, generator=gen, device="cpu")).requires_grad_()
    w = on_device(torch.randn(3072, 768, generator=gen, device="cpu")).requires_grad_()

    def step(_):
        F.linear(x, w).sum().backward()
        x.grad = w.grad = None

    return b, step


def attention_train(args):
    """BERT-base's two attention products (4 x 12 heads x 128 tokens x 64), forward + backward."""
    shape = (args.batch or 4, 12, args.seq_len, 64)
    gen = torch.Generator().manual_seed(7)
    q, k, v = (on_device(torch.randn(*shape, generator=gen, device="cpu")).requires_grad_()
               for _ in range(3))

    def step(_):
        (q @ k.transpose(2, 3) @ v).sum().backward()
        q.grad = k.grad = v.grad = None

    return shape[0], step


def gelu(args):
    """Exact (erf) GELU on the first wav2vec2-base feature convolution's output for 2 x 1 s."""
    n = args.batch or 2 * 512 * 3199
    x = on_device(torch.randn(n, generator=torch.Generator().manual_seed(7), device="cpu"))

    def step(_):
        with NO_GRAD[0]():
            F.gelu(x).sum().item()

    return n, step


# ---------------------------------------------------------------- quickstart


class SmallText(nn.Module):
    """emo-run's `transformer` text encoder at the quickstart's sizes, mean-pooled."""

    def __init__(self, vocab, hidden=64, layers=2, heads=4, ffn=128, max_len=32):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, hidden), nn.Embedding(max_len, hidden)
        self.norm, self.drop = nn.LayerNorm(hidden), nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(
            hidden, heads, ffn, 0.1, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, ids, pad):
        pos = torch.arange(ids.shape[1]).expand_as(ids)
        x = self.drop(self.norm(self.tokens(ids) + self.positions(pos)))
        return masked_mean(self.encoder(x, src_key_padding_mask=pad), pad)


class LogmelConv(nn.Module):
    """emo-run's `logmel_conv` audio encoder at the quickstart's sizes, mean-pooled."""

    def __init__(self, n_mels=40, channels=64, conv_layers=2, heads=4):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(n_mels if i == 0 else channels, channels, 3, stride=2, padding=1)
            for i in range(conv_layers)
        )
        self.norm, self.drop = nn.LayerNorm(channels), nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(
            channels, heads, 2 * channels, 0.1, activation="gelu", batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)

    def forward(self, frames, lengths):
        x = frames.transpose(1, 2)
        for conv in self.convs:
            x = F.gelu(conv(x))
            lengths = [(n + 1) // 2 for n in lengths]
        x = self.drop(self.norm(x.transpose(1, 2)))
        pad = torch.arange(x.shape[1])[None, :] >= torch.tensor(lengths)[:, None]
        return masked_mean(self.encoder(x, src_key_padding_mask=pad), pad)


def masked_mean(h, pad):
    keep = (~pad).unsqueeze(-1).to(h.dtype)
    return (h * keep).sum(1) / keep.sum(1).clamp(min=1)


class QuickstartModel(nn.Module):
    def __init__(self, vocab, classes):
        super().__init__()
        self.text, self.audio = SmallText(vocab), LogmelConv()
        self.head = nn.Sequential(
            nn.Linear(128, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, classes)
        )

    def forward(self, ids, pad, frames, lengths):
        return self.head(torch.cat([self.audio(frames, lengths), self.text(ids, pad)], 1))


def quickstart(args):
    import tokenizers

    meta = json.load(open(os.path.join(args.dump, "quickstart.json")))
    raw = np.fromfile(os.path.join(args.dump, "quickstart_logmel.f32"), dtype="<f4")
    n_mels, offsets = meta["n_mels"], np.cumsum([0] + [f * meta["n_mels"] for f in meta["frames"]])
    logmel = [raw[offsets[i] : offsets[i + 1]].reshape(-1, n_mels) for i in range(len(meta["frames"]))]
    labels = np.array(meta["labels"])
    batch = args.batch or 16

    def run(step):
        torch.manual_seed(step)
        out = tempfile.mkdtemp(prefix="torch-quickstart-")
        tok = tokenizers.Tokenizer.from_file(meta["tokenizer"])
        enc = tok.encode_batch(meta["texts"])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=bool)
        train_frames = np.concatenate([logmel[i] for i in meta["train"]])
        mean, std = train_frames.mean(0), np.sqrt(np.maximum(train_frames.var(0), 1e-8))
        model = QuickstartModel(tok.get_vocab_size(), meta["classes"])
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

        def make_batch(idx):
            longest = max(logmel[i].shape[0] for i in idx)
            frames = np.zeros((len(idx), longest, n_mels), np.float32)
            for r, i in enumerate(idx):
                frames[r, : logmel[i].shape[0]] = (logmel[i] - mean) / std
            return (
                on_device(torch.from_numpy(ids[idx])), on_device(torch.from_numpy(~mask[idx])),
                on_device(torch.from_numpy(frames)), [logmel[i].shape[0] for i in idx],
                on_device(torch.from_numpy(labels[idx])),
            )

        def evaluate(split):
            model.eval()
            with torch.no_grad():
                for s in range(0, len(split), batch):
                    i, p, f, n, y = make_batch(split[s : s + batch])
                    F.cross_entropy(model(i, p, f, n), y).item()

        model.train()
        order = np.random.default_rng(step).permutation(meta["train"])
        for s in range(0, len(order), batch):
            i, p, f, n, y = make_batch(order[s : s + batch])
            loss = F.cross_entropy(model(i, p, f, n), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()
        evaluate(meta["valid"])
        path = os.path.join(out, "epoch-1.pt")
        torch.save({"model": model.state_dict(), "optim": opt.state_dict()}, path)
        model.load_state_dict(torch.load(path)["model"])
        evaluate(meta["test"])
        evaluate(meta["valid"])

    return len(meta["train"]), run


# ---------------------------------------------------------------- driver

def count_flops(step, index):
    """The matrix-product flops of one more step (forward and backward): matmul, linear, bmm,
    convolution and attention, as torch.utils.flop_counter counts them (2 per multiply-add);
    element-wise work is not counted. Run after the timed steps, so it costs them nothing. Both
    emo-run's workloads are written to the same definitions, so the count is theirs too."""
    from torch.utils.flop_counter import FlopCounterMode

    NO_GRAD[0] = torch.no_grad
    try:
        with FlopCounterMode(display=False) as counter:
            step(index)
    finally:
        NO_GRAD[0] = torch.inference_mode
    return counter.get_total_flops()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--samples", type=int, default=16000)
    ap.add_argument("--dump", default="bench/out")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda[:N] for the GPU rows")
    args = ap.parse_args()
    DEVICE[0] = torch.device(args.device)
    torch.set_default_device(DEVICE[0])
    torch.set_num_threads(args.threads)
    torch.manual_seed(7)
    started = time.perf_counter()
    w = args.workload
    if w in ("rsa_cfn", "mlp_mixer"):
        batch, step = head_step(args, w == "mlp_mixer")
    elif w in ("bert_train", "bert_forward", "w2v2_train", "w2v2_forward"):
        kind, mode = w.split("_")
        batch, step = encoder(args, kind, mode == "train")
    elif w == "matmul":
        batch, step = matmul(args)
    elif w == "quickstart":
        batch, step = quickstart(args)
    elif w in ("linear_train", "linear_train_flat"):
        batch, step = linear_train(args)
    elif w == "attention_train":
        batch, step = attention_train(args)
    elif w in ("gelu", "gelu_kernel"):
        batch, step = gelu(args)
    else:
        raise SystemExit(f"unknown workload {w!r}")
    setup_s = time.perf_counter() - started
    for i in range(args.warmup):
        step(i)
    times = []
    for i in range(args.steps):
        t = time.perf_counter()
        step(args.warmup + i)
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    flops = count_flops(step, args.warmup + args.steps)
    device_peak_mib = (torch.cuda.max_memory_allocated(DEVICE[0]) / 2**20
                       if DEVICE[0].type == "cuda" else None)
    print(json.dumps({
        "workload": w, "implementation": "pytorch", "device": args.device, "batch": batch,
        "step_s": times, "median_s": median, "samples_per_s": batch / median,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "setup_s": setup_s, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "flops_per_step": flops, "device_peak_mib": device_peak_mib,
        "gpu": torch.cuda.get_device_name(DEVICE[0]) if DEVICE[0].type == "cuda" else None,
    }))


if __name__ == "__main__":
    main()
