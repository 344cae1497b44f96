#!/usr/bin/env python3
"""Dev-only: torchaudio's MelSpectrogram as seed 001 configures it, for tests/mel_pieces.rs.

    pip install torch torchaudio safetensors
    python3 scripts/dev/make_mel_pieces_fixture.py

Writes tests/fixtures/mel_pieces/clip.safetensors: `clip` (a 16 kHz float clip of 8,123
samples: a chirp, a tone and noise), `mel` = torchaudio.transforms.MelSpectrogram(sample_rate=
16000, win_length=400, n_fft=400)(clip) (the seed's MOSEI call; IEMOCAP's leaves n_fft at its
default, which is 400 too), `[128, frames]`, and `pieces` = the seed's cutSpecToPieces(stride=32),
`[n, 128, 32]`. Deterministic.
"""
import math
import pathlib

import torch
import torchaudio
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/mel_pieces/clip.safetensors"
RATE, SAMPLES = 16000, 8123


def cut_spec_to_pieces(spec, stride=32):
    """The seed's cutSpecToPieces on [1, 1, 128, T]."""
    spec = spec.squeeze(0)  # [1, 128, T]
    t = spec.shape[-1]
    pieces = []
    for start in range(0, t, stride):
        piece = spec[:, :, start:start + stride]
        if piece.shape[-1] < stride:
            piece = torch.nn.functional.pad(piece, (0, stride - piece.shape[-1]))
        pieces.append(piece)
    return torch.stack(pieces)  # [n, 1, 128, 32]


def main():
    g = torch.Generator().manual_seed(20261204)
    t = torch.arange(SAMPLES, dtype=torch.float64) / RATE
    chirp = torch.sin(2 * math.pi * (200 * t + 3000 * t * t))
    tone = 0.3 * torch.sin(2 * math.pi * 1234.5 * t)
    noise = 0.05 * torch.randn(SAMPLES, generator=g, dtype=torch.float64)
    clip = (0.5 * chirp + tone + noise).float()
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=RATE, win_length=400, n_fft=400)(clip)
    pieces = cut_spec_to_pieces(mel.reshape(1, 1, *mel.shape)).squeeze(1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file({"clip": clip.contiguous(), "mel": mel.contiguous(), "pieces": pieces.contiguous()},
              str(OUT))
    print(f"wrote {OUT}: mel {tuple(mel.shape)}, pieces {tuple(pieces.shape)}")


if __name__ == "__main__":
    main()
