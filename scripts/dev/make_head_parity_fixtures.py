#!/usr/bin/env python3
"""Dev-only: PyTorch references for every seed fusion head and for the optimizer step.

    pip install torch safetensors numpy
    python3 scripts/dev/make_head_parity_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/head_parity/ of this repository. tests/head_parity.rs reads
what this writes, so neither CI nor `cargo test` needs Python.

Every head below is written from the seeds' layer lists (seed 000's `MultiModalClassificationHead`,
`SelfAttention` and `MultiModalMixer`; seed 004's classification heads), NOT translated from
emo-run's Rust. Module attribute names follow the seed where it names them (hybrid_fusion lists
them all); `RUST_NAMES` maps each PyTorch module to the module path emo-run's checkpoint uses.

For each head, `<head>.weights.safetensors` is a checkpoint of emo-run's `Fusion` module (burn's
layout: Linear weights `[in, out]`, LayerNorm `gamma`/`beta`), and `<head>.expected.safetensors`
holds the inputs, the labels, the logits in evaluation mode (no dropout), rsa's attention map,
and `grad.<key>`: the gradient of the mean cross-entropy with respect to every parameter, in the
same layout.

Widths. The feature widths are reduced so that the fixtures stay small (the seeds' are too big
for a fixture): seed 000's 1024-d audio / 768-d text become 6 / 4, rsa_cfn's projection 128
becomes 3 (the outer product 129 x 129 becomes 4 x 4), mlp_mixer's 256 text tokens + 299 audio
frames become 3 + 4 and its width 256 becomes 5; seed 004's 768-d text / 512-d audio become
5 / 4. The hidden widths that emo-run fixes to the seed's values are kept: residual blocks 512,
rsa's SelfAttention 256, rsa_cfn's SelfAttention 96 and hidden 1024, the mixer head's 512.
Seven classes as in both seeds.

Reference arithmetic is float64 on float32-representable weights and inputs, so the expected
numbers are those of the stored values without float32 rounding of their own.

The optimizer fixtures (`optimizer_<kind>.*`, settings in `optimizer.json`) run torch.optim.AdamW / Adam with two parameter
groups (per-module learning rates), weight decay, two accumulated batches per step (each batch's
loss divided by 2 before `backward`, as `(loss / N).backward()`), and
`torch.nn.utils.clip_grad_norm_`, for three steps (the middle one under the clipping norm). Each batch's loss is `sum(p * G)` with a fixed
random `G` per parameter, so the batch gradient is `G / 2` whatever the weights: the step sees
exactly the gradients the fixture names.
"""
import argparse
import json
import math
import pathlib

import torch
import torch.nn as nn
from safetensors.torch import save_file

DEFAULT_OUT = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/head_parity"
SEED = 20261203
BATCH = 3
CLASSES = 7
# Seed 000 (reduced): audio 1024 -> 6, text 768 -> 4.
A0, T0 = 6, 4
# Seed 000 hidden widths, kept (emo-run fixes them to the seed's).
RES_HIDDEN = 512
RSA_ATTN = 256
CFN_ATTN = 96
CFN_HIDDEN = 1024
# seed: 128. Not 2: LayerNorm over 2 features keeps only the sign of their difference, which
# would hide rsa_cfn's SelfAttention (a query/key swap changed the logits by 4e-7 at 2).
CFN_PROJ = 3
MIXER_DIM = 5  # seed: 256
MIXER_TEXT_TOKENS = 3  # seed: 256
MIXER_AUDIO_TOKENS = 4  # seed: 299
MIXER_AUDIO_FRAMES = 2  # fewer than MIXER_AUDIO_TOKENS: exercises the padding
MIXER_HEAD_HIDDEN = 512
# Seed 004 (reduced): BERT pooler 768 -> 5, wav2vec2-base extract_features 512 -> 4.
T4, A4 = 5, 4
SEED004_FRAMES = 3


