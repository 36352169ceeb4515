#!/usr/bin/env bash
# Builds the language engines' own virtual environments in the GPU image (bentofile.yaml docker.setup_script).
# SGLang 0.5.23 pins torch 2.14.1 and transformers 5.19.0; vLLM 0.33.0 pins torch 2.14.0: neither can share the
# service's environment or each other's. The runners start them as `<venv>/bin/python -m ...` processes.
set -euo pipefail
ENGINES_DIR="${ENGINES_DIR:-/opt/engines}"
PYTHON="${PYTHON:-python3}"
install_engine() {
  local name="$1" spec="$2"
  "$PYTHON" -m venv "$ENGINES_DIR/$name"
  "$ENGINES_DIR/$name/bin/pip" install --no-cache-dir "$spec"
}
install_engine sglang "sglang[all]==0.5.23"
install_engine vllm "vllm==0.33.0"
