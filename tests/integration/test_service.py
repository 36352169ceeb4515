"""Every route of a real `bentoml serve` of the demo configuration: success shapes, error shapes, lifecycle."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from scripts.local_server import start_service, stop_service
from services.schemas import (
    DetectResponse,
    HealthResponse,
    ModelsInfoResponse,
    UnloadResponse,
)
from tests.support.api import assert_envelope, detect
from tests.support.config import config_variant
from tests.support.demo_scores import (
    SAMPLE_FRAMES,
    THRESHOLDS,
    detect_request,
    detection_recall,
)

pytestmark = pytest.mark.integration

def test_starts_with_nothing_loaded_and_loads_on_first_use(demo_config, demo_video, tmp_path):
    process, url, _ = start_service(demo_config, tmp_path / "serve.log")  # its own server: nothing used it yet
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            health = HealthResponse.model_validate(client.get("/health").json())
            assert health.status == "healthy" and health.models_loaded == [] and health.device == "cpu"
            assert health.runners["detection"]["loaded_models"] == []
            assert client.get("/models/info").json()["loaded_models"] == []

            response = detect(client, demo_video, frame_numbers=[0], model="yolo11n")
            assert response.status_code == 200, response.text
            assert client.get("/health").json()["models_loaded"] == ["yolo11n"]
    finally:
        stop_service(process)


def test_models_info_lists_every_task_and_what_is_loaded(client, demo_video):
    assert detect(client, demo_video, frame_numbers=[0], model="yolo11n").status_code == 200
    info = ModelsInfoResponse.model_validate(client.get("/models/info").json())
    assert set(info.available_models) == {"video_summarization", "ontology_augmentation", "object_detection",
                                          "video_tracking"}
    assert {"yolo-world-v2", "yolo11n"} <= set(info.available_models["object_detection"])
    assert info.selected_models["object_detection"] == "yolo-world-v2"
    assert info.models["yolo11n"].loaded is True
    assert info.models["llama-4-maverick"].framework == "transformers"  # the demo's tiny stand-in
    assert "yolo11n" in info.loaded_models


def test_detections_match_the_known_positions(client, demo_video, demo_truth):
    response = client.post("/api/detect", json=detect_request(demo_video))
    assert response.status_code == 200, response.text
    body = DetectResponse.model_validate(response.json())
    assert [f.frame_number for f in body.detections] == SAMPLE_FRAMES  # request order
    assert body.total_frames == len(SAMPLE_FRAMES) and body.model_used == "yolo11n"
    assert body.total_detections == sum(f.detection_count for f in body.detections)
    assert (body.video.width, body.video.height, body.video.frame_count) == (640, 384, 250)
    assert body.video.fps == pytest.approx(25.0)

    for frame in body.detections:
        assert frame.timestamp == pytest.approx(frame.frame_number / 25.0)
        assert frame.detection_count == len(frame.objects)
        for obj in frame.objects:
            b = obj.bbox
            assert 0 <= b.x and 0 <= b.y and b.x + b.width <= 640.01 and b.y + b.height <= 384.01
            assert obj.label in {"circle", "square", "triangle"}
            assert obj.class_id == ["circle", "square", "triangle"].index(obj.label)
            assert obj.confidence >= 0.4
    # the trained YOLO11n's recall, under the worst of five trainings (README, "Tests": detect.recall)
    recall = detection_recall(response.json()["detections"], demo_truth)
    assert recall >= THRESHOLDS["detect.recall"], recall


def test_class_filter_and_thresholds(client, demo_video):
    response = detect(client, demo_video, frame_numbers=[0, 100], model="yolo11n", classes=["circle"],
                      confidence_threshold=0.3, max_detections=1)
    assert response.status_code == 200, response.text
    for frame in response.json()["detections"]:
        assert frame["detection_count"] <= 1
        assert all(o["label"] == "circle" and o["class_id"] == 0 for o in frame["objects"])
    strict = detect(client, demo_video, frame_numbers=[0], model="yolo11n", confidence_threshold=0.3,
                    class_thresholds={"square": 1.0, "triangle": 1.0, "circle": 1.0})
    assert strict.json()["total_detections"] == 0


def test_open_vocabulary_model_uses_the_requested_classes(client, demo_video):
    # Random YOLO-World weights: the boxes mean nothing, but vocabulary, ids and bounds must hold.
    for classes in (["person", "red car", "dog"], ["bicycle"]):
        response = detect(client, demo_video, frame_numbers=[0, 10], model="yolo-world-v2", classes=classes,
                          confidence_threshold=0.0, max_detections=5)
        assert response.status_code == 200, response.text
        for frame in response.json()["detections"]:
            assert frame["detection_count"] <= 5
            for obj in frame["objects"]:
                assert obj["label"] in classes and obj["label"] == classes[obj["class_id"]]
    prompt = detect(client, demo_video, frame_numbers=[5], model="yolo-world-v2", text_prompt="a cat. a hat.",
                    confidence_threshold=0.0, max_detections=3)
    assert prompt.status_code == 200 and all(o["label"] in {"a cat", "a hat"}
                                             for o in prompt.json()["detections"][0]["objects"])
    coco = detect(client, demo_video, frame_numbers=[5], auto_detect=True, confidence_threshold=0.0, max_detections=50)
    assert coco.status_code == 200 and coco.json()["model_used"] == "yolo-world-v2"
    assert all(0 <= o["class_id"] < 80 for o in coco.json()["detections"][0]["objects"])


def test_concurrent_single_frame_requests_are_batched(client, service, demo_video):
    def one(frame: int) -> httpx.Response:
        with httpx.Client(base_url=service["url"], timeout=300) as c:
            return detect(c, demo_video, frame_numbers=[frame], model="yolo11n")

    with ThreadPoolExecutor(16) as executor:
        responses = list(executor.map(one, range(0, 160, 10)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    assert [r.json()["detections"][0]["frame_number"] for r in responses] == list(range(0, 160, 10))
    batch_sizes = client.get("/health").json()["runners"]["detection"]["batch_sizes"]
    assert max(int(size) for size in batch_sizes) > 1, batch_sizes


def test_unload_gives_the_model_back(client, demo_video):
    assert detect(client, demo_video, frame_numbers=[0], model="yolo11n").status_code == 200
    runner = client.get("/health").json()["runners"]["detection"]
    entry = runner["models"]["yolo11n"]
    assert entry["state"] == "ready" and entry["memory_bytes"] > 0  # what its load measurably took
    # the memory the runner process held: CUDA allocations on a GPU, its resident set on a CPU
    held = runner["gpu_memory_allocated"] if runner["device"].startswith("cuda") else runner["process_rss_bytes"]
    response = client.post("/models/unload", json={"model_id": "yolo11n"})
    assert response.status_code == 200, response.text
    body = UnloadResponse.model_validate(response.json())
    # measured in the runner across the free: yolo11n's weights (~10 MB in float32) go back, and no more than the
    # runner held
    assert body.status == "unloaded" and 0 < body.memory_freed_bytes <= held
    health = client.get("/health").json()
    assert "yolo11n" not in health["models_loaded"] and "yolo11n" not in health["runners"]["detection"]["models"]
    again = UnloadResponse.model_validate(client.post("/models/unload", json={"model_id": "yolo11n"}).json())
    assert again.status == "not_loaded" and again.memory_freed_bytes == 0
    loaded = client.post("/models/load", json={"model_id": "yolo11n"})
    assert loaded.status_code == 200 and loaded.json()["status"] == "loaded"
    assert "yolo11n" in client.get("/health").json()["models_loaded"]


def test_bad_video_references(client, demo_dir, tmp_path):
    assert_envelope(detect(client, "/etc/passwd", frame_numbers=[0]), 403, "outside the media roots")
    assert_envelope(detect(client, "http://example.com/a.mp4", frame_numbers=[0]), 403, "urls")
    assert_envelope(detect(client, f"concat:{demo_dir}/media/shapes.mp4", frame_numbers=[0]), 403)
    assert_envelope(detect(client, f"{demo_dir}/media/../models.yaml", frame_numbers=[0]), 403)
    assert_envelope(detect(client, f"{demo_dir}/media/missing.mp4", frame_numbers=[0]), 404, "not found")
    assert_envelope(client.post("/api/detect", json={"video_id": "missing", "frame_numbers": [0]}), 404)
    bad = demo_dir / "media" / "not-a-video.mp4"
    bad.write_bytes(b"this is not a video" * 1000)
    try:
        assert_envelope(detect(client, bad, frame_numbers=[0]), 422)
    finally:
        bad.unlink()


def test_bad_requests(client, demo_video):
    body = assert_envelope(detect(client, demo_video, frame_numbers=[0, 250, 9999]), 400, "0..249")
    assert body["details"]["valid_range"] == [0, 249]
    assert_envelope(detect(client, demo_video, frame_numbers=[0], model="no-such-model"), 400, "yolo11n")
    assert_envelope(detect(client, demo_video, frame_numbers=[0], model="yolo11n", text_prompt="a cat"), 400,
                    "fixed vocabulary")
    assert_envelope(detect(client, demo_video, frame_numbers=[0], model="yolo11n", classes=["person"]), 400,
                    "cannot detect person")
    assert_envelope(detect(client, demo_video, frame_numbers=[0], auto_detect=True, classes=["dog"]), 400)
    invalid = assert_envelope(detect(client, demo_video, frame_numbers=[]), 400, "frame_numbers")
    assert invalid["details"]["field"] == "frame_numbers" and invalid["details"]["errors"]
    assert_envelope(client.post("/api/detect", content=b"{not json", headers={"content-type": "application/json"}),
                    400)
    assert_envelope(client.post("/api/detect", content=json.dumps({"x": "y" * (9 * 1024 * 1024)}),
                                headers={"content-type": "application/json"}), 413)


def test_management_and_unknown_routes(client):
    assert_envelope(client.post("/models/unload", json={"model_id": "no-such-model"}), 404, "unknown model")
    assert_envelope(client.post("/models/load", json={"model_id": "no-such-model"}), 404)
    assert_envelope(client.get("/no/such/route"), 404, "no route")


def test_health_answers_while_inference_runs(client, service, demo_video):
    """A long detect is in flight (the model is in use) while /health answers and loads nothing new."""
    import threading

    done = threading.Event()

    def long_detect():
        with httpx.Client(base_url=service["url"], timeout=600) as c:
            detect(c, demo_video, frame_numbers=list(range(0, 240, 2)), model="yolo-world-v2",
                   confidence_threshold=0.0, max_detections=1)
        done.set()

    worker = threading.Thread(target=long_detect)
    worker.start()
    seen_in_use = False
    while not done.is_set():
        health = client.get("/health", timeout=30)
        assert health.status_code == 200 and health.json()["status"] == "healthy"
        models = health.json()["runners"]["detection"]["models"]
        if models.get("yolo-world-v2", {}).get("in_use", 0) > 0 and not done.is_set():
            seen_in_use = True
            break
    worker.join(600)
    assert seen_in_use, "the detect finished before /health saw the model in use"


def test_a_model_with_missing_weights_is_a_503_and_the_others_keep_serving(demo_config, demo_video, tmp_path):
    def break_weights(config):
        options = config["models"]["object_detection"]["options"]
        options["owlv2"]["model_id"] = str(tmp_path / "not-downloaded")  # a local folder that does not exist
        options["yolo-world-v2"]["model_id"] = "yolov8x-worldv2.pt"  # a weight name that was never fetched
        config["inference"]["weights_dir"] = str(tmp_path / "weights")

    path = config_variant(demo_config, tmp_path / "models.yaml", break_weights)
    process, url, _ = start_service(path, tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            missing = assert_envelope(detect(client, demo_video, frame_numbers=[0], model="yolo-world-v2"), 503,
                                      "scripts/fetch_models.py yolo-world-v2")
            assert missing["details"]["model"] == "yolo-world-v2"
            assert_envelope(detect(client, demo_video, frame_numbers=[0], model="owlv2"), 503, "owlv2")
            assert_envelope(client.post("/models/load", json={"model_id": "owlv2"}), 503)
            working = detect(client, demo_video, frame_numbers=[0], model="yolo11n")
            assert working.status_code == 200 and working.json()["total_detections"] > 0
            assert client.get("/health").json()["status"] == "healthy"
    finally:
        stop_service(process)
