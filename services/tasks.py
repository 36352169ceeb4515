"""The four tasks, from a request to the body the API answers, over the three runners.

The public service runs them for its synchronous routes and the job worker for jobs, each with its own runner
handles, so a job's result is exactly what the synchronous route would have answered. Each task is split in two:
`check_*` does everything that can refuse the request before any model work (model name, media policy, the video's
frames), so a job is refused at submit for what the route would refuse; `run_*` does the work.

`guard` wraps each long runner call: the synchronous routes stop it when their client disconnects; the job worker
cancels the awaiting task itself.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio

from runners.core.config import TASKS, ServiceConfig
from runners.core.errors import BadRequest, NotFound, TaskUnavailable
from runners.core.video import VideoCache, VideoInfo
from runners.detection.frames import FrameJob
from runners.language.models import AugmentJob, SummarizeJob
from runners.language.summarize import persona_text
from runners.tracking.follow import DetectorSpec, Prompt, TrackJob, TrackResult, check_prompts
from services.errors import raise_if_error
from services.media import MediaPolicy
from services.schemas import (
    MAX_FRAMES_PER_DETECT,
    AugmentRequest,
    AugmentResponse,
    DetectRequest,
    DetectResponse,
    FrameDetections,
    PostValidation,
    SummarizeRequest,
    SummarizeResponse,
    TrackRequest,
    TrackResponse,
    VideoMeta,
    split_prompt,
)

T = TypeVar("T")
DETECT_CHUNK = 32  # frames a detect job sends the runner at a time (one progress and partial event each)
Guard = Callable[[Awaitable[Any]], Awaitable[Any]]
TASK_TITLES = {"object_detection": "object detection", "video_tracking": "video tracking",
               "video_summarization": "video summarization", "ontology_augmentation": "ontology augmentation"}


async def unguarded(work: Awaitable[T]) -> T:
    return await work


async def ask(call: Awaitable[Any]) -> Any:
    """Await a runner call and raise the error its reply carries: runners answer errors as data, with their status."""
    reply = await call
    raise_if_error(reply.error)
    return reply


@dataclass
class DetectPlan:
    name: str
    path: str
    info: VideoInfo
    frames: list[int]
    vocabulary: list[str]
    labels: list[str] | None


class Tasks:
    """The tasks over one service's runner handles (`detector`, `tracker`, `language`)."""

    def __init__(self, config: ServiceConfig, detector: Any, tracker: Any, language: Any) -> None:
        self.config = config
        self.detector, self.tracker, self.language = detector, tracker, language
        self.media = MediaPolicy(config.media_roots, config.media.extensions)
        self.videos = VideoCache()
        self.detector_models: dict[str, Any] = {}  # name -> ModelInfo of detectors this service has warmed

    # -- shared steps ------------------------------------------------------------------------------------------------
    def model_name(self, task: str, requested: str | None) -> str:
        task_config = self.config.task(task)
        if task_config is None:
            raise TaskUnavailable(f"{TASK_TITLES[task]} has no models configured", task=task)
        name = requested or task_config.selected
        if name not in task_config.options:
            raise BadRequest(f"unknown {TASK_TITLES[task]} model {name!r}; choose one of "
                             f"{', '.join(sorted(task_config.options))}", field="model",
                             allowed=sorted(task_config.options))
        return name

    def task_of(self, model: str) -> str:
        for task in TASKS:
            if self.config.option(task, model) is not None:
                return task
        raise NotFound(f"unknown model {model!r}; see GET /models/info for the configured models", field="model_id")

    async def probe(self, video_path: str | None, video_id: str | None) -> tuple[str, VideoInfo]:
        path = self.media.resolve(video_path, video_id)
        video = await anyio.to_thread.run_sync(self.videos.open, path)
        return str(path), video.info

    async def warm_detector(self, name: str) -> Any:
        """Load the model before its frames are batched, so a load never runs against the batcher's deadline. Its
        info (vocabulary) never changes, so the round trip is made once per model, and again after an unload."""
        info = self.detector_models.get(name)
        if info is None:
            info = await ask(self.detector.to_async.load_model(name))
            self.detector_models[name] = info
        return info

    def forget_detector(self, name: str) -> None:
        self.detector_models.pop(name, None)

    # -- detect ------------------------------------------------------------------------------------------------------
    async def check_detect(self, request: DetectRequest, frame_cap: int | None = MAX_FRAMES_PER_DETECT) -> DetectPlan:
        """Every check of a detect request: model, media, frames, and the classes or phrases against the model's
        vocabulary (which loads the detector, as the route always has)."""
        name = self.model_name("object_detection", request.model)
        path, info = await self.probe(request.video_path, request.video_id)
        if request.frame_numbers is not None:
            frames = list(request.frame_numbers)
            info.check_frames(frames)
        else:
            start, end = frame_range(info, request.frame_range)
            frames = list(range(start, end + 1, request.stride))
        if frame_cap is not None and len(frames) > frame_cap:
            raise BadRequest(f"{len(frames)} frames is more than one request detects on ({frame_cap}): submit it as "
                             f"a job (POST /api/jobs with task detect), or raise stride", field="frame_range",
                             frames=len(frames), limit=frame_cap)
        model = await self.warm_detector(name)
        vocabulary, labels = effective_vocabulary(request, name, model.open_vocabulary, model.vocabulary)
        return DetectPlan(name=name, path=path, info=info, frames=frames, vocabulary=vocabulary, labels=labels)

    async def run_detect(self, request: DetectRequest, plan: DetectPlan,
                         on_frames: Callable[[list[FrameDetections]], Awaitable[None]] | None = None,
                         chunk: int | None = None) -> DetectResponse:
        """Detections on the plan's frames, in its order. With `chunk` (jobs) the frames go to the runner `chunk` at
        a time, and `on_frames` hears each finished chunk (progress, partial results); without it, all at once."""
        started = time.perf_counter()
        await self.warm_detector(plan.name)  # again after an unload since the check
        jobs = [FrameJob(video_path=plan.path, frame_number=n, model=plan.name, vocabulary=plan.vocabulary,
                         labels=plan.labels, confidence_threshold=request.confidence_threshold,
                         nms_threshold=request.nms_threshold, class_thresholds=request.class_thresholds or {},
                         max_detections=request.max_detections)
                for n in plan.frames]
        step = chunk or len(jobs)
        frames: list[FrameDetections] = []
        for first in range(0, len(jobs), step):
            part = jobs[first:first + step]
            size = request.batch_size or len(part)  # the runner merges and splits jobs into batches itself
            replies = await asyncio.gather(*(self.detector.to_async.detect_frames(part[i:i + size])
                                             for i in range(0, len(part), size)))
            results = [r for reply in replies for r in reply]
            for result in results:
                raise_if_error(result.error)
            done = [FrameDetections(frame_number=r.frame_number, timestamp=plan.info.timestamp(r.frame_number),
                                    detection_count=len(r.objects), objects=r.objects) for r in results]
            frames += done
            if on_frames is not None:
                await on_frames(done)
        info = plan.info
        return DetectResponse(
            detections=frames, total_frames=len(frames), total_detections=sum(f.detection_count for f in frames),
            model_used=plan.name, inference_time_ms=round((time.perf_counter() - started) * 1000),
            video=VideoMeta(width=info.width, height=info.height, fps=info.fps, frame_count=info.frame_count),
        )

    # -- track -------------------------------------------------------------------------------------------------------
    async def check_track(self, request: TrackRequest) -> TrackJob:
        """The runner job for `request`, every check done (models by name, media, frames, prompts); loads nothing."""
        name = self.model_name("video_tracking", request.model)
        path, info = await self.probe(request.video_path, request.video_id)
        start, end = frame_range(info, request.frame_range)
        prompts = [Prompt(box=[d.bbox.x, d.bbox.y, d.bbox.x + d.bbox.width, d.bbox.y + d.bbox.height],
                          label=d.label, frame_number=start if d.frame_number is None else d.frame_number)
                   for d in request.initial_detections or []]
        check_prompts(prompts, start, end)
        if self.needs_detector(request, name):
            self.model_name("object_detection", request.detection_model)
        return TrackJob(video_path=path, model=name, start=start, end=end, decimation=request.decimation,
                        prompts=prompts, auto_detect=request.auto_detect, redetect_interval=request.redetect_interval,
                        confidence_threshold=request.confidence_threshold, include_masks=request.include_masks,
                        interpolation=request.interpolation, max_gap_frames=request.max_gap_frames)

    def needs_detector(self, request: TrackRequest, name: str) -> bool:
        """A prompted tracker (the SAM 2 family) needs the detection runner for auto-detection and re-detection."""
        option = self.config.option("video_tracking", name)
        assert option is not None  # model_name checked that the name is one of the task's options
        return option.family != "yolo-seg" and (
            request.initial_detections is None or request.auto_detect or bool(request.redetect_interval))

    async def run_track(self, request: TrackRequest, job: TrackJob, guard: Guard = unguarded,
                        follow: Callable[[TrackJob], Awaitable[TrackResult]] | None = None) -> TrackResponse:
        """The response to `request`; `follow` runs the prepared job instead of the tracking runner's `track` (the
        job worker's chunks and checkpoints)."""
        started = time.perf_counter()
        loaded = await ask(self.tracker.to_async.load_model(job.model))  # a load failure: a 503 before any work
        option = self.config.option("video_tracking", job.model)
        assert option is not None
        if option.family == "yolo-seg":  # it detects by itself: classes filter its own vocabulary
            _, job.labels = effective_vocabulary(request, job.model, False, loaded.vocabulary)
        elif self.needs_detector(request, job.model):
            detector = self.model_name("object_detection", request.detection_model)
            model = await self.warm_detector(detector)
            vocabulary, labels = effective_vocabulary(request, detector, model.open_vocabulary, model.vocabulary)
            job.detector = DetectorSpec(model=detector, vocabulary=vocabulary, labels=labels,
                                        confidence_threshold=request.confidence_threshold)
        result = await (follow(job) if follow else ask(guard(self.tracker.to_async.track(job))))
        return TrackResponse(
            tracks=result.tracks, total_tracks=len(result.tracks), frames_processed=result.frames_processed,
            model_used=job.model, inference_time_ms=round((time.perf_counter() - started) * 1000),
            decimated=request.decimation > 1, decimation_factor=request.decimation,
        )

    # -- summarize ---------------------------------------------------------------------------------------------------
    async def check_summarize(self, request: SummarizeRequest) -> SummarizeJob:
        name = self.model_name("video_summarization", request.model)
        path, info = await self.probe(request.video_path, request.video_id)
        start, end = frame_range(info, request.frame_range)
        persona = persona_text(request.persona_context, request.persona.model_dump() if request.persona else None)
        return SummarizeJob(video_path=path, model=name, start=start, end=end, frame_count=request.frame_count,
                            sampling_strategy=request.sampling_strategy, scene_threshold=request.scene_threshold,
                            complexity_metric=request.complexity_metric, persona=persona,
                            max_new_tokens=request.max_new_tokens, temperature=request.temperature or 0.0)

    async def run_summarize(self, request: SummarizeRequest, job: SummarizeJob,
                            guard: Guard = unguarded) -> SummarizeResponse:
        started = time.perf_counter()
        await ask(self.language.to_async.load_model(job.model))  # a load failure is a 503 before any decoding
        result = await ask(guard(self.language.to_async.summarize(job)))
        return SummarizeResponse(
            id=uuid.uuid4().hex, video_id=request.video_id or Path(job.video_path).stem, persona_id=request.persona_id,
            summary=result.summary, visual_analysis=result.visual_analysis, key_frames=result.key_frames,
            confidence=result.confidence, visual_model_used=job.model, engine=result.engine,
            processing_time_visual=round(time.perf_counter() - started, 3), sampled_frames=result.sampled_frames,
            sampling_strategy=request.sampling_strategy, persona_applied=result.persona_applied,
            tokens_generated=result.tokens_generated,
        )

    # -- augment -----------------------------------------------------------------------------------------------------
    async def check_augment(self, request: AugmentRequest) -> AugmentJob:
        name = self.model_name("ontology_augmentation", request.model)
        return AugmentJob(model=name, persona_name=request.persona_name,
                          existing=request.existing_ontology.model_dump(), domain_context=request.domain_context,
                          task_description=request.task_description,
                          max_suggestions_per_type=request.max_suggestions_per_type, temperature=request.temperature,
                          include_definitions=request.include_definitions, include_examples=request.include_examples,
                          max_new_tokens=request.max_new_tokens)

    async def run_augment(self, job: AugmentJob, guard: Guard = unguarded) -> AugmentResponse:
        started = time.perf_counter()
        await ask(self.language.to_async.load_model(job.model))  # a load failure is a 503 before any work
        result = await ask(guard(self.language.to_async.augment(job)))
        return AugmentResponse(
            suggestions=result.suggestions, model_used=job.model, engine=result.engine,
            inference_time_ms=round((time.perf_counter() - started) * 1000), tokens_generated=result.tokens_generated,
            total_suggestions=result.total_suggestions,
            post_validation=PostValidation(dropped=result.dropped, repaired=result.repaired, removed=result.removed),
        )


