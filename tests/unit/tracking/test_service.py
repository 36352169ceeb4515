"""The tracking runner's decisions: which objects a session is told to follow, and when; streaming; cancellation."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from runners.core.errors import BadRequest
from runners.core.video import VideoFile
from runners.tracking.backends.base import TrackedObject
from runners.tracking.service import (
    DetectorSpec,
    ObjectFollower,
    Prompt,
    TrackJob,
    check_prompts,
    processed_frames,
)


class ScriptedSession:
    """Records the prompts it is given; reports each object at a box the test sets (None = lost)."""

    def __init__(self):
        self.prompts: list[dict] = []
        self.boxes: dict[int, list[float] | None] = {}

    def step(self, frame, new_objects=None):
        self.prompts.append(dict(new_objects or {}))
        for key, box in (new_objects or {}).items():
            self.boxes[key] = box
        return {k: TrackedObject(box=b, mask=None, score=0.9, present=b is not None) for k, b in self.boxes.items()}

    def close(self):
        pass


class PromptedTracker:
    """A tracker that follows prompts (the SAM family's contract), handing out the scripted session."""

    detects = False

    def __init__(self):
        self.session = ScriptedSession()

    def new_session(self, spec):
        self.spec = spec
        return self.session


class DetectorStub:
    """Stands in for the detection runner (another process): detections per frame number."""

    def __init__(self, by_frame):
        self.by_frame, self.calls = by_frame, []

    def detect(self, spec, video_path, frame_number):
        self.calls.append(frame_number)
        return self.by_frame.get(frame_number, [])


def follower(job_fields, detections):
    tracker = PromptedTracker()
    job = TrackJob(video_path="v.mp4", model="samurai", **job_fields)
    stub = DetectorStub(detections)
    return ObjectFollower(stub, job, tracker, 200, 100), tracker.session, stub


SPEC = DetectorSpec(model="yolo11n", vocabulary=["circle", "square"])
FRAME = np.zeros((100, 200, 3), dtype=np.uint8)


def test_auto_detect_prompts_every_detection_on_the_first_processed_frame():
    follow, session, stub = follower({"start": 10, "end": 20, "detector": SPEC},
                                     {10: [([0, 0, 10, 10], "circle"), ([50, 50, 70, 70], "square")]})
    follow.step(0, 10, FRAME)
    follow.step(1, 11, FRAME)
    assert stub.calls == [10]  # no redetect_interval: the detector runs once
    assert session.prompts == [{1: [0, 0, 10, 10], 2: [50, 50, 70, 70]}, {}]
    assert follow.labels == {1: "circle", 2: "square"}


def test_prompts_start_on_their_frame_snapped_to_the_nearest_processed_frame():
    prompts = [Prompt(box=[1, 1, 9, 9], label="a", frame_number=0), Prompt(box=[5, 5, 9, 9], label="b",
                                                                            frame_number=11)]
    follow, session, stub = follower({"start": 0, "end": 20, "decimation": 5, "prompts": prompts}, {})
    for step, n in enumerate(processed_frames(0, 20, 5)):
        follow.step(step, n, FRAME)
    assert session.prompts == [{1: [1, 1, 9, 9]}, {}, {2: [5, 5, 9, 9]}, {}, {}]
    assert stub.calls == []  # boxes given, no auto-detect: the detector is never asked


def test_redetection_skips_followed_objects_refinds_lost_ones_and_starts_new_ones():
    detections = {0: [([0, 0, 20, 20], "circle")],
                  2: [([1, 1, 21, 21], "circle"),        # the circle, still followed -> nothing
                      ([100, 50, 120, 70], "square")],  # new -> object 2
                  4: [([101, 51, 121, 71], "square"),   # lost square, near its last box -> object 2 again
                      ([150, 0, 170, 20], "circle")]}   # new -> object 3
    follow, session, stub = follower({"start": 0, "end": 5, "detector": SPEC, "redetect_interval": 2}, detections)
    for n in range(6):
        if n == 3:
            session.boxes[2] = None  # the square is lost on frame 3
        follow.step(n, n, FRAME)
    assert stub.calls == [0, 2, 4]
    assert session.prompts[0] == {1: [0, 0, 20, 20]}
    assert session.prompts[2] == {2: [100, 50, 120, 70]}
    assert session.prompts[4] == {2: [101, 51, 121, 71], 3: [150, 0, 170, 20]}
    assert follow.labels == {1: "circle", 2: "square", 3: "circle"}


def test_prompts_outside_the_range_are_refused():
    check_prompts([Prompt(box=[0, 0, 1, 1], label="a", frame_number=5)], 0, 10)
    with pytest.raises(BadRequest, match="outside frame_range 0..10"):
        check_prompts([Prompt(box=[0, 0, 1, 1], label="a", frame_number=11)], 0, 10)


def test_frames_stream_in_chunks_identical_to_batch_decoding(demo_video):
    video = VideoFile(demo_video)
    wanted = list(range(3, 60, 7))
    streamed = list(video.iter_frames(wanted, chunk=3))
    assert [n for n, _ in streamed] == wanted
    for (_, frame), expected in zip(streamed, video.get_frames(wanted)):
        assert np.array_equal(frame, expected)


def test_a_cancelled_job_stops_before_the_next_frame(demo_config, demo_video, monkeypatch):
    monkeypatch.setenv("MODEL_CONFIG", str(demo_config))
    from runners.core import config as config_module
    from runners.tracking.service import TrackingRunner

    config_module.get_config.cache_clear()
    try:
        runner = TrackingRunner()
        cancel = threading.Event()
        cancel.set()
        job = TrackJob(video_path=str(demo_video), model="yolo11n-seg", start=0, end=100)
        result = runner.run_job(job, cancel)
        assert result.error and "disconnected" in result.error["message"]
        assert runner.jobs_cancelled == 1 and runner.jobs == {}
        done = runner.run_job(job.model_copy(update={"end": 4}), threading.Event())
        assert done.error is None and done.frames_processed == 5
        runner.shutdown()
    finally:
        config_module.get_config.cache_clear()
