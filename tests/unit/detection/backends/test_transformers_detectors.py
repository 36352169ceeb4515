"""Box mapping of each transformers detector family, checked against hand-computed cases on raw outputs, and the
tiny models run end to end through the real backends on frames of different sizes."""

from __future__ import annotations

import numpy as np
import pytest

from runners.detection.backends.base import DetectSettings
from runners.detection.backends.florence2 import (
    florence_detections,
    location_boxes,
    match_label,
)
from runners.detection.backends.grounding_dino import (
    grounding_detections,
    phrase_spans,
    prompt_of,
)
from runners.detection.backends.owlv2 import owlv2_detections

BIG = 20.0  # a logit whose sigmoid is ~1


def test_owlv2_boxes_scale_by_the_padded_square_not_the_frame():
    # A 200-high, 400-wide frame is padded to 400x400: a box centred at (0.5, 0.25) of the square, 0.2 x 0.1 of it,
    # is at x 160..240, y 80..120 in frame pixels (it would be y 40..60 if scaled by the frame's height).
    logits = np.array([[-BIG, BIG], [-BIG, -BIG]])
    boxes = np.array([[0.5, 0.25, 0.2, 0.1], [0.1, 0.1, 0.1, 0.1]])
    found = owlv2_detections(logits, boxes, height=200, width=400, threshold=0.5)
    assert len(found) == 1 and found.class_id.tolist() == [1]
    np.testing.assert_allclose(found.xyxy[0], [160, 80, 240, 120])


def test_grounding_dino_labels_are_phrases_not_subwords():
    # [CLS] red car . dog . [SEP]  -> phrase 0 = positions 1-2, phrase 1 = position 4
    ids = [101, 2417, 2482, 1012, 3899, 1012, 102, 0, 0]
    spans = phrase_spans(ids, pad_id=0, count=2)
    assert spans == [[1, 2], [4]]
    logits = np.full((2, 9), -BIG)
    logits[0, 2] = BIG  # query 0 matches "car", a sub-word of phrase 0
    logits[1, 4] = 0.0  # query 1 is 50% "dog"
    boxes = np.array([[0.5, 0.5, 0.5, 0.5], [0.25, 0.25, 0.1, 0.1]])
    found = grounding_detections(logits, boxes, spans, height=100, width=300, box_threshold=0.4, text_threshold=0.25)
    assert found.class_id.tolist() == [0, 1]
    np.testing.assert_allclose(found.xyxy, [[75, 25, 225, 75], [60, 20, 90, 30]])  # scaled by (w, h) of the frame
    assert found.confidence[1] == pytest.approx(0.5)
    strict = grounding_detections(logits, boxes, spans, height=100, width=300, box_threshold=0.6, text_threshold=0.25)
    assert strict.class_id.tolist() == [0]
    assert prompt_of(["Red car", "dog"]) == "red car . dog ."


def test_florence_scores_come_from_the_location_tokens():
    loc = {1000 + i: i for i in range(1000)}  # token id -> bin
    tokens = [7, 8, 1000 + 100, 1000 + 200, 1000 + 500, 1000 + 900, 9, 1000 + 0, 1000 + 0, 1000 + 999, 1000 + 999, 2]
    probs = [0.9, 0.9, 0.8, 0.6, 0.7, 0.5, 0.9, 1.0, 1.0, 0.2, 0.2, 0.9]
    scored = location_boxes(tokens, probs, loc, width=320, height=192)
    assert scored == [([32, 38, 160, 172], pytest.approx(0.65)), ([0, 0, 319, 191], pytest.approx(0.6))]
    parsed = {"bboxes": [[32, 38, 160, 172], [0, 0, 319, 191]], "labels": ["Cats", "spaceship"]}
    found = florence_detections(parsed, scored, ["dog", "cat"])
    assert found.class_id.tolist() == [1] and found.confidence.tolist() == pytest.approx([0.65])  # no label, no box
    assert match_label("Person", ["person"]) == 0 and match_label("persons", ["person"]) == 0


@pytest.fixture(scope="module")
def tiny_detectors(demo_dir):
    from runners.detection.backends.florence2 import Florence2Detector
    from runners.detection.backends.grounding_dino import GroundingDinoDetector
    from runners.detection.backends.owlv2 import Owlv2Detector

    weights = demo_dir / "weights"
    return {
        "owlv2": Owlv2Detector("owlv2", str(weights / "owlv2-tiny"), "cpu"),
        "grounding-dino": GroundingDinoDetector("grounding-dino-1-5", str(weights / "grounding-dino-tiny"), "cpu"),
        "florence-2": Florence2Detector("florence-2", str(weights / "florence-2-tiny"), "cpu", max_new_tokens=24),
    }


@pytest.mark.parametrize("family", ["owlv2", "grounding-dino", "florence-2"])
def test_tiny_models_run_on_frames_of_different_sizes(tiny_detectors, family):
    detector = tiny_detectors[family]
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (192, 320, 3), dtype=np.uint8), rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)]
    for vocabulary in (["a cat", "a red car"], detector.default_vocabulary):
        results = detector.detect(frames, vocabulary, DetectSettings(confidence_threshold=0.0, max_detections=10))
        assert len(results) == 2
        for found in results:
            assert len(found) == 0 or (found.class_id.max() < len(vocabulary) and found.confidence.min() >= 0)
    assert len(detector.default_vocabulary) == 80


def test_grounding_dino_splits_long_vocabularies_to_fit_its_text_window(tiny_detectors):
    detector = tiny_detectors["grounding-dino"]
    vocabulary = [f"red object number {i}" for i in range(120)]
    groups = detector.chunks(vocabulary)
    assert len(groups) > 1 and [p for _, group in groups for p in group] == vocabulary
    assert [offset for offset, _ in groups] == [sum(len(g) for _, g in groups[:i]) for i in range(len(groups))]
    for _, group in groups:
        assert len(detector.processor.tokenizer(prompt_of(group))["input_ids"]) <= detector.max_text_len
    assert detector.chunks(vocabulary) is groups  # computed once per vocabulary
