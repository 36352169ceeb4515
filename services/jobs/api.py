"""What the job routes do: submit (refused for what the synchronous route would refuse), read, list, cancel, the
result, and the event stream. The routes themselves are methods of the public service (services/model_service.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, ValidationError

from runners.core.config import ConfigError, JobsConfig, ServiceConfig
from runners.core.errors import BadRequest, Conflict, Gone, NotFound, TooManyRequests
from services.errors import pydantic_message
from services.exports import Exported, check_format, export, video_of
from services.jobs.store import (
    FINAL,
    CorruptStore,
    Job,
    JobStore,
    NewerSchema,
    QueueFull,
    ResultExpired,
    ResultNotReady,
    SQLiteJobStore,
)
from services.schemas import (
    AugmentRequest,
    DetectRequest,
    DetectResponse,
    ErrorResponse,
    JobList,
    JobProgress,
    JobResponse,
    JobSubmit,
    SummarizeRequest,
    TrackRequest,
    TrackResponse,
)
from services.tasks import Tasks

REQUESTS: dict[str, type[BaseModel]] = {"detect": DetectRequest, "track": TrackRequest,
                                        "summarize": SummarizeRequest, "augment": AugmentRequest}
RESULTS: dict[str, type[DetectResponse] | type[TrackResponse]] = {"detect": DetectResponse, "track": TrackResponse}
RUNNER_OF = {"detect": "detection", "track": "tracking", "summarize": "language", "augment": "language"}
EVENT_POLL_S = 0.1  # how often an open event stream looks for new events
QUEUE_FULL_RETRY_S = 30


def open_store(config: ServiceConfig) -> SQLiteJobStore:
    """The job store of `config`; a file it cannot read stops the service with a message naming it (nothing is
    deleted)."""
    try:
        return SQLiteJobStore(config.state_dir)
    except (CorruptStore, NewerSchema) as exc:
        raise ConfigError(str(exc)) from None


def parse_request(task: str, body: dict[str, Any]) -> BaseModel:
    """The task's request model, or a 400 naming the field under `request`."""
    try:
        return REQUESTS[task].model_validate(body)
    except ValidationError as exc:
        message, field = pydantic_message(exc.errors(include_url=False))
        raise BadRequest(f"request.{message}" if field else f"request: {message}",
                         field=f"request.{field}" if field else "request") from None


async def check(tasks: Tasks, task: str, request: Any) -> None:
    """Every check the synchronous route makes before any model work (a detect job has no frame cap)."""
    if task == "detect":
        await tasks.check_detect(request, frame_cap=None)
    elif task == "track":
        await tasks.check_track(request)
    elif task == "summarize":
        await tasks.check_summarize(request)
    else:
        await tasks.check_augment(request)


