"""GET /metrics of a real `bentoml serve`: the runners' metrics (recorded in their own processes) at the public
endpoint — model loads, loaded models, frames processed per task, detection batch sizes."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import detect

pytestmark = pytest.mark.integration

DETECTION = {"runner": "detection", "model": "yolo11n"}


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics: (sample name, labels) -> value; the runners' metrics carry a help text."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    families = list(text_string_to_metric_families(response.text))
    assert all(f.documentation for f in families if f.name.startswith("vms_"))
    return {(s.name, frozenset(s.labels.items())): s.value for family in families for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_show_loads_frames_batches_and_unloads(client, demo_video, demo_dir):
    before = scrape(client)
    frames = [0, 10, 20, 30, 40]
    assert detect(client, demo_video, frame_numbers=frames, model="yolo11n").status_code == 200
    after_detect = scrape(client)

    loads = value(after_detect, "vms_model_load_seconds_count", **DETECTION)
    assert loads >= 1 and value(after_detect, "vms_model_load_seconds_sum", **DETECTION) > 0
    assert value(after_detect, "vms_models_loaded", **DETECTION) == 1
    assert (value(after_detect, "vms_frames_processed_total", task="detection")
            - value(before, "vms_frames_processed_total", task="detection")) == len(frames)
    batches = (value(after_detect, "vms_batch_size_count", **DETECTION)
               - value(before, "vms_batch_size_count", **DETECTION))
    batched = value(after_detect, "vms_batch_size_sum", **DETECTION) - value(before, "vms_batch_size_sum", **DETECTION)
    assert batches >= 1 and batched == len(frames)  # every frame went through one forward pass
    assert value(after_detect, "vms_batch_size_bucket", **DETECTION, le="+Inf") == value(
        after_detect, "vms_batch_size_count", **DETECTION)

    response = client.post("/api/track", json={"video_path": str(demo_dir / "media" / "tracking.mp4"),
                                               "model": "yolo11n-seg", "frame_range": {"start": 0, "end": 12},
                                               "decimation": 3, "confidence_threshold": 0.5})
    assert response.status_code == 200, response.text
    processed = response.json()["frames_processed"]
    assert processed == len(range(0, 13, 3))
    after_track = scrape(client)
    assert (value(after_track, "vms_frames_processed_total", task="tracking")
            - value(after_detect, "vms_frames_processed_total", task="tracking")) == processed
    assert value(after_track, "vms_models_loaded", runner="tracking", model="yolo11n-seg") == 1
    assert value(after_track, "vms_model_load_seconds_count", runner="tracking", model="yolo11n-seg") >= 1

    assert client.post("/models/unload", json={"model_id": "yolo11n"}).json()["status"] == "unloaded"
    assert value(scrape(client), "vms_models_loaded", **DETECTION) == 0

    assert client.post("/models/load", json={"model_id": "yolo11n"}).status_code == 200  # as the other tests found it
    reloaded = scrape(client)
    assert value(reloaded, "vms_models_loaded", **DETECTION) == 1
    assert value(reloaded, "vms_model_load_seconds_count", **DETECTION) == loads + 1
    kinds = {f.name: f.type for f in text_string_to_metric_families(client.get("/metrics").text)}
    assert {name: kinds.get(name) for name in ("vms_model_load_seconds", "vms_models_loaded", "vms_batch_size",
                                               "vms_frames_processed")} == {
        "vms_model_load_seconds": "histogram", "vms_models_loaded": "gauge", "vms_batch_size": "histogram",
        "vms_frames_processed": "counter"}



def test_summarization_counts_its_sampled_frames(client):
    before = scrape(client)
    response = client.post("/api/summarize", json={"video_id": "shapes", "model": "qwen2-5-vl-72b", "frame_count": 3,
                                                   "max_new_tokens": 200})
    assert response.status_code == 200, response.text
    sampled = len(response.json()["sampled_frames"])
    assert sampled == 3
    after = scrape(client)
    assert (value(after, "vms_frames_processed_total", task="summarization")
            - value(before, "vms_frames_processed_total", task="summarization")) == sampled
    assert value(after, "vms_models_loaded", runner="language", model="qwen2-5-vl-72b") == 1
