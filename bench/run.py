#!/usr/bin/env python3
"""Side-by-side benchmark of emo-run (burn flex and tch) against PyTorch, in one run.

  python bench/run.py                                          # everything, 3 rounds
  python bench/run.py --workloads rsa_cfn,bert_forward --rounds 5

`python` is whichever interpreter has torch and transformers (a virtual environment's, or
`$PYTHON`); the PyTorch reference runs under the same interpreter (`sys.executable`).

Builds `benches/compare.rs` for flex and for tch (dev profile: dependencies at opt-level 3,
emo-run at 1), then runs every workload once per round in each implementation, one process per
run, rotating which implementation goes first so that a slow spell of a shared machine does not
always hit the same one. Prints a table of medians over the rounds and the emo-run / PyTorch
step-time ratio, the achieved GFLOP/s (PyTorch's count of each workload's matrix-product flops
over each implementation's step time) and its share of the machine's peak (the best matmul rate
of the run), and appends every raw result to bench/out/results.jsonl.

On a machine with an NVIDIA GPU, `--cuda 0` runs tch as `--device tch-cuda:0` and PyTorch on
`cuda:0` (flex stays on the CPU, so leave it out of --impls); `--tch-binary` takes a compare
binary built elsewhere (with `--features tch` against the same torch version) where this machine
has no Rust toolchain:

  python bench/run.py --impls tch,pytorch --cuda 0 --tch-binary PATH --rounds 3 --steps 10
"""

import argparse
import ctypes.util
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = [
    "rsa_cfn", "mlp_mixer", "bert_forward", "bert_train", "w2v2_forward", "w2v2_train",
    "quickstart", "matmul",
]
# Minimal reproductions of where burn-flex itself is the limit (docs/PERFORMANCE.md); not in the
# default set: `--workloads reproductions` (or name them).
REPRODUCTIONS = [
    "linear_train", "linear_train_flat", "attention_train", "gelu", "gelu_kernel",
]


def build(feature, target_dir):
    """The path of the `compare` bench binary built with `feature`."""
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir)
    cmd = ["nice", "-n", "19", "cargo", "bench", "--profile", "dev", "--bench", "compare",
           "--no-run", "--message-format=json"]
    if feature == "flex-avx512":
        # burn's x86-v4 feature compiles gemm's AVX-512 kernels beside the AVX2/FMA ones; gemm
        # picks them at run time only where the CPU reports avx512f.
        cmd += ["--features", "burn/x86-v4"]
    if feature == "tch":
        cmd += ["--features", "tch"]
        env["LIBTORCH_USE_PYTORCH"] = "1"
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, check=True, text=True)
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "compare":
            return msg["executable"]
    raise SystemExit(f"no compare executable in the {feature} build")


def libtorch_path():
    """LD_LIBRARY_PATH for a tch binary: the wheel's torch/lib and every nvidia/*/lib."""
    import torch

    site = os.path.dirname(os.path.dirname(torch.__file__))
    dirs = [os.path.join(os.path.dirname(torch.__file__), "lib")]
    dirs += sorted(glob.glob(os.path.join(site, "nvidia", "*", "lib")))
    return os.pathsep.join(dirs + [os.environ.get("LD_LIBRARY_PATH", "")])


def gpu_name(index):
    import torch

    return torch.cuda.get_device_name(index) if torch.cuda.is_available() else "no GPU visible"


# jemalloc that keeps freed pages (no decay back to the kernel): the allocator comparison of
# docs/PERFORMANCE.md's memory section. Preloaded, it serves libtorch's allocations too.
JEMALLOC_KEEP_PAGES = "dirty_decay_ms:-1,muzzy_decay_ms:-1"


def jemalloc_env():
    lib = ctypes.util.find_library("jemalloc")
    if lib is None:
        raise SystemExit("the -jemalloc impls preload jemalloc: install it (apt install libjemalloc2)")
    return {"LD_PRELOAD": lib, "MALLOC_CONF": os.environ.get("MALLOC_CONF", JEMALLOC_KEEP_PAGES)}


