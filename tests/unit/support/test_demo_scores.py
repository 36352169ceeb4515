"""The trained-model checks can fail: each metric of tests/support/demo_scores.py is perfect on an answer built from
the ground truth, and falls under its threshold when that answer is broken the way a regression would break it."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from runners.core.geometry import encode_rle
from tests.support.demo_scores import (
    SAMPLE_FRAMES,
    THRESHOLDS,
    detection_recall,
    frame_offset,
    hidden_frames,
    late_entry,
    mask_agreement,
    mask_box_ious,
    mot_scores,
    occlusion_filled,
    prompted_iou,
    xywh,
)


@pytest.fixture(scope="module")
def shapes_truth(demo_dir) -> dict:
    return json.loads((demo_dir / "media" / "shapes.json").read_text())


@pytest.fixture(scope="module")
def truth(demo_dir) -> dict:
    return json.loads((demo_dir / "media" / "tracking.json").read_text())


def perfect_detections(truth: dict, frames) -> list[dict]:
    return [{"frame_number": n, "objects": [{"bbox": xywh(o["bbox"]), "label": o["label"]}
                                            for o in truth["frames"][n]["objects"]]} for n in frames]


def box_mask(box, height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    mask[max(y0, 0):y1, max(x0, 0):x1] = True
    return mask


def perfect_tracks(truth: dict) -> list[dict]:
    """One track per truth object: a box with its mask where it is at least 30 % visible, an interpolated box (no
    mask, no confidence) where it is hidden."""
    tracks: dict[int, dict] = {}
    height, width = truth["height"], truth["width"]
    for frame in truth["frames"]:
        for o in frame["objects"]:
            hidden = o["visible"] < 0.3
            if hidden and o["track_id"] not in tracks:
                continue
            box = {"frame_number": frame["frame_number"], "bbox": xywh(o["bbox"]), "interpolated": hidden,
                   "confidence": None if hidden else 0.9,
                   "mask": None if hidden else encode_rle(box_mask(o["bbox"], height, width))}
            track = tracks.setdefault(o["track_id"], {"track_id": o["track_id"], "label": o["label"], "boxes": []})
            track["boxes"].append(box)
    for track in tracks.values():
        track["start_frame"] = track["boxes"][0]["frame_number"]
    return list(tracks.values())


def test_detection_recall_falls_when_labels_or_box_scales_are_wrong(shapes_truth):
    frames = perfect_detections(shapes_truth, SAMPLE_FRAMES)
    assert detection_recall(frames, shapes_truth) == 1.0
    swapped = copy.deepcopy(frames)  # class ids mapped to the wrong names
    names = ["circle", "square", "triangle"]
    for frame in swapped:
        for o in frame["objects"]:
            o["label"] = names[(names.index(o["label"]) + 1) % 3]
    assert detection_recall(swapped, shapes_truth) < THRESHOLDS["detect.recall"]
    halved = copy.deepcopy(frames)  # boxes left in the model's letterboxed input scale
    for frame in halved:
        for o in frame["objects"]:
            o["bbox"] = {k: v * 0.5 for k, v in o["bbox"].items()}
    assert detection_recall(halved, shapes_truth) < THRESHOLDS["detect.recall"]


def test_mota_idf1_and_frame_offset_catch_churning_ids_and_boxes_off_by_a_frame(truth):
    frames = range(len(truth["frames"]))
    tracks = perfect_tracks(truth)
    scores = mot_scores(truth, tracks, frames)
    assert scores["mota"] > 0.99 and scores["idf1"] > 0.99
    churned = [{**t, "track_id": 100 * t["track_id"] + i // 5, "boxes": [b]}  # a new id every 5 frames
               for t in tracks for i, b in enumerate(t["boxes"])]
    assert mot_scores(truth, churned, frames)["idf1"] < THRESHOLDS["track.idf1"]
    assert frame_offset(tracks, truth) == 0
    for lag in (1, -1):  # each box reported a frame late, or early
        shifted = copy.deepcopy(tracks)
        for t in shifted:
            t["boxes"] = [{**b, "frame_number": b["frame_number"] + lag} for b in t["boxes"]
                          if 0 <= b["frame_number"] + lag < len(truth["frames"])]
        assert frame_offset(shifted, truth) == -lag
    lagging = copy.deepcopy(tracks)  # each box reported 10 frames late
    for t in lagging:
        t["boxes"] = [{**b, "frame_number": b["frame_number"] + 10} for b in t["boxes"]
                      if b["frame_number"] + 10 < len(truth["frames"])]
    assert mot_scores(truth, lagging, frames)["mota"] < THRESHOLDS["track.mota"]


def test_occlusion_filling_falls_without_interpolated_boxes(truth):
    tracks = perfect_tracks(truth)
    assert len(hidden_frames(truth)) >= 8 and occlusion_filled(tracks, truth) == 1.0
    unfilled = [{**t, "boxes": [b for b in t["boxes"] if not b["interpolated"]]} for t in tracks]
    assert occlusion_filled(unfilled, truth) == 0.0


def test_late_entry_needs_a_track_started_after_the_first_frame(truth):
    tracks = perfect_tracks(truth)
    late = late_entry(tracks, truth)
    assert len(late["tracks"]) == 1 and late["tracks"][0]["label"] == "circle" and late["coverage"] == 1.0
    never_started = [t for t in tracks if t["start_frame"] == 0]  # new objects never start tracks
    assert late_entry(never_started, truth)["coverage"] == 0.0
    cut_short = copy.deepcopy(tracks)  # the track is lost soon after the entry
    for t in cut_short:
        if t["track_id"] == 4:
            t["boxes"] = t["boxes"][:20]
    assert late_entry(cut_short, truth)["coverage"] < THRESHOLDS["track.late_entry_coverage"]


def test_mask_agreement_falls_for_another_objects_masks_and_broken_rle(truth):
    height, width = truth["height"], truth["width"]
    tracks = perfect_tracks(truth)
    agreement = mask_agreement(mask_box_ious(tracks, height, width))
    assert agreement["share"] == 1.0 and agreement["median"] > 0.95
    others = copy.deepcopy(tracks)  # each box gets the mask of the next track's box at the same frame
    masks_at = {}
    for t in tracks:
        for b in t["boxes"]:
            masks_at.setdefault(b["frame_number"], []).append(b["mask"])
    for t in others:
        for b in t["boxes"]:
            if b["mask"] is not None:
                frame_masks = [m for m in masks_at[b["frame_number"]] if m is not None]
                b["mask"] = frame_masks[(frame_masks.index(b["mask"]) + 1) % len(frame_masks)]
    swapped = mask_agreement(mask_box_ious(others, height, width))
    assert swapped["share"] < THRESHOLDS["track.mask_agreement"]
    assert swapped["median"] < THRESHOLDS["track.mask_iou_median"]
    transposed = copy.deepcopy(tracks)  # row-major pixels written where COCO RLE is column-major
    for t in transposed:
        for b in t["boxes"]:
            if b["mask"] is not None:
                mask = box_mask([b["bbox"]["x"], b["bbox"]["y"], b["bbox"]["x"] + b["bbox"]["width"],
                                 b["bbox"]["y"] + b["bbox"]["height"]], height, width)
                b["mask"] = encode_rle(mask.T.copy().reshape(height, width))
    assert mask_agreement(mask_box_ious(transposed, height, width))["share"] < THRESHOLDS["track.mask_agreement"]
    wrong_size = copy.deepcopy(tracks)  # the mask of the model's input, not of the frame
    wrong_size[0]["boxes"][0]["mask"] = encode_rle(np.ones((192, 320), dtype=bool))
    with pytest.raises(AssertionError, match="frame is"):
        mask_box_ious(wrong_size, height, width)


def test_prompted_iou_falls_when_another_object_is_followed(truth):
    square = next(t for t in perfect_tracks(truth) if t["track_id"] == 2)
    circle = next(t for t in perfect_tracks(truth) if t["track_id"] == 1)
    assert prompted_iou(square, truth) == 1.0
    assert prompted_iou(circle, truth) < THRESHOLDS["track.prompted_iou"]


def test_occlusion_filling_falls_when_the_filled_boxes_stand_still(truth):
    tracks = perfect_tracks(truth)
    frozen = copy.deepcopy(tracks)  # the gap filled with the last box seen before it
    for t in frozen:
        last_seen = None
        for b in t["boxes"]:
            if b["interpolated"] and last_seen is not None:
                b["bbox"] = dict(last_seen)
            else:
                last_seen = b["bbox"]
    assert occlusion_filled(frozen, truth) < THRESHOLDS["track.occlusion_filled"]
