#!/usr/bin/env python3
"""Seed 003's teacher and three students at the seed's widths: per-utterance inference time on
flex, in one command.

  python bench/multi_still_latency.py
  python bench/multi_still_latency.py --rounds 2 --predict-utterances 3 --keep DIR

What it does, in a temporary folder (nothing is written to the checkout but bench/out/):

  1. model folders for KoELECTRA-v3 and XLSR-large from models/*/config.json (the machine has no
     weights, so both encoders are initialised at random: the times depend on the shapes, not on
     the weight values), with the WordPiece tokenizer of tests/fixtures/hf/electra (any WordPiece
     vocabulary serves: the text is padded to the seed's 128 tokens either way);
  2. `emo-run experiments/multi_still/pipeline.toml` on a synthetic KEMDy20 corpus of
     `--utterances` clips in 2 sessions, 2 folds, 1 epoch, batch 8: the teacher (2x3 cross-modal
     layers), then the multimodal (2x1), text-only and audio-only students distilled from it;
  3. for every stage, bench/predict_latency.py's three measurements, `--rounds` times:
       eval     `emo-run eval`'s inference_s per test utterance: batching and the fusion's forward
                pass over cached encoder features (the seed's test.py timing reads cached XLSR
                states too), the frozen encoders and disk reads excluded;
       predict  one `emo-run predict --wav F --text T` process per utterance, end to end with an
                empty feature cache: reading the run, loading the weights, decoding the WAV,
                running XLSR and ELECTRA (built from config.json), the fusion;
       batch    `emo-run predict --manifest` over the same clips: model forward per utterance.

Prints a markdown table beside the seed's published test-set times (B.10) and appends every raw
result to bench/out/multi_still_latency.jsonl. Timings depend on the machine and its load;
nothing asserts them. Takes about 15-25 minutes on a 2-core machine, mostly XLSR-large.
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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import predict_latency as pl  # noqa: E402  (the measurements themselves)

ROOT = pl.ROOT
PIPELINE = os.path.join(ROOT, "experiments", "multi_still", "pipeline.toml")
TEXT_MODEL = "koelectra-base-v3-discriminator"
AUDIO_MODEL = "wav2vec2-large-xlsr-korean"

# B.10: the seed's whole-test-set seconds per model (cached XLSR states loaded from disk per
# utterance, the frozen ELECTRA run each time).
SEED_TEST_SET_S = {
    "teacher": 92.60,
    "student_multimodal": 76.46,
    "student_text": 8.19,
    "student_audio": 71.34,
}


def model_folders(work):
    """KoELECTRA and XLSR folders with config.json only (and a tokenizer for the text)."""
    models = os.path.join(work, "models")
    for name in (TEXT_MODEL, AUDIO_MODEL):
        os.makedirs(os.path.join(models, name), exist_ok=True)
        shutil.copy(os.path.join(ROOT, "models", name, "config.json"), os.path.join(models, name))
    shutil.copy(os.path.join(ROOT, "tests", "fixtures", "hf", "electra", "tokenizer.json"),
                os.path.join(models, TEXT_MODEL))
    return models


def train_pipeline(exe, work, models, utterances):
    """The pipeline on a synthetic corpus, one epoch; returns the run folder."""
    per_session = max(2, utterances // 2)
    sets = {
        "dataset.also": "[]",
        "dataset.root": json.dumps(os.path.join(work, "corpus")),
        "dataset.synthetic.sessions": "2",
        "dataset.synthetic.utterances_per_session": str(per_session),
        "split.folds": "2",
        "encoders.text.path": json.dumps(os.path.join(models, TEXT_MODEL)),
        "encoders.audio.path": json.dumps(os.path.join(models, AUDIO_MODEL)),
        "encoders.text.init": '"random"',
        "encoders.audio.init": '"random"',
        "train.epochs": "1",
        "train.batch_size": "8",
        "train.accumulate_grad_batches": "1",
    }
    runs = os.path.join(work, "runs")
    cmd = [exe, PIPELINE, "--device", "flex", "--runs-dir", runs, "--quiet"]
    for key, value in sets.items():
        cmd += ["--set", f"{key}={value}"]
    started = time.perf_counter()
    pl.run(cmd)
    print(f"  trained the pipeline in {time.perf_counter() - started:.0f} s", file=sys.stderr,
          flush=True)
    done = glob.glob(os.path.join(runs, "*", "*", "DONE"))
    if len(done) != 1:
        raise SystemExit(f"expected one finished run under {runs}, found {len(done)}")
    return os.path.dirname(done[0])


def trainable(run_dir):
    """Trainable parameters per stage, from the run's summary.json."""
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    stages = summary.get("stages") or [summary]
    return {s.get("stage", ""): s.get("trainable") for s in stages}


