"""A real `bentoml serve` of the demo configuration, started once for the integration tests."""

from __future__ import annotations

import httpx
import pytest

from scripts.local_server import start_service, stop_service
from tests.support.config import config_variant
from tests.support.demo_scores import track_request
from tests.support.stub_openai import StubOpenAI


@pytest.fixture(scope="session")
def service(demo_config, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    process, url, _ = start_service(demo_config, log_path)
    yield {"url": url, "log": log_path}
    stop_service(process)


@pytest.fixture(scope="session")
def client(service):
    with httpx.Client(base_url=service["url"], timeout=600) as client:
        yield client


@pytest.fixture(scope="session")
def tracking_video(demo_dir):
    """The demo's scripted tracking video (140 frames, ground truth beside it)."""
    return demo_dir / "media" / "tracking.mp4"


@pytest.fixture(scope="session")
def tracked(client, tracking_video) -> dict:
    """The demo service's YOLO11n-seg tracks of the tracking video, with masks: what exports and previews show."""
    response = client.post("/api/track", json=track_request(tracking_video))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="session")
def stub_service(demo_config, tmp_path_factory):
    """The demo with two more language models served by a recording OpenAI-compatible stub (the network edge of
    SGLang, vLLM and shared clusters): (client, stub)."""
    stub = StubOpenAI()
    folder = tmp_path_factory.mktemp("stub-serve")

    def add_stub_models(config):
        remote = {"framework": "openai", "base_url": stub.url}
        config["models"]["video_summarization"]["options"]["remote-vlm"] = {
            **remote, "model_id": "org/remote-vlm", "family": "qwen2-5-vl", "params_b": 72, "max_image_side": 320}
        config["models"]["ontology_augmentation"]["options"]["remote-llm"] = {
            **remote, "model_id": "org/remote-llm", "family": "llama", "params_b": 70}

    path = config_variant(demo_config, folder / "models.yaml", add_stub_models)
    process, url, _ = start_service(path, folder / "serve.log")
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            yield client, stub
    finally:
        stop_service(process)
        stub.close()
