#!/usr/bin/env python3
"""Dev-only: write small PyTorch reference fixtures for the `cross_modal` fusion method.

    pip install torch safetensors numpy
    python3 scripts/dev/make_cross_modal_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/cross_modal next to this repository's root. The model below
is written from the seed 003 spec (B.4: Multi-Still's `MultiModalForCrossAttention` and the
MulT `TransformerEncoder`, `TransformerEncoderLayer`, fairseq `MultiheadAttention` and
`SinusoidalPositionalEmbedding` it copies), not from emo-run's Rust, at small widths.
tests/cross_modal_parity.rs loads the files, so neither CI nor `cargo test` needs Python:

* `<model>.safetensors`: each model's state_dict under the names the Rust module uses
  (`proj_audio.weight`, `audio2text.layers.0.self_attn.in_proj_weight`, ...), for the models
  `both`, `text_only`, `audio_only` and `masked` (`both` with padded keys masked).
* io.safetensors: the inputs (`text` [B, L, d], `audio` [B, T, A] with zero-padded tail frames,
  their lengths `text_lengths`, `audio_lengths`) and each model's outputs: `<model>.a2t`
  (pooled audio-to-text output), `<model>.t2a` (text-to-audio, step 0), `<model>.logits`.

Every parameter (LayerNorm and biases included) is drawn away from its initial value, so a
transposed, swapped or skipped tensor shows in the outputs. The models run in eval mode (no
dropout) in float64 on the float32-rounded weights. The output is deterministic.
"""
import math
import pathlib
import sys

import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

SEED = 30003
BATCH, TEXT_LEN, AUDIO_LEN = 2, 5, 7
DIM, HEADS, FFN, LAYERS = 16, 4, 32, 2
AUDIO_WIDTH, HEAD_HIDDEN, CLASSES = 12, 10, 7
TEXT_LENGTHS = (5, 3)
AUDIO_LENGTHS = (7, 4)


def sinusoidal_table(num_embeddings, dim):
    """fairseq's get_embedding: [sin | cos] halves concatenated, row 0 (padding) zero."""
    half = dim // 2
    step = math.log(10000) / (half - 1)
    freq = torch.exp(torch.arange(half, dtype=torch.float64) * -step)
    angles = torch.arange(num_embeddings, dtype=torch.float64).unsqueeze(1) * freq.unsqueeze(0)
    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if dim % 2 == 1:
        table = torch.cat([table, torch.zeros(num_embeddings, 1, dtype=torch.float64)], dim=1)
    table[0, :] = 0
    return table


def positions(x):
    """PE of x [L, B, d]: step t gets row t + 1 unless its channel 0 is exactly 0 (row 0)."""
    steps, batch, dim = x.shape
    table = sinusoidal_table(steps + 1, dim).to(x.dtype)
    index = torch.arange(1, steps + 1).unsqueeze(1).expand(steps, batch)
    index = torch.where(x[:, :, 0] != 0, index, torch.zeros_like(index))
    return table[index]


