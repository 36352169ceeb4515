"""Runs an engine command and stops it when the process that started it is gone.

    python -m runners.language.engines.watchdog <parent pid> -- <engine command ...>

An engine (SGLang, vLLM) holds GPU memory until it exits. The runner stops it on unload and on shutdown, but a
runner that is killed outright runs no shutdown code. The runner starts this wrapper in a process group of its own;
the engine and its workers share that group. To stop the engine, the runner signals the group. If the runner dies,
this wrapper signals the group itself: SIGTERM, then SIGKILL after a grace period. It does the same when the engine
exits by itself or is killed alone, because its workers would otherwise live on, holding their memory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

POLL_S = 0.5
GRACE_S = 20.0


def alive(pid: int) -> bool:
    """The runner still runs: it is still this wrapper's parent (a dead one's pid may be reused)."""
    return os.getppid() == pid


def others_in_group() -> list[psutil.Process]:
    """The engine's processes still alive, this wrapper left out: the engine, and the workers it started (vLLM's
    EngineCore and Worker, SGLang's scheduler), which outlive an engine killed alone."""
    group, found = os.getpgrp(), []
    for process in psutil.process_iter():
        try:
            if (process.pid != os.getpid() and os.getpgid(process.pid) == group
                    and process.status() != psutil.STATUS_ZOMBIE):  # an exited engine not yet reaped: gone
                found.append(process)
        except (ProcessLookupError, psutil.Error):
            pass
    return found


def end_group() -> None:
    """SIGTERM to the group (this wrapper ignores it), then SIGKILL to whatever is left after the grace period."""
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while (left := others_in_group()) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    for process in left:
        try:
            process.kill()
        except psutil.Error:
            pass


def main() -> int:
    parent, command = int(sys.argv[1]), sys.argv[sys.argv.index("--") + 1:]
    # A group SIGTERM is for the engine: this wrapper stays until the engine has exited, then exits with it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = subprocess.Popen(command, preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    while engine.poll() is None:
        if not alive(parent):
            end_group()
            return 0
        time.sleep(POLL_S)
    # The engine exited (or was killed, e.g. by the out-of-memory killer): its workers would hold their memory
    # for good, and the runner's restart starts new ones.
    end_group()
    return engine.returncode if engine.returncode >= 0 else 128 - engine.returncode  # killed by N: 128 + N


if __name__ == "__main__":
    sys.exit(main())
