"""Engine processes: launch commands per engine, start + health-poll, restart after a death but not in a crash loop,
a 503 for the request an engine dies under, stop, and no orphan when the runner is killed outright or the engine is
killed alone. A recording OpenAI-compatible stub (tests/support/stub_openai.py) runs as the engine process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from runners.core.config import ModelOption
from runners.core.errors import ModelUnavailable
from runners.language.engines import process as process_module
from runners.language.engines.chat import ChatRequest
from runners.language.engines.openai_engine import OpenAIEngine
from runners.language.engines.process import (
    EngineProcess,
    EngineSettings,
    launch_command,
)
from runners.language.models import LanguageModel
from tests.support.processes import gone, stub_engine, wait_for_line


def test_launch_commands_carry_the_models_flags():
    settings = EngineSettings(tensor_parallel_size=4, memory_fraction=0.7, max_model_len=32768,
                              max_images_per_prompt=16, quantization="fp8", extra_args=["--trust-remote-code"])
    sglang = launch_command("sglang", "/opt/engines/sglang/bin/python", "org/m", 31000, settings)
    assert sglang[:3] == ["/opt/engines/sglang/bin/python", "-m", "sglang.launch_server"]
    for flag, value in (("--model-path", "org/m"), ("--port", "31000"), ("--tp-size", "4"),
                        ("--mem-fraction-static", "0.7"), ("--context-length", "32768"), ("--quantization", "fp8")):
        assert sglang[sglang.index(flag) + 1] == value
    assert sglang[-1] == "--trust-remote-code"
    vllm = launch_command("vllm", "/opt/engines/vllm/bin/python", "org/m", 31001, settings)
    assert vllm[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]  # `vllm serve` is broken in CPU builds
    for flag, value in (("--model", "org/m"), ("--tensor-parallel-size", "4"), ("--gpu-memory-utilization", "0.7"),
                        ("--max-model-len", "32768"), ("--quantization", "fp8")):
        assert vllm[vllm.index(flag) + 1] == value
    assert json.loads(vllm[vllm.index("--limit-mm-per-prompt") + 1]) == {"image": 16}
    with pytest.raises(ValueError):
        launch_command("tgi", "python", "m", 1, settings)


def test_an_engine_starts_when_first_needed_restarts_and_stops_a_crash_loop(tmp_path, monkeypatch):
    engine = EngineProcess("stub", stub_engine, tmp_path / "engine.log", ready_timeout_s=60)
    try:
        url = engine.ensure_running()
        assert engine.running() and engine.ensure_running() == url  # running: not started twice
        assert OpenAIEngine("stub", url, "stub-model").chat(ChatRequest(text="hi")).text == "{}"

        os.killpg(engine.process.pid, signal.SIGKILL)  # the engine dies
        engine.process.wait()
        url_after = engine.ensure_running()
        assert engine.restarts == 1 and engine.running()
        assert OpenAIEngine("stub", url_after, "stub-model").chat(ChatRequest(text="again")).text == "{}"

        os.killpg(engine.process.pid, signal.SIGKILL)  # and dies again at once: a crash loop is not restarted
        engine.process.wait()
        with pytest.raises(ModelUnavailable, match="died again .* not restarted in a loop"):
            engine.ensure_running()
        assert not engine.running()

        monkeypatch.setattr(process_module, "CRASH_LOOP_S", 0.0)  # had it run long enough, it would be restarted
        engine.ensure_running()
        assert engine.restarts == 2 and engine.running()
    finally:
        engine.stop()


def test_an_engine_killed_mid_request_is_a_503_and_the_next_request_restarts_it(tmp_path):
    log_path, launches = tmp_path / "engine.log", []

    def slow_first_engine(port: int) -> list[str]:  # its first answer takes 600 s; the restarted one answers at once
        launches.append(port)
        return [*stub_engine(port), *(["--slow-first", "600"] if len(launches) == 1 else [])]

    engine = EngineProcess("vllm", slow_first_engine, log_path, ready_timeout_s=60)
    option = ModelOption(model_id="stub-model", framework="vllm", family="llama", params_b=1)
    model = LanguageModel("served-llm", option, OpenAIEngine("vllm", engine.ensure_running(), "stub-model"),
                          vision=False, process=engine)
    outcome = {}

    def ask():
        try:
            outcome["answer"] = model.chat(ChatRequest(text="a long answer"))
        except ModelUnavailable as exc:
            outcome["error"] = exc

    try:
        asking = threading.Thread(target=ask)
        asking.start()
        wait_for_line(log_path, "chat request 1 received")  # the request is in flight, its answer 600 s away
        os.killpg(engine.process.pid, signal.SIGKILL)
        asking.join(60)
        assert "answer" not in outcome
        assert outcome["error"].status == 503
        assert "stopped during this request" in outcome["error"].message
        assert "the next request restarts it" in outcome["error"].message

        assert model.chat(ChatRequest(text="again")).text == "{}"  # a new engine process, on a new port
        assert engine.restarts == 1 and engine.running()
    finally:
        model.close()


def test_stop_ends_the_engine_and_its_group(tmp_path):
    engine = EngineProcess("stub", stub_engine, tmp_path / "engine.log", ready_timeout_s=60)
    engine.ensure_running()
    pgid = engine.process.pid
    engine.stop()
    assert not engine.running() and gone(pgid)


def test_an_engine_that_cannot_start_is_a_503_with_its_log(tmp_path):
    def broken(port: int) -> list[str]:
        return [sys.executable, "-c", "import sys; print('no CUDA device found'); sys.exit(3)"]

    engine = EngineProcess("vllm", broken, tmp_path / "engine.log", ready_timeout_s=60)
    with pytest.raises(ModelUnavailable, match="exited with 3") as info:
        engine.ensure_running()
    assert "no CUDA device found" in info.value.message


def test_the_engine_gets_its_environment_over_the_runners(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNNER_SIDE", "kept")
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "40")

    def show_env(port: int) -> list[str]:
        return [sys.executable, "-c", "import os, sys; print('env:', os.environ['RUNNER_SIDE'], "
                                      "os.environ['VLLM_CPU_KVCACHE_SPACE']); sys.exit(3)"]

    engine = EngineProcess("vllm", show_env, tmp_path / "engine.log", ready_timeout_s=60,
                           env={"VLLM_CPU_KVCACHE_SPACE": "1"})
    with pytest.raises(ModelUnavailable) as info:
        engine.ensure_running()
    assert "env: kept 1" in info.value.message


def test_a_killed_runner_leaves_no_engine_behind(tmp_path):
    """The runner is SIGKILLed (no shutdown code runs): the watchdog stops the engine."""
    runner = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from runners.language.engines.process import EngineProcess
        from tests.support.processes import stub_engine
        engine = EngineProcess("stub", stub_engine, Path({str(tmp_path / 'engine.log')!r}), ready_timeout_s=60)
        engine.ensure_running()
        print(engine.process.pid, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    pgid = int(runner.stdout.readline())
    os.killpg(pgid, 0)  # the engine group runs
    runner.kill()
    runner.wait()
    assert gone(pgid), "the engine outlived its runner"


def test_an_engine_killed_alone_takes_its_workers_with_it(tmp_path):
    """The out-of-memory killer takes the engine's main process only: the watchdog ends the workers it started,
    which would otherwise hold their memory for good."""
    pid_file = tmp_path / "worker.pid"
    engine_code = ("import subprocess, sys, time; worker = subprocess.Popen(['sleep', '600']); "
                   f"open({str(pid_file)!r}, 'w').write(str(worker.pid)); time.sleep(600)")
    watchdog = subprocess.Popen([sys.executable, "-m", "runners.language.engines.watchdog", str(os.getpid()), "--",
                                 sys.executable, "-c", engine_code], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the engine never started its worker"
            time.sleep(0.05)
        worker = psutil.Process(int(pid_file.read_text()))
        [engine] = [p for p in psutil.Process(watchdog.pid).children() if p.pid != worker.pid]
        engine.kill()
        assert watchdog.wait(30) == 128 + signal.SIGKILL  # the engine's fate, as a shell reports it
        _, alive = psutil.wait_procs([worker], timeout=30)
        assert alive == []
    finally:
        if watchdog.poll() is None:
            os.killpg(watchdog.pid, signal.SIGKILL)
