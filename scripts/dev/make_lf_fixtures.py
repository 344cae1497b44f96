#!/usr/bin/env python3
"""Dev-only: PyTorch references for seed 001's LF-LSTM and LF-TRANS baselines.

    pip install torch safetensors
    python3 scripts/dev/make_lf_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/lf. The models are written from the seed 001 spec (3.1, 3.2)
with the seed's module structure, at small widths (text 6, audio 4, visual 5; 3 classes; LF-TRANS
with 2 layers, FFN 16 and heads 2 / 2 / 5), and run on one zero-padded batch of three utterances
as the seed runs them: LF-LSTM unpacked (text reads `output[-1]`, audio and visual `h_n`), LF-TRANS
with audio and visual masked and text not. The fixes emo-run offers as `padding = "masked"` are
computed too, with PyTorch's own means: `pack_padded_sequence` for every LSTM, lengths for the
text transformer.

* bilstm.safetensors / io.safetensors: one `nn.LSTM(3, 3, bidirectional=True)` and a batch of
  lengths 4 and 2: `x`, `last_output` (`output[-1]`) and `h_n` (`h_n.transpose(0, 1).flatten(1)`).
* lf_rnn.safetensors, lf_transformer.safetensors: the models' tensors under emo-run's names
  (PyTorch layouts).
* models_io.safetensors: the padded streams `text`, `audio`, `visual` [B, T, d], their
  `*_lengths`, and the logits `rnn_seed`, `rnn_masked`, `transformer_seed`, `transformer_masked`.

tests/lf_baselines.rs loads them, so neither CI nor `cargo test` needs Python. Float64 on
float32-rounded weights; deterministic.
"""
import pathlib
import sys

import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_mme2e_fixtures import WrappedTransformerEncoder, emo_run_names  # noqa: E402

SEED = 30011
D = 3
LENGTHS = (4, 2)
WIDTHS = {"text": 6, "audio": 4, "visual": 5}
HEADS = {"text": 2, "audio": 2, "visual": 5}
STREAM_LENGTHS = {"text": (3, 1, 2), "audio": (4, 2, 1), "visual": (2, 3, 1)}
CLASSES = 3
LAYERS, FFN = 2, 16


def rounded(module):
    """Weights drawn away from their initial values, float32-exact, then float64."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            scale = 1.0 if "norm" in name and name.endswith("weight") else 0.0
            p.copy_((scale + torch.randn_like(p) * 0.5).float())
    return module.double().eval()


def head(d_in, hidden):
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, CLASSES))


class LfRnn(nn.Module):
    """The seed's LF_RNN: a BiLSTM per modality, hidden = input width, a two-layer head each."""

    def __init__(self):
        super().__init__()
        self.rnns = nn.ModuleDict({m: nn.LSTM(d, d, bidirectional=True) for m, d in WIDTHS.items()})
        self.affines = nn.ModuleDict({m: head(2 * d, d) for m, d in WIDTHS.items()})
        self.weighted_fusion = nn.Linear(3, 1, bias=False)

    def forward(self, streams, lengths, packed):
        logits = []
        for m in ("text", "audio", "visual"):
            x = streams[m].transpose(0, 1)  # [T, B, d], zero-padded
            if packed:
                x = pack_padded_sequence(x, list(lengths[m]), enforce_sorted=False)
                _, (h_n, _) = self.rnns[m](x)
                summary = h_n.transpose(0, 1).flatten(1)
            elif m == "text":
                output, _ = self.rnns[m](x)
                summary = output[-1]
            else:
                _, (h_n, _) = self.rnns[m](x)
                summary = h_n.transpose(0, 1).flatten(1)
            logits.append(self.affines[m](summary))
        return self.weighted_fusion(torch.stack(logits, dim=-1)).squeeze(-1)

    def emo_run_names(self):
        out = {}
        for m in WIDTHS:
            for name, tensor in self.rnns[m].state_dict().items():
                direction = "reverse" if name.endswith("_reverse") else "forward"
                out[f"{m}.{direction}.{name.removesuffix('_reverse')}"] = tensor
            for index, part in ((0, "hidden"), (2, "out")):
                out[f"heads.{m}.{part}.weight"] = self.affines[m][index].weight
                out[f"heads.{m}.{part}.bias"] = self.affines[m][index].bias
        out["heads.weighted_fusion.weights.weight"] = self.weighted_fusion.weight
        return {k: v.detach().float().contiguous() for k, v in out.items()}


