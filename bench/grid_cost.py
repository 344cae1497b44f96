#!/usr/bin/env python3
"""What a grid pays for its frozen encoders: the experiments/kemdy20 files as one grid, against
one feature extraction per encoder plus the head trainings alone, in one command.

  python bench/grid_cost.py
  python bench/grid_cost.py --utterances 200 --epochs 1 --keep DIR

In a temporary folder (nothing is written to the checkout but bench/out/):
  1. model folders at the files' realistic widths, initialised at random (the machine has no
     weights; the cost depends on the shapes): klue-roberta-base and xlm-roberta-base (768 wide,
     12 layers) and wav2vec2-large-960h-lv60-self (1024 wide, 24 layers) from models/*/config.json,
     with the tokenizers of tests/fixtures/hf/{roberta,xlm-roberta};
  2. a synthetic KEMDy20 corpus of `--utterances` clips (`emo-run synth`);
  3. cold: every file of experiments/kemdy20 but base.toml as ONE grid invocation (the cells
     one after another in one process, as `emo-run FILES...` runs them), 5 folds (leave one session out), both encoders frozen, on flex, `--epochs` epochs, with an empty feature
     cache: wall time G;
  4. warm: the same grid into new run folders with the cache the cold grid filled, so that no
     encoder runs: the head trainings alone, wall time H;
  5. from the cold grid's logs (`--json-logs`), the seconds of each feature extraction; the
     first extraction of each model folder is the one a grid cannot avoid, E = their sum.

Prints G, H, E, the ratio G / (E + H) (1 when the grid extracts each encoder's features once and
shares them; the issue's bar is 1.3) and every extraction, so that a duplicated one shows with
its model and cost. Finished runs' checkpoints are deleted as the grid goes (an rsa_cfn fold
writes about 5 GB). Appends the figures to bench/out/grid_cost.jsonl. Timings depend on the
machine and its load; nothing asserts them.
"""

import argparse
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import predict_latency as pl  # noqa: E402  (the dev build of emo-run)

ROOT = pl.ROOT
# model folder -> the fixture whose tokenizer.json it borrows (any vocabulary serves: the text is
# padded to the files' 256 tokens either way, and the ids fit the configs' vocabularies).
MODELS = {
    "klue-roberta-base": "roberta",
    "xlm-roberta-base": "xlm-roberta",
    "wav2vec2-large-960h-lv60-self": None,
}
SESSIONS = 5


def model_folders(work):
    for name, fixture in MODELS.items():
        folder = os.path.join(work, "models", name)
        os.makedirs(folder, exist_ok=True)
        shutil.copy(os.path.join(ROOT, "models", name, "config.json"), folder)
        if fixture:
            shutil.copy(os.path.join(ROOT, "tests", "fixtures", "hf", fixture, "tokenizer.json"),
                        folder)


def grid_files():
    files = sorted(glob.glob(os.path.join(ROOT, "experiments", "kemdy20", "*.toml")))
    return [f for f in files if os.path.basename(f) != "base.toml"]


def settings(work, epochs):
    """The --set overrides every file of the grid gets."""
    sets = {
        "dataset.root": json.dumps(os.path.join(work, "corpus")),
        # 5 folds whatever the class counts of a small corpus: one per session.
        "split.protocol": '"leave_session_out"',
        "encoders.text.init": '"random"',
        "encoders.audio.init": '"random"',
        "encoders.text.train": '"frozen"',
        "encoders.audio.train": '"frozen"',
        "train.epochs": str(epochs),
    }
    return [arg for key, value in sets.items() for arg in ("--set", f"{key}={value}")]


def drop_finished_checkpoints(runs_dir, stop):
    """Delete the checkpoints of every finished run under `runs_dir` until `stop` is set: an
    rsa_cfn fold keeps best, last and the optimizer state, about 5 GB, and the whole grid's
    would not fit on the disk. Each run has written its results by the time DONE exists."""
    while not stop.wait(2.0):
        for done in glob.glob(os.path.join(runs_dir, "*", "*", "DONE")):
            shutil.rmtree(os.path.join(os.path.dirname(done), "checkpoints"), ignore_errors=True)