def frame_range(info: VideoInfo, requested) -> tuple[int, int]:
    """A request's inclusive frame range: the whole video when none is given; `start` must lie in the video (400),
    an `end` past the last frame is clamped to it."""
    if requested is None:
        return 0, info.frame_count - 1
    info.check_frames([requested.start], field="frame_range.start")
    return requested.start, min(requested.end, info.frame_count - 1)


def effective_vocabulary(request: DetectRequest | TrackRequest, name: str, open_vocabulary: bool,
                         default: list[str]) -> tuple[list[str], list[str] | None]:
    """(vocabulary that class_id indexes, labels to keep). `classes` -> exactly those labels; `text_prompt` ->
    its phrases; neither, or `auto_detect` -> the model's default vocabulary (COCO's 80 names). (A track request's
    `auto_detect` means "detect on the first frame", which may name its classes.)"""
    if isinstance(request, DetectRequest) and request.auto_detect and (request.classes or request.text_prompt):
        raise BadRequest("auto_detect uses the model's default vocabulary: drop classes/text_prompt or auto_detect",
                         field="auto_detect")
    if open_vocabulary:
        if request.classes:
            return request.classes, None
        if request.text_prompt:
            return split_prompt(request.text_prompt), None
        return default, None
    if request.text_prompt:
        raise BadRequest(f"{name} has a fixed vocabulary and takes no text_prompt; use classes from: "
                         f"{', '.join(default[:100])}", field="text_prompt", vocabulary=default)
    if request.classes:
        unknown = [c for c in request.classes if c not in default]
        if unknown:
            raise BadRequest(f"{name} cannot detect {', '.join(unknown)}; its classes are: {', '.join(default[:100])}",
                             field="classes", unknown=unknown, vocabulary=default)
        return default, request.classes
    return default, None
