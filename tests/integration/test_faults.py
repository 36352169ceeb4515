"""Faults against real `bentoml serve` processes: models unloaded and evicted while requests use them, a runner process
that hangs and then dies mid-request, and the service's traffic limits (429 and 504 in the error envelope).

Each scenario runs on a server of its own, because it kills or saturates what the shared server's tests rely on.
(An engine process killed mid-request: tests/unit/language/engines/test_process.py with a real process, and the
vLLM tier's tests/engines/test_vllm_service.py with vLLM itself.)"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import psutil
import pytest

from scripts.local_server import start_service, stop_service
from tests.support.api import assert_envelope
from tests.support.config import config_variant
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

THREE_BOXES = [{"bbox": {"x": x, "y": 10, "width": 80, "height": 80}, "label": "a"} for x in (10, 200, 400)]


@pytest.fixture(scope="module")
def tracking_video(demo_dir):
    return demo_dir / "media" / "tracking.mp4"


def serve(demo_config, folder, edit):
    process, url, _ = start_service(config_variant(demo_config, folder / "models.yaml", edit), folder / "serve.log")
    return SimpleNamespace(process=process, url=url, client=httpx.Client(base_url=url, timeout=600))


@pytest.fixture(scope="module")
def server(demo_config, tmp_path_factory):
    """The demo, with a tracking budget of 1 GB and SAM 2.1 / SAMURAI estimated at 0.6 GB each: one fits at a time."""
    def one_sam_at_a_time(config):
        config.setdefault("inference", {})["max_memory_per_model"] = 1.0
        for name in ("sam2-1", "samurai"):
            config["models"]["video_tracking"]["options"][name]["vram_gb"] = 0.6

    running = serve(demo_config, tmp_path_factory.mktemp("faults"), one_sam_at_a_time)
    yield running
    running.client.close()
    stop_service(running.process)


def runner_status(client, runner: str) -> dict:
    return client.get("/health").json()["runners"][runner]


def in_background(call):
    """Run `call()` in a thread; the returned object's .result() waits for its value."""
    pool = ThreadPoolExecutor(1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future


def track_body(video, model: str, **fields) -> dict:
    return {"video_path": str(video), "model": model, "frame_range": {"start": 0, "end": 139}, **fields}


def worker(server, service_name: str) -> psutil.Process:
    """The process BentoML runs `service_name` in (e.g. tracking-runner)."""
    for child in psutil.Process(server.process.pid).children(recursive=True):
        command = child.cmdline()
        if "--service-name" in command and command[command.index("--service-name") + 1] == service_name:
            return child
    raise AssertionError(f"no {service_name} process")


def assert_models_settled(client) -> None:
    """No model half-freed or still counted in use: every listed model is ready with no users."""
    health = client.get("/health").json()
    assert health["status"] == "healthy", health
    for runner in health["runners"].values():
        for name, model in runner["models"].items():
            assert model["state"] == "ready" and model["in_use"] == 0, (name, model)


def test_unload_while_requests_use_the_model_lets_them_finish(server, demo_video, tracking_video):
    client = server.client
    tracking = in_background(lambda: httpx.post(f"{server.url}/api/track", timeout=600, json=track_body(
        tracking_video, "yolo11n-seg")))

    def tracking_job_running():
        return runner_status(client, "tracking")["jobs"]

    wait_for(tracking_job_running)
    unload_in_use = client.post("/models/unload", json={"model_id": "yolo11n-seg"})  # waits for the job

    detect = {"video_path": str(demo_video), "frame_numbers": [0, 10, 20], "model": "yolo11n"}
    with ThreadPoolExecutor(16) as pool:
        detections = [pool.submit(httpx.post, f"{server.url}/api/detect", json=detect, timeout=600)
                      for _ in range(24)]
        def detector_loaded():
            return "yolo11n" in runner_status(client, "detection")["loaded_models"]

        wait_for(detector_loaded)
        unloads = []
        while not all(future.done() for future in detections) or not unloads:
            # unloaded again and again while batches run: each use waits, or loads a fresh copy
            unloads.append(client.post("/models/unload", json={"model_id": "yolo11n"}))
            time.sleep(0.3)
        detections = [future.result() for future in detections]

    track = tracking.result()
    assert track.status_code == 200, track.text
    assert track.json()["frames_processed"] == 140  # not cut short: the model was not freed under the job
    assert unload_in_use.status_code == 200 and unload_in_use.json()["status"] == "unloaded"
    for response in detections:
        assert response.status_code == 200, response.text
        assert [f["frame_number"] for f in response.json()["detections"]] == [0, 10, 20]
    assert {u.status_code for u in unloads} == {200}
    assert "unloaded" in {u.json()["status"] for u in unloads}
    assert_models_settled(client)
    assert client.post("/api/detect", json=detect).status_code == 200  # loads again after the last unload


def test_eviction_never_takes_a_model_in_use(server, tracking_video):
    client = server.client
    sam2 = in_background(lambda: httpx.post(f"{server.url}/api/track", timeout=600, json=track_body(
        tracking_video, "sam2-1", initial_detections=THREE_BOXES)))

    def sam2_job_running():
        return any(job["model"] == "sam2-1" for job in runner_status(client, "tracking")["jobs"].values())

    wait_for(sam2_job_running)
    # SAMURAI would need SAM 2.1's memory, which a job is using: refused at once, not queued, nothing freed
    crowded = client.post("/api/track", json=track_body(tracking_video, "samurai", initial_detections=THREE_BOXES))
    body = assert_envelope(crowded, 503, "not enough memory to load samurai")
    assert body["details"]["busy"] == ["sam2-1"] and "retry" in body["message"]

    first = sam2.result()
    assert first.status_code == 200, first.text
    assert first.json()["frames_processed"] == 140 and first.json()["total_tracks"] == 3
    # idle now: SAMURAI's load evicts it
    again = client.post("/api/track", json=track_body(tracking_video, "samurai", initial_detections=THREE_BOXES))
    assert again.status_code == 200, again.text
    assert again.json()["total_tracks"] == 3
    assert "sam2-1" not in runner_status(client, "tracking")["loaded_models"]
    assert "samurai" in runner_status(client, "tracking")["loaded_models"]
    assert_models_settled(client)


def test_a_runner_that_hangs_then_dies_mid_request_is_a_503_and_comes_back(server, tracking_video):
    client = server.client
    runner = worker(server, "tracking-runner")
    doomed = in_background(lambda: httpx.post(f"{server.url}/api/track", timeout=600, json=track_body(
        tracking_video, "sam2-1", initial_detections=THREE_BOXES)))

    def sam2_job_running():
        return runner_status(client, "tracking")["jobs"]

    wait_for(sam2_job_running)
    runner.suspend()  # hung: /health says so (its status call times out) and the request waits
    try:
        health = client.get("/health").json()
        assert health["status"] == "degraded" and health["runners"]["tracking"]["status"] == "unreachable"
        assert health["runners"]["detection"].get("status") != "unreachable"
        assert not doomed.done()
    finally:
        runner.kill()  # then dies: BentoML starts a new one
    assert_envelope(doomed.result(), 503, "runner serving this request stopped answering")

    def healthy_again():
        return client.get("/health").json()["status"] == "healthy"

    wait_for(healthy_again)
    assert worker(server, "tracking-runner").pid != runner.pid
    after = client.post("/api/track", json=track_body(tracking_video, "yolo11n-seg", frame_range={"start": 0,
                                                                                                   "end": 11}))
    assert after.status_code == 200 and after.json()["frames_processed"] == 12, after.text


@pytest.fixture(scope="module")
def limited(demo_config, tmp_path_factory):
    """The demo with room for two requests at a time, each allowed 20 s, and two tracking sessions."""
    def tight_limits(config):
        config["server"] = {"max_concurrency": 2, "request_timeout_s": 20}
        config["jobs"] = {"max_running": {"tracking": 2}}

    running = serve(demo_config, tmp_path_factory.mktemp("limited"), tight_limits)
    yield running
    running.client.close()
    stop_service(running.process)


def test_traffic_limits_answer_429_and_504_in_the_envelope(limited, demo_video, tracking_video):
    """Two tracking jobs hold both slots and cannot finish (their runner is stopped once both run), so a third
    request gets 429 and both get 504 at the limit on any machine; the runner, let go, stops both jobs; a detection
    with a model loaded beforehand answers again."""
    client = limited.client
    detect = {"video_path": str(demo_video), "frame_numbers": [0], "model": "yolo11n"}
    for model in ("sam2long", "yolo11n"):  # loaded before the limited phase: no load races the 20 s limit
        assert client.post("/models/load", json={"model_id": model}).status_code == 200
    cancelled_before = runner_status(client, "tracking")["jobs_cancelled"]
    runner = worker(limited, "tracking-runner")
    slow = [in_background(lambda: httpx.post(f"{limited.url}/api/track", timeout=600, json=track_body(
        tracking_video, "sam2long", initial_detections=THREE_BOXES, include_masks=True))) for _ in range(2)]

    def both_jobs_running():  # then both requests hold their slots (/health is never limited)
        return len(runner_status(client, "tracking")["jobs"]) == 2

    wait_for(both_jobs_running)
    runner.suspend()
    try:
        refused = client.post("/api/detect", json=detect)
        body = assert_envelope(refused, 429, "retry")
        assert body["details"]["limit"] == 2 and refused.headers["retry-after"] == "1"
        for future in slow:
            stopped = assert_envelope(future.result(), 504, "not done in 20 s")
            assert stopped["details"]["timeout_s"] == 20
    finally:
        runner.resume()

    def jobs_stopped():  # the runner stopped both jobs, as for clients that went away
        status = runner_status(client, "tracking")
        return status["jobs"] == {} and status["jobs_cancelled"] == cancelled_before + 2

    wait_for(jobs_stopped)
    assert client.post("/api/detect", json=detect).status_code == 200
