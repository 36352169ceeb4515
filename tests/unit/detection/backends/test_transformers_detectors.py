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
        for found, frame in zip(results, frames, strict=True):
            if family != "florence-2":
                # OWLv2 scores every patch and Grounding DINO every query: at threshold 0 some box always survives.
                # (The random Florence-2 writes no location tokens, so it may find nothing: its parsing is tested on
                # a crafted generation below.)
                assert len(found) > 0, f"{family} found nothing at threshold 0 on a {frame.shape[:2]} frame"
            if len(found):
                assert found.class_id.min() >= 0 and found.class_id.max() < len(vocabulary)
                assert found.confidence.min() >= 0 and found.confidence.max() <= 1
                # pixel boxes, on the frame or (OWLv2) on the square it is padded to: finalize clips them
                centres = (found.xyxy[:, :2] + found.xyxy[:, 2:]) / 2
                assert np.isfinite(centres).all() and centres.min() >= -1 and centres.max() <= max(frame.shape) + 1
    assert len(detector.default_vocabulary) == 80


def test_florence_generation_becomes_pixel_boxes_scored_by_their_location_tokens(tiny_detectors):
    """A generation crafted as token ids with per-token probabilities, decoded and parsed by the real Florence-2
    processor (its `post_process_generation`) and scored by the backend, as `detect` does after `generate`."""
    detector = tiny_detectors["florence-2"]
    tokenizer = detector.processor.tokenizer
    pieces = [  # (text, probability of each of its tokens)
        ("<s>", 0.99), ("circle", 0.99), ("<loc_100>", 0.9), ("<loc_200>", 0.8), ("<loc_300>", 0.7), ("<loc_400>", 0.6),
        ("squares", 0.99), ("<loc_0>", 0.5), ("<loc_0>", 0.5), ("<loc_999>", 0.4), ("<loc_999>", 0.2),
        ("dog", 0.99), ("<loc_10>", 0.9), ("<loc_10>", 0.9), ("<loc_20>", 0.9), ("<loc_20>", 0.9),
        ("circle", 0.99), ("<loc_500>", 0.3), ("<loc_500>", 0.2), ("<loc_600>", 0.2), ("<loc_700>", 0.1),
        ("</s>", 0.99),
    ]
    token_ids, token_probs = [], []
    for text, prob in pieces:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        token_ids += ids
        token_probs += [prob] * len(ids)
    decoder_start = detector.model.generation_config.decoder_start_token_id
    text = detector.processor.batch_decode([[decoder_start, *token_ids]], skip_special_tokens=False)[0]
    assert text == "</s>" + "".join(t for t, _ in pieces)  # the ids say what the pieces say
    vocabulary = ["square", "circle", "triangle"]
    frame_shape = (192, 320)  # height, width

    def parse(threshold: float):
        return detector.parse_generation(text, token_ids, token_probs, frame_shape, "<CAPTION_TO_PHRASE_GROUNDING>",
                                         vocabulary, DetectSettings(confidence_threshold=threshold))

    found = parse(0.0)
    by_score = np.argsort(-found.confidence)
    # (bin + 0.5) * size / 1000, truncated, with x scaled by the width (320) and y by the height (192); "dog" is not
    # in the vocabulary, so its box is dropped; "squares" is the plural of "square"
    np.testing.assert_array_equal(found.xyxy[by_score], [[32, 38, 96, 76], [0, 0, 319, 191], [160, 96, 192, 134]])
    assert found.class_id[by_score].tolist() == [1, 0, 1]
    # the mean probability of each box's four location tokens, not of its label's tokens (0.99)
    np.testing.assert_allclose(found.confidence[by_score], [0.75, 0.4, 0.2])
    strict = parse(0.3)
    assert sorted(strict.confidence.tolist()) == pytest.approx([0.4, 0.75])


def test_grounding_dino_splits_long_vocabularies_to_fit_its_text_window(tiny_detectors):
    detector = tiny_detectors["grounding-dino"]
    vocabulary = [f"red object number {i}" for i in range(120)]
    groups = detector.chunks(vocabulary)
    assert len(groups) > 1 and [p for _, group in groups for p in group] == vocabulary
    assert [offset for offset, _ in groups] == [sum(len(g) for _, g in groups[:i]) for i in range(len(groups))]
    for _, group in groups:
        assert len(detector.processor.tokenizer(prompt_of(group))["input_ids"]) <= detector.max_text_len
    assert detector.chunks(vocabulary) is groups  # computed once per vocabulary