# ---------------------------------------------------------------- seed 000 (spec A.4 / A.5)


class SelfAttention(nn.Module):
    """`layer.py::SelfAttention(input_size=1, hidden)`: attention over the scalar features."""

    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.query = nn.Linear(1, hidden)
        self.key = nn.Linear(1, hidden)
        self.value = nn.Linear(1, 1)

    def forward(self, v):
        x = v[..., None]  # [B, D, 1]: every feature is a token
        q, k, val = self.query(x), self.key(x), self.value(x)
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.hidden), dim=-1)
        return (p @ val).squeeze(-1), p


def res_block(i, o):
    return nn.Sequential(nn.Linear(i, o), nn.ReLU(), nn.Dropout(0.3))


class EarlyFusion(nn.Module):
    def __init__(self, a, t, c):
        super().__init__()
        self.base_norm = nn.LayerNorm(a + t)
        self.base_classifier = nn.Linear(a + t, c)

    def forward(self, a, t):
        return self.base_classifier(self.base_norm(torch.cat([a, t], 1)))  # audio FIRST


class LateFusion(nn.Module):
    def __init__(self, a, t, c):
        super().__init__()
        self.wave_classifier = nn.Linear(a, c)
        self.text_classifier = nn.Linear(t, c)
        self.lf_norm = nn.LayerNorm(c)  # ONE LN for both rows

    def forward(self, a, t):
        s = torch.stack([self.wave_classifier(a), self.text_classifier(t)], dim=1)
        return self.lf_norm(s).mean(dim=1)


class Stack(nn.Module):
    """Multi-sample dropout: five dropouts, ONE shared Linear."""

    def __init__(self, a, t, c):
        super().__init__()
        self.stack_norm = nn.LayerNorm(a + t)
        self.dropouts = nn.ModuleList([nn.Dropout(0.5) for _ in range(5)])
        self.stack_classifier = nn.Linear(a + t, c)

    def forward(self, a, t):
        x = self.stack_norm(torch.cat([a, t], 1))
        return sum(self.stack_classifier(d(x)) for d in self.dropouts) / 5


class Residual(nn.Module):
    def __init__(self, a, t, c):
        super().__init__()
        d = a + t
        self.res_norm = nn.LayerNorm(d)
        self.res_block = res_block(d, RES_HIDDEN)
        self.res_block2 = res_block(d + RES_HIDDEN, d)
        self.res_classifier = nn.Linear(d, c)

    def forward(self, a, t):
        x = self.res_norm(torch.cat([a, t], 1))
        r1 = self.res_block(x)
        r2 = self.res_block2(torch.cat([x, r1], 1))
        return self.res_classifier(x + r2)


class Rsa(nn.Module):
    def __init__(self, a, t, c):
        super().__init__()
        d = a + t
        self.rsa_norm = nn.LayerNorm(d)
        self.rsa_attn = SelfAttention(RSA_ATTN)
        self.rsa_block = res_block(d, RES_HIDDEN)
        self.rsa_block2 = res_block(d + RES_HIDDEN, d)
        self.rsa_classifier = nn.Linear(d, c)

    def forward(self, a, t):
        x = self.rsa_norm(torch.cat([a, t], 1))
        ax, p = self.rsa_attn(x)
        r1 = self.rsa_block(ax)
        r2 = self.rsa_block2(torch.cat([ax, r1], 1))
        return self.rsa_classifier(x + r2), p  # the skip adds x, not ax


