"""The tasks' checks: which vocabulary a detect request uses and the 400s for misuse; which frames a detect request
covers, and the synchronous route's cap that sends longer work to the jobs API."""

from __future__ import annotations

import pytest

from runners.core.errors import BadRequest
from services.schemas import DetectRequest
from services.tasks import effective_vocabulary

COCO = ["person", "bicycle", "car"]


def request(**fields) -> DetectRequest:
    return DetectRequest.model_validate({"video_path": "/v.mp4", "frame_numbers": [0], **fields})


def test_open_vocabulary_models_take_classes_prompts_or_their_default():
    assert effective_vocabulary(request(classes=["red car", "dog"]), "m", True, COCO) == (["red car", "dog"], None)
    assert effective_vocabulary(request(text_prompt="a cat. a hat"), "m", True, COCO) == (["a cat", "a hat"], None)
    assert effective_vocabulary(request(), "m", True, COCO) == (COCO, None)
    assert effective_vocabulary(request(auto_detect=True), "m", True, COCO) == (COCO, None)


def test_closed_vocabulary_models_filter_their_own_classes_and_keep_their_ids():
    assert effective_vocabulary(request(classes=["car"]), "yolo11n", False, COCO) == (COCO, ["car"])
    with pytest.raises(BadRequest, match="cannot detect dragon"):
        effective_vocabulary(request(classes=["car", "dragon"]), "yolo11n", False, COCO)
    with pytest.raises(BadRequest, match="fixed vocabulary"):
        effective_vocabulary(request(text_prompt="a car"), "yolo11n", False, COCO)


def test_auto_detect_with_an_explicit_vocabulary_is_refused():
    with pytest.raises(BadRequest, match="auto_detect"):
        effective_vocabulary(request(auto_detect=True, classes=["car"]), "m", True, COCO)


@pytest.fixture
def tasks(demo_config):
    from runners.core.config import load_config
    from services.tasks import Tasks

    return Tasks(load_config(demo_config), detector=None, tracker=None, language=None)  # checks reach no runner


def test_a_long_frame_range_is_sent_to_the_jobs_api(tasks, demo_video):
    import asyncio

    long = DetectRequest.model_validate({"video_path": str(demo_video), "frame_range": {"start": 0, "end": 249}})
    with pytest.raises(BadRequest, match="POST /api/jobs") as refused:
        asyncio.run(tasks.check_detect(long, frame_cap=100))
    assert refused.value.details == {"field": "frame_range", "frames": 250, "limit": 100}
