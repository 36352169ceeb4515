"""TrackingRunner: follows objects through a frame range with one of the configured trackers, over HTTP.

The tracking itself is `ObjectTracker`'s (runners/tracking/follow.py): a job is tracked a chunk at a time, each chunk
bringing its observations and the state a new session needs to go on after it. `track` answers a job's tracks at
once; `track_chunks` streams its chunks to the job worker, which checkpoints each and, after a crash, sends the last
state back to go on from there. Auto-detection and re-detection ask the detection runner.

A job runs in a worker thread that checks a cancel flag before each frame: a client that disconnects stops the work,
and `status` (which /health reads) answers from the event loop while frames are being tracked.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncGenerator

import anyio
import bentoml

from runners.core.runner import RunnerAPIs, run_until_disconnected, service_options
from runners.detection.frames import FrameJob, FrameResult
from runners.detection.service import DetectionRunner
from runners.tracking.follow import (
    SYNC_CHUNK_FRAMES,
    FollowState,
    ObjectTracker,
    TrackJob,
    TrackResult,
    tracking_settings,
)

log = logging.getLogger(__name__)

SETTINGS = tracking_settings()


@bentoml.service(**service_options("tracking-runner", SETTINGS))
class TrackingRunner(RunnerAPIs, ObjectTracker):
    detector = bentoml.depends(DetectionRunner)

    def __init__(self) -> None:
        super().__init__(self.detect_on_runner)
        self.stops: dict[str, threading.Event] = {}  # streamed jobs' cancel flags, by job id (see `stop`)

    def detect_on_runner(self, jobs: list[FrameJob]) -> list[FrameResult]:
        return anyio.from_thread.run(self.detector.to_async.detect_frames, jobs)

    @bentoml.api
    async def track(self, job: TrackJob, ctx: bentoml.Context) -> TrackResult:
        """One tracking job, stopped when the caller disconnects."""
        return await run_until_disconnected(ctx, lambda cancel: self.run_job(job, cancel))

    @bentoml.api
    async def track_chunks(self, job: TrackJob, resume: FollowState | None = None,
                           chunk_frames: int = SYNC_CHUNK_FRAMES) -> AsyncGenerator[str, None]:
        """The job as a stream of chunks, one JSON `TrackChunk` a line, from `resume` (a state an earlier stream
        sent) or from its start; the job worker checkpoints each. `stop(job.job_id)` stops it: a streaming
        response is not told when its caller hangs up."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        cancel = threading.Event()
        job_id = job.job_id = job.job_id or uuid.uuid4().hex[:12]
        self.stops[job_id] = cancel

        def work() -> None:
            try:
                for chunk in self.chunks_or_error(job, cancel, resume, chunk_frames):
                    loop.call_soon_threadsafe(lines.put_nowait, chunk.model_dump_json() + "\n")
            finally:
                loop.call_soon_threadsafe(lines.put_nowait, None)

        worker = asyncio.ensure_future(anyio.to_thread.run_sync(work))  # noqa: F841 — ends by itself, see `finally`
        try:
            while (line := await lines.get()) is not None:
                yield line
        finally:
            cancel.set()  # the stream was closed: the thread stops before its next frame
            self.stops.pop(job_id, None)

    @bentoml.api
    async def stop(self, job_id: str) -> bool:
        """Stop a streamed job before its next frame; False when no such job is streaming."""
        cancel = self.stops.get(job_id)
        if cancel is not None:
            log.info("job %s: stopping (asked by its caller)", job_id)
            cancel.set()
        return cancel is not None

    @bentoml.on_shutdown
    def shutdown(self) -> None:
        self.unload_all()