class RsaCfn(nn.Module):
    def __init__(self, a, t, c, p):
        super().__init__()
        n = (p + 1) * (p + 1)
        self.wav_proj = nn.Linear(a, p)
        self.rnn_proj = nn.Linear(t, p)
        self.wave_attn = SelfAttention(CFN_ATTN)
        self.text_attn = SelfAttention(CFN_ATTN)
        self.wav_norm = nn.LayerNorm(p)
        self.rnn_norm = nn.LayerNorm(p)
        self.rac_res_block = res_block(n, CFN_HIDDEN)
        self.rac_res_block2 = res_block(n + CFN_HIDDEN, n)
        self.rac_classifier = nn.Sequential(
            nn.Linear(n, CFN_HIDDEN), nn.ReLU(), nn.Dropout(0.3), nn.Linear(CFN_HIDDEN, c)
        )

    def forward(self, a, t):
        pa, pt = self.wav_proj(a), self.rnn_proj(t)
        ha = self.wav_norm(self.wave_attn(pa)[0] + pa)
        ht = self.rnn_norm(self.text_attn(pt)[0] + pt)
        ones = torch.ones(a.shape[0], 1, dtype=a.dtype)
        ha1, ht1 = torch.cat([ones, ha], 1), torch.cat([ones, ht], 1)
        z = (ha1[:, :, None] @ ht1[:, None, :]).reshape(a.shape[0], -1)  # i_audio*(p+1) + j_text
        r1 = self.rac_res_block(z)
        r2 = self.rac_res_block2(torch.cat([z, r1], 1))
        return self.rac_classifier(z + r2)


class HybridFusion(nn.Module):
    def __init__(self, a, t, c, p):
        super().__init__()
        self.early = EarlyFusion(a, t, c)
        self.late = LateFusion(a, t, c)
        self.residual = Residual(a, t, c)
        self.rsa_cfn = RsaCfn(a, t, c, p)
        self.hybrid_norm = nn.LayerNorm(c)

    def forward(self, a, t):
        votes = [self.early(a, t), self.late(a, t), self.residual(a, t), self.rsa_cfn(a, t)]
        return self.hybrid_norm(torch.stack(votes, dim=1)).mean(dim=1)


class SeedTextHead(nn.Module):
    """xlm_RoBertaBase's head on the pooled text vector: LayerNorm then Linear."""

    def __init__(self, t, c):
        super().__init__()
        self.layer_norm = nn.LayerNorm(t)
        self.classifier = nn.Linear(t, c)

    def forward(self, a, t):
        return self.classifier(self.layer_norm(t))


class SeedAudioHead(nn.Module):
    """Wav2Vec2ForSpeechClassification's head: Drop, Linear(A, A), tanh, Drop, Linear(A, C)."""

    def __init__(self, a, c):
        super().__init__()
        self.dropout = nn.Dropout(0.1)
        self.dense = nn.Linear(a, a)
        self.out_proj = nn.Linear(a, c)

    def forward(self, a, t):
        x = torch.tanh(self.dense(self.dropout(a)))
        return self.out_proj(self.dropout(x))


class MixerBlock(nn.Module):
    """MixerBlock(dim, tokens, 0.1) with ONE LayerNorm used twice (verbatim from the seed)."""

    def __init__(self, dim, tokens):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.token_mixing = nn.Sequential(
            nn.Linear(tokens, tokens), nn.GELU(), nn.Linear(tokens, tokens), nn.Dropout(0.1)
        )
        self.channel_mixing = nn.Sequential(
            nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim), nn.Dropout(0.1)
        )

    def forward(self, x):
        y = self.norm(x).transpose(1, 2)
        y = self.token_mixing(y).transpose(1, 2)
        x = x + y
        y = self.norm(y)  # LN of the token-mixing output y, not of x
        y = self.channel_mixing(y)
        return y + x


