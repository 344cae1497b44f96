#!/usr/bin/env python3
"""Time and peak memory of `emo-run inspect` on every experiment file under experiments/.

  python bench/inspect_cost.py
  python bench/inspect_cost.py --emo-run target/debug/emo-run --baseline OLD_BINARY

For each file: the wall time and the peak resident set (the child's own ru_maxrss, from wait4)
of `emo-run inspect --json FILE`. With `--baseline BIN` the same for another binary, side by side,
and a check that both report the same modules and parameter counts (the dataset section aside,
which depends on what is on disk). Prints a markdown table and the maxima; appends the raw rows to
bench/out/inspect_cost.jsonl. Timings depend on the machine and its load; nothing asserts them.
"""

import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import predict_latency as pl  # noqa: E402  (the build step)

ROOT = pl.ROOT


def run_one(exe, path):
    """Seconds, the child's own peak RSS (from wait4) and the counts of one `inspect --json`."""
    started = time.perf_counter()
    proc = subprocess.Popen([exe, "inspect", "--json", path], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        return {"seconds": seconds, "rss_mib": usage.ru_maxrss / 1024, "counts": None}
    report = json.loads(out)
    report.pop("dataset", None)
    report.pop("dataset_note", None)
    report.pop("dataset_problem", None)
    return {"seconds": seconds, "rss_mib": usage.ru_maxrss / 1024,
            "counts": json.dumps(report, sort_keys=True)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--emo-run", help="an emo-run binary (default: build this checkout)")
    ap.add_argument("--baseline", help="another emo-run binary to compare with")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    args = ap.parse_args()
    exe = args.emo_run or pl.build(args.target_dir)
    files = sorted(glob.glob(os.path.join(ROOT, "experiments", "**", "*.toml"), recursive=True))
    os.makedirs(args.out, exist_ok=True)
    print(f"# {platform.node()} {time.strftime('%Y-%m-%d %H:%M')} cores={os.cpu_count()} "
          f"load1={os.getloadavg()[0]:.2f} files={len(files)}", flush=True)
    head = "| file | inspect (s) | peak RSS (MiB) |"
    rule = "|---|---:|---:|"
    if args.baseline:
        head += " baseline (s) | baseline RSS (MiB) | same counts |"
        rule += "---:|---:|---|"
    print(head)
    print(rule)
    rows = []
    with open(os.path.join(args.out, "inspect_cost.jsonl"), "a") as log:
        for path in files:
            name = os.path.relpath(path, ROOT)
            row = {"file": name, **run_one(exe, path)}
            line = f"| {name} | {row['seconds']:.2f} | {row['rss_mib']:.0f} |"
            if args.baseline:
                base = run_one(args.baseline, path)
                row["baseline"] = base
                row["same"] = base["counts"] == row["counts"]
                line += (f" {base['seconds']:.2f} | {base['rss_mib']:.0f} | "
                         f"{'yes' if row['same'] else 'NO'} |")
            if row["counts"] is None:
                line += " (inspect failed)"
            print(line, flush=True)
            log.write(json.dumps(dict(row, host=platform.node(),
                                      load1=os.getloadavg()[0])) + "\n")
            rows.append(row)
    slowest = max(rows, key=lambda r: r["seconds"])
    biggest = max(rows, key=lambda r: r["rss_mib"])
    print(f"\nslowest: {slowest['file']} {slowest['seconds']:.2f} s; "
          f"largest: {biggest['file']} {biggest['rss_mib']:.0f} MiB")
    if args.baseline:
        base_slow = max(rows, key=lambda r: r["baseline"]["seconds"])
        base_big = max(rows, key=lambda r: r["baseline"]["rss_mib"])
        print(f"baseline slowest: {base_slow['file']} {base_slow['baseline']['seconds']:.2f} s; "
              f"largest: {base_big['file']} {base_big['baseline']['rss_mib']:.0f} MiB; "
              f"counts differ in {sum(not r['same'] for r in rows)} file(s)")


if __name__ == "__main__":
    main()