def measure(exe, run_dir, stages, utterances, rounds, log):
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(rounds):
            args = argparse.Namespace(run=run_dir, fold="1")
            round_results = pl.eval_round(exe, args, ["--device", "flex"], tmp)
            for stage in stages:
                common = ["--device", "flex", "--stage", stage]
                for r in pl.predict_round(exe, args, common, utterances, tmp):
                    r["stage"] = stage
                    round_results.append(r)
            for r in round_results:
                r.update(round=rnd, host=platform.node(), load1=os.getloadavg()[0])
                log.write(json.dumps(r) + "\n")
            results += round_results
            print(f"  round {rnd + 1} of {rounds} done", file=sys.stderr, flush=True)
    return results


def table(results, stages, counts):
    teacher_eval = None
    lines = [
        "| model | trainable | seed: test set (s) | seed: ratio to teacher | eval: per utterance (ms) "
        "| ratio to teacher | predict from a WAV, one process (s) | of which inputs (s) "
        "| of which forward (s) "
        "| predict --manifest: forward per utterance (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for stage in stages:
        rows = [r for r in results if r.get("stage") == stage]
        per_utt = pl.median([r for r in rows if r["measure"] == "eval"], "per_utterance_ms")
        teacher_eval = teacher_eval or per_utt
        single = [r for r in rows if r["measure"] == "predict"]
        batch = [dict(r, per_ms=1000 * r["forward_s"] / r["utterances"])
                 for r in rows if r["measure"] == "batch" and r.get("forward_s") is not None]
        seed = SEED_TEST_SET_S.get(stage)
        seed_ratio = f"{seed / SEED_TEST_SET_S['teacher']:.3f}" if seed else "-"
        count = counts.get(stage)
        lines.append(
            f"| {stage} | {count:,} | {seed if seed else '-'} | {seed_ratio} | {per_utt:.1f} | "
            f"{per_utt / teacher_eval:.3f} | {pl.median(single, 'wall_s'):.2f} | "
            f"{pl.median(single, 'prepare_s'):.2f} | {pl.median(single, 'forward_s'):.3f} | "
            f"{pl.median(batch, 'per_ms'):.1f} |"
            if count is not None else f"| {stage} | ? | | | {per_utt:.1f} | | | | |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--utterances", type=int, default=32,
                    help="clips in the synthetic corpus (enough that every class occurs)")
    ap.add_argument("--predict-utterances", type=int, default=3,
                    help="clips predicted one process each, per stage and round")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--emo-run", help="an emo-run binary (default: build this checkout)")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--keep", help="work in this folder and keep it (default: a temporary one); "
                    "a second call with the same folder measures the run trained by the first")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    args = ap.parse_args()
    exe = args.emo_run or pl.build(args.target_dir)
    os.makedirs(args.out, exist_ok=True)
    work = args.keep or tempfile.mkdtemp(prefix="multi-still-latency-")
    try:
        print(f"# {platform.node()} {time.strftime('%Y-%m-%d %H:%M')} cores={os.cpu_count()} "
              f"utterances={args.utterances} rounds={args.rounds} load1={os.getloadavg()[0]:.2f}",
              flush=True)
        models = model_folders(work)
        run_dir = train_pipeline(exe, work, models, args.utterances)
        counts = trainable(run_dir)
        stages = [s for s in SEED_TEST_SET_S if s in counts]
        clips = pl.corpus_utterances(run_dir, stages[0], args.predict_utterances)
        with open(os.path.join(args.out, "multi_still_latency.jsonl"), "a") as log:
            results = measure(exe, run_dir, stages, clips, args.rounds, log)
        print(table(results, stages, counts))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
