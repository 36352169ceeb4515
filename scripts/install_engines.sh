#!/usr/bin/env bash
# Builds the language engines' own virtual environments in the GPU image (bentofile.yaml docker.setup_script).
# SGLang 0.5.23 pins torch 2.14.1 and transformers 5.19.0; vLLM 0.33.0 pins torch 2.14.0: neither can share the
# service's environment or each other's. The runners start them as `<venv>/bin/python -m ...` processes.
#
# uv when present (BentoML's images have it): the CUDA image's Python 3.11 comes from the deadsnakes PPA without
# python3.11-venv, so `python3 -m venv` has no ensurepip there. The two environments share about 140 packages at
# the same versions (the CUDA libraries among them): installed from one uv cache as hard links, each file is
# stored once in the image. The cache goes at the end, in the same layer.
set -euo pipefail
ENGINES_DIR="${ENGINES_DIR:-/opt/engines}"
PYTHON="${PYTHON:-python3}"
install_engine() {
  local name="$1" spec="$2" venv="$ENGINES_DIR/$1"
  if command -v uv >/dev/null 2>&1; then
    uv venv --python "$("$PYTHON" -c 'import sys; print(sys.executable)')" "$venv"
    uv pip install --python "$venv/bin/python" "$spec"
  else
    "$PYTHON" -m venv "$venv"
    "$venv/bin/pip" install --no-cache-dir "$spec"
  fi
}
export UV_CACHE_DIR="$ENGINES_DIR/.uv-cache" UV_LINK_MODE=hardlink
trap 'rm -rf "$UV_CACHE_DIR"' EXIT
install_engine sglang "sglang[all]==0.5.23"
install_engine vllm "vllm==0.33.0"