def _time(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def describe(job: Job, now: float | None = None) -> JobResponse:
    progress = job.progress
    fraction = progress.done / progress.total if progress.total else None
    eta = None
    if fraction and job.status == "running" and job.started_at is not None and progress.total:
        elapsed = (now or time.time()) - job.started_at
        eta = round(elapsed / progress.done * (progress.total - progress.done), 1)
    error = ErrorResponse(error=job.error.get("error", "Error"), message=job.error.get("message", ""),
                          details=job.error.get("details") or {}, status=job.error.get("status")) if job.error else None
    created = _time(job.created_at)
    assert created is not None
    return JobResponse(
        job_id=job.job_id, task=job.task,  # type: ignore[arg-type]  # the store keeps what submit validated
        status=job.status, attempts=job.attempts, created_at=created, started_at=_time(job.started_at),
        finished_at=_time(job.finished_at), cancel_requested=job.cancel_requested, error=error, request=job.request,
        progress=JobProgress(done=progress.done, total=progress.total, unit=progress.unit,
                             fraction=None if fraction is None else round(fraction, 4), eta_s=eta),
    )


class Jobs:
    """The job routes' work over one store; `tasks` does the submit-time checks."""

    def __init__(self, store: JobStore, tasks: Tasks, config: JobsConfig) -> None:
        self.store, self.tasks, self.config = store, tasks, config

    async def submit(self, body: JobSubmit, idempotency_key: str | None) -> tuple[JobResponse, bool]:
        if idempotency_key is not None and len(idempotency_key) > 200:
            raise BadRequest("Idempotency-Key is longer than 200 characters", field="Idempotency-Key")
        request = parse_request(body.task, body.request)
        await check(self.tasks, body.task, request)
        try:
            job, created = await to_thread.run_sync(
                lambda: self.store.submit(body.task, RUNNER_OF[body.task], request.model_dump(mode="json"),
                                          idempotency_key=idempotency_key, max_queued=self.config.max_queued))
        except QueueFull as exc:
            raise TooManyRequests(f"{exc.queued} jobs are queued, the most this service holds ({exc.limit}): retry "
                                  f"later", queued=exc.queued, limit=exc.limit,
                                  retry_after_s=QUEUE_FULL_RETRY_S) from None
        return describe(job), created

    async def job(self, job_id: str) -> Job:
        job = await to_thread.run_sync(self.store.get, job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}; see GET /api/jobs", field="job_id")
        return job

    async def get(self, job_id: str) -> JobResponse:
        return describe(await self.job(job_id))

    async def list(self, status: str | None, task: str | None, limit: int, cursor: str | None) -> JobList:
        try:
            jobs, next_cursor = await to_thread.run_sync(
                lambda: self.store.list(status=status, task=task, limit=limit, cursor=cursor))
        except ValueError as exc:  # a cursor this store did not hand out
            raise BadRequest(str(exc), field="cursor") from None
        return JobList(jobs=[describe(j) for j in jobs], next_cursor=next_cursor)

    async def cancel(self, job_id: str) -> JobResponse:
        job = await to_thread.run_sync(self.store.cancel, job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}; see GET /api/jobs", field="job_id")
        return describe(job)

    async def result(self, job_id: str) -> bytes:
        try:
            return await to_thread.run_sync(self.store.result, job_id)
        except KeyError:
            raise NotFound(f"no job {job_id!r}; see GET /api/jobs", field="job_id") from None
        except ResultNotReady as exc:
            raise Conflict(f"job {job_id} is {exc.status}: its result exists once it has succeeded; follow GET "
                           f"/api/jobs/{job_id}/events or poll GET /api/jobs/{job_id}", status=exc.status) from None
        except ResultExpired:
            raise Gone(f"the result of job {job_id} was removed after the retention period "
                       f"({self.config.retention_hours:g} h)", retention_hours=self.config.retention_hours) from None

    async def result_and_request(self, job_id: str, what: str = "a preview") -> tuple[Any, Any]:
        """A detect or track job's result and request, parsed (400 for the other tasks, which have no boxes)."""
        job = await self.job(job_id)
        if job.task not in RESULTS:
            raise BadRequest(f"{what} is made of detect and track results; job {job_id} is a {job.task} job",
                             field="job_id")
        result = RESULTS[job.task].model_validate_json(await self.result(job_id))
        return result, REQUESTS[job.task].model_validate(job.request)

    async def exported(self, job_id: str, format: str) -> Exported:
        """A detect or track job's result as `format`, the video's size and timing read from the video it names."""
        check_format(format)
        result, request = await self.result_and_request(job_id, what="an export")
        path, info = await self.tasks.probe(request.video_path, request.video_id)
        return await to_thread.run_sync(export, format, result, video_of(path, info))

    async def events(self, job_id: str, last_event_id: int) -> AsyncIterator[dict[str, Any]]:
        """The job's events after `last_event_id`, as server-sent events, until its `done` event: a job that has
        finished replays and ends."""
        after = last_event_id
        while True:
            events = await to_thread.run_sync(self.store.events, job_id, after)
            for event_id, kind, data in events:
                after = event_id
                yield {"id": str(event_id), "event": kind, "data": json.dumps(data)}
                if kind == "done":
                    return
            if not events:
                job = await self.job(job_id)
                if job.status in FINAL and not await to_thread.run_sync(self.store.events, job_id, after):
                    # finished without a worker's done event (cancelled while queued, failed at claim)
                    yield {"id": str(after + 1), "event": "done", "data": json.dumps(done_event(job))}
                    return
                await asyncio.sleep(EVENT_POLL_S)


def done_event(job: Job) -> dict[str, Any]:
    return {"status": job.status, "error": job.error}
