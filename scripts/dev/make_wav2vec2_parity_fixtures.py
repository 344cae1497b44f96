#!/usr/bin/env python3
"""Dev-only: write two tiny random Hugging Face wav2vec2 folders and their reference outputs.

    pip install torch transformers safetensors numpy
    python3 scripts/dev/make_wav2vec2_parity_fixtures.py

tests/wav2vec2_parity.rs loads each folder through emo-run's public API and compares its
outputs with `expected.safetensors`, so neither CI nor `cargo test` needs Python. The two
folders cover both architectures and both checkpoint layouts:

* wav2vec2-group-postln: GroupNorm on conv 1, post-LN encoder (base-960h style), no conv bias,
  an even positional-conv kernel (16: one trailing frame is removed), weights saved as a
  Wav2Vec2ForCTC `pytorch_model.bin` (keys under `wav2vec2.`, plus an `lm_head`) with the old
  weight-norm names `weight_g` / `weight_v`.
* wav2vec2-layer-stable: LayerNorm after every conv, pre-LN "stable layer norm" encoder
  (large-lv60 style), conv bias, an odd positional-conv kernel (15), weights saved as a bare
  Wav2Vec2Model `model.safetensors` with the new `parametrizations.weight.original0/1` names.

Every parameter is perturbed away from its initial value (LayerNorm gains included) so that a
transposed, swapped or skipped weight shows in the outputs. The output is deterministic.
"""
import json
import pathlib

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC, Wav2Vec2Model

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/fixtures/hf"
SEED = 20240611
LENGTHS = [1600, 1100]

COMMON = dict(
    conv_dim=[16, 16, 16],
    conv_kernel=[10, 3, 3],
    conv_stride=[5, 2, 2],
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    num_conv_pos_embedding_groups=4,
    vocab_size=12,
    layer_norm_eps=1e-5,
)

VARIANTS = {
    "wav2vec2-group-postln": dict(
        config=dict(
            COMMON,
            feat_extract_norm="group",
            do_stable_layer_norm=False,
            conv_bias=False,
            num_conv_pos_embeddings=16,
        ),
        preprocessor=dict(do_normalize=True, return_attention_mask=False),
        layout="bin",
    ),
    "wav2vec2-layer-stable": dict(
        config=dict(
            COMMON,
            feat_extract_norm="layer",
            do_stable_layer_norm=True,
            conv_bias=True,
            num_conv_pos_embeddings=15,
        ),
        preprocessor=dict(do_normalize=True, return_attention_mask=True),
        layout="safetensors",
    ),
}


def perturb(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Move every parameter off its initial value, so that each one matters in the outputs."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator)
            if p.dim() == 1 and "layer_norm" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.2 * noise)
            elif p.dim() == 1:
                p.add_(0.1 * noise)
            else:
                p.mul_(1.0 + 0.1 * noise)


def old_weight_norm_names(state: dict) -> dict:
    """torch < 2.1 checkpoints (base-960h among them) name weight norm's g and v this way."""
    renamed = {}
    for key, value in state.items():
        key = key.replace("parametrizations.weight.original0", "weight_g")
        key = key.replace("parametrizations.weight.original1", "weight_v")
        renamed[key] = value.contiguous()
    return renamed


def reference(model: Wav2Vec2Model, waveform: torch.Tensor, mask) -> dict:
    with torch.no_grad():
        out = model(waveform, attention_mask=mask, output_hidden_states=True)
    tensors = {"extract_features": out.extract_features}
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}"] = h
    return tensors


def write_variant(name: str, spec: dict, generator: torch.Generator) -> None:
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    config = Wav2Vec2Config(**spec["config"], attn_implementation="eager")
    if spec["layout"] == "bin":
        head = Wav2Vec2ForCTC(config).eval()
        perturb(head, generator)
        model = head.wav2vec2
        state = old_weight_norm_names(head.state_dict())
        torch.save(state, folder / "pytorch_model.bin")
        config.architectures = ["Wav2Vec2ForCTC"]
    else:
        model = Wav2Vec2Model(config).eval()
        perturb(model, generator)
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
        config.architectures = ["Wav2Vec2Model"]
    config.to_json_file(folder / "config.json")
    Wav2Vec2FeatureExtractor(**spec["preprocessor"]).save_pretrained(folder)

    batch = len(LENGTHS)
    waveform = torch.zeros(batch, max(LENGTHS))
    mask = torch.zeros(batch, max(LENGTHS), dtype=torch.long)
    for row, length in enumerate(LENGTHS):
        waveform[row, :length] = 0.3 * torch.randn(length, generator=generator)
        mask[row, :length] = 1

    expected = {
        "waveform": waveform,
        "lengths": torch.tensor(LENGTHS, dtype=torch.int64),
        "frame_lengths": model._get_feat_extract_output_lengths(torch.tensor(LENGTHS)).to(torch.int64),
    }
    for case, case_mask in (("no_mask", None), ("mask", mask)):
        for key, value in reference(model, waveform, case_mask).items():
            expected[f"{case}.{key}"] = value.contiguous()
    save_file(expected, str(folder / "expected.safetensors"))
    print(f"{name}: frames {expected['no_mask.extract_features'].shape[1]}, keys {len(state)}")


def main() -> None:
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    for name, spec in VARIANTS.items():
        write_variant(name, spec, generator)
    readme = OUT / "README.md"
    readme.write_text(
        "Tiny random Hugging Face folders and their reference outputs, written by\n"
        "`scripts/dev/make_wav2vec2_parity_fixtures.py` (torch "
        f"{torch.__version__}, transformers {__import__('transformers').__version__}).\n"
        "Used by `tests/wav2vec2_parity.rs`; do not edit by hand.\n"
    )


if __name__ == "__main__":
    main()
