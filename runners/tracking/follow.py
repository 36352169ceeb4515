"""Tracking, BentoML-free: the tracking job, and `ObjectTracker`, which follows its objects through the frames a
chunk at a time (`follow`): each chunk brings its observations (ids before linking, gaps not yet filled) and the
state a new session needs to go on after it (`FollowState`). `run_job` records the chunks into the response's
tracks at once. The tracking runner service (runners/tracking/service.py) serves both, over HTTP; a Ray actor calls
them directly.

Frames stream from the decoder into the tracker's session (SAM 2's shape: init state, add prompts, propagate), and
each frame's result is reduced at once to what the response keeps (runners/tracking/results.py), so memory does not
grow with the length of the range. Objects to follow come from the job's boxes, or from a detector on the first
processed frame, and again every `redetect_interval` processed frames for objects that appear later: the detector
is whatever `detect_frames` the tracker was built with (the detection runner, or a `FrameDetector` in this process).
A job checks a cancel flag before each frame.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, Field

from runners.core import metrics
from runners.core.admission import Admission
from runners.core.config import ModelOption, RunnerConfig
from runners.core.contracts import Track
from runners.core.errors import BadRequest, Cancelled, ServiceError
from runners.core.models import ModelInfo, PooledModels, RunnerStatus, runner_settings
from runners.core.video import VideoCache
from runners.detection.frames import FrameJob, FrameResult
from runners.tracking import registry
from runners.tracking.backends.base import SessionSpec, TrackedObject, Tracker
from runners.tracking.results import Observed, TrackRecorder, observe

log = logging.getLogger(__name__)

TASK = "video_tracking"
# A detection that overlaps an object already followed this much is that object, not a new one.
SAME_OBJECT_IOU = 0.5
# A detection that overlaps where a lost object was last seen this much re-finds it (it keeps its id).
REFOUND_IOU = 0.3
# Processed frames per chunk of a synchronous track (a job's chunks are `jobs.track_chunk_frames`); results do not
# depend on it.
SYNC_CHUNK_FRAMES = 32


class Prompt(BaseModel):
    box: list[float] = Field(min_length=4, max_length=4, description="[x0, y0, x1, y1] frame pixels")
    label: str
    frame_number: int


class DetectorSpec(BaseModel):
    """How the tracking runner asks the detection runner for objects (auto-detect and re-detection)."""
    model: str
    vocabulary: list[str]
    labels: list[str] | None = None
    confidence_threshold: float = 0.7


class TrackJob(BaseModel):
    video_path: str
    model: str
    start: int
    end: int = Field(description="inclusive, inside the video")
    decimation: int = 1
    prompts: list[Prompt] = Field(default_factory=list)
    auto_detect: bool = False
    detector: DetectorSpec | None = None
    redetect_interval: int | None = None
    confidence_threshold: float = 0.7
    labels: list[str] | None = Field(default=None, description="classes to follow (trackers that detect)")
    include_masks: bool = False
    interpolation: str = "linear"
    max_gap_frames: int = 10
    job_id: str | None = Field(default=None, description="the caller's id for it, under which status shows progress")


class TrackResult(BaseModel):
    tracks: list[Track] = Field(default_factory=list)
    frames_processed: int = 0
    error: dict[str, Any] | None = None


class FollowState(BaseModel):
    """Where a tracking job stands after a chunk, all a new session needs to go on from there: the objects' ids,
    labels and last boxes (the live ones are prompted again under their ids) and the prompts still to come."""
    chunks_done: int = 0
    steps_done: int = 0  # processed frames tracked
    next_id: int = 1
    labels: dict[int, str] = Field(default_factory=dict)
    last_box: dict[int, list[float]] = Field(default_factory=dict)
    present: dict[int, bool] = Field(default_factory=dict)
    prompts: dict[int, dict[int, list[float]]] = Field(default_factory=dict)  # frame -> {object id: box}


class TrackChunk(BaseModel):
    """One chunk of a tracking job: its observations (ids before linking, gaps not filled) and the state after it.
    A stream ends with a chunk whose `last` is set, or with one carrying the error that stopped it."""
    index: int = 0
    frames_done: int = 0
    frames_total: int = 0
    observed: list[Observed] = Field(default_factory=list)
    state: FollowState = Field(default_factory=FollowState)
    last: bool = False
    error: dict[str, Any] | None = None


def processed_frames(start: int, end: int, decimation: int) -> list[int]:
    return list(range(start, end + 1, decimation))


def new_recorder(job: TrackJob, width: int, height: int) -> TrackRecorder:
    """The recorder that turns the job's observations into its response's tracks."""
    return TrackRecorder(processed_frames(job.start, job.end, job.decimation), width=width, height=height,
                         max_gap_frames=job.max_gap_frames, interpolation=job.interpolation,
                         keep_masks=job.include_masks)


def tracking_settings() -> RunnerConfig:
    return runner_settings("tracking", {TASK: registry.FAMILIES})


class ObjectTracker(PooledModels):
    """The tracking models of the configuration, and tracking jobs run on them. `detect_frames` answers frame jobs
    (auto-detection and re-detection of the SAM 2 family); a synchronous call, made from the tracking thread."""

    task_title = "tracking model"
    runner_name = "tracking"

    def __init__(self, detect_frames: Callable[[list[FrameJob]], list[FrameResult]]) -> None:
        super().__init__(TASK, tracking_settings())
        self.detect_frames = detect_frames
        self.videos = VideoCache()
        # synchronous requests and the job worker's calls share these slots (jobs.max_running's tracking share)
        jobs = self.config.jobs
        self.admission = Admission(jobs.max_running.get("tracking", 1), jobs.max_queued, "tracking sessions")
        self.jobs: dict[str, dict[str, Any]] = {}  # running jobs' progress, shown by status (and so /health)

    def build(self, name: str, option: ModelOption, device: str):
        return registry.load_tracker(name, option, self.config, device)

    def describe(self, name: str, entry, tracker) -> ModelInfo:
        info = super().describe(name, entry, tracker)
        info.open_vocabulary, info.vocabulary = False, list(getattr(tracker, "vocabulary", []))
        return info

    def status_reply(self) -> RunnerStatus:
        status = super().status_reply()
        status.jobs = {job_id: dict(progress) for job_id, progress in self.jobs.items()}
        status.sessions_running, status.sessions_waiting = self.admission.running, self.admission.waiting
        return status

    def run_job(self, job: TrackJob, cancel: threading.Event) -> TrackResult:
        def admitted() -> TrackResult:
            info = self.videos.open(job.video_path).info
            recorder = new_recorder(job, info.width, info.height)
            frames_total = 0
            with self.admission.slot(cancel):  # wait in line for a session: none beyond what the runner has room for
                for chunk in self.follow(job, cancel, None, SYNC_CHUNK_FRAMES):
                    for observed in chunk.observed:
                        recorder.record(observed)
                    frames_total = chunk.frames_total
            return TrackResult(tracks=recorder.tracks(), frames_processed=frames_total)
        return self.reply_or_error(admitted, TrackResult, stopped="tracking", failed=f"tracking with {job.model}")

    def chunks_or_error(self, job: TrackJob, cancel: threading.Event, resume: FollowState | None,
                        chunk_frames: int) -> Iterator[TrackChunk]:
        """`follow`'s chunks in an admission slot, ending with an error chunk when something stopped it."""
        try:
            with self.admission.slot(cancel):
                yield from self.follow(job, cancel, resume, chunk_frames)
        except Exception as exc:  # noqa: BLE001 — answered as data, like every runner error
            yield TrackChunk(error=self.error_of(exc, stopped="tracking", failed=f"tracking with {job.model}"))

    def follow(self, job: TrackJob, cancel: threading.Event, resume: FollowState | None,
               chunk_frames: int) -> Iterator[TrackChunk]:
        """Track the job's frames from `resume` on (from its start without one), a chunk of `chunk_frames` processed
        frames at a time; the last chunk has `last` set."""
        video = self.videos.open(job.video_path)
        info = video.info
        frames = processed_frames(job.start, job.end, job.decimation)
        state = resume or FollowState()
        job_id = job.job_id or uuid.uuid4().hex[:12]
        progress: dict[str, Any] = {"model": job.model, "frames_done": state.steps_done, "frames_total": len(frames),
                                    "started": time.time()}
        self.jobs[job_id] = progress
        done_before = state.steps_done
        log.info("job %s: tracking frames %d-%d (%d processed) with %s%s", job_id, job.start, job.end, len(frames),
                 job.model, f", going on after {done_before}" if done_before else "")
        try:
            with self.pool.use(job.model) as tracker:
                follower = ObjectFollower(self, job, tracker, info.width, info.height, state)
                try:
                    observed: list[Observed] = []
                    chunk = state.chunks_done
                    remaining = frames[state.steps_done:]
                    for step, (frame_number, frame) in enumerate(video.iter_frames(remaining), start=state.steps_done):
                        if cancel.is_set():
                            raise Cancelled()
                        for key, obj in follower.step(step, frame_number, frame).items():
                            seen = observe(frame_number, key, follower.labels.get(key) or obj.label or "object", obj,
                                           width=info.width, height=info.height, keep_masks=job.include_masks)
                            if seen is not None:
                                observed.append(seen)
                        progress["frames_done"] = step + 1
                        if step + 1 < len(frames) and (step + 1 - done_before) % chunk_frames == 0:
                            chunk += 1
                            yield TrackChunk(index=chunk, frames_done=step + 1, frames_total=len(frames),
                                             observed=observed, state=follower.state(chunk, step + 1))
                            observed = []
                    yield TrackChunk(index=chunk + 1, frames_done=len(frames), frames_total=len(frames),
                                     observed=observed, state=follower.state(chunk + 1, len(frames)), last=True)
                finally:
                    follower.close()
        finally:
            self.jobs.pop(job_id, None)
            metrics.frames_processed("tracking", progress["frames_done"] - done_before)  # stopped ones count too

    def detect(self, spec: DetectorSpec, video_path: str, frame_number: int) -> list[tuple[list[float], str]]:
        """Objects on one frame, from `detect_frames` (called from the tracking thread)."""
        job = FrameJob(video_path=video_path, frame_number=frame_number, model=spec.model,
                       vocabulary=spec.vocabulary, labels=spec.labels,
                       confidence_threshold=spec.confidence_threshold)
        [result] = self.detect_frames([job])
        if result.error:
            raise ServiceError.from_dict(result.error)
        return [([o.bbox.x, o.bbox.y, o.bbox.x + o.bbox.width, o.bbox.y + o.bbox.height], o.label)
                for o in result.objects]


