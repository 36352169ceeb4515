"""The transformers detectors through the real service: schema-valid boxes inside the frame, the requested
vocabulary, and separate answers for concurrent requests to different models and vocabularies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from services.schemas import DetectResponse

pytestmark = pytest.mark.integration

MODELS = ["owlv2", "grounding-dino-1-5", "florence-2"]
# The detectors that score every patch (OWLv2) or query (Grounding DINO): at threshold 0 they answer with boxes, so the
# checks on boxes below see some. (Florence-2 writes boxes only when its random decoder happens to.) The random OWLv2's
# boxes lie on the edges of the square each frame is padded to, so a portrait frame's are clipped away: its boxes are
# counted over a request's frames, Grounding DINO's (inside every frame) on each frame.
SCORE_EVERY_BOX = {"owlv2", "grounding-dino-1-5"}


def detect(url, video, **fields) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=600) as client:
        return client.post("/api/detect", json={"video_path": str(video), "confidence_threshold": 0.0,
                                                "max_detections": 5, **fields})


@pytest.mark.parametrize("model", MODELS)
def test_each_detector_answers_with_boxes_inside_the_frame(service, demo_video, model):
    # Landscape and portrait frames requested together: the runner's batches mix frame sizes.
    videos = [(demo_video, [0, 125, 249], (640, 384)), (demo_video.with_name("portrait.mp4"), [0, 15, 29], (240, 320))]
    for vocabulary in ({"classes": ["circle", "red square"]}, {"text_prompt": "a triangle."}, {"auto_detect": True}):
        with ThreadPoolExecutor(len(videos)) as executor:
            responses = list(executor.map(lambda v, fields=vocabulary: detect(
                service["url"], v[0], frame_numbers=v[1], model=model, **fields), videos))
        labels = vocabulary.get("classes") or (["a triangle"] if "text_prompt" in vocabulary else None)
        for (_, frames, (width, height)), response in zip(videos, responses):
            assert response.status_code == 200, response.text
            body = DetectResponse.model_validate(response.json())
            assert body.model_used == model and [f.frame_number for f in body.detections] == frames
            assert (body.video.width, body.video.height) == (width, height)
            for frame in body.detections:
                assert frame.detection_count == len(frame.objects) <= 5
                if model == "grounding-dino-1-5":
                    assert frame.detection_count > 0, (vocabulary, frame)
                for obj in frame.objects:
                    b = obj.bbox
                    assert b.x >= 0 and b.y >= 0 and b.x + b.width <= width + 0.01 and b.y + b.height <= height + 0.01
                    if labels:
                        assert obj.label == labels[obj.class_id]
                    else:
                        assert 0 <= obj.class_id < 80
        if model in SCORE_EVERY_BOX:
            assert sum(r.json()["total_detections"] for r in responses) > 0, (model, vocabulary)


def test_concurrent_requests_for_different_models_and_vocabularies_stay_separate(service, demo_video):
    requests = [("owlv2", ["circle"]), ("grounding-dino-1-5", ["square", "triangle"]), ("owlv2", ["dog", "cat"]),
                ("yolo11n", ["triangle"])] * 2
    with ThreadPoolExecutor(len(requests)) as executor:
        responses = list(executor.map(
            lambda r: detect(service["url"], demo_video, frame_numbers=[10, 20], model=r[0], classes=r[1]),
            requests))
    for (model, classes), response in zip(requests, responses):
        assert response.status_code == 200, response.text
        assert response.json()["model_used"] == model
        if model in SCORE_EVERY_BOX:
            assert response.json()["total_detections"] > 0, (model, classes)
        for frame in response.json()["detections"]:
            assert all(o["label"] in classes for o in frame["objects"]), (model, classes, frame)
