"""Prompts meeting ByteTrack's tracks in the YOLO-seg tracker: each prompt adopts the track it overlaps most."""

from __future__ import annotations

from runners.tracking.backends.base import TrackedObject
from runners.tracking.backends.yolo_seg import match_prompts


def seen(box: list[float] | None) -> TrackedObject:
    return TrackedObject(box=box, mask=None, score=0.9 if box else 0.2, present=box is not None, label="circle")


def test_each_prompt_takes_the_track_it_overlaps_most():
    found = {1: seen([0, 0, 40, 40]), 2: seen([100, 100, 140, 140]), 3: seen([10, 0, 50, 40])}
    assert match_prompts({7: [100, 100, 138, 140], 8: [9, 0, 49, 40]}, found, taken=set()) == {2: 7, 3: 8}


def test_a_track_already_taken_or_barely_overlapping_is_not_adopted():
    found = {1: seen([0, 0, 40, 40]), 2: seen([30, 30, 70, 70])}
    assert match_prompts({7: [0, 0, 40, 40]}, found, taken={1}) == {}


def test_a_track_kept_alive_without_a_box_is_skipped():
    # a low-score detection keeps its track but reports no box: matching used to crash on it
    found = {1: seen(None), 2: seen([50, 50, 90, 90])}
    assert match_prompts({7: [50, 50, 90, 90]}, found, taken=set()) == {2: 7}