class LfTransformer(nn.Module):
    """The seed's LF_Transformer: a CLS transformer per modality at its width, heads d → d/2."""

    def __init__(self):
        super().__init__()
        self.transformers = nn.ModuleDict({
            m: WrappedTransformerEncoder(d, LAYERS, HEADS[m], FFN) for m, d in WIDTHS.items()
        })
        self.affines = nn.ModuleDict({m: head(d, d // 2) for m, d in WIDTHS.items()})
        self.weighted_fusion = nn.Linear(3, 1, bias=False)

    def forward(self, streams, lengths, mask_text):
        logits = []
        for m in ("text", "audio", "visual"):
            if m == "text" and not mask_text:
                cls = self.transformers[m](streams[m])  # the seed: no lengths, no mask
            else:
                flat = torch.cat([row[:n] for row, n in zip(streams[m], lengths[m])])
                cls = self.transformers[m](flat, list(lengths[m]))
            logits.append(self.affines[m](cls))
        return self.weighted_fusion(torch.stack(logits, dim=-1)).squeeze(-1)

    def emo_run_names(self):
        out = {}
        for m in WIDTHS:
            for name, tensor in emo_run_names(self.transformers[m]).items():
                out[f"{m}.{name}"] = tensor
            for index, part in ((0, "hidden"), (2, "out")):
                out[f"heads.{m}.{part}.weight"] = self.affines[m][index].weight
                out[f"heads.{m}.{part}.bias"] = self.affines[m][index].bias
        out["heads.weighted_fusion.weights.weight"] = self.weighted_fusion.weight
        return {k: v.detach().float().contiguous() for k, v in out.items()}


def bilstm_fixture(out):
    lstm = nn.LSTM(D, D, num_layers=1, bidirectional=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(p.float())
    lstm = lstm.double()
    x = torch.zeros(len(LENGTHS), max(LENGTHS), D, dtype=torch.float64)
    for row, n in enumerate(LENGTHS):
        x[row, :n] = torch.randn(n, D, dtype=torch.float64).float().double()
    with torch.no_grad():
        output, (h_n, _) = lstm(x.transpose(0, 1))
    weights = {}
    for name, tensor in lstm.state_dict().items():
        direction = "reverse" if name.endswith("_reverse") else "forward"
        weights[f"{direction}.{name.removesuffix('_reverse')}"] = tensor.float().contiguous()
    save_file(weights, str(out / "bilstm.safetensors"))
    save_file({
        "x": x.float().contiguous(),
        "last_output": output[-1].float().contiguous(),
        "h_n": h_n.transpose(0, 1).flatten(1).float().contiguous(),
    }, str(out / "io.safetensors"))


def models_fixture(out):
    streams, io = {}, {}
    for m, d in WIDTHS.items():
        lengths = STREAM_LENGTHS[m]
        x = torch.zeros(len(lengths), max(lengths), d, dtype=torch.float64)
        for row, n in enumerate(lengths):
            x[row, :n] = torch.randn(n, d, dtype=torch.float64).float().double()
        streams[m] = x
        io[m] = x.float().contiguous()
        io[f"{m}_lengths"] = torch.tensor(lengths, dtype=torch.int64)
    rnn = rounded(LfRnn())
    transformer = rounded(LfTransformer())
    with torch.no_grad():
        io["rnn_seed"] = rnn(streams, STREAM_LENGTHS, packed=False)
        io["rnn_masked"] = rnn(streams, STREAM_LENGTHS, packed=True)
        io["transformer_seed"] = transformer(streams, STREAM_LENGTHS, mask_text=False)
        io["transformer_masked"] = transformer(streams, STREAM_LENGTHS, mask_text=True)
    save_file(rnn.emo_run_names(), str(out / "lf_rnn.safetensors"))
    save_file(transformer.emo_run_names(), str(out / "lf_transformer.safetensors"))
    save_file({k: v.float().contiguous() if v.is_floating_point() else v for k, v in io.items()},
              str(out / "models_io.safetensors"))


def main() -> None:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/lf")
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    bilstm_fixture(out)
    models_fixture(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