class ObjectFollower:
    """Decides which objects a session follows: prompts on their frame, detections on the first frame (auto-detect)
    and every `redetect_interval` processed frames. A detection that matches an object being followed is that
    object; one that matches where a lost object was last seen re-finds it under its old id; the rest start new
    objects. Objects a tracker found by itself (negative keys) get ids here too, so that ids stay unique when a job
    goes on in a new session from a `FollowState`, whose live objects are prompted again on its first frame."""

    def __init__(self, runner: ObjectTracker, job: TrackJob, tracker: Tracker, width: int, height: int,
                 state: FollowState) -> None:
        self.runner, self.job = runner, job
        self.detects_itself = tracker.detects  # ByteTrack follows what its own detector finds
        self.next_id = state.next_id
        self.labels = dict(state.labels)
        self.last_box = {key: list(box) for key, box in state.last_box.items()}
        self.present = dict(state.present)
        self.own_ids: dict[int, int] = {}  # the session's key for an object it found itself -> its id
        if state.steps_done == 0:
            self.prompts = self._snap_prompts()
        else:  # going on from a checkpoint: the live objects are prompted again, under their ids
            self.prompts = {frame: dict(boxes) for frame, boxes in state.prompts.items()}
            resumed_at = job.start + state.steps_done * job.decimation
            live = {key: box for key, box in self.last_box.items() if self.present.get(key)}
            self.prompts[resumed_at] = {**live, **self.prompts.get(resumed_at, {})}
        unprompted = not job.prompts or job.auto_detect or job.redetect_interval is not None
        self.session = tracker.new_session(SessionSpec(
            width, height, keep_masks=job.include_masks, confidence_threshold=job.confidence_threshold,
            labels=job.labels, max_gap_frames=job.max_gap_frames, decimation=job.decimation,
            report_unprompted=unprompted))

    def _snap_prompts(self) -> dict[int, dict[int, list[float]]]:
        """Each prompt on the processed frame nearest its own, under a new id."""
        job = self.job
        prompts: dict[int, dict[int, list[float]]] = {}
        last = job.start + (job.end - job.start) // job.decimation * job.decimation  # the last processed frame
        for prompt in job.prompts:
            steps = round((prompt.frame_number - job.start) / job.decimation)
            snapped = min(job.start + steps * job.decimation, last)
            object_id = self._new_id()
            prompts.setdefault(snapped, {})[object_id] = prompt.box
            self.labels[object_id] = prompt.label
        return prompts

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def step(self, step: int, frame_number: int, frame) -> dict[int, TrackedObject]:
        new = dict(self.prompts.pop(frame_number, {}))
        if not self.detects_itself and self._detection_due(step):
            new.update(self._from_detections(frame_number, new))
        results = {}
        for key, obj in self.session.step(frame, new or None).items():
            if key < 0:  # found by the tracker itself
                key = self.own_ids.get(key) or self.own_ids.setdefault(key, self._new_id())
            results[key] = obj
            if obj.present and obj.box is not None:
                self.last_box[key] = obj.box
            self.present[key] = bool(obj.present and obj.box is not None)
        return results

    def state(self, chunks_done: int, steps_done: int) -> FollowState:
        return FollowState(chunks_done=chunks_done, steps_done=steps_done, next_id=self.next_id, labels=self.labels,
                           last_box=self.last_box, present=self.present, prompts=self.prompts)

    def _detection_due(self, step: int) -> bool:
        if self.job.detector is None:
            return False
        if step == 0 and (self.job.auto_detect or not self.job.prompts):
            return True
        interval = self.job.redetect_interval
        return interval is not None and step > 0 and step % interval == 0

    def _from_detections(self, frame_number: int, prompted: dict[int, list[float]]) -> dict[int, list[float]]:
        from runners.core.geometry import box_iou

        detector = self.job.detector
        assert detector is not None  # _detection_due is False without one
        new: dict[int, list[float]] = {}
        for box, label in self.runner.detect(detector, self.job.video_path, frame_number):
            followed = [b for k, b in self.last_box.items() if self.present.get(k)] + list(prompted.values())
            if any(box_iou(box, b) >= SAME_OBJECT_IOU for b in followed + list(new.values())):
                continue
            lost = [(box_iou(box, b), k) for k, b in self.last_box.items() if not self.present.get(k) and k not in new]
            iou, key = max(lost, default=(0.0, None))
            if key is not None and iou >= REFOUND_IOU:
                new[key] = box  # re-found: prompt the lost object again under its own id
                continue
            key = self._new_id()
            self.labels[key] = label
            new[key] = box
        return new

    def close(self) -> None:
        self.session.close()


def check_prompts(prompts: list[Prompt], start: int, end: int) -> None:
    """Prompts must lie in the range being tracked: a box on a frame that is not processed could not be used."""
    outside = [p.frame_number for p in prompts if not start <= p.frame_number <= end]
    if outside:
        raise BadRequest(f"initial_detections frame_number {outside[0]} is outside frame_range {start}..{end}",
                         field="initial_detections")