def run_one(impl, binaries, workload, args):
    common = ["--workload", workload, "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if workload == "quickstart":
        common += ["--dump", args.out]
    env = dict(os.environ)
    # "flex-defaultmalloc": the same binary without src/alloc.rs's setting (the "before");
    # "flex-avx512": flex built with burn's x86-v4 feature; "baseline": another build's compare
    # binary (--baseline-binary) on flex, the "before" of a change.
    name = impl
    if impl == "baseline":
        binary, impl, variant = "baseline", "flex", "baseline"
    else:
        binary = impl if impl == "flex-avx512" else impl.partition("-")[0]
        impl, _, variant = impl.partition("-")
    if variant == "defaultmalloc":
        env["EMO_BENCH_DEFAULT_MALLOC"] = "1"
    if variant == "jemalloc":
        env.update(jemalloc_env())
    if impl == "pytorch":
        cmd = [sys.executable, os.path.join(ROOT, "bench", "torch_reference.py"),
               "--threads", str(args.threads)] + common
        if args.cuda is not None:
            cmd += ["--device", f"cuda:{args.cuda}"]
    else:
        device = f"tch-cuda:{args.cuda}" if impl == "tch" and args.cuda is not None else impl
        cmd = [binaries[binary], "--device", device] + common
        if impl == "tch" or binaries[binary] == args.flex_binary:
            # A prebuilt binary may be a --features tch build, which loads libtorch on any device.
            env["LD_LIBRARY_PATH"] = libtorch_path()
    started = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        print(f"  {impl} {workload}: exit {proc.returncode}", file=sys.stderr)
        return None
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(implementation=name, started=started, load1=os.getloadavg()[0])
    return result


def flops_per_step(results):
    """Matrix-product flops of one step per workload, as PyTorch's FlopCounterMode counts them in
    torch_reference.py (emo-run's workloads follow the same definitions); element-wise work is
    not counted."""
    flops = {}
    for r in results:
        if r.get("flops_per_step"):
            flops[r["workload"]] = r["flops_per_step"]
    return flops


def machine_peak(results, given):
    """The machine's practical f32 GEMM peak in GFLOP/s: `--peak-gflops`, else the best median
    matmul rate of this run over the implementations (PyTorch/MKL on x86)."""
    if given:
        return given
    rates = []
    for impl in {r["implementation"] for r in results if r["workload"] == "matmul"}:
        rows = [r for r in results if r["workload"] == "matmul" and r["implementation"] == impl]
        step = statistics.median(r["median_s"] for r in rows)
        rates.append(2 * rows[0]["batch"] ** 3 / step / 1e9)
    return max(rates, default=None)


def table(results, impls, workloads, peak):
    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    flops = flops_per_step(results)
    flops["matmul"] = flops.get("matmul") or next(
        (2 * r["batch"] ** 3 for r in results if r["workload"] == "matmul"), None)
    lines = [f"machine peak (best f32 matmul): {peak:.1f} GFLOP/s" if peak else
             "machine peak: unknown (run the matmul workload or give --peak-gflops)", "",
             "| workload | impl | batch | step s (median) | samples/s | GFLOP/s | share of peak | "
             "peak RSS MiB | time ratio to PyTorch | runs |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for w in workloads:
        ref = [r for r in results if r["workload"] == w and r["implementation"] == "pytorch"]
        for impl in impls:
            rows = [r for r in results if r["workload"] == w and r["implementation"] == impl]
            if not rows:
                continue
            step = med(rows, "median_s")
            gflops = flops[w] / step / 1e9 if flops.get(w) else None
            rate = f"{gflops:.1f}" if gflops else "—"
            share = f"{100 * gflops / peak:.0f} %" if gflops and peak else "—"
            ratio = f"{step / med(ref, 'median_s'):.2f}" if ref and impl != "pytorch" else ("1" if impl == "pytorch" else "—")
            lines.append(
                f"| {w} | {impl} | {rows[0]['batch']} | {step:.3f} | "
                f"{med(rows, 'samples_per_s'):.2f} | {rate} | {share} | "
                f"{med(rows, 'peak_rss_mib'):.0f} | {ratio} | {len(rows)} |"
            )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help="comma-separated; `reproductions` stands for " + ",".join(REPRODUCTIONS))
    ap.add_argument("--impls", default="flex,tch,pytorch",
                    help="flex, tch, pytorch; flex-defaultmalloc runs emo-run with glibc's "
                         "default malloc settings (before src/alloc.rs); flex-jemalloc preloads "
                         "jemalloc keeping freed pages (MALLOC_CONF overrides), which a tch build "
                         "links itself; "
                         "flex-avx512 builds flex with burn's x86-v4 feature; baseline runs "
                         "--baseline-binary on flex")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (burn: all cores)")
    ap.add_argument("--flex-target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--tch-target-dir", default="target-tch")
    ap.add_argument("--avx512-target-dir", default="target-avx512",
                    help="where flex-avx512 is built (its own, so that the two builds coexist)")
    ap.add_argument("--baseline-binary",
                    help="a compare binary built from another commit (impl `baseline`)")
    ap.add_argument("--peak-gflops", type=float,
                    help="the machine's f32 GEMM peak for the share-of-peak column (default: "
                         "the best matmul rate of this run)")
    ap.add_argument("--cuda", type=int, metavar="N",
                    help="run tch on tch-cuda:N and PyTorch on cuda:N (flex stays on the CPU)")
    ap.add_argument("--tch-binary",
                    help="a compare binary built with --features tch elsewhere: no build here")
    ap.add_argument("--flex-binary",
                    help="a compare binary built elsewhere, run on flex: no build here (a --features "
                         "tch build runs flex too)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    args = ap.parse_args()
    workloads = [w for name in args.workloads.split(",")
                 for w in (REPRODUCTIONS if name == "reproductions" else [name])]
    impls = args.impls.split(",")
    os.makedirs(args.out, exist_ok=True)
    features = sorted({i if i == "flex-avx512" else i.partition("-")[0] for i in impls}
                      - {"pytorch", "baseline"})
    target_dirs = {"flex": args.flex_target_dir, "tch": args.tch_target_dir,
                   "flex-avx512": args.avx512_target_dir}
    if args.cuda is not None and any(i.startswith("flex") or i == "baseline" for i in impls):
        raise SystemExit("--cuda runs tch and pytorch on the GPU; flex has no GPU path here")
    prebuilt = {"tch": args.tch_binary, "flex": args.flex_binary}
    binaries = {f: prebuilt.get(f) or build(f, target_dirs[f]) for f in features}
    if "baseline" in impls:
        if not args.baseline_binary:
            raise SystemExit("impl baseline needs --baseline-binary")
        binaries["baseline"] = args.baseline_binary
    if "quickstart" in workloads and "pytorch" in impls and not binaries:
        # The PyTorch side reads the fold that emo-run dumps.
        binaries.setdefault("flex", build("flex", args.flex_target_dir))
    print(f"# {platform.node()} {time.strftime('%Y-%m-%d %H:%M')} rounds={args.rounds} "
          f"steps={args.steps} warmup={args.warmup} torch threads={args.threads}"
          + (f" cuda:{args.cuda} {gpu_name(args.cuda)}" if args.cuda is not None else ""), flush=True)
    results = []
    with open(os.path.join(args.out, "results.jsonl"), "a") as log:
        for rnd in range(args.rounds):
            for w in workloads:
                order = impls[rnd % len(impls):] + impls[: rnd % len(impls)]
                if w == "quickstart" and rnd == 0 and "pytorch" in order:
                    # The PyTorch side reads the fold that an emo-run run dumps.
                    order = [i for i in order if i != "pytorch"] + ["pytorch"]
                for impl in order:
                    r = run_one(impl, binaries, w, args)
                    if r:
                        r["round"] = rnd
                        results.append(r)
                        log.write(json.dumps(r) + "\n")
                        log.flush()
                        print(f"  round {rnd + 1} {w:13} {impl:8} {r['median_s']:.3f} s/step "
                              f"{r['peak_rss_mib']:.0f} MiB load {r['load1']:.1f}", flush=True)
    print(table(results, impls, workloads, machine_peak(results, args.peak_gflops)))


if __name__ == "__main__":
    main()
