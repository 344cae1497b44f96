#!/usr/bin/env python3
"""Dev-only: a small PyTorch reference for seed 001's WrappedTransformerEncoder.

    pip install torch safetensors
    python3 scripts/dev/make_mme2e_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/mme2e. The reference is written from the seed 001 spec (1.5):
PyTorch's own post-LN `nn.TransformerEncoderLayer` (ReLU, dropout 0.1, here FFN 16 instead of
2048 to keep the file small) stacked twice, a learned CLS prepended, no positional encoding,
the key-padding mask True on padding with length max_len + 1, and the encoded CLS returned.
tests/mme2e_parity.rs loads the files, so neither CI nor `cargo test` needs Python:

* transformer.safetensors: the module's tensors under emo-run's names (PyTorch layouts, read
  through burn's PyTorch adapter): `cls`, `encoder.layers.<i>.mha.{query,key,value,output}`,
  `encoder.layers.<i>.pwff.{linear_inner,linear_outer}`, `encoder.layers.<i>.norm_{1,2}`.
* io.safetensors: `flat` [sum(LENGTHS), D] (the frames of every utterance one after another),
  `lengths`, `masked` (the CLS output with lengths, [B, D]) and `unmasked` (the same padded batch
  without lengths, as LF-TRANS calls its text transformer).

Every parameter, LayerNorm included, is drawn away from its initial value. Eval mode, float64
on float32-rounded weights; deterministic.
"""
import pathlib
import sys

import torch
from safetensors.torch import save_file
from torch import nn

SEED = 30001
D, HEADS, FFN, LAYERS = 8, 2, 16, 2
LENGTHS = (3, 1, 2)


class WrappedTransformerEncoder(nn.Module):
    """The seed's class, with the FFN width a parameter."""

    def __init__(self, dim, num_layers, num_heads, ffn):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=dim, nhead=num_heads, dim_feedforward=ffn)
        self.transformer = nn.TransformerEncoder(layer, num_layers=num_layers)
        self.cls_emb = nn.Embedding(1, dim)

    def forward(self, flat, lens=None):
        if lens is not None:
            max_len = max(lens)
            rows, start = [], 0
            for n in lens:
                row = flat[start:start + n]
                start += n
                rows.append(torch.cat([row, row.new_zeros(max_len - n, row.shape[1])]))
            x = torch.stack(rows)  # [B, L, d]
            mask = torch.ones(len(lens), max_len + 1, dtype=torch.bool)
            for i, n in enumerate(lens):
                mask[i, : n + 1] = False
        else:
            x, mask = flat, None
        cls = self.cls_emb.weight.unsqueeze(0).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1).transpose(0, 1)  # [L + 1, B, d]
        return self.transformer(x, src_key_padding_mask=mask)[0]


def emo_run_names(model):
    """The state dict under burn's names, PyTorch layouts."""
    out = {"cls": model.cls_emb.weight}
    D = model.cls_emb.weight.shape[1]  # noqa: N806 (the width, as the module constant)
    for i, layer in enumerate(model.transformer.layers):
        p = f"encoder.layers.{i}"
        w, b = layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias
        for j, name in enumerate(("query", "key", "value")):
            out[f"{p}.mha.{name}.weight"] = w[j * D:(j + 1) * D]
            out[f"{p}.mha.{name}.bias"] = b[j * D:(j + 1) * D]
        out[f"{p}.mha.output.weight"] = layer.self_attn.out_proj.weight
        out[f"{p}.mha.output.bias"] = layer.self_attn.out_proj.bias
        out[f"{p}.pwff.linear_inner.weight"] = layer.linear1.weight
        out[f"{p}.pwff.linear_inner.bias"] = layer.linear1.bias
        out[f"{p}.pwff.linear_outer.weight"] = layer.linear2.weight
        out[f"{p}.pwff.linear_outer.bias"] = layer.linear2.bias
        out[f"{p}.norm_1.weight"] = layer.norm1.weight
        out[f"{p}.norm_1.bias"] = layer.norm1.bias
        out[f"{p}.norm_2.weight"] = layer.norm2.weight
        out[f"{p}.norm_2.bias"] = layer.norm2.bias
    return {k: v.detach().float().contiguous() for k, v in out.items()}


def main():
    out_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else (
        pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "mme2e")
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    model = WrappedTransformerEncoder(D, LAYERS, HEADS, FFN)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 1.0 if "norm" in name and name.endswith("weight") else 0.0
            p.copy_(scale + torch.randn_like(p) * 0.5)
    model = model.double().eval()
    flat = torch.randn(sum(LENGTHS), D, dtype=torch.float64).float().double()
    with torch.no_grad():
        masked = model(flat, list(LENGTHS))
        padded = torch.stack([
            torch.cat([flat[s:s + n], flat.new_zeros(max(LENGTHS) - n, D)])
            for s, n in zip((0, 3, 4), LENGTHS)
        ])
        unmasked = model(padded)
    # model.double() kept the float32 values exactly, so the float32 files hold the weights used.
    save_file(emo_run_names(model), str(out_dir / "transformer.safetensors"))
    save_file({
        "flat": flat.float().contiguous(),
        "lengths": torch.tensor(LENGTHS, dtype=torch.int64),
        "masked": masked.float().contiguous(),
        "unmasked": unmasked.float().contiguous(),
    }, str(out_dir / "io.safetensors"))
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    main()
