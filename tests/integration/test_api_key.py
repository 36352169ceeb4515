"""The optional API key (services/auth.py) on a real `bentoml serve` started with API_KEY set."""

from __future__ import annotations

import httpx
import pytest

from scripts.local_server import start_service, stop_service
from tests.support.api import assert_envelope

pytestmark = pytest.mark.integration

KEY = "s3cret-key-for-tests"
PROTECTED = [("POST", "/api/detect", {"video_path": "x.mp4", "frame_numbers": [0]}),
             ("GET", "/models/info", None),
             ("POST", "/models/load", {"model_id": "yolo11n"}),
             ("POST", "/models/unload", {"model_id": "yolo11n"}),
             ("POST", "/api/augment", {"persona_name": "a", "existing_ontology": {"entity_types": ["x"]}}),
             ("GET", "/no/such/route", None)]


@pytest.fixture(scope="module")
def keyed(demo_config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-key")
    process, url, _ = start_service(demo_config, folder / "serve.log", env={"API_KEY": KEY})
    try:
        with httpx.Client(base_url=url, timeout=300) as client:
            yield client
    finally:
        stop_service(process)


def call(client, method, path, body, key: str | None = None, scheme: str = "Bearer"):
    headers = {"Authorization": f"{scheme} {key}".strip()} if key is not None else {}
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("method, path, body", PROTECTED, ids=[p for _, p, _ in PROTECTED])
@pytest.mark.parametrize("key, scheme, fragment", [(None, "Bearer", "needs an API key"),
                                                   ("wrong", "Bearer", "not valid"),
                                                   (KEY + "x", "Bearer", "not valid"),
                                                   (KEY, "Basic", "needs an API key"),
                                                   ("", "Bearer", "needs an API key")],
                         ids=["no-key", "wrong-key", "longer-key", "basic-scheme", "empty-key"])
def test_without_the_right_key_every_route_is_401(keyed, method, path, body, key, scheme, fragment):
    response = call(keyed, method, path, body, key, scheme)
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
    info = call(keyed, "GET", "/models/info", None, KEY)
    assert info.status_code == 200, info.text
    loaded = call(keyed, "POST", "/models/load", {"model_id": "yolo11n"}, KEY)
    assert loaded.status_code == 200, loaded.text
    detected = call(keyed, "POST", "/api/detect", {"video_path": str(demo_video), "frame_numbers": [0],
                                                    "model": "yolo11n"}, KEY, scheme="bearer")  # scheme: any case
    assert detected.status_code == 200, detected.text
    # with the key, errors are the service's own (here: 404 for an unknown model), not 401
    assert_envelope(call(keyed, "POST", "/models/unload", {"model_id": "nope"}, KEY), 404, "unknown model")


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
