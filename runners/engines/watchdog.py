"""Runs an engine command and stops it when the process that started it is gone.

    python -m runners.engines.watchdog <parent pid> -- <engine command ...>

An engine (SGLang, vLLM) holds GPU memory until it exits. The runner stops it on unload and on shutdown, but a
runner that is killed outright runs no shutdown code. The runner starts this wrapper in a process group of its own;
the engine and its workers share that group. To stop the engine, the runner signals the group. If the runner dies,
this wrapper signals the group itself: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

POLL_S = 0.5
GRACE_S = 20.0


def alive(pid: int) -> bool:
    """The runner still runs: it is still this wrapper's parent (a dead one's pid may be reused)."""
    return os.getppid() == pid


def main() -> int:
    parent, command = int(sys.argv[1]), sys.argv[sys.argv.index("--") + 1:]
    # A group SIGTERM is for the engine: this wrapper stays until the engine has exited, then exits with it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = subprocess.Popen(command, preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    while engine.poll() is None:
        if not alive(parent):
            os.killpg(0, signal.SIGTERM)
            try:
                engine.wait(GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(0, signal.SIGKILL)  # this wrapper included
            return 0
        time.sleep(POLL_S)
    return engine.returncode if engine.returncode >= 0 else 128 - engine.returncode  # killed by N: 128 + N


if __name__ == "__main__":
    sys.exit(main())