class MultiModalMixer(nn.Module):
    def __init__(self, a, t, c):
        super().__init__()
        self.audio_projection = nn.Linear(a, MIXER_DIM)
        self.text_projection = nn.Linear(t, MIXER_DIM)
        self.block = MixerBlock(MIXER_DIM, MIXER_TEXT_TOKENS + MIXER_AUDIO_TOKENS)
        self.final_norm = nn.LayerNorm(MIXER_DIM)
        self.classifier = nn.Sequential(
            nn.Dropout(0.1),
            nn.Linear(MIXER_DIM, MIXER_HEAD_HIDDEN),
            nn.GELU(),
            nn.Dropout(0.1),
            nn.Linear(MIXER_HEAD_HIDDEN, c),
        )

    def forward(self, audio_seq, text_seq):
        ha = self.audio_projection(audio_seq)
        b, frames, d = ha.shape
        if frames < MIXER_AUDIO_TOKENS:
            # Padded AFTER the projection. The seed hard-codes 6 rows here (spec A.8 #10); the
            # actual batch is what it means and what it gives whenever it runs.
            pad = torch.zeros(b, MIXER_AUDIO_TOKENS - frames, d, dtype=ha.dtype)
            ha = torch.cat([ha, pad], 1)
        x = torch.cat([self.text_projection(text_seq), ha], dim=1)  # TEXT first
        h = self.final_norm(self.block(x)).mean(dim=1)
        return self.classifier(h)


# ---------------------------------------------------------------- seed 004 (spec B.5)


class EtriConcat(nn.Module):
    def __init__(self, t, a, c):
        super().__init__()
        self.dropout = nn.Dropout(0.1)  # one module for both inputs
        self.classifier = nn.Linear(t + a, c)

    def forward(self, frames, pooled):
        e = torch.cat([self.dropout(pooled), self.dropout(frames)[:, -1]], 1)  # TEXT first
        return self.classifier(e)  # the seed's softmax belongs to its loss


class EtriElementWiseAdd(nn.Module):
    def __init__(self, t, a, c):
        super().__init__()
        self.dropout = nn.Dropout(0.1)
        self.wav_linear = nn.Linear(a, t)
        self.classifier = nn.Linear(t, c)

    def forward(self, frames, pooled):
        # The seed projects every frame, then takes the last one.
        s = self.wav_linear(self.dropout(frames))[:, -1] + self.dropout(pooled)
        return self.classifier(s)


class EtriTextHead(nn.Module):
    def __init__(self, t, c):
        super().__init__()
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(t, c)

    def forward(self, frames, pooled):
        return self.classifier(self.dropout(pooled))


class EtriSpeechHead(nn.Module):
    def __init__(self, a, c):
        super().__init__()
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(a, c)

    def forward(self, frames, pooled):
        return self.classifier(self.dropout(frames))[:, -1]


# ---------------------------------------------------------------- names in emo-run's checkpoint

# PyTorch module path -> the module path emo-run's `Fusion` checkpoint uses (found by saving
# each Rust head with burn-store). A PyTorch Linear or LayerNorm missing here is an error.
RUST_NAMES = {
    "early_fusion": {"base_norm": "EarlyFusion.Seed000.input.norm",
                     "base_classifier": "EarlyFusion.Seed000.classifier"},
    "late_fusion": {"wave_classifier": "LateFusion.Seed000.audio",
                    "text_classifier": "LateFusion.Seed000.text",
                    "lf_norm": "LateFusion.Seed000.norm"},
    "text_only_seed000": {"layer_norm": "TextOnly.Seed000.norm",
                          "classifier": "TextOnly.Seed000.classifier"},
    "audio_only_seed000": {"dense": "AudioOnly.Seed000.dense", "out_proj": "AudioOnly.Seed000.output"},
    "stack": {"stack_norm": "Stack.input.norm", "stack_classifier": "Stack.classifier"},
    "residual": {"res_norm": "Residual.input.norm", "res_block.0": "Residual.blocks.widen",
                 "res_block2.0": "Residual.blocks.back", "res_classifier": "Residual.classifier"},
    "rsa": {"rsa_norm": "Rsa.input.norm", "rsa_attn.query": "Rsa.attention.query",
            "rsa_attn.key": "Rsa.attention.key", "rsa_attn.value": "Rsa.attention.value",
            "rsa_block.0": "Rsa.blocks.widen", "rsa_block2.0": "Rsa.blocks.back",
            "rsa_classifier": "Rsa.classifier"},
    "mlp_mixer": {"audio_projection": "MlpMixer.audio_projection",
                  "text_projection": "MlpMixer.text_projection",
                  "block.norm": "MlpMixer.block.norm",
                  "block.token_mixing.0": "MlpMixer.block.token_mixing.first",
                  "block.token_mixing.2": "MlpMixer.block.token_mixing.second",
                  "block.channel_mixing.0": "MlpMixer.block.channel_mixing.first",
                  "block.channel_mixing.2": "MlpMixer.block.channel_mixing.second",
                  "final_norm": "MlpMixer.final_norm",
                  "classifier.1": "MlpMixer.head.hidden",
                  "classifier.4": "MlpMixer.head.output"},
    "concat": {"classifier": "Concat.classifier"},
    "element_wise_add": {"wav_linear": "ElementWiseAdd.audio_to_text",
                         "classifier": "ElementWiseAdd.classifier"},
    "text_only_linear": {"classifier": "TextOnly.Linear.classifier"},
    "audio_only_linear": {"classifier": "AudioOnly.Linear.classifier"},
}


