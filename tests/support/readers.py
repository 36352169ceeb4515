"""The readers of the field in their own environment (scripts/install_readers.sh): `read_export("cvat", path)`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
READERS_VENV = Path(os.environ.get("READERS_VENV", REPO / ".engines" / "readers"))


def read_export(kind: str, *args: object) -> dict:
    python = READERS_VENV / "bin" / "python"
    if not (READERS_VENV / ".installed").exists():
        pytest.skip(f"the readers' environment is not installed: scripts/install_readers.sh ({READERS_VENV})")
    out = subprocess.run([str(python), str(REPO / "tests" / "readers" / "read_export.py"), kind, *map(str, args)],
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
