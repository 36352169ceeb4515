"""From tracker output to response tracks: gap filling, splitting, interpolation, ids, masks."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from runners.core.geometry import box_iou, encode_rle, mask_to_box
from runners.tracking.backends.base import TrackedObject
from runners.tracking.results import Observation, TrackRecorder, interpolate_boxes


def seen(box, score=0.9, mask=None):
    return TrackedObject(box=box, mask=mask, score=score, present=True)


def recorder(frames, **kw):
    settings = {"width": 200, "height": 100, "max_gap_frames": 10, "interpolation": "linear", "keep_masks": False}
    return TrackRecorder(list(frames), **{**settings, **kw})


def test_a_short_gap_is_filled_at_the_processed_frames_with_interpolated_boxes():
    rec = recorder(range(20))
    for n in (0, 1, 2):
        rec.add(n, 7, "circle", seen([10 + n, 10, 30 + n, 30]))
    rec.add(3, 7, "circle", TrackedObject(box=None, mask=None, score=0.1, present=False))  # occluded
    rec.add(8, 7, "circle", seen([18, 10, 38, 30]))
    [track] = rec.tracks()
    assert track.track_id == 1 and track.label == "circle"
    assert [b.frame_number for b in track.boxes] == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    filled = [b for b in track.boxes if b.interpolated]
    assert [b.frame_number for b in filled] == [3, 4, 5, 6, 7]
    assert all(b.confidence is None for b in filled)
    assert filled[0].bbox.x == pytest.approx(12 + 6 / 6)  # straight line from x=12 at 2 to x=18 at 8
    assert track.frame_count == 9 and (track.start_frame, track.end_frame) == (0, 8)


def test_a_gap_longer_than_max_gap_frames_ends_the_track_and_a_new_one_starts():
    rec = recorder(range(40), max_gap_frames=5)
    rec.add(0, 1, "square", seen([0, 0, 10, 10]))
    rec.add(10, 1, "square", seen([50, 0, 60, 10]))  # unseen for 9 frames > 5
    rec.add(2, 2, "circle", seen([100, 0, 110, 10]))
    tracks = rec.tracks()
    assert [(t.track_id, t.label, t.start_frame) for t in tracks] == [(1, "square", 0), (2, "circle", 2),
                                                                              (3, "square", 10)]
    assert all(not b.interpolated for t in tracks for b in t.boxes)


def test_decimation_fills_only_processed_frames_and_none_disables_filling():
    frames = range(0, 50, 5)
    rec = recorder(frames, max_gap_frames=20)
    rec.add(0, 1, "a", seen([0, 0, 10, 10]))
    rec.add(15, 1, "a", seen([30, 0, 40, 10]))
    [track] = rec.tracks()
    assert [b.frame_number for b in track.boxes] == [0, 5, 10, 15]
    rec = recorder(frames, max_gap_frames=20, interpolation="none")
    rec.add(0, 1, "a", seen([0, 0, 10, 10]))
    rec.add(15, 1, "a", seen([30, 0, 40, 10]))
    assert [b.frame_number for b in rec.tracks()[0].boxes] == [0, 15]


def test_cubic_interpolation_follows_a_curve_that_a_straight_line_cuts():
    # x = t^2: observed at 0, 1 and 5, 6; truth at 3 is 9, the straight line from 1 to 5 gives 13
    known = [Observation(t, [t * t, 0, t * t + 10, 10], 0.9) for t in (0, 1, 5, 6)]
    [cubic] = interpolate_boxes(known, [3])
    [linear] = interpolate_boxes(known[1:3], [3])
    assert cubic[0] == pytest.approx(9.0)
    assert linear[0] == pytest.approx(13.0)


def test_boxes_are_clipped_to_the_frame_and_vanishing_ones_dropped():
    rec = recorder(range(5))
    rec.add(0, 1, "a", seen([-20, -5, 30, 40]))
    rec.add(1, 1, "a", seen([250, 0, 300, 10]))  # entirely right of a 200 px frame
    [track] = rec.tracks()
    assert track.boxes[0].bbox.model_dump() == {"x": 0.0, "y": 0.0, "width": 30.0, "height": 40.0}
    assert track.frame_count == 1


def test_confidence_is_clamped_to_unit_interval():
    rec = recorder(range(2))
    rec.add(0, 1, "a", seen([0, 0, 10, 10], score=1.7))
    assert rec.tracks()[0].boxes[0].confidence == 1.0


def test_masks_round_trip_through_coco_rle():
    mask = np.zeros((100, 200), dtype=bool)
    mask[20:40, 50:90] = True
    rec = recorder(range(2), keep_masks=True)
    rec.add(0, 1, "a", seen(mask_to_box(mask), mask=mask))
    rle = rec.tracks()[0].boxes[0].mask
    assert rle.size == [100, 200] and isinstance(rle.counts, str)
    decoded = mask_utils.decode({"size": rle.size, "counts": rle.counts.encode()})
    assert decoded.shape == (100, 200) and (decoded.astype(bool) == mask).all()
    assert mask_to_box(mask) == [50.0, 20.0, 90.0, 40.0]
    assert mask_to_box(np.zeros((4, 4), dtype=bool)) is None
    assert encode_rle(mask)["counts"] == rle.counts


def test_box_iou():
    assert box_iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert box_iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)
    assert box_iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0


def moving(rec, key, label, frames, x_of):
    for n in frames:
        rec.add(n, key, label, seen([x_of(n), 40, x_of(n) + 20, 60]))


def test_a_track_that_reappears_where_its_motion_leads_is_linked_and_its_gap_filled():
    rec = recorder(range(60), max_gap_frames=15)
    moving(rec, 1, "circle", range(0, 20), lambda n: 2 * n)     # lost after frame 19 (ByteTrack gave up)
    moving(rec, 9, "circle", range(32, 60), lambda n: 2 * n)    # same motion, new id from the tracker
    moving(rec, 5, "circle", range(25, 60), lambda n: 150.0)    # a static circle elsewhere: not a continuation
    tracks = rec.tracks()
    assert [(t.track_id, t.start_frame, t.end_frame) for t in tracks] == [(1, 0, 59), (2, 25, 59)]
    filled = {b.frame_number: b.bbox.x for b in tracks[0].boxes if b.interpolated}
    assert sorted(filled) == list(range(20, 32)) and filled[26] == pytest.approx(52.0)


@pytest.mark.parametrize("case", ["elsewhere", "other label", "too late"])
def test_tracks_are_not_linked_against_motion_label_or_gap(case):
    rec = recorder(range(80), max_gap_frames=15)
    moving(rec, 1, "circle", range(0, 20), lambda n: 2 * n)
    start, label, x = {"elsewhere": (32, "circle", lambda n: 2 * n + 60),
                       "other label": (32, "square", lambda n: 2 * n),
                       "too late": (40, "circle", lambda n: 2 * n)}[case]
    moving(rec, 9, label, range(start, 60), x)
    assert len(rec.tracks()) == 2


def test_one_misread_frame_neither_names_a_track_nor_keeps_it_from_its_continuation():
    """The triangle comes out from behind a bar read as a circle for one frame, then as a triangle: it continues the
    triangle's track under the label its detections gave it most."""
    rec = recorder(range(60), max_gap_frames=15)
    moving(rec, 1, "triangle", range(0, 20), lambda n: 2 * n)
    moving(rec, 9, "circle", range(32, 33), lambda n: 2 * n)
    moving(rec, 9, "triangle", range(33, 60), lambda n: 2 * n)
    tracks = rec.tracks()
    assert [(t.track_id, t.label, t.start_frame, t.end_frame) for t in tracks] == [(1, "triangle", 0, 59)]


def test_a_track_is_named_by_its_most_confident_label():
    rec = recorder(range(10), max_gap_frames=5)
    for n in range(10):  # six low-confidence squares, four confident circles
        rec.add(n, 1, "square" if n < 6 else "circle", seen([0, 0, 10, 10], score=0.2 if n < 6 else 0.9))
    assert [t.label for t in rec.tracks()] == ["circle"]