def rsa_cfn_names(prefix, rust):
    names = {}
    for side, torch_side in (("audio", ("wav_proj", "wave_attn", "wav_norm")),
                             ("text", ("rnn_proj", "text_attn", "rnn_norm"))):
        proj, attn, norm = torch_side
        names[prefix + proj] = f"{rust}.{side}.projection"
        for part in ("query", "key", "value"):
            names[f"{prefix}{attn}.{part}"] = f"{rust}.{side}.attention.{part}"
        names[prefix + norm] = f"{rust}.{side}.norm"
    names[prefix + "rac_res_block.0"] = f"{rust}.blocks.widen"
    names[prefix + "rac_res_block2.0"] = f"{rust}.blocks.back"
    names[prefix + "rac_classifier.0"] = f"{rust}.classifier.hidden"
    names[prefix + "rac_classifier.3"] = f"{rust}.classifier.output"
    return names


RUST_NAMES["rsa_cfn"] = rsa_cfn_names("", "RsaCfn")
RUST_NAMES["hybrid_fusion"] = {
    **{"early." + k: "HybridFusion.early." + v.split(".", 1)[1]
       for k, v in RUST_NAMES["early_fusion"].items()},
    **{"late." + k: "HybridFusion.late." + v.split(".", 1)[1]
       for k, v in RUST_NAMES["late_fusion"].items()},
    **{"residual." + k: "HybridFusion.residual." + v.split(".", 1)[1]
       for k, v in RUST_NAMES["residual"].items()},
    **rsa_cfn_names("rsa_cfn.", "HybridFusion.rsa_cfn"),
    "hybrid_norm": "HybridFusion.vote_norm",
}


def rust_tensors(model, names, grads):
    """`{rust key: tensor}` in burn's layout: Linear weight [in, out], LayerNorm gamma/beta."""
    out = {}
    covered = set()
    for path, module in model.named_modules():
        if not isinstance(module, (nn.Linear, nn.LayerNorm)):
            continue
        rust = names[path]  # KeyError: a layer without a Rust name
        weight = module.weight.grad if grads else module.weight
        bias = module.bias.grad if grads else module.bias
        if isinstance(module, nn.Linear):
            out[f"{rust}.weight"] = weight.detach().t()
            out[f"{rust}.bias"] = bias.detach()
        else:
            out[f"{rust}.gamma"] = weight.detach()
            out[f"{rust}.beta"] = bias.detach()
        covered.update(id(p) for p in module.parameters())
    assert covered == {id(p) for p in model.parameters()}, "a parameter outside Linear/LayerNorm"
    return {k: v.to(torch.float32).contiguous() for k, v in out.items()}


