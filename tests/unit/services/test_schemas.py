"""The API contract: every constraint of every request body, and the defaults a client relies on."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from services.schemas import (
    AugmentRequest,
    DetectRequest,
    ModelRequest,
    SummarizeRequest,
    TrackRequest,
    split_prompt,
)

VIDEO = {"video_path": "/media/v.mp4"}


def invalid(model, body) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    return str(info.value)


def test_detect_defaults():
    request = DetectRequest.model_validate({**VIDEO, "frame_numbers": [0], "unknown_field": 1})
    assert (request.confidence_threshold, request.nms_threshold, request.max_detections) == (0.5, 0.45, 300)
    assert request.auto_detect is False and request.classes is None and request.model is None


def test_detect_takes_a_frame_range_with_a_stride():
    request = DetectRequest.model_validate({**VIDEO, "frame_range": {"start": 10, "end": 5000}, "stride": 5})
    assert request.frame_numbers is None and (request.frame_range.start, request.stride) == (10, 5)


@pytest.mark.parametrize("body, fragment", [
    ({"frame_numbers": [0]}, "video_path or video_id"),
    ({**VIDEO, "video_id": "a", "frame_numbers": [0]}, "not both"),
    ({**VIDEO}, "give frame_numbers or frame_range"),
    ({**VIDEO, "frame_numbers": []}, "at least 1"),
    ({**VIDEO, "frame_numbers": list(range(1001))}, "at most 1000"),
    ({**VIDEO, "frame_numbers": [-1]}, ">= 0"),
    ({**VIDEO, "frame_numbers": ["a"]}, "frame_numbers"),
    ({**VIDEO, "frame_numbers": [0], "confidence_threshold": 1.5}, "confidence_threshold"),
    ({**VIDEO, "frame_numbers": [0], "confidence_threshold": math.nan}, "confidence_threshold"),
    ({**VIDEO, "frame_numbers": [0], "nms_threshold": -0.1}, "nms_threshold"),
    ({**VIDEO, "frame_numbers": [0], "max_detections": 0}, "max_detections"),
    ({**VIDEO, "frame_numbers": [0], "batch_size": 0}, "batch_size"),
    ({**VIDEO, "frame_numbers": [0], "classes": []}, "at least one label"),
    ({**VIDEO, "frame_numbers": [0], "classes": ["  "]}, "at least one label"),
    ({**VIDEO, "frame_numbers": [0], "classes": ["a"], "text_prompt": "b"}, "not both"),
    ({**VIDEO, "frame_numbers": [0], "text_prompt": " . , "}, "no phrase"),
    ({**VIDEO, "frame_numbers": [0], "class_thresholds": {"a": 2}}, "between 0 and 1"),
    ({**VIDEO, "frame_numbers": [0], "frame_range": {"start": 0, "end": 9}}, "one of them"),
    ({**VIDEO, "frame_numbers": [0], "stride": 2}, "stride goes with frame_range"),
    ({**VIDEO, "frame_range": {"start": 0, "end": 9}, "stride": 0}, "stride"),
])
def test_detect_constraints(body, fragment):
    assert fragment in invalid(DetectRequest, body)


def test_prompt_and_classes_are_normalised():
    assert split_prompt("a person. a red car . person, dog;") == ["a person", "a red car", "person", "dog"]
    request = DetectRequest.model_validate({**VIDEO, "frame_numbers": [0], "classes": [" car", "car", "dog "]})
    assert request.classes == ["car", "dog"]


def test_track_defaults_and_alias():
    request = TrackRequest.model_validate({**VIDEO, "frame_range": {"start": 0, "end": 10},
                                           "tracking_model": "sam2-1"})
    assert request.model == "sam2-1"
    assert (request.confidence_threshold, request.decimation, request.interpolation) == (0.7, 1, "linear")
    assert (request.max_gap_frames, request.include_masks, request.detection_model) == (10, False, "yolo-world-v2")


@pytest.mark.parametrize("body, fragment", [
    ({**VIDEO}, "frame_range"),
    ({**VIDEO, "frame_range": {"start": 5, "end": 5}}, "greater than"),
    ({**VIDEO, "frame_range": {"start": -1, "end": 5}}, "start"),
    ({**VIDEO, "frame_range": {"start": 0, "end": 5}, "decimation": 0}, "decimation"),
    ({**VIDEO, "frame_range": {"start": 0, "end": 5}, "interpolation": "spline"}, "interpolation"),
    ({**VIDEO, "frame_range": {"start": 0, "end": 5},
      "initial_detections": [{"bbox": {"x": 0, "y": 0, "width": 0, "height": 5}, "label": "a"}]}, "width"),
    ({**VIDEO, "frame_range": {"start": 0, "end": 5},
      "initial_detections": [{"bbox": {"x": 0, "y": 0, "width": 5, "height": 5}, "label": ""}]}, "label"),
])
def test_track_constraints(body, fragment):
    assert fragment in invalid(TrackRequest, body)


def test_summarize_defaults_and_constraints():
    request = SummarizeRequest.model_validate({**VIDEO, "persona_context": "a sports analyst"})
    assert (request.frame_count, request.sampling_strategy, request.scene_threshold) == (8, "uniform", 30.0)
    assert request.complexity_metric == "gradient"
    assert "frame_count" in invalid(SummarizeRequest, {**VIDEO, "frame_count": 65})
    assert "sampling_strategy" in invalid(SummarizeRequest, {**VIDEO, "sampling_strategy": "random"})
    assert "temperature" in invalid(SummarizeRequest, {**VIDEO, "temperature": 3})


def test_augment_defaults_and_constraints():
    request = AugmentRequest.model_validate({"persona_name": "analyst",
                                             "existing_ontology": {"entity_types": ["Player"]}})
    assert (request.max_suggestions_per_type, request.temperature) == (10, 0.7)
    assert request.include_definitions and request.include_examples
    assert "has no names" in invalid(AugmentRequest, {"persona_name": "a", "existing_ontology": {}})
    assert "has no names" in invalid(AugmentRequest, {"persona_name": "a", "existing_ontology": {"roles": []}})
    assert "has no names" in invalid(AugmentRequest, {"persona_name": "a", "existing_ontology": {"roles": [" ", ""]}})
    AugmentRequest.model_validate({"persona_name": "a", "existing_ontology": {"entity_types": [""], "roles": ["R"]}})
    assert "persona_name" in invalid(AugmentRequest, {"existing_ontology": {"roles": ["Pitcher"]}})
    assert "max_suggestions_per_type" in invalid(
        AugmentRequest, {"persona_name": "a", "existing_ontology": {"roles": ["R"]}, "max_suggestions_per_type": 51})


def test_model_request_needs_a_name():
    assert "model_id" in invalid(ModelRequest, {})
    assert "model_id" in invalid(ModelRequest, {"model_id": ""})
