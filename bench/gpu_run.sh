#!/usr/bin/env bash
# The GPU rows of docs/PERFORMANCE.md: emo-run on tch-cuda:0 against PyTorch on cuda:0, every
# workload of bench/run.py, in one command, on a machine with an NVIDIA GPU whose `python3` holds
# torch (and transformers, tokenizers).
#
#   bash bench/gpu_run.sh COMPARE_BINARY OUT_DIR [ROUNDS]
#
# COMPARE_BINARY is benches/compare.rs built with `--features tch` against the same torch version
# as that python3's (bench/run.py --tch-binary), since a GPU machine need not have a Rust
# toolchain: `LIBTORCH_USE_PYTORCH=1 LIBTORCH_BYPASS_VERSION_CHECK=1 cargo bench --profile dev
# --bench compare --no-run --features tch` with that torch's venv first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$1
out=$2
rounds=${3:-2}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.csv"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
libs=$(python3 -c 'import sys; sys.path.insert(0, "bench"); import run; print(run.libtorch_path())')
# One step first, so that a binary that cannot load libtorch's CUDA libraries fails in seconds
# with the missing ones named, not after the PyTorch rows.
if ! LD_LIBRARY_PATH=$libs "$binary" --workload matmul --device tch-cuda:0 --steps 1 --warmup 0; then
  LD_LIBRARY_PATH=$libs ldd "$binary" | grep -i "not found" || true
  exit 1
fi
PYTHONUNBUFFERED=1 python3 bench/run.py --impls tch,pytorch --cuda 0 --tch-binary "$binary" \
  --rounds "$rounds" --steps 10 --warmup 2 --threads "$(nproc)" --out "$out" 2>&1 \
  | tee "$out/table.md"
