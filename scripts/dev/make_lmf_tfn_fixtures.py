#!/usr/bin/env python3
"""Dev-only: write small PyTorch reference fixtures for seed 002's LMF and TFN modules.

    pip install torch safetensors numpy
    python3 scripts/dev/make_lmf_tfn_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/lmf_tfn next to this repository's root. The models below are
written from the original PyTorch code's structure (Justin1904/Low-rank-Multimodal-Fusion
model.py and Justin1904/TensorFusionNetworks model.py), not from emo-run's Rust, at small
widths. tests/lmf_tfn_parity.rs loads the files, so neither CI nor `cargo test` needs Python:

* lmf.safetensors, tfn_logits.safetensors, tfn_mosi.safetensors: each model's state_dict under
  PyTorch's key names (BatchNorm's integer `num_batches_tracked` left out).
* io.safetensors: the shared inputs (`audio`, `video`, `text`); each model's subnetwork
  outputs (`<model>.audio_h`, `.video_h`, `.text_h`); the fusion alone computed from those
  stored outputs (LMF's logits `lmf.fused`, TFN's flattened tensor `tfn_*.fusion`); and each
  whole model's output from the inputs (`<model>.output`).

Every parameter and BatchNorm statistic is drawn away from its initial value, so a transposed,
swapped, skipped or mis-ordered tensor (LSTM gates included) shows in the outputs. The models run
in eval mode (running statistics, no dropout) in float64 on the float32-rounded weights, so the
references carry no rounding of their own. The output is deterministic.
"""
import pathlib
import sys

import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

SEED = 20020
BATCH = 5
STEPS = 4
# Small widths: audio_in, video_in, text_in; hidden widths; text_out; rank; post-fusion dim.
AUDIO_IN, VIDEO_IN, TEXT_IN = 6, 5, 7
AUDIO_H, VIDEO_H, TEXT_H, TEXT_OUT = 3, 4, 6, 3
RANK, CLASSES, POST_FUSION = 3, 2, 5
# Non-zero everywhere, so a model left in training mode would differ.
DROPOUTS = (0.2, 0.3, 0.25, 0.4)
# Biases of the Linear layers followed by a ReLU.
RELU_BIASES = tuple(
    [f"{m}_subnet.linear_{i}.bias" for m in ("audio", "video") for i in (1, 2, 3)]
    + ["post_fusion_layer_1.bias", "post_fusion_layer_2.bias"]
)


class SubNet(nn.Module):
    """BatchNorm1d -> Dropout -> 3 x (Linear -> ReLU), the last ReLU included."""

    def __init__(self, in_size, hidden_size, dropout):
        super().__init__()
        self.norm = nn.BatchNorm1d(in_size)
        self.drop = nn.Dropout(p=dropout)
        self.linear_1 = nn.Linear(in_size, hidden_size)
        self.linear_2 = nn.Linear(hidden_size, hidden_size)
        self.linear_3 = nn.Linear(hidden_size, hidden_size)

    def forward(self, x):
        dropped = self.drop(self.norm(x))
        y_1 = F.relu(self.linear_1(dropped))
        y_2 = F.relu(self.linear_2(y_1))
        return F.relu(self.linear_3(y_2))


