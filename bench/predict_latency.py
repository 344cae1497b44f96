#!/usr/bin/env python3
"""Inference latency of a finished run on flex: nothing is trained.

  python bench/predict_latency.py runs/tiny/<run-id>
  python bench/predict_latency.py RUN --utterances 20 --rounds 3 --manifest new.csv

Three measurements, each over `--rounds` rounds (medians printed):

  eval     `emo-run eval RUN --per-fold`: its inference_s (batching and the model's forward pass
           over the whole test split of every fold, at the run's eval batch size, after one
           untimed warm-up batch) divided by the test utterances: per-utterance model time when
           scoring in batches.
  predict  `emo-run predict RUN --wav F --text T` once per utterance, one process each: the
           process's wall time (start, reading the run, loading the weights, preparing the input,
           the forward pass), and from its `--json-logs` line the seconds loading the weights,
           preparing the input (frozen encoders included) and in the forward pass.
  batch    `emo-run predict RUN --manifest M --out P` over the same utterances: its forward
           seconds per utterance.

Each predict gets an empty feature cache (`--cache-dir`), so that frozen encoders run on every
utterance as they would on one the run has never seen.

The utterances: `--manifest FILE` (utterance_id/id, text, audio columns, as predict reads it), or
the first `--utterances` WAV files of the run's corpus when it is in a KEMDy layout
(`wav/SessionNN/*.wav` with CP949 `.txt` transcripts), the synthetic corpus included.

Builds emo-run in the dev profile (dependencies at opt-level 3, as bench/run.py) unless `--emo-run`
names a binary; appends every raw result to bench/out/predict_latency.jsonl. Timings depend on the
machine and its load: nothing asserts them.
"""

import argparse
import csv
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(target_dir):
    """The emo-run binary of this checkout, built in the dev profile."""
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir)
    cmd = ["nice", "-n", "19", "cargo", "build", "--bin", "emo-run", "--message-format=json"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, check=True, text=True)
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
                and msg["target"]["name"] == "emo-run":
            return msg["executable"]
    raise SystemExit("no emo-run executable in the build output")


def corpus_utterances(run_dir, stage, count):
    """(id, text, wav) of the first `count` clips of the run's KEMDy-layout corpus."""
    resolved = os.path.join(run_dir, "resolved.toml")
    if stage:
        staged = os.path.join(run_dir, "stages", stage, "resolved.toml")
        resolved = staged if os.path.isfile(staged) else resolved
    with open(resolved, "rb") as f:
        root = tomllib.load(f)["dataset"]["root"]
    wavs = sorted(glob.glob(os.path.join(root, "wav", "Session*", "*.wav")))[:count]
    if not wavs:
        raise SystemExit(f"{root} has no wav/Session*/*.wav; give the utterances with --manifest")
    rows = []
    for wav in wavs:
        txt = wav[:-4] + ".txt"
        with open(txt, encoding="cp949") as f:
            text = f.readline().strip()
        rows.append((os.path.basename(wav)[:-4], text, wav))
    return rows


def manifest_utterances(path, count):
    """(id, text, wav) of the first `count` rows of a predict manifest (.csv or .jsonl)."""
    base = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            records = [json.loads(line) for line in f if line.strip()]
        else:
            records = list(csv.DictReader(f))
    rows = []
    for r in records[:count]:
        audio = r.get("audio", "")
        rows.append((r.get("utterance_id") or r.get("id"), r.get("text", ""),
                     os.path.join(base, audio) if audio else ""))
    return rows


def log_fields(stderr, message_start):
    """The fields of the last `--json-logs` line whose message starts with `message_start`."""
    found = None
    for line in stderr.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        fields = record.get("fields", {})
        if str(fields.get("message", "")).startswith(message_start):
            found = fields
    return found


def run(cmd):
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}\nexit {proc.returncode}:\n{proc.stderr}")
    return proc, wall


def eval_round(exe, args, common, tmp):
    out = os.path.join(tmp, "eval.csv")
    run([exe, "eval", args.run, "--per-fold", "--out", out] + common)
    with open(out) as f:
        rows = [r for r in csv.DictReader(f) if r["fold"] == "mean"]
    return [{"measure": "eval", "stage": r["stage"], "utterances": int(r["test_utterances"]),
             "inference_s": float(r["inference_s"]),
             "per_utterance_ms": 1000 * float(r["inference_s"]) / max(1, int(r["test_utterances"]))}
            for r in rows]