# ---------------------------------------------------------------- fixtures


def randomize(model, gen):
    """Every parameter away from its initial value (LayerNorm gains too), so that a swapped or
    transposed weight shows; float32-representable, used in float64."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                scale = 1.0 / math.sqrt(module.in_features)
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * scale)
                module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * scale)
            elif isinstance(module, nn.LayerNorm):
                module.weight.copy_(1 + 0.3 * torch.randn(module.weight.shape, generator=gen))
                module.bias.copy_(0.3 * torch.randn(module.bias.shape, generator=gen))
        for p in model.parameters():
            p.copy_(p.to(torch.float32).to(torch.float64))


def f32(x):
    return x.to(torch.float32).to(torch.float64)


def write_head(out, name, model, inputs, rust_inputs, gen, extra=None):
    """Forward in eval mode, CE backward, and the two safetensors files of one head."""
    randomize(model, gen)
    model.eval()  # no dropout, as emo-run's heads at evaluation
    labels = torch.randint(0, CLASSES, (BATCH,), generator=gen)
    result = model(*inputs)
    logits, attention = result if isinstance(result, tuple) else (result, None)
    nn.functional.cross_entropy(logits, labels).backward()
    names = RUST_NAMES[name]
    save_file(rust_tensors(model, names, grads=False), str(out / f"{name}.weights.safetensors"))
    expected = {f"input.{k}": v.to(torch.float32).contiguous() for k, v in rust_inputs.items()}
    expected["labels"] = labels
    expected["logits"] = logits.detach().to(torch.float32)
    if attention is not None:
        expected["attention"] = attention.detach().to(torch.float32).contiguous()
    for k, g in rust_tensors(model, names, grads=True).items():
        expected[f"grad.{k}"] = g
    save_file(expected, str(out / f"{name}.expected.safetensors"))


def seed000_heads(out, gen):
    a = f32(torch.randn(BATCH, A0, generator=gen))
    t = f32(torch.randn(BATCH, T0, generator=gen))
    pooled = {"audio": a, "text": t}
    heads = {
        "early_fusion": EarlyFusion(A0, T0, CLASSES),
        "late_fusion": LateFusion(A0, T0, CLASSES),
        "stack": Stack(A0, T0, CLASSES),
        "residual": Residual(A0, T0, CLASSES),
        "rsa": Rsa(A0, T0, CLASSES),
        "rsa_cfn": RsaCfn(A0, T0, CLASSES, CFN_PROJ),
        "hybrid_fusion": HybridFusion(A0, T0, CLASSES, CFN_PROJ),
        "text_only_seed000": SeedTextHead(T0, CLASSES),
        "audio_only_seed000": SeedAudioHead(A0, CLASSES),
    }
    for name, model in heads.items():
        write_head(out, name, model.double(), (a, t), pooled, gen)
    audio_seq = f32(torch.randn(BATCH, MIXER_AUDIO_FRAMES, A0, generator=gen))
    text_seq = f32(torch.randn(BATCH, MIXER_TEXT_TOKENS, T0, generator=gen))
    mixer = MultiModalMixer(A0, T0, CLASSES).double()
    write_head(out, "mlp_mixer", mixer, (audio_seq, text_seq),
               {"audio": audio_seq, "text": text_seq}, gen)


def seed004_heads(out, gen):
    frames = f32(torch.randn(BATCH, SEED004_FRAMES, A4, generator=gen))
    pooled = f32(torch.randn(BATCH, T4, generator=gen))
    # emo-run's encoder pooling hands the head the LAST frame; the seed's heads get all frames.
    inputs = {"audio": frames[:, -1], "text": pooled}
    heads = {
        "concat": EtriConcat(T4, A4, CLASSES),
        "element_wise_add": EtriElementWiseAdd(T4, A4, CLASSES),
        "text_only_linear": EtriTextHead(T4, CLASSES),
        "audio_only_linear": EtriSpeechHead(A4, CLASSES),
    }
    for name, model in heads.items():
        write_head(out, name, model.double(), (frames, pooled), inputs, gen)


# ---------------------------------------------------------------- optimizer step

# emo-run's checkpoint keys of the tiny model tests/head_parity.rs builds (log-mel encoder with
# one conv layer of 3 channels on 4 mels, linear audio-only head to 2 classes) and their shapes.
OPTIM_PARAMS = {
    "audio.backbone.LogmelConv.convs.0.weight": (3, 4, 3),
    "audio.backbone.LogmelConv.convs.0.bias": (3,),
    "audio.backbone.LogmelConv.norm.gamma": (3,),
    "audio.backbone.LogmelConv.norm.beta": (3,),
    "fusion.AudioOnly.Linear.classifier.weight": (3, 2),
    "fusion.AudioOnly.Linear.classifier.bias": (2,),
}
OPTIM_SETTINGS = {
    "lr": 0.01,
    "fusion_lr": 0.05,  # train.optimizer.module_lr.fusion
    "weight_decay": 0.1,
    "beta1": 0.8,
    "beta2": 0.95,
    "eps": 1e-6,
    "accumulate": 2,
    "clip_norm": 1.0,
    # Standard deviation of each step's batch gradients. The middle step's global norm stays
    # under clip_norm, so it is not clipped: then the scale of the accumulated gradient (each
    # batch's loss divided by `accumulate`) reaches Adam's moments instead of being normalised
    # away by the clipping.
    "grad_scales": [0.5, 0.02, 0.5],
}


def optimizer_fixture(out, kind, gen):
    s = OPTIM_SETTINGS
    params = {k: torch.nn.Parameter(f32(torch.randn(shape, generator=gen)))
              for k, shape in OPTIM_PARAMS.items()}
    start = {k: p.detach().clone() for k, p in params.items()}
    fusion = [p for k, p in params.items() if k.startswith("fusion.")]
    others = [p for k, p in params.items() if not k.startswith("fusion.")]
    groups = [{"params": others, "lr": s["lr"]}, {"params": fusion, "lr": s["fusion_lr"]}]
    cls = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[kind]
    opt = cls(groups, lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"],
              weight_decay=s["weight_decay"])
    tensors = {}
    norms = []
    for step, scale in enumerate(s["grad_scales"]):
        opt.zero_grad()
        for batch in range(s["accumulate"]):
            g = {k: f32(torch.randn(p.shape, generator=gen) * scale) for k, p in params.items()}
            for k, v in g.items():
                tensors[f"grad.{step}.{batch}.{k}"] = v.to(torch.float32)
            loss = sum((params[k] * g[k]).sum() for k in params) / s["accumulate"]
            loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), s["clip_norm"])))
        opt.step()
    clipped = [n > s["clip_norm"] for n in norms]
    assert clipped == [True, False, True], f"clipping must act on steps 0 and 2 only: {norms}"
    for k in params:
        tensors[f"expected.{k}"] = params[k].detach().to(torch.float32)
    # The starting weights as a checkpoint of emo-run's whole model (encoder and fusion).
    weights = {k: v.to(torch.float32) for k, v in start.items()}
    save_file(weights, str(out / f"optimizer_{kind}.weights.safetensors"))
    save_file(tensors, str(out / f"optimizer_{kind}.expected.safetensors"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", type=pathlib.Path, default=DEFAULT_OUT)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    gen = torch.Generator().manual_seed(SEED)
    seed000_heads(out, gen)
    seed004_heads(out, gen)
    for kind in ("adamw", "adam"):
        optimizer_fixture(out, kind, gen)
    (out / "optimizer.json").write_text(json.dumps(OPTIM_SETTINGS, indent=2) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(list(out.iterdir()))} files, {total} bytes, to {out}")


if __name__ == "__main__":
    main()