class MultiheadAttention(nn.Module):
    """fairseq-style: fused in_proj [3d, d], q scaled by head_dim^-0.5, softmax, out_proj."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scaling = self.head_dim ** -0.5
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.xavier_uniform_(self.out_proj.weight)
        nn.init.constant_(self.out_proj.bias, 0.0)

    def _in_proj(self, x, i):
        d = x.shape[-1]
        w = self.in_proj_weight[i * d:(i + 1) * d]
        b = self.in_proj_bias[i * d:(i + 1) * d]
        return F.linear(x, w, b)

    def forward(self, query, key, value, key_padding_mask=None):
        tgt, bsz, dim = query.shape
        src = key.shape[0]
        q = self._in_proj(query, 0) * self.scaling
        k = self._in_proj(key, 1)
        v = self._in_proj(value, 2)
        q = q.contiguous().view(tgt, bsz * self.heads, self.head_dim).transpose(0, 1)
        k = k.contiguous().view(src, bsz * self.heads, self.head_dim).transpose(0, 1)
        v = v.contiguous().view(src, bsz * self.heads, self.head_dim).transpose(0, 1)
        weights = torch.bmm(q, k.transpose(1, 2))  # [B*H, tgt, src]
        if key_padding_mask is not None:  # emo-run's switch; not in MulT
            weights = weights.view(bsz, self.heads, tgt, src)
            weights = weights.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
            weights = weights.view(bsz * self.heads, tgt, src)
        weights = F.softmax(weights, dim=-1)
        out = torch.bmm(weights, v).transpose(0, 1).contiguous().view(tgt, bsz, dim)
        return self.out_proj(out)


def xavier_linear(i, o):
    layer = nn.Linear(i, o)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.constant_(layer.bias, 0.0)
    return layer


class TransformerEncoderLayer(nn.Module):
    """Pre-LN; layer_norms[0] normalises the query, the keys and the values."""

    def __init__(self, dim, heads, ffn):
        super().__init__()
        self.self_attn = MultiheadAttention(dim, heads)
        self.fc1 = xavier_linear(dim, ffn)
        self.fc2 = xavier_linear(ffn, dim)
        self.layer_norms = nn.ModuleList([nn.LayerNorm(dim) for _ in range(2)])

    def forward(self, x, x_k, x_v, key_padding_mask=None):
        residual = x
        x = self.layer_norms[0](x)
        x_k = self.layer_norms[0](x_k)
        x_v = self.layer_norms[0](x_v)
        x = residual + self.self_attn(x, x_k, x_v, key_padding_mask)
        residual = x
        x = self.fc2(F.relu(self.fc1(self.layer_norms[1](x))))
        return residual + x


class TransformerEncoder(nn.Module):
    def __init__(self, dim, heads, ffn, layers):
        super().__init__()
        self.embed_scale = math.sqrt(dim)
        self.layers = nn.ModuleList([TransformerEncoderLayer(dim, heads, ffn) for _ in range(layers)])
        self.layer_norm = nn.LayerNorm(dim)

    def forward(self, x_in, x_in_k, x_in_v, key_padding_mask=None):
        x = self.embed_scale * x_in + positions(x_in)
        x_k = self.embed_scale * x_in_k + positions(x_in_k)
        x_v = self.embed_scale * x_in_v + positions(x_in_v)
        for layer in self.layers:  # K and V are NOT updated from layer to layer
            x = layer(x, x_k, x_v, key_padding_mask)
        return self.layer_norm(x)


class CrossModal(nn.Module):
    def __init__(self, variant, masked=False):
        super().__init__()
        self.variant = variant
        self.masked = masked
        self.proj_audio = nn.Conv1d(AUDIO_WIDTH, DIM, kernel_size=1, bias=False)
        if variant in ("both", "text_only"):
            self.audio2text = TransformerEncoder(DIM, HEADS, FFN, LAYERS)
        if variant in ("both", "audio_only"):
            self.text2audio = TransformerEncoder(DIM, HEADS, FFN, LAYERS)
        width = 2 * DIM if variant == "both" else DIM
        self.classifier_hidden = nn.Linear(width, HEAD_HIDDEN)
        self.classifier_output = nn.Linear(HEAD_HIDDEN, CLASSES)

    def forward(self, text, audio, text_pad, audio_pad):
        """text [B, L, d], audio [B, T, A] -> (a2t or None, t2a or None, logits)."""
        if not self.masked:
            text_pad = audio_pad = None
        t = text.permute(1, 0, 2)  # [L, B, d]
        a = self.proj_audio(audio.transpose(1, 2)).permute(2, 0, 1)  # [T, B, d]
        a2t = t2a = None
        if self.variant == "both":
            a2t = self.audio2text(a, t, t, text_pad).mean(dim=0)
            t2a = self.text2audio(t, a, a, audio_pad)[0]
            h = torch.cat([a2t, t2a], dim=1)
        elif self.variant == "text_only":
            a2t = h = self.audio2text(t, t, t, text_pad).mean(dim=0)
        else:
            t2a = h = self.text2audio(a, a, a, audio_pad)[0]
        logits = self.classifier_output(F.gelu(self.classifier_hidden(h)))
        return a2t, t2a, logits


def perturbed(model):
    """Draw every parameter away from its init, round to float32, compute in float64."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.float().double().eval()


def padding(lengths, steps):
    return torch.arange(steps).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)


def inputs():
    text = torch.randn(BATCH, TEXT_LEN, DIM).float()
    audio = torch.randn(BATCH, AUDIO_LEN, AUDIO_WIDTH).float()
    # Zero-padded tail frames, as the cached XLSR states are padded to 512.
    audio = audio.masked_fill(padding(AUDIO_LENGTHS, AUDIO_LEN).unsqueeze(2), 0.0)
    return text, audio


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "tests/fixtures/cross_modal"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    text, audio = inputs()
    io = {
        "text": text,
        "audio": audio,
        "text_lengths": torch.tensor(TEXT_LENGTHS, dtype=torch.int64),
        "audio_lengths": torch.tensor(AUDIO_LENGTHS, dtype=torch.int64),
    }
    text_pad = padding(TEXT_LENGTHS, TEXT_LEN)
    audio_pad = padding(AUDIO_LENGTHS, AUDIO_LEN)
    models = {
        "both": CrossModal("both"),
        "text_only": CrossModal("text_only"),
        "audio_only": CrossModal("audio_only"),
        "masked": CrossModal("both", masked=True),
    }
    for name, model in models.items():
        model = perturbed(model)
        state = {k: v.float().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(out / f"{name}.safetensors"))
        with torch.no_grad():
            a2t, t2a, logits = model(text.double(), audio.double(), text_pad, audio_pad)
        for key, value in (("a2t", a2t), ("t2a", t2a), ("logits", logits)):
            if value is not None:
                io[f"{name}.{key}"] = value.float().contiguous()
    save_file(io, str(out / "io.safetensors"))
    print(f"wrote {len(models) + 1} files to {out}")


if __name__ == "__main__":
    main()
