"""Which vocabulary a detect request uses, and the 400s for misuse."""

from __future__ import annotations

import pytest

from runners.core.errors import BadRequest
from services.model_service import effective_vocabulary
from services.schemas import DetectRequest

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
