"""JobWorker: runs queued jobs, outside the request path (`bentoml serve` starts it with the public service).

It claims the oldest queued job its runner has room for (`jobs.max_running`), holds it with a lease it renews, and
runs it with the same code as the synchronous routes (services/tasks.py), over its own handles to the three runners.
Progress and partial results go to the store as events; the result is the body the route would have answered. A
job whose lease runs out (this process died, the machine was restarted) is claimed again, by this worker after a
restart or by another one, up to `jobs.max_attempts` runs.

A track job runs chunk by chunk (`jobs.track_chunk_frames` processed frames, the tracking runner's `track_chunks`
stream): a chunk's observations, the tracker's state after it and the events that report it are one write to the
store, so a job taken again after a crash goes on from its last chunk, its live objects prompted again under their
ids, and a crash costs at most one chunk of work.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress
from typing import Any

import aiohttp
import bentoml
from anyio import to_thread

from runners.core import metrics
from runners.core.config import get_config
from runners.core.errors import RunnerUnavailable, ServiceError
from runners.core.video import VideoInfo
from runners.detection.service import DetectionRunner
from runners.language.service import LanguageRunner
from runners.tracking.follow import FollowState, TrackChunk, TrackJob, TrackResult, new_recorder
from runners.tracking.results import Observed, confidence_of, to_bbox
from runners.tracking.service import TrackingRunner
from services.jobs.api import REQUESTS, done_event
from services.jobs.store import Job, LeaseLost, Progress, SQLiteJobStore, Status
from services.schemas import FrameDetections
from services.tasks import DETECT_CHUNK, Tasks

log = logging.getLogger(__name__)
CONFIG = get_config()
CLAIM_POLL_S = 0.5  # how often an idle worker looks for queued jobs, when no submit or finished job wakes it
EXPIRE_EVERY_S = 600  # how often results past their retention are removed (a quarter of it, when shorter)
RENEW_EVERY_S = 1.0  # how often a running job's lease is renewed, and a cancel noticed (at most a third of the lease)


class StopReason:
    CANCELLED = "cancelled"  # DELETE /api/jobs/{id}
    LEASE_LOST = "lease lost"  # another worker holds it now: this run's writes would be refused


@bentoml.service(name="job-worker", traffic={"timeout": CONFIG.server.request_timeout_s + 60})
class JobWorker:
    detector = bentoml.depends(DetectionRunner)
    tracker = bentoml.depends(TrackingRunner)
    language = bentoml.depends(LanguageRunner)

    def __init__(self) -> None:
        self.config = get_config()
        self.store = SQLiteJobStore(self.config.state_dir)
        self.tasks = Tasks(self.config, self.detector, self.tracker, self.language)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.running: dict[str, asyncio.Task] = {}
        self.stopped: dict[str, str] = {}  # job id -> why its run was stopped
        self._loop: asyncio.Task | None = None
        self._wakeup: asyncio.Event | None = None  # made on the server's loop (on_startup)

    @bentoml.on_startup
    async def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._loop = asyncio.create_task(self.claim_loop())

    @bentoml.on_shutdown
    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
        for task in self.running.values():  # their leases run out: another start takes them again
            task.cancel()

    @bentoml.api
    async def wake(self) -> None:
        """Look for queued jobs now (the public service calls it after a submit) instead of at the next poll."""
        self.wake_up()

    def wake_up(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    @bentoml.api
    async def status(self) -> dict[str, Any]:
        return {"owner": self.owner, "running": sorted(self.running)}

    # -- claiming ------------------------------------------------------------------------------------------------
    async def claim_loop(self) -> None:
        expired_at = 0.0
        while True:
            try:
                while (job := await to_thread.run_sync(self.claim)) is not None:
                    log.info("job %s: claimed (%s, attempt %d)", job.job_id, job.task, job.attempts)
                    self.running[job.job_id] = asyncio.create_task(self.run(job))
                await to_thread.run_sync(self.record_counts)
                if time.monotonic() - expired_at > min(EXPIRE_EVERY_S, self.config.jobs.retention_hours * 900):
                    expired_at = time.monotonic()
                    removed = await to_thread.run_sync(self.store.expire, self.config.jobs.retention_hours * 3600)
                    if removed:
                        log.info("removed the results of %d jobs past their retention", removed)
            except Exception:  # noqa: BLE001 — a store error must not end the loop: the next poll tries again
                log.exception("claiming jobs failed")
            assert self._wakeup is not None  # made before the loop started
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), CLAIM_POLL_S)
            self._wakeup.clear()

    def record_counts(self) -> None:
        metrics.job_counts(self.store.counts(), self.store.queue_length())

    def claim(self) -> Job | None:
        jobs = self.config.jobs
        limits = {str(runner): n for runner, n in jobs.max_running.items()}
        return self.store.claim(self.owner, jobs.lease_s, limits, jobs.max_attempts)

    # -- one job -------------------------------------------------------------------------------------------------
    async def run(self, job: Job) -> None:
        work = asyncio.create_task(self.execute(job))
        lease = asyncio.create_task(self.keep_lease(job, work))
        try:
            body = await work
            await self.finish(job, result=body)
        except asyncio.CancelledError:
            reason = self.stopped.pop(job.job_id, None)
            if reason == StopReason.CANCELLED:
                await self.finish(job, status="cancelled")
            elif reason is None:  # this process is stopping: the lease runs out and the job is taken again
                raise
        except ServiceError as exc:
            await self.finish(job, error=exc.to_dict())
        except (aiohttp.ClientError, ConnectionError) as exc:
            error = RunnerUnavailable("the model runner stopped answering during the job (its process died): submit "
                                      "it again", reason=type(exc).__name__)
            await self.finish(job, error=error.to_dict())
        except Exception as exc:  # noqa: BLE001 — a job fails with the envelope, the worker goes on
            log.exception("job %s failed", job.job_id)
            await self.finish(job, error=ServiceError(f"the job failed unexpectedly ({type(exc).__name__}); "
                                                      f"report it with job id {job.job_id}").to_dict())
        finally:
            lease.cancel()
            self.running.pop(job.job_id, None)
            self.wake_up()  # its slot is free: the next queued job may start now

    async def keep_lease(self, job: Job, work: asyncio.Task) -> None:
        """Renew the lease; stop the work when the job is cancelled or the lease was lost."""
        lease_s = self.config.jobs.lease_s
        while not work.done():
            await asyncio.sleep(min(RENEW_EVERY_S, lease_s / 3))
            try:
                cancel = await to_thread.run_sync(lambda: self.store.renew(job.job_id, self.owner, lease_s))
            except LeaseLost:
                cancel, self.stopped[job.job_id] = True, StopReason.LEASE_LOST
            if cancel:
                self.stopped.setdefault(job.job_id, StopReason.CANCELLED)
                log.info("job %s: stopping (%s)", job.job_id, self.stopped[job.job_id])
                work.cancel()
                return

    async def finish(self, job: Job, result: bytes | None = None, error: dict | None = None,
                     status: Status | None = None) -> None:
        final: Status = status or ("failed" if error else "succeeded")
        try:
            done = await to_thread.run_sync(
                lambda: self.store.finish(job.job_id, self.owner, result=result, error=error, status=final))
        except LeaseLost:
            log.warning("job %s: finished after its lease was lost; the other run's answer stands", job.job_id)
            return
        await self.event(job, "done", done_event(done))
        if done.started_at is not None and done.finished_at is not None:
            metrics.job_finished(job.task, final, done.finished_at - done.started_at)
        log.info("job %s: %s", job.job_id, final)

    async def event(self, job: Job, kind: str, data: dict) -> None:
        await to_thread.run_sync(lambda: self.store.append_event(job.job_id, kind, data))

    async def progress(self, job: Job, done: int, total: int | None, unit: str) -> None:
        await to_thread.run_sync(lambda: self.store.set_progress(job.job_id, self.owner, done, total, unit))
        await self.event(job, "progress", {"done": done, "total": total, "unit": unit})

    # -- the tasks -----------------------------------------------------------------------------------------------
    async def execute(self, job: Job) -> bytes:
        request: Any = REQUESTS[job.task].model_validate(job.request)
        if job.task == "detect":
            response: Any = await self.detect(job, request)
        elif job.task == "track":
            response = await self.track(job, request)
        else:
            await self.progress(job, 0, 1, "answers")
            if job.task == "summarize":
                response = await self.tasks.run_summarize(request, await self.tasks.check_summarize(request))
            else:
                response = await self.tasks.run_augment(await self.tasks.check_augment(request))
            await self.progress(job, 1, 1, "answers")
        return response.model_dump_json().encode()

    async def detect(self, job: Job, request: Any) -> Any:
        plan = await self.tasks.check_detect(request, frame_cap=None)
        total, done = len(plan.frames), 0
        await self.progress(job, 0, total, "frames")

        async def finished(frames: list[FrameDetections]) -> None:  # detect's partials are final answers
            nonlocal done
            done += len(frames)
            await self.event(job, "partial", {"final": True, "frames": [f.model_dump(mode="json") for f in frames]})
            await self.progress(job, done, total, "frames")

        return await self.tasks.run_detect(request, plan, on_frames=finished, chunk=DETECT_CHUNK)

    async def track(self, job: Job, request: Any) -> Any:
        track_job = await self.tasks.check_track(request)
        track_job.job_id = job.job_id  # the tracking runner shows this job's progress under this id
        _, info = await self.tasks.probe(request.video_path, request.video_id)
        return await self.tasks.run_track(request, track_job,
                                          follow=lambda prepared: self.follow_track(job, prepared, info))

    async def follow_track(self, job: Job, track_job: TrackJob, info: VideoInfo) -> TrackResult:
        """The tracking runner's chunks, each checkpointed with its partial and progress events; after a crash, from
        the last checkpoint on (the tracks recorded so far are read back from its parts)."""
        recorder = new_recorder(track_job, info.width, info.height)
        saved = await to_thread.run_sync(self.store.checkpoint, job.job_id)
        resume = None if saved is None else FollowState.model_validate(saved)
        if resume is not None:
            for part in await to_thread.run_sync(self.store.checkpoint_parts, job.job_id):
                for observed in part:
                    recorder.record(Observed.model_validate(observed))
            log.info("job %s: going on from its checkpoint after %d frames", job.job_id, resume.steps_done)
        else:
            await self.progress(job, 0, None, "frames")
        try:
            async with aclosing(self.track_chunks(track_job, resume)) as chunks:
                async for chunk in chunks:
                    if chunk.error:
                        raise ServiceError.from_dict(chunk.error)
                    for observed in chunk.observed:
                        recorder.record(observed)
                    await self.checkpoint(job, chunk)
                    if chunk.last:
                        return TrackResult(tracks=recorder.tracks(), frames_processed=chunk.frames_total)
        except asyncio.CancelledError:  # cancelled, lease lost, or this process stops: so does the runner's work
            with suppress(Exception):  # a runner that died has stopped already
                await self.tracker.to_async.stop(job.job_id)
            raise
        raise RunnerUnavailable("the tracking runner ended the job's stream before its last frame")

    async def track_chunks(self, track_job: TrackJob, resume: FollowState | None) -> AsyncGenerator[TrackChunk]:
        """The runner's stream, a chunk a line (the bytes arrive in pieces of any size)."""
        stream = self.tracker.to_async.track_chunks(track_job, resume, self.config.jobs.track_chunk_frames)
        pending = ""
        async with aclosing(stream):
            async for piece in stream:
                pending += piece.decode() if isinstance(piece, bytes) else piece
                *lines, pending = pending.split("\n")
                for line in lines:
                    yield TrackChunk.model_validate_json(line)

    async def checkpoint(self, job: Job, chunk: TrackChunk) -> None:
        """The chunk's observations and the state after it, with the events that report it, in one write."""
        progress = {"done": chunk.frames_done, "total": chunk.frames_total, "unit": "frames"}
        partial = {"final": False, "chunk": chunk.index, "frames_done": chunk.frames_done,
                   "boxes": [provisional_box(o) for o in chunk.observed]}
        await to_thread.run_sync(lambda: self.store.save_checkpoint(
            job.job_id, self.owner, chunk.state.model_dump(mode="json"),
            part=[o.model_dump(mode="json") for o in chunk.observed],
            progress=Progress(chunk.frames_done, chunk.frames_total, "frames"),
            events=[("partial", partial), ("progress", progress)]))


def provisional_box(observed: Observed) -> dict[str, Any]:
    """A box of a track job's `partial` event, as the result will show it: `object_id` is the tracker's id before
    tracklet linking (the result may join it to an earlier track) and gaps are not filled yet."""
    return {"object_id": observed.object_id, "label": observed.label, "frame_number": observed.frame_number,
            "bbox": to_bbox(observed.box).model_dump(), "confidence": confidence_of(observed.score)}
