"""SGLang and vLLM as engine processes: the launch command from the model's config, start, health-poll until ready,
restart after a death (not in a crash loop), stop on unload.

Each engine runs in a virtual environment of its own (they pin other torch and transformers versions than the
service), under `runners/language/engines/watchdog.py`, which stops it if the runner is killed.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from runners.core.errors import ModelUnavailable

log = logging.getLogger(__name__)

HEALTH_POLL_S = 1.0
STOP_GRACE_S = 30.0
# An engine that dies sooner than this after a restart is crash-looping (bad flags, out of memory at load): it is not
# restarted again until the model is unloaded and loaded. One that ran longer is restarted as often as it dies.
CRASH_LOOP_S = 120.0


@dataclass
class EngineSettings:
    """What the engine is told about the model (config: the model's `engine` section)."""
    tensor_parallel_size: int = 1
    memory_fraction: float = 0.85  # of the GPU, for weights and KV cache
    max_model_len: int | None = None
    max_images_per_prompt: int = 64
    quantization: str | None = None  # the engine's own name (fp8, awq, bitsandbytes, ...)
    dtype: str = "auto"
    extra_args: list[str] = field(default_factory=list)
    # for the engine process, over the runner's own (vLLM's CPU build: VLLM_CPU_KVCACHE_SPACE, KV cache in GiB)
    env: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_command(engine: str, python: str, model: str, port: int, settings: EngineSettings) -> list[str]:
    """The OpenAI-compatible server of `engine` for `model` on 127.0.0.1:`port`."""
    if engine == "sglang":
        command = [python, "-m", "sglang.launch_server", "--model-path", model, "--host", "127.0.0.1",
                   "--port", str(port), "--tp-size", str(settings.tensor_parallel_size),
                   "--mem-fraction-static", str(settings.memory_fraction), "--dtype", settings.dtype]
        if settings.max_model_len:
            command += ["--context-length", str(settings.max_model_len)]
    elif engine == "vllm":
        # `vllm serve` looks up package metadata that CPU builds lack; the module entry point works everywhere.
        command = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--host", "127.0.0.1",
                   "--port", str(port), "--tensor-parallel-size", str(settings.tensor_parallel_size),
                   "--gpu-memory-utilization", str(settings.memory_fraction), "--dtype", settings.dtype,
                   "--limit-mm-per-prompt", json.dumps({"image": settings.max_images_per_prompt})]
        if settings.max_model_len:
            command += ["--max-model-len", str(settings.max_model_len)]
    else:
        raise ValueError(f"no launch command for engine {engine!r}")
    if settings.quantization:
        command += ["--quantization", settings.quantization]
    return command + list(settings.extra_args)


class EngineProcess:
    """One engine process serving one model. `ensure_running` starts it (or restarts it after it died, unless it is
    crash-looping) and returns its OpenAI base URL; `stop` ends it and its workers. `env`: variables set for the
    engine, over the runner's own."""

    def __init__(self, name: str, command_for_port: Callable[[int], list[str]], log_path: Path,
                 ready_timeout_s: float = 900.0, health_path: str = "/health",
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.command_for_port = command_for_port  # port -> command
        self.log_path = log_path
        self.ready_timeout_s = ready_timeout_s
        self.health_path = health_path
        self.env = dict(env or {})
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.restarts = 0
        self.started_once = False
        self.ready_at = 0.0  # time.monotonic() of the last successful start

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def running(self) -> bool:
        """The engine itself runs. Its watchdog outlives a dead engine for a few seconds while it ends the engine's
        workers, so the watchdog being alive says nothing: the engine is the watchdog's only child."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            return any(child.status() != psutil.STATUS_ZOMBIE for child in psutil.Process(self.process.pid).children())
        except psutil.Error:
            return False

    def stopped_within(self, wait_s: float) -> bool:
        """Whether the engine is found dead within `wait_s` (after a dropped connection: died, or only slow?)."""
        deadline = time.monotonic() + wait_s
        while self.running():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def ensure_running(self) -> str:
        if self.running():
            return self.base_url
        if self.started_once:
            lived = time.monotonic() - self.ready_at
            if self.restarts and lived < CRASH_LOOP_S:
                raise ModelUnavailable(f"the {self.name} engine died again {lived:.0f} s after a restart and is not "
                                       f"restarted in a loop: unload and load the model to try again; see "
                                       f"{self.log_path}: {self.log_tail()}", engine=self.name)
            self.restarts += 1
            log.warning("the %s engine exited after %.0f s: restarting it", self.name, lived)
            self.stop()  # whatever is left of its process group (the watchdog ends it too; a killed watchdog cannot)
        self.start()
        return self.base_url

    def start(self) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "runners.language.engines.watchdog", str(os.getpid()), "--",
                   *self.command_for_port(self.port)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                            cwd=Path(__file__).resolve().parents[3], env={**os.environ, **self.env})
        self.started_once = True
        self._wait_ready(self.process)

    def _wait_ready(self, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ModelUnavailable(f"the {self.name} engine exited with {process.returncode} while "
                                       f"starting: {self.log_tail()}", engine=self.name)
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}{self.health_path}", timeout=2).status_code == 200:
                    self.ready_at = time.monotonic()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(HEALTH_POLL_S)
        self.stop()
        raise ModelUnavailable(f"the {self.name} engine was not ready in {self.ready_timeout_s:.0f} s: "
                               f"{self.log_tail()}", engine=self.name)

    def stop(self) -> None:
        """SIGTERM to the engine's process group (the watchdog waits for the engine), SIGKILL to what is left."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(STOP_GRACE_S)
        except (subprocess.TimeoutExpired, ProcessLookupError):  # slow to stop, or gone already
            pass
        try:  # the group outlives its leader while any member lives: nothing of it stays
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.process = None

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"
