"""Detection on video frames, BentoML-free: the frame jobs and `FrameDetector`, which decodes a batch of jobs' frames
(one batch decode per video) and runs each group of jobs that share a model, vocabulary and NMS threshold as one
forward pass. The detection runner service (runners/detection/service.py) batches requests into it; a Ray actor
calls it directly.
"""

from __future__ import annotations

import collections
import logging
from typing import Any

from pydantic import BaseModel, Field

from runners.core import metrics
from runners.core.config import ModelOption, RunnerConfig
from runners.core.contracts import DetectedObject
from runners.core.errors import ServiceError
from runners.core.models import ModelInfo, PooledModels, RunnerStatus, runner_settings
from runners.core.video import VideoCache
from runners.detection import registry

log = logging.getLogger(__name__)

TASK = "object_detection"


def detection_settings() -> RunnerConfig:
    return runner_settings("detection", {TASK: registry.FAMILIES})


class FrameJob(BaseModel):
    video_path: str
    frame_number: int
    model: str
    vocabulary: list[str] = Field(description="effective vocabulary; class_id indexes it")
    labels: list[str] | None = Field(default=None, description="keep only these labels (closed vocabularies)")
    confidence_threshold: float = 0.5
    nms_threshold: float = 0.45
    class_thresholds: dict[str, float] = Field(default_factory=dict)
    max_detections: int = 300


class FrameResult(BaseModel):
    frame_number: int
    objects: list[DetectedObject] = Field(default_factory=list)
    error: dict[str, Any] | None = None


class FrameDetector(PooledModels):
    """The detection models of the configuration, and frame jobs run on them in batches."""

    task_title = "detection model"
    runner_name = "detection"

    def __init__(self) -> None:
        super().__init__(TASK, detection_settings())
        self.videos = VideoCache()
        self.batch_sizes: collections.Counter[int] = collections.Counter()

    def build(self, name: str, option: ModelOption, device: str):
        return registry.load_detector(name, option, self.config, device)

    def describe(self, name: str, entry, detector) -> ModelInfo:
        info = super().describe(name, entry, detector)
        info.open_vocabulary, info.vocabulary = detector.open_vocabulary, list(detector.default_vocabulary)
        return info

    def status_reply(self) -> RunnerStatus:
        status = super().status_reply()
        status.batch_sizes = {str(k): v for k, v in sorted(self.batch_sizes.items())}
        return status

    def detect_frames_now(self, jobs: list[FrameJob]) -> list[FrameResult]:
        """Jobs run here and now, `max_batch_size` at a time, as the runner's batcher would cut one request."""
        size = self.settings.max_batch_size
        return [result for first in range(0, len(jobs), size) for result in self.run_batch(jobs[first:first + size])]

    def run_batch(self, jobs: list[FrameJob]) -> list[FrameResult]:
        """One batch: decode per video, then one forward pass per (model, vocabulary, NMS threshold) group."""
        self.batch_sizes[len(jobs)] += 1
        log.info("detection batch of %d frame jobs", len(jobs))
        results: list[FrameResult | None] = [None] * len(jobs)
        frames = self._decode(jobs, results)
        groups: dict[tuple, list[int]] = collections.defaultdict(list)
        for i, job in enumerate(jobs):
            if results[i] is None:
                groups[(job.model, tuple(job.vocabulary), job.nms_threshold)].append(i)
        for (model, vocabulary, _), indices in groups.items():
            self._detect_group(model, list(vocabulary), [jobs[i] for i in indices], [frames[i] for i in indices],
                               indices, results)
        return results  # type: ignore[return-value]

    def _decode(self, jobs: list[FrameJob], results: list) -> list:
        """One batch decode per video for all of its frames in this batch; failures answer only their jobs."""
        frames: list = [None] * len(jobs)
        by_video: dict[str, list[int]] = collections.defaultdict(list)
        for i, job in enumerate(jobs):
            by_video[job.video_path].append(i)
        for path, indices in by_video.items():
            try:
                video = self.videos.open(path)
                indices = self._valid_frames(video.info, jobs, indices, results)
                decoded = video.get_frames([jobs[i].frame_number for i in indices]) if indices else []
            except (ServiceError, OSError) as exc:
                error = exc if isinstance(exc, ServiceError) else ServiceError(f"video {path} could not be read: {exc}")
                for i in indices:
                    results[i] = FrameResult(frame_number=jobs[i].frame_number, error=error.to_dict())
                continue
            for i, frame in zip(indices, decoded):
                frames[i] = frame
        return frames

    @staticmethod
    def _valid_frames(info, jobs: list[FrameJob], indices: list[int], results: list) -> list[int]:
        """Jobs whose frame lies outside the video get their own 400; the others of the same video still run."""
        valid = []
        for i in indices:
            try:
                info.check_frames([jobs[i].frame_number])
                valid.append(i)
            except ServiceError as exc:
                results[i] = FrameResult(frame_number=jobs[i].frame_number, error=exc.to_dict())
        return valid

    def _detect_group(self, model: str, vocabulary: list[str], jobs: list[FrameJob], frames: list,
                      indices: list[int], results: list) -> None:
        from runners.detection.backends.base import DetectSettings, finalize

        def job_settings(job: FrameJob) -> DetectSettings:
            return DetectSettings(job.confidence_threshold, job.nms_threshold, job.class_thresholds,
                                  job.max_detections)


        # One forward pass per group at the group's lowest threshold and largest cap; each job filters its own.
        shared = DetectSettings(confidence_threshold=min(job_settings(j).lowest_threshold for j in jobs),
                                nms_threshold=jobs[0].nms_threshold,
                                max_detections=max(j.max_detections for j in jobs))
        metrics.batch_size(self.runner_name, model, len(jobs))
        try:
            with self.pool.use(model) as detector:
                detections = detector.detect(frames, vocabulary, shared)
        except Exception as exc:  # noqa: BLE001 — one group's failure must not fail the other requests in the batch
            if not isinstance(exc, ServiceError):
                log.exception("detection with %s failed", model)
                exc = ServiceError(f"detection with {model} failed: {type(exc).__name__}")
            for i, job in zip(indices, jobs):
                results[i] = FrameResult(frame_number=job.frame_number, error=exc.to_dict())
            return
        for i, job, frame, found in zip(indices, jobs, frames, detections):
            height, width = frame.shape[:2]
            objects = finalize(found, vocabulary, job_settings(job), width=width, height=height, labels=job.labels)
            results[i] = FrameResult(frame_number=job.frame_number, objects=objects)
        metrics.frames_processed("detection", len(jobs))
