#!/usr/bin/env python3
"""Dev-only: a PyTorch reference for seed 001's LF-LSTM summaries of a padded batch.

    pip install torch safetensors
    python3 scripts/dev/make_lf_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/lf. One `nn.LSTM(D, D, bidirectional=True)` (the seed's
`rnns[m]`, hidden width = input width) runs seq-first over a zero-padded batch, as the seed's
`LF_RNN.forward` does with no packing, and two summaries are stored:

* `last_output`: `output[-1]`, what the seed reads for text (the reverse half has seen only the
  last padded step);
* `h_n`: `h_n.transpose(0, 1).flatten(1)`, what it reads for audio and visual (the reverse half
  has stepped back over the padding to the first step).

bilstm.safetensors holds the weights under emo-run's names (`forward.weight_ih_l0`, ...,
`reverse.bias_hh_l0`: PyTorch's `*_l0` and `*_l0_reverse`), io.safetensors the batch `x`
[B, T, D] and both summaries [B, 2D]. tests/lf_baselines.rs loads them, so neither CI nor
`cargo test` needs Python. Float64 on float32-rounded weights; deterministic.
"""
import pathlib
import sys

import torch
from safetensors.torch import save_file
from torch import nn

SEED = 30011
D = 3
LENGTHS = (4, 2)


def main() -> None:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/lf")
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    lstm = nn.LSTM(D, D, num_layers=1, bidirectional=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(p.float())
    lstm = lstm.double()
    steps = max(LENGTHS)
    x = torch.zeros(len(LENGTHS), steps, D, dtype=torch.float64)
    for row, n in enumerate(LENGTHS):
        x[row, :n] = torch.randn(n, D, dtype=torch.float64).float().double()
    with torch.no_grad():
        output, (h_n, _) = lstm(x.transpose(0, 1))
    weights = {}
    for name, tensor in lstm.state_dict().items():
        direction = "reverse" if name.endswith("_reverse") else "forward"
        weights[f"{direction}.{name.removesuffix('_reverse')}"] = tensor.float().contiguous()
    save_file(weights, str(out / "bilstm.safetensors"))
    save_file(
        {
            "x": x.float().contiguous(),
            "last_output": output[-1].float().contiguous(),
            "h_n": h_n.transpose(0, 1).flatten(1).float().contiguous(),
        },
        str(out / "io.safetensors"),
    )
    print(f"wrote {out}/bilstm.safetensors and io.safetensors")


if __name__ == "__main__":
    main()