class TextSubNet(nn.Module):
    """One-layer batch-first LSTM, final hidden state -> Dropout -> Linear (no activation)."""

    def __init__(self, in_size, hidden_size, out_size, dropout):
        super().__init__()
        self.rnn = nn.LSTM(in_size, hidden_size, num_layers=1, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.linear_1 = nn.Linear(hidden_size, out_size)

    def forward(self, x):
        _, (h_n, _) = self.rnn(x)
        return self.linear_1(self.dropout(h_n.squeeze(0)))


def with_one(h):
    """cat((ones, h), dim=1): the constant 1 is prepended (index 0)."""
    return torch.cat((torch.ones(h.shape[0], 1, dtype=h.dtype), h), dim=1)


class LMF(nn.Module):
    def __init__(self):
        super().__init__()
        self.audio_subnet = SubNet(AUDIO_IN, AUDIO_H, DROPOUTS[0])
        self.video_subnet = SubNet(VIDEO_IN, VIDEO_H, DROPOUTS[1])
        self.text_subnet = TextSubNet(TEXT_IN, TEXT_H, TEXT_OUT, DROPOUTS[2])
        self.post_fusion_dropout = nn.Dropout(p=DROPOUTS[3])  # created, never used
        self.audio_factor = nn.Parameter(torch.empty(RANK, AUDIO_H + 1, CLASSES))
        self.video_factor = nn.Parameter(torch.empty(RANK, VIDEO_H + 1, CLASSES))
        self.text_factor = nn.Parameter(torch.empty(RANK, TEXT_OUT + 1, CLASSES))
        self.fusion_weights = nn.Parameter(torch.empty(1, RANK))
        self.fusion_bias = nn.Parameter(torch.zeros(1, CLASSES))
        for p in (self.audio_factor, self.video_factor, self.text_factor, self.fusion_weights):
            nn.init.xavier_normal_(p)

    def subnets(self, audio, video, text):
        return self.audio_subnet(audio), self.video_subnet(video), self.text_subnet(text)

    def fuse(self, audio_h, video_h, text_h):
        # The source's broadcast form (the paper's Eq. 8).
        fusion_audio = torch.matmul(with_one(audio_h), self.audio_factor)
        fusion_video = torch.matmul(with_one(video_h), self.video_factor)
        fusion_text = torch.matmul(with_one(text_h), self.text_factor)
        fusion_zy = fusion_audio * fusion_video * fusion_text
        out = torch.matmul(self.fusion_weights, fusion_zy.permute(1, 0, 2)).squeeze(1)
        return out + self.fusion_bias

    def forward(self, audio, video, text):
        return self.fuse(*self.subnets(audio, video, text))


class TFN(nn.Module):
    def __init__(self, mosi):
        super().__init__()
        self.mosi = mosi
        self.audio_subnet = SubNet(AUDIO_IN, AUDIO_H, DROPOUTS[0])
        self.video_subnet = SubNet(VIDEO_IN, VIDEO_H, DROPOUTS[1])
        self.text_subnet = TextSubNet(TEXT_IN, TEXT_H, TEXT_OUT, DROPOUTS[2])
        self.post_fusion_dropout = nn.Dropout(p=DROPOUTS[3])
        width = (AUDIO_H + 1) * (VIDEO_H + 1) * (TEXT_OUT + 1)
        self.post_fusion_layer_1 = nn.Linear(width, POST_FUSION)
        self.post_fusion_layer_2 = nn.Linear(POST_FUSION, POST_FUSION)
        self.post_fusion_layer_3 = nn.Linear(POST_FUSION, 1 if mosi else CLASSES)
        if mosi:
            self.output_range = nn.Parameter(torch.FloatTensor([6]), requires_grad=False)
            self.output_shift = nn.Parameter(torch.FloatTensor([-3]), requires_grad=False)

    def subnets(self, audio, video, text):
        return self.audio_subnet(audio), self.video_subnet(video), self.text_subnet(text)

    @staticmethod
    def fuse(audio_h, video_h, text_h):
        batch = audio_h.shape[0]
        _a, _v, _t = with_one(audio_h), with_one(video_h), with_one(text_h)
        fusion = torch.bmm(_a.unsqueeze(2), _v.unsqueeze(1))
        fusion = fusion.view(batch, (AUDIO_H + 1) * (VIDEO_H + 1), 1)
        return torch.bmm(fusion, _t.unsqueeze(1)).view(batch, -1)

    def head(self, fusion):
        y_1 = F.relu(self.post_fusion_layer_1(self.post_fusion_dropout(fusion)))
        y_2 = F.relu(self.post_fusion_layer_2(y_1))
        y_3 = self.post_fusion_layer_3(y_2)
        if self.mosi:
            return torch.sigmoid(y_3) * self.output_range + self.output_shift
        return y_3


def perturb(model, gen):
    """Draw every parameter and BatchNorm statistic away from its initial value."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("output_range", "output_shift")):
                continue
            scale = 0.5
            if p.dim() == 2 and "linear" in name:
                scale = p.shape[1] ** -0.5  # unit-ish activations whatever the width
            p.copy_(torch.randn(p.shape, generator=gen) * scale)
            if name.endswith(RELU_BIASES):
                # Positive biases keep the ReLUs mostly active, so every row of every layer
                # reaches the outputs.
                p.copy_(torch.rand(p.shape, generator=gen) * 0.5 + 0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=gen) * 0.3)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=gen) + 0.5)
    # Round once to float32 (what the fixture stores), then compute in float64.
    return model.float().double().eval()


def state(model):
    return {
        k: v.detach().float().contiguous()
        for k, v in model.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }


def f32(x):
    return x.detach().float().contiguous()


def build(seed):
    """Every tensor of the fixtures, drawn from `seed`: ({model: state_dict}, io)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    inputs = {
        "audio": torch.randn(BATCH, AUDIO_IN, generator=gen),
        "video": torch.randn(BATCH, VIDEO_IN, generator=gen),
        "text": torch.randn(BATCH, STEPS, TEXT_IN, generator=gen),
    }
    io = {k: f32(v) for k, v in inputs.items()}
    x = [io[k].double() for k in ("audio", "video", "text")]
    states = {}
    models = {"lmf": LMF(), "tfn_logits": TFN(mosi=False), "tfn_mosi": TFN(mosi=True)}
    with torch.no_grad():
        for name, model in models.items():
            model = perturb(model, gen)
            hs = model.subnets(*x)
            for key, h in zip(("audio_h", "video_h", "text_h"), hs):
                io[f"{name}.{key}"] = f32(h)
            # The fusion-only references start from the stored (float32) subnetwork outputs.
            stored = [h.float().double() for h in hs]
            if name == "lmf":
                io[f"{name}.fused"] = f32(model.fuse(*stored))
                io[f"{name}.output"] = f32(model.fuse(*hs))
            else:
                io[f"{name}.fusion"] = f32(model.fuse(*stored))
                io[f"{name}.output"] = f32(model.head(model.fuse(*hs)))
            states[name] = state(model)
    return states, io


def informative(io):
    """No subnetwork unit dead on the whole batch (its weights would go untested), outputs that
    differ between rows, and MOSI scores away from the sigmoid's flat ends."""
    dead = any((v == 0).all(0).any() for k, v in io.items() if k.endswith("_h"))
    flat = any(v.std(0).min() < 1e-3 for k, v in io.items() if k.endswith(".output"))
    saturated = io["tfn_mosi.output"].abs().max() > 2.5
    return not (dead or flat or saturated)


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "tests/fixtures/lmf_tfn"
    out.mkdir(parents=True, exist_ok=True)
    seed = next(s for s in range(SEED, SEED + 100) if informative(build(s)[1]))
    states, io = build(seed)
    for name, tensors in states.items():
        save_file(tensors, str(out / f"{name}.safetensors"))
    save_file(io, str(out / "io.safetensors"), metadata={"seed": str(seed)})
    print(f"seed {seed}")
    for path in sorted(out.glob("*.safetensors")):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
