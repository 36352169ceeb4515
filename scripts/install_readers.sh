#!/usr/bin/env bash
# The readers of the field that the export tests check CVAT and Label Studio files with (tests/readers), in an
# environment of their own: datumaro (CVAT's own conversion engine) pins a second OpenCV, label-studio-sdk another
# numpy, neither of which may share the service's environment. ~1 min, once.
#
# Idempotent: a stamp file holds the checksum of tests/readers/requirements.txt; a matching stamp skips everything.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${READERS_VENV:-$REPO/.engines/readers}"
PYTHON="${PYTHON:-python3}"
STAMP="$(sha256sum "$REPO/tests/readers/requirements.txt" | cut -d' ' -f1)"

if [[ "$(cat "$VENV/.installed" 2>/dev/null)" == "$STAMP" ]]; then
  echo "readers environment up to date: $VENV"
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet -r "$REPO/tests/readers/requirements.txt"
"$VENV/bin/python" -c "import datumaro, label_studio_sdk.label_interface"
echo "$STAMP" > "$VENV/.installed"
echo "readers environment ready: $VENV"