def cold_cache(tmp):
    """A new, empty feature cache: a new utterance is never in the cache, so every predict runs
    the frozen encoders on it as a user's would (the default cache, `<runs-dir>/.feature-cache`,
    may hold the corpus's own clips from training)."""
    return ["--cache-dir", tempfile.mkdtemp(prefix="cache-", dir=tmp)]


def predict_round(exe, args, common, utterances, tmp):
    results = []
    for uid, text, wav in utterances:
        cmd = [exe, "predict", args.run, "--fold", args.fold, "--json", "--json-logs"] + common
        cmd += cold_cache(tmp)
        cmd += ["--text", text] if text else []
        cmd += ["--wav", wav] if wav else []
        proc, wall = run(cmd)
        fields = log_fields(proc.stderr, "scored") or {}
        results.append({"measure": "predict", "utterance": uid, "wall_s": wall,
                        "load_s": fields.get("load_s"), "prepare_s": fields.get("prepare_s"),
                        "forward_s": fields.get("forward_s")})
    manifest = os.path.join(tmp, "batch.csv")
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["utterance_id", "text", "audio"])
        writer.writerows(utterances)
    proc, wall = run([exe, "predict", args.run, "--fold", args.fold, "--json-logs", "--manifest",
                      manifest, "--out", os.path.join(tmp, "batch.parquet")] + common
                     + cold_cache(tmp))
    fields = log_fields(proc.stderr, "scored") or {}
    results.append({"measure": "batch", "utterances": len(utterances), "wall_s": wall,
                    "prepare_s": fields.get("prepare_s"), "forward_s": fields.get("forward_s")})
    return results


def median(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def report(results, utterances):
    lines = ["| measure | what | median |", "|---|---|---|"]
    for stage in sorted({r["stage"] for r in results if r["measure"] == "eval"}):
        rows = [r for r in results if r["measure"] == "eval" and r["stage"] == stage]
        lines.append(f"| eval (stage {stage}, {rows[0]['utterances']} test utterances) | "
                     f"model time per utterance, batched | {median(rows, 'per_utterance_ms'):.3f} ms |")
    single = [r for r in results if r["measure"] == "predict"]
    for key, what in [("wall_s", "process wall time"), ("load_s", "loading the weights"),
                      ("prepare_s", "preparing the input"), ("forward_s", "model forward")]:
        lines.append(f"| predict, one utterance per process | {what} | {1000 * median(single, key):.2f} ms |")
    batch = [r for r in results if r["measure"] == "batch"]
    per = [dict(r, forward_s=r["forward_s"] / utterances) for r in batch if r.get("forward_s") is not None]
    lines.append(f"| predict --manifest ({utterances} utterances) | model forward per utterance | "
                 f"{1000 * median(per, 'forward_s'):.3f} ms |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("run", help="a finished run folder")
    ap.add_argument("--stage", help="the stage (needed for a multi-stage run)")
    ap.add_argument("--fold", default="1", help="the fold whose weights predict uses")
    ap.add_argument("--utterances", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--manifest", help="the utterances to predict (default: the run's corpus)")
    ap.add_argument("--emo-run", help="an emo-run binary (default: build this checkout)")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    args = ap.parse_args()
    exe = args.emo_run or build(args.target_dir)
    common = ["--device", "flex"] + (["--stage", args.stage] if args.stage else [])
    utterances = (manifest_utterances(args.manifest, args.utterances) if args.manifest
                  else corpus_utterances(args.run, args.stage, args.utterances))
    os.makedirs(args.out, exist_ok=True)
    print(f"# {platform.node()} {time.strftime('%Y-%m-%d %H:%M')} {args.run} "
          f"rounds={args.rounds} utterances={len(utterances)} cores={os.cpu_count()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp, \
            open(os.path.join(args.out, "predict_latency.jsonl"), "a") as log:
        for rnd in range(args.rounds):
            round_results = eval_round(exe, args, common, tmp)
            round_results += predict_round(exe, args, common, utterances, tmp)
            for r in round_results:
                r.update(round=rnd, run=args.run, host=platform.node(), load1=os.getloadavg()[0])
                log.write(json.dumps(r) + "\n")
            results += round_results
            print(f"  round {rnd + 1} done", file=sys.stderr, flush=True)
    print(report(results, len(utterances)))


if __name__ == "__main__":
    main()
