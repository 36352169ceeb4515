"""The CPU Bento's image, built with buildah (`make image`) and run as the README says: the demo served from the
container, all four tasks, a video mounted from the host under MEDIA_ROOTS, the API key, a non-root user, no build
tools, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from scripts.build_image import BUILDAH_ENV, DEMO_IN_IMAGE, image_name, serve_command
from scripts.local_server import free_port, kill_service
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.container,
              pytest.mark.skipif(shutil.which("buildah") is None, reason="buildah is not installed")]
REPO = Path(__file__).resolve().parents[2]
API_KEY = "container-test-key"
ENV = {**os.environ, **BUILDAH_ENV}
BUILD_TOOLS = ("gcc", "cc", "g++", "c++", "make", "git")


def buildah(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(["buildah", *args], env=ENV, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def image() -> str:
    """The image of this commit, built (or found built: its layers are cached) by the build script."""
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_image.py")], cwd=REPO, check=True, timeout=3600)
    name = image_name("cpu")
    assert buildah("images", "--noheading", name).strip(), name
    return name


@pytest.fixture(scope="module")
def served(image, demo_dir, tmp_path_factory):
    """The image serving the demo: weights and configuration mounted read-only, the demo's videos mounted as the
    only media root, the API key set."""
    port = free_port()
    container = buildah("from", image).strip()
    log = (tmp_path_factory.mktemp("container") / "serve.log").open("w")
    process = subprocess.Popen(serve_command(container, port, demo_dir, media=demo_dir / "media", api_key=API_KEY),
                               env=ENV, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: ready(url) or process.poll() is not None, within_s=600)
        assert process.poll() is None, f"the container stopped: see {log.name}"
        yield {"url": url, "process": process, "container": container, "log": log.name}
    finally:
        if process.poll() is None:  # a test failed before the SIGTERM one: stop the server and all under it
            kill_service(process)
        log.close()
        subprocess.run(["buildah", "rm", container], env=ENV, capture_output=True)


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def client(served):
    with httpx.Client(base_url=served["url"], timeout=600,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        yield client


def test_the_four_tasks_answer_from_the_container(client):
    detect = client.post("/api/detect", json={"video_path": "/media/shapes.mp4", "model": "yolo11n",
                                              "frame_numbers": [0, 10, 20]})
    assert detect.status_code == 200, detect.text
    assert detect.json()["total_frames"] == 3 and detect.json()["total_detections"] > 0
    track = client.post("/api/track", json={"video_path": "/media/tracking.mp4", "model": "yolo11n-seg",
                                            "frame_range": {"start": 0, "end": 30}})
    assert track.status_code == 200, track.text
    assert track.json()["frames_processed"] == 31 and track.json()["total_tracks"] > 0
    summary = client.post("/api/summarize", json={"video_path": "/media/portrait.mp4", "frame_count": 4,
                                                  "max_new_tokens": 64})
    assert summary.status_code == 200, summary.text
    assert len(summary.json()["sampled_frames"]) == 4 and summary.json()["engine"] == "transformers"
    augment = client.post("/api/augment", json={"persona_name": "baseball scout", "max_new_tokens": 512,
                                                "existing_ontology": {"entity_types": ["Player", "Ball"]}})
    assert augment.status_code == 200, augment.text
    assert augment.json()["model_used"] and augment.json()["engine"] == "transformers"


def test_media_outside_the_mounted_root_and_a_missing_key_are_refused(client, served):
    outside = client.post("/api/detect", json={"video_path": f"{DEMO_IN_IMAGE}/media/shapes.mp4",
                                               "model": "yolo11n", "frame_numbers": [0]})
    assert outside.status_code == 403 and outside.json()["error"] == "Forbidden"
    assert outside.json()["details"]["media_roots"] == ["/media"]
    no_key = httpx.post(f"{served['url']}/api/detect", json={"video_path": "/media/shapes.mp4"}, timeout=60)
    assert no_key.status_code == 401 and no_key.json()["error"] == "Unauthorized"


def test_the_image_runs_as_a_user_and_holds_no_build_tools(served):
    container = served["container"]
    assert buildah("run", container, "--", "id", "-u").strip() == "1034"  # BentoML's `bentoml` user
    found = buildah("run", container, "--", "sh", "-c",
                    " ".join(f"command -v {tool};" for tool in BUILD_TOOLS) + " ls /usr/include/stdio.h 2>&1; true")
    assert found.strip() == "ls: cannot access '/usr/include/stdio.h': No such file or directory", found
    owner = buildah("run", container, "--", "stat", "-c", "%U", "/home/bentoml/bento/src/services").strip()
    assert owner == "bentoml"


def test_sigterm_stops_the_container_cleanly(served, client):
    """SIGTERM to the server, as a container runtime sends it to the container's first process (here `buildah run`
    keeps that process under itself): the server stops its workers and runners, the runners unload their models,
    and nothing of the container is left."""
    assert client.post("/models/load", json={"model_id": "yolo11n"}).status_code == 200
    process = served["process"]
    family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    [server] = [p for p in family if p.cmdline()[1:2] == ["/app/.venv/bin/bentoml"] and "serve" in p.cmdline()]
    server.send_signal(signal.SIGTERM)
    process.wait(60)  # within the grace period Docker and Kubernetes give (10 s and 30 s by default)
    _, alive = psutil.wait_procs(family, timeout=30)
    assert alive == []  # the server, its runners and workers are gone
    log = Path(served["log"]).read_text()
    # the three runners' shutdown hooks (each unloads its models) and the job worker's stop hook ran to the end
    assert log.count("Completed cleanup hook: shutdown") == 3 and "Completed async cleanup hook: stop" in log, \
        log[-3000:]
