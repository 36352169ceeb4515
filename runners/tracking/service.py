"""TrackingRunner: follows objects through a frame range with one of the configured trackers.

A request is one tracking job. Frames stream from the decoder a chunk at a time into the tracker's session (SAM 2's
shape: init state, add prompts, propagate), and each frame's result is reduced at once to what the response keeps
(runners/tracking/results.py), so memory does not grow with the length of the range. Objects to follow come from the
request's boxes, or from the detection runner on the first processed frame, and again every `redetect_interval`
processed frames for objects that appear later.

The job runs in a worker thread that checks a cancel flag before each frame: a client that disconnects stops the
work, and `status` (which /health reads) answers from the event loop while frames are being tracked.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from typing import Any

import anyio
import bentoml
from pydantic import BaseModel, Field

from runners.core import metrics
from runners.core.admission import Admission
from runners.core.config import ModelOption
from runners.core.contracts import Track
from runners.core.errors import BadRequest, Cancelled, ServiceError
from runners.core.runner import (
    ModelInfo,
    PooledModels,
    RunnerStatus,
    run_until_disconnected,
    runner_settings,
    service_options,
)
from runners.core.video import VideoCache
from runners.detection.service import DetectionRunner, FrameJob
from runners.tracking import registry
from runners.tracking.backends.base import SessionSpec, TrackedObject, Tracker

log = logging.getLogger(__name__)

TASK = "video_tracking"
SETTINGS = runner_settings("tracking", {TASK: registry.FAMILIES})
# A detection that overlaps an object already followed this much is that object, not a new one.
SAME_OBJECT_IOU = 0.5
# A detection that overlaps where a lost object was last seen this much re-finds it (it keeps its id).
REFOUND_IOU = 0.3


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


def processed_frames(start: int, end: int, decimation: int) -> list[int]:
    return list(range(start, end + 1, decimation))


@bentoml.service(**service_options("tracking-runner", SETTINGS))
class TrackingRunner(PooledModels):
    detector = bentoml.depends(DetectionRunner)

    task_title = "tracking model"
    runner_name = "tracking"

    def __init__(self) -> None:
        super().__init__(TASK, SETTINGS)
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

    # -- tracking ------------------------------------------------------------------------------------------------
    @bentoml.api
    async def track(self, job: TrackJob, ctx: bentoml.Context) -> TrackResult:
        """One tracking job, stopped when the caller disconnects."""
        return await run_until_disconnected(ctx, lambda cancel: self.run_job(job, cancel))

    def run_job(self, job: TrackJob, cancel: threading.Event) -> TrackResult:
        def admitted() -> TrackResult:
            with self.admission.slot(cancel):  # wait in line for a session: none beyond what the runner has room for
                return self._run(job, cancel)
        return self.reply_or_error(admitted, TrackResult, stopped="tracking", failed=f"tracking with {job.model}")

    def _run(self, job: TrackJob, cancel: threading.Event) -> TrackResult:
        from runners.tracking.results import TrackRecorder

        video = self.videos.open(job.video_path)
        info = video.info
        frames = processed_frames(job.start, job.end, job.decimation)
        recorder = TrackRecorder(frames, width=info.width, height=info.height, max_gap_frames=job.max_gap_frames,
                                 interpolation=job.interpolation, keep_masks=job.include_masks)
        job_id = job.job_id or uuid.uuid4().hex[:12]
        progress: dict[str, Any] = {"model": job.model, "frames_done": 0, "frames_total": len(frames),
                                    "started": time.time()}
        self.jobs[job_id] = progress
        try:
            with self.pool.use(job.model) as tracker:
                follow = ObjectFollower(self, job, tracker, info.width, info.height)
                try:
                    for step, (frame_number, frame) in enumerate(video.iter_frames(frames)):
                        if cancel.is_set():
                            raise Cancelled()
                        for key, obj in follow.step(step, frame_number, frame).items():
                            recorder.add(frame_number, key, follow.labels.get(key) or obj.label or "object", obj)
                        progress["frames_done"] = step + 1
                finally:
                    follow.close()
        finally:
            self.jobs.pop(job_id, None)
            metrics.frames_processed("tracking", progress["frames_done"])  # stopped jobs count what they did
        return TrackResult(tracks=recorder.tracks(), frames_processed=len(frames))

    def detect(self, spec: DetectorSpec, video_path: str, frame_number: int) -> list[tuple[list[float], str]]:
        """Objects on one frame from the detection runner (called from the tracking thread)."""
        job = FrameJob(video_path=video_path, frame_number=frame_number, model=spec.model,
                       vocabulary=spec.vocabulary, labels=spec.labels,
                       confidence_threshold=spec.confidence_threshold)
        [result] = anyio.from_thread.run(self.detector.to_async.detect_frames, [job])
        if result.error:
            raise ServiceError.from_dict(result.error)
        return [([o.bbox.x, o.bbox.y, o.bbox.x + o.bbox.width, o.bbox.y + o.bbox.height], o.label)
                for o in result.objects]

    @bentoml.on_shutdown
    def shutdown(self) -> None:
        self.unload_all()


class ObjectFollower:
    """Decides which objects a session follows: prompts on their frame, detections on the first frame (auto-detect)
    and every `redetect_interval` processed frames. A detection that matches an object being followed is that
    object; one that matches where a lost object was last seen re-finds it under its old id; the rest start new
    objects."""

    def __init__(self, runner: TrackingRunner, job: TrackJob, tracker: Tracker, width: int, height: int) -> None:
        self.runner, self.job = runner, job
        self.detects_itself = tracker.detects  # ByteTrack follows what its own detector finds
        self.ids = itertools.count(1)
        self.labels: dict[int, str] = {}
        self.last_box: dict[int, list[float]] = {}
        self.present: dict[int, bool] = {}
        self.prompts: dict[int, dict[int, list[float]]] = {}  # processed frame -> {object id: box}
        last = job.start + (job.end - job.start) // job.decimation * job.decimation  # the last processed frame
        for prompt in job.prompts:
            steps = round((prompt.frame_number - job.start) / job.decimation)  # the nearest processed frame
            snapped = min(job.start + steps * job.decimation, last)
            object_id = next(self.ids)
            self.prompts.setdefault(snapped, {})[object_id] = prompt.box
            self.labels[object_id] = prompt.label
        unprompted = not job.prompts or job.auto_detect or job.redetect_interval is not None
        self.session = tracker.new_session(SessionSpec(
            width, height, keep_masks=job.include_masks, confidence_threshold=job.confidence_threshold,
            labels=job.labels, max_gap_frames=job.max_gap_frames, decimation=job.decimation,
            report_unprompted=unprompted))

    def step(self, step: int, frame_number: int, frame) -> dict[int, TrackedObject]:
        new = dict(self.prompts.pop(frame_number, {}))
        if not self.detects_itself and self._detection_due(step):
            new.update(self._from_detections(frame_number, new))
        results = self.session.step(frame, new or None)
        for key, obj in results.items():
            if obj.present and obj.box is not None:
                self.last_box[key] = obj.box
            self.present[key] = bool(obj.present and obj.box is not None)
        return results

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
            key = next(self.ids)
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
