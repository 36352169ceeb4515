"""Offline use: with HF_HUB_OFFLINE=1 the service loads Hugging Face ids from the cache that
scripts/fetch_models.py fills (here laid out by hand from a demo model, as `snapshot_download` leaves it), and a
model missing from the cache is a 503 that names the fetch command while the others keep serving."""

from __future__ import annotations

import shutil

import httpx
import pytest

from scripts.local_server import start_service, stop_service
from tests.support.api import assert_envelope
from tests.support.config import config_variant

pytestmark = pytest.mark.integration

REVISION = "0" * 40


def cache_as_snapshot_download(hf_home, repo_id: str, folder) -> None:
    """The Hugging Face cache layout: hub/models--org--name/{snapshots/<revision>/, refs/main}."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(folder, repo / "snapshots" / REVISION)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)


def test_hugging_face_ids_load_from_the_cache_offline(demo_config, demo_video, tmp_path):
    hf_home = tmp_path / "hf"
    cache_as_snapshot_download(hf_home, "example/owlv2-tiny", demo_config.parent / "weights" / "owlv2-tiny")

    def from_the_hub(config):
        detection = config["models"]["object_detection"]["options"]
        detection["owlv2"]["model_id"] = "example/owlv2-tiny"
        detection["florence-2"]["model_id"] = "example/not-fetched"

    path = config_variant(demo_config, tmp_path / "models.yaml", from_the_hub)
    process, url, _ = start_service(path, tmp_path / "serve.log", env={"HF_HOME": str(hf_home),
                                                                       "HF_HUB_OFFLINE": "1"})
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            request = {"video_path": str(demo_video), "frame_numbers": [0], "classes": ["circle"]}
            loaded = client.post("/api/detect", json={**request, "model": "owlv2"})
            assert loaded.status_code == 200, loaded.text
            missing = assert_envelope(client.post("/api/detect", json={**request, "model": "florence-2"}), 503,
                                      "scripts/fetch_models.py florence-2")
            assert missing["details"]["model_id"] == "example/not-fetched"
            assert client.post("/api/detect", json={**request, "model": "owlv2"}).status_code == 200
    finally:
        stop_service(process)
