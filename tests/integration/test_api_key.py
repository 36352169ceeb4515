"""The optional API key (services/auth.py) on a real `bentoml serve` started with API_KEY set."""

from __future__ import annotations

import httpx
import pytest

from scripts.local_server import start_service, stop_service
from tests.support.api import assert_envelope

pytestmark = pytest.mark.integration

KEY = "s3cret-key-for-tests"
VIDEO = "<demo video>"  # replaced by the demo video's path when sent
# Every task and model route, each with one request. The same request is sent without the key (401 from the auth
# layer) and with it (what the service itself answers: cheap, some of them the handler's own 4xx for a model that is
# not configured, raised after the body was parsed, so never before the key was checked). In this order: the load
# before the unload.
ROUTES = [("GET", "/models/info", None),
          ("POST", "/models/load", {"model_id": "yolo11n"}),
          ("POST", "/api/detect", {"video_path": VIDEO, "frame_numbers": [0], "model": "yolo11n"}),
          ("POST", "/models/unload", {"model_id": "yolo11n"}),
          ("POST", "/api/track", {"video_path": VIDEO, "frame_range": {"start": 0, "end": 1}, "model": "nope"}),
          ("POST", "/api/summarize", {"video_path": VIDEO, "model": "nope"}),
          ("POST", "/api/augment", {"persona_name": "a", "existing_ontology": {"entity_types": ["x"]},
                                    "model": "nope"})]
PROTECTED = [*ROUTES, ("GET", "/no/such/route", None)]
@pytest.fixture(scope="module")
def keyed(demo_config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-key")
    process, url, _ = start_service(demo_config, folder / "serve.log", env={"API_KEY": KEY})
    try:
        with httpx.Client(base_url=url, timeout=300) as client:
            yield client
    finally:
        stop_service(process)


def call(client, method, path, body, key: str | None = None, scheme: str = "Bearer", video=None):
    headers = {"Authorization": f"{scheme} {key}".strip()} if key is not None else {}
    if body is not None and body.get("video_path") == VIDEO:
        body = {**body, "video_path": str(video)}
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("method, path, body", PROTECTED, ids=[p for _, p, _ in PROTECTED])
@pytest.mark.parametrize("key, scheme, fragment", [(None, "Bearer", "needs an API key"),
                                                   ("wrong", "Bearer", "not valid"),
                                                   (KEY + "x", "Bearer", "not valid"),
                                                   (KEY, "Basic", "needs an API key"),
                                                   ("", "Bearer", "needs an API key")],
                         ids=["no-key", "wrong-key", "longer-key", "basic-scheme", "empty-key"])
def test_without_the_right_key_every_route_is_401(keyed, demo_video, method, path, body, key, scheme, fragment):
    response = call(keyed, method, path, body, key, scheme, video=demo_video)
    envelope = assert_envelope(response, 401, fragment)
    assert envelope["error"] == "Unauthorized"
    assert "Authorization: Bearer <key>" in envelope["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_request_ids_of_401s_are_kept_or_made(keyed):
    response = keyed.get("/models/info", headers={"x-request-id": "abc123"})
    assert assert_envelope(response, 401)["details"]["request_id"] == "abc123"
    first, second = keyed.get("/models/info"), keyed.get("/models/info")
    assert first.json()["details"]["request_id"] != second.json()["details"]["request_id"]


def test_the_right_key_opens_every_route(keyed, demo_video):
    """ROUTES' requests with the key: each one answered by its handler (the 401 test sends the same requests)."""
    answers = {path: call(keyed, method, path, body, KEY, video=demo_video) for method, path, body in ROUTES}
    assert set(answers) == {"/api/detect", "/api/track", "/api/summarize", "/api/augment", "/models/load",
                            "/models/unload", "/models/info"}
    info = answers["/models/info"]
    assert info.status_code == 200, info.text
    assert "yolo11n" in info.json()["available_models"]["object_detection"]
    loaded = answers["/models/load"]
    assert loaded.status_code == 200, loaded.text
    assert (loaded.json()["model_id"], loaded.json()["status"]) == ("yolo11n", "loaded")
    detected = answers["/api/detect"]
    assert detected.status_code == 200, detected.text
    assert detected.json()["model_used"] == "yolo11n" and detected.json()["total_frames"] == 1
    unloaded = answers["/models/unload"]
    assert unloaded.status_code == 200, unloaded.text
    assert (unloaded.json()["model_id"], unloaded.json()["status"]) == ("yolo11n", "unloaded")
    for path, task in [("/api/track", "tracking"), ("/api/summarize", "summarization"),
                       ("/api/augment", "augmentation")]:
        # the handler's own refusal of a model the configuration lacks: the request passed the auth layer
        body = assert_envelope(answers[path], 400, "model 'nope'; choose one of")
        assert task in body["message"] and body["error"] != "Unauthorized", (path, body)
    # the scheme's case does not matter; with the key, errors are the service's own (404: unknown model), not 401
    again = call(keyed, "POST", "/api/detect", {"video_path": str(demo_video), "frame_numbers": [0],
                                                "model": "yolo11n"}, KEY, scheme="bearer")
    assert again.status_code == 200, again.text
    assert_envelope(call(keyed, "POST", "/models/unload", {"model_id": "nope"}, KEY), 404, "unknown model")
    # the probe is open with or without a key, and a wrong key does not close it
    for key in (None, KEY, "wrong"):
        health = call(keyed, "GET", "/health", None, key)
        assert health.status_code == 200, (key, health.text)


@pytest.mark.parametrize("path", ["/health", "/readyz", "/livez", "/healthz", "/metrics", "/docs.json", "/"])
def test_probes_metrics_and_docs_stay_open(keyed, path):
    response = keyed.get(path)
    assert response.status_code == 200, (path, response.text[:300])


def test_open_paths_are_exact_and_read_only(keyed):
    """Only GET/HEAD of the exact open paths pass without a key: no prefix or method trick gets through."""
    for method, path in [("POST", "/health"), ("GET", "/health/../models/info"), ("GET", "/healthz/x"),
                         ("POST", "/metrics"), ("GET", "//models/info")]:
        assert keyed.request(method, path).status_code == 401, (method, path)


def test_cors_preflight_passes_without_a_key(keyed):
    response = keyed.options("/api/detect", headers={"Origin": "https://ui.example", "Access-Control-Request-Method":
                                                      "POST", "Access-Control-Request-Headers": "authorization"})
    assert response.status_code == 200, response.text
    assert response.headers.get("access-control-allow-origin") in ("*", "https://ui.example")