def run_grid(exe, work, files, runs, args):
    """One grid invocation; its wall seconds and the feature extractions it logged."""
    cmd = [exe, *files, "--device", "flex", "--runs-dir", os.path.join(work, runs),
           "--cache-dir", os.path.join(work, "cache"), "--json-logs",
           *settings(work, args.epochs)]
    stop = threading.Event()
    cleaner = threading.Thread(target=drop_finished_checkpoints,
                               args=(os.path.join(work, runs), stop))
    cleaner.start()
    started = time.perf_counter()
    # cwd = the work folder: the files' relative `models/...` paths name the random folders.
    proc = subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - started
    stop.set()
    cleaner.join()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"the {runs} grid failed (exit {proc.returncode})")
    return wall, extractions(proc.stderr)


def extractions(stderr):
    """The frozen encoders' log lines (src/encoders/frozen.rs): model, modality, computed, s."""
    found = []
    for line in stderr.splitlines():
        try:
            fields = json.loads(line).get("fields", {})
        except json.JSONDecodeError:
            continue
        if "compute_s" in fields:
            found.append({k: fields.get(k) for k in (
                "model", "modality", "utterances", "computed", "pooled_from_sequences",
                "compute_s", "cache")})
    return found


def unavoidable(extracted):
    """Seconds of the first extraction of each model folder (the ones with work to do)."""
    first = {}
    for e in extracted:
        if e["computed"] > 0 and e["model"] not in first:
            first[e["model"]] = e["compute_s"]
    return first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--utterances", type=int, default=200,
                    help="clips in the synthetic corpus (5 sessions)")
    ap.add_argument("--epochs", type=int, default=1,
                    help="epochs per fold (the files' own 10 make the heads dominate and the "
                         "ratio smaller; 1 is the strict measure)")
    ap.add_argument("--emo-run", help="an emo-run binary (default: build this checkout)")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--keep", help="work in this folder and keep it (default: a temporary one)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    args = ap.parse_args()
    exe = args.emo_run or pl.build(args.target_dir)
    os.makedirs(args.out, exist_ok=True)
    work = args.keep or tempfile.mkdtemp(prefix="grid-cost-")
    files = grid_files()
    try:
        print(f"# {platform.node()} {time.strftime('%Y-%m-%d %H:%M')} cores={os.cpu_count()} "
              f"files={len(files)} utterances={args.utterances} epochs={args.epochs} "
              f"load1={os.getloadavg()[0]:.2f}", flush=True)
        model_folders(work)
        per_session = -(-args.utterances // SESSIONS)
        pl.run([exe, "synth", "kemdy20", "--out", os.path.join(work, "corpus"),
                "--sessions", str(SESSIONS), "--utterances-per-session", str(per_session)])
        cold_s, cold = run_grid(exe, work, files, "runs-cold", args)
        print(f"  cold grid: {cold_s:.0f} s, {len(cold)} extraction passes", flush=True)
        warm_s, warm = run_grid(exe, work, files, "runs-warm", args)
        recomputed = sum(e["computed"] for e in warm)
        print(f"  warm grid (heads alone): {warm_s:.0f} s, {recomputed} features recomputed",
              flush=True)
        first = unavoidable(cold)
        once = sum(first.values())
        ratio = cold_s / (once + warm_s)
        lines = [
            "| grid (cold cache) G s | heads alone (warm cache) H s | one extraction per model E s "
            "| G / (E + H) |", "|---:|---:|---:|---:|",
            f"| {cold_s:.1f} | {warm_s:.1f} | {once:.1f} | {ratio:.2f} |", "",
            "| extraction (cold grid, in order) | computed | pooled from stored sequences | s "
            "| counted in E |", "|---|---:|---:|---:|---|",
        ]
        counted = set()
        for e in cold:
            if not e["computed"] and not e["pooled_from_sequences"]:
                continue
            first_of_model = e["computed"] and e["model"] not in counted
            if e["computed"]:
                counted.add(e["model"])
            lines.append(f"| {e['modality']} {os.path.basename(e['model'])} | {e['computed']} | "
                         f"{e['pooled_from_sequences']} | {e['compute_s']:.1f} | "
                         f"{'yes' if first_of_model else 'no: repeated'} |")
        print("\n".join(lines))
        with open(os.path.join(args.out, "grid_cost.jsonl"), "a") as log:
            log.write(json.dumps({
                "host": platform.node(), "date": time.strftime("%Y-%m-%d %H:%M"),
                "utterances": args.utterances, "epochs": args.epochs,
                "files": [os.path.basename(f) for f in files], "cold_s": cold_s,
                "warm_s": warm_s, "extraction_once_s": once, "ratio": ratio,
                "extractions": cold,
            }) + "\n")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
