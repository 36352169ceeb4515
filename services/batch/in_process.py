"""The tasks in this process, without a service: what a Ray actor of `vms batch --engine ray` runs, and the raw loop
the benchmark compares it with.

The runners' model classes (`FrameDetector`, `ObjectTracker`, `LanguageModels`: BentoML-free, models loaded on first
use) stand behind handles shaped like BentoML's (`handle.to_async.method(...)`), so `services/tasks.py` runs over
them exactly as the service runs it over HTTP: the same checks, the same work, the same response, the same export.
A video's file is what the job's `GET /api/jobs/{id}/result[?format=]` would have answered.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio

from runners.core.config import ServiceConfig
from runners.detection.frames import FrameDetector
from runners.language.models import LanguageModels
from runners.tracking.follow import ObjectTracker
from services.exports import export, video_of
from services.jobs.api import parse_request
from services.media import MediaPolicy
from services.tasks import DETECT_CHUNK, Tasks


class Handle:
    """A runner handle in this process: `handle.to_async.name(*args)` runs `methods[name](*args)` in a worker thread,
    as a BentoML handle runs it in the runner's process."""

    def __init__(self, **methods: Callable[..., Any]) -> None:
        self.to_async = SimpleNamespace(**{name: in_thread(method) for name, method in methods.items()})


def in_thread(method: Callable[..., Any]) -> Callable[..., Any]:
    async def call(*args: Any) -> Any:
        return await anyio.to_thread.run_sync(method, *args)
    return call


@dataclass
class Output:
    body: bytes  # the file: the response as JSON, or its export
    frames: int  # frames the task worked on (detected, tracked, sampled)


class InProcessTasks:
    """The four tasks over models held by this process. `media_roots` are where its videos may be (a batch's
    manifest names them: the person running it chose them)."""

    def __init__(self, config: ServiceConfig, media_roots: Sequence[Path]) -> None:
        self.detection = FrameDetector()
        self.tracking = ObjectTracker(self.detection.detect_frames_now)
        self.language = LanguageModels()
        never = threading.Event()  # nobody hangs up on a call in this process
        self.tasks = Tasks(
            config,
            Handle(load_model=self.detection.load_reply, detect_frames=self.detection.detect_frames_now),
            Handle(load_model=self.tracking.load_reply, track=lambda job: self.tracking.run_job(job, never)),
            Handle(load_model=self.language.load_reply, summarize=self.language.summarize_now,
                   augment=self.language.augment_now))
        self.tasks.media = MediaPolicy(media_roots, config.media.extensions)

    def run(self, task: str, request: dict[str, Any], format: str = "json") -> Output:
        """The task's file for one request; a `ServiceError` with the status the service would have answered."""
        return asyncio.run(self.answer(task, request, format))

    async def answer(self, task: str, body: dict[str, Any], format: str) -> Output:
        tasks = self.tasks
        request: Any = parse_request(task, body)
        response: Any
        if task == "detect":  # in the job worker's chunks, so that the detector sees the same batches
            response = await tasks.run_detect(request, await tasks.check_detect(request, frame_cap=None),
                                              chunk=DETECT_CHUNK)
            frames = response.total_frames
        elif task == "track":
            response = await tasks.run_track(request, await tasks.check_track(request))
            frames = response.frames_processed
        elif task == "summarize":
            response = await tasks.run_summarize(request, await tasks.check_summarize(request))
            frames = len(response.sampled_frames)
        else:
            response, frames = await tasks.run_augment(await tasks.check_augment(request)), 0
        if format == "json":
            return Output(response.model_dump_json().encode(), frames)
        path, info = await tasks.probe(request.video_path, request.video_id)
        exported = await anyio.to_thread.run_sync(export, format, response, video_of(path, info))
        return Output(exported.body, frames)

    def close(self) -> None:
        for models in (self.tracking, self.detection, self.language):
            models.unload_all()
