"""The tracking runner's decisions: which objects a session is told to follow, and when; streaming; cancellation."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from runners.core.errors import BadRequest
from runners.core.video import VideoFile
from runners.tracking.backends.base import TrackedObject
from runners.tracking.follow import (
    DetectorSpec,
    FollowState,
    ObjectFollower,
    Prompt,
    TrackJob,
    check_prompts,
    new_recorder,
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


def follower(job_fields, detections, state: FollowState | None = None, tracker=None):
    tracker = tracker or PromptedTracker()
    job = TrackJob(video_path="v.mp4", model="samurai", **job_fields)
    stub = DetectorStub(detections)
    return ObjectFollower(stub, job, tracker, 200, 100, state or FollowState()), tracker.session, stub


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


def test_a_follower_from_a_state_prompts_the_live_objects_again_under_their_ids():
    prompts = [Prompt(box=[0, 0, 10, 10], label="a", frame_number=0),
               Prompt(box=[50, 50, 60, 60], label="b", frame_number=0),
               Prompt(box=[90, 0, 99, 9], label="c", frame_number=6)]
    fields = {"start": 0, "end": 9, "prompts": prompts}
    follow, session, _ = follower(fields, {})
    for n in range(4):
        if n == 2:
            session.boxes[2] = None  # "b" is lost on frame 2
        follow.step(n, n, FRAME)
    state = FollowState.model_validate_json(follow.state(chunks_done=1, steps_done=4).model_dump_json())  # as stored

    resumed, session, _ = follower(fields, {}, state)  # a new session, as after a crash
    for n in range(4, 10):
        resumed.step(n, n, FRAME)
    assert session.prompts[0] == {1: [0, 0, 10, 10]}  # the live object, under its id; the lost one is not prompted
    assert session.prompts[2] == {3: [90, 0, 99, 9]}  # the prompt still to come, on its frame
    assert resumed.labels == {1: "a", 2: "b", 3: "c"} and resumed.next_id == 4


class SelfDetectingTracker(PromptedTracker):
    """A tracker that finds objects itself (ByteTrack's contract): what nobody prompted comes under negative keys,
    numbered by the session from 1 again in every new session."""

    detects = True

    def __init__(self):
        self.session = ScriptedSession()
        self.session.boxes = {-1: [0, 0, 10, 10], -2: [20, 20, 30, 30]}


def test_objects_a_tracker_found_itself_get_ids_that_stay_unique_in_a_new_session():
    fields = {"start": 0, "end": 9}
    follow, _, _ = follower(fields, {}, tracker=SelfDetectingTracker())
    assert sorted(follow.step(0, 0, FRAME)) == [1, 2]
    assert sorted(follow.step(1, 1, FRAME)) == [1, 2]  # the same objects keep their ids
    state = follow.state(chunks_done=1, steps_done=2)
    resumed, session, _ = follower(fields, {}, state, tracker=SelfDetectingTracker())
    found = resumed.step(2, 2, FRAME)
    assert session.prompts[0] == {1: [0, 0, 10, 10], 2: [20, 20, 30, 30]}
    assert sorted(found) == [1, 2, 3, 4]  # the new session's own -1 and -2 are new objects, not 1 and 2


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


@pytest.fixture
def tracking_runner(demo_config, monkeypatch):
    monkeypatch.setenv("MODEL_CONFIG", str(demo_config))
    from runners.core import config as config_module
    from runners.tracking.service import TrackingRunner

    config_module.get_config.cache_clear()
    runner = TrackingRunner()
    yield runner
    runner.shutdown()
    config_module.get_config.cache_clear()


def recorded(job: TrackJob, chunks) -> list:
    recorder = new_recorder(job, 640, 384)  # tracking.mp4
    for chunk in chunks:
        for observed in chunk.observed:
            recorder.record(observed)
    return recorder.tracks()


def test_chunks_record_into_the_synchronous_tracks_and_a_resumed_run_keeps_the_ids(tracking_runner, demo_dir):
    job = TrackJob(video_path=str(demo_dir / "media" / "tracking.mp4"), model="yolo11n-seg", start=0, end=59,
                   confidence_threshold=0.5, max_gap_frames=30)
    sync = tracking_runner.run_job(job, threading.Event())
    assert sync.error is None and sync.tracks

    chunks = list(tracking_runner.follow(job, threading.Event(), None, chunk_frames=7))
    assert [c.index for c in chunks] == list(range(1, 10)) and [c.last for c in chunks] == [False] * 8 + [True]
    assert [c.frames_done for c in chunks] == [7, 14, 21, 28, 35, 42, 49, 56, 60]
    assert recorded(job, chunks) == sync.tracks  # chunking changes nothing

    state = chunks[3].state  # a crash after chunk 4: a new session goes on from its state
    rest = list(tracking_runner.follow(job, threading.Event(), state, chunk_frames=7))
    assert [c.index for c in rest] == [5, 6, 7, 8, 9] and rest[0].observed[0].frame_number == 28
    resumed = recorded(job, chunks[:4] + rest)
    assert [(t.track_id, t.label, t.start_frame) for t in resumed] == [
        (t.track_id, t.label, t.start_frame) for t in sync.tracks]
    for before, after in zip(sync.tracks, resumed):  # the same objects, a frame or two apart at most
        assert abs(before.end_frame - after.end_frame) <= 2, (before.track_id, before.end_frame, after.end_frame)
