"""Start and stop a real `bentoml serve` of this project on a free loopback port (tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(config: Path, log_path: Path, env: dict | None = None,
                  timeout_s: float = 120) -> tuple[subprocess.Popen, str, float]:
    """Returns (process, base url, seconds until /readyz answered 200).

    Each server gets a BentoML home of its own next to its log: `bentoml serve` empties
    `$BENTOML_HOME/prometheus_multiproc_dir` when it starts and every server under that home writes its metrics there,
    so servers sharing a home (the test suite runs several) would wipe and mix each other's /metrics. Unless `env`
    names a STATE_DIR, its job store is new too."""
    port = free_port()
    home = log_path.parent / f"bentoml-home-{port}"
    # and a job store of its own: jobs of one server are not another's
    full_env = {**os.environ, "MODEL_CONFIG": str(config), "BENTOML_HOME": str(home),
                "STATE_DIR": str(log_path.parent / f"state-{port}"), **(env or {})}
    if "MEDIA_ROOTS" not in (env or {}):
        full_env.pop("MEDIA_ROOTS", None)  # the config's media roots apply
    log = open(log_path, "w")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bentoml", "serve", "services.model_service:ModelService", "--port", str(port),
         "--host", "127.0.0.1"],
        cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"bentoml serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_service(process)
    raise RuntimeError(f"bentoml serve not ready in {timeout_s:.0f} s:\n{log_path.read_text()[-3000:]}")


def process_family(process: subprocess.Popen) -> list[psutil.Process]:
    """The server's process and every process below it (none once it is gone)."""
    try:
        return [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def stop_service(process: subprocess.Popen, grace_s: float = 30) -> None:
    """SIGTERM the server's process group and every process below it (BentoML starts the public service's worker in
    a group of its own), SIGKILL whatever is left after `grace_s`."""
    family = process_family(process)
    for send in (lambda: os.killpg(process.pid, signal.SIGTERM), *(p.terminate for p in family)):
        try:
            send()
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    _, alive = psutil.wait_procs(family, timeout=grace_s)
    for survivor in alive:
        try:
            survivor.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        pass


def kill_service(process: subprocess.Popen) -> None:
    """SIGKILL the server and every process below it at once, as a power cut or the out-of-memory killer would: no
    shutdown code runs anywhere."""
    family = process_family(process)
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)
    process.wait(10)
