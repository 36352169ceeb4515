"""Processes the engine tests start and wait for: the stub engine's command, a process group gone, a log line."""

from __future__ import annotations

import os
import sys
import time


def stub_engine(port: int) -> list[str]:
    return [sys.executable, "-m", "tests.support.stub_openai", "--port", str(port), "--ready-after", "0.5"]


def gone(pgid: int, within_s: float = 30.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def wait_for_line(path, text: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while text not in (path.read_text() if path.exists() else ""):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.05)
