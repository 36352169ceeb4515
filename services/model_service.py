"""ModelService: the public HTTP API (`bentoml serve services.model_service:ModelService`).

It validates requests, applies the media policy, reads video metadata, and hands the model work to the runner
services (separate processes, called asynchronously so BentoML's adaptive batching can merge concurrent requests).
It never imports torch: the service is ready in seconds and models load on first use in the runners.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from contextlib import suppress
from typing import Any

import aiohttp
import anyio
import bentoml
from bentoml.exceptions import BentoMLException
from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sse_starlette import EventSourceResponse

from runners.core.config import ServiceConfig, get_config
from runners.core.device import format_bytes
from runners.core.errors import (
    BadRequest,
    RunnerUnavailable,
    ServiceError,
)
from runners.core.runner import watch_client
from runners.detection.service import DetectionRunner
from runners.language.service import LanguageRunner
from runners.tracking.service import (
    TrackingRunner,
)
from services.auth import ApiKeyMiddleware
from services.errors import ErrorEnvelopeMiddleware, error_response, pydantic_message
from services.exports import Exported, export
from services.jobs.api import Jobs, open_store
from services.jobs.worker import JobWorker
from services.openapi import serve_published_contract
from services.previews import preview
from services.schemas import (
    AugmentRequest,
    AugmentResponse,
    DetectRequest,
    DetectResponse,
    ExportFormat,
    ExportRequest,
    ExportVideo,
    HealthResponse,
    JobList,
    JobResponse,
    JobStatus,
    JobSubmit,
    JobTask,
    LoadResponse,
    ModelDescription,
    ModelRequest,
    ModelsInfoResponse,
    RenderRequest,
    SummarizeRequest,
    SummarizeResponse,
    TrackRequest,
    TrackResponse,
    UnloadResponse,
)
from services.tasks import Tasks, ask
from services.traffic import TrafficLimitMiddleware

log = logging.getLogger(__name__)
CONFIG = get_config()  # read at import: an invalid configuration stops `bentoml serve` with the bad key named
open_store(CONFIG).close()  # so does a job store it cannot read (the file is named, nothing deleted)

# The runner service that serves each task.
RUNNER_OF_TASK = {"object_detection": "detection", "video_tracking": "tracking", "video_summarization": "language",
                  "ontology_augmentation": "language"}

RUNNER_BUSY_STATUSES = (429, 503, 504)  # a runner's own traffic limits, as BentoML's client raises them

http = FastAPI(title="video model service")


def service_errors(endpoint):
    """Our errors become their status with the envelope; anything else is a 500 the middleware words.

    A runner that dies mid-request (killed, out of memory) drops its connection, and one that is being restarted
    refuses it: both are a 503 that says to retry, not a 500. The request body was validated before the endpoint ran,
    so a pydantic error raised inside it is our bug (a reply that breaks the contract): BentoML would answer it with
    400, which would blame the client."""
    @functools.wraps(endpoint)
    async def wrapper(*args, **kwargs):
        try:
            return await endpoint(*args, **kwargs)
        except ServiceError as exc:
            return reply_with(exc, kwargs.get("ctx"))
        except (aiohttp.ClientError, ConnectionError) as exc:
            log.warning("a runner stopped answering: %s: %s", type(exc).__name__, exc)
            error = RunnerUnavailable("the model runner serving this request stopped answering (its process died or "
                                      "is restarting; BentoML restarts it): retry in a few seconds, and see GET "
                                      "/health", reason=type(exc).__name__)
            return reply_with(error, kwargs.get("ctx"))
        except BentoMLException as exc:
            if int(exc.error_code) not in RUNNER_BUSY_STATUSES:
                raise
            return reply_with(RunnerUnavailable(f"a model runner is busy ({int(exc.error_code)}): retry shortly",
                                                reason=str(exc)[:200]), kwargs.get("ctx"))
        except ValidationError as exc:
            log.exception("response broke the API contract")
            raise RuntimeError(f"response validation failed: {exc.error_count()} errors") from None
    return wrapper


# A file: XML and CSV bytes, and JSON of any shape (COCO is an object, Label Studio's tasks an array). XML is listed
# first so that generated clients, which read a response by its first type, hand back the bytes of every format
# (clients/openapi-python-client.yaml reads XML as bytes).
EXPORT_TYPES: dict[str, Any] = {"application/xml": {"schema": {"type": "string", "format": "binary"}},
                                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                                "application/json": {"schema": {}}}


PREVIEW_TYPES: dict[str, Any] = {"video/mp4": {"schema": {"type": "string", "format": "binary"}},
                                 "image/png": {"schema": {"type": "string", "format": "binary"}}}


def file_response(exported: Exported) -> Response:
    return Response(exported.body, media_type=exported.content_type,
                    headers={"Content-Disposition": exported.content_disposition})


def reply_with(error: ServiceError, ctx: bentoml.Context | None):
    if ctx is not None:  # BentoML gives a reply the context's status when the endpoint takes a context
        ctx.response.status_code = error.status
    return error_response(error)


@bentoml.service(
    name="video-model-service",
    # BentoML's own limits answer outside our middlewares, without the envelope: services/traffic.py enforces
    # server.max_concurrency and server.request_timeout_s, and BentoML's timeout only backs it up.
    traffic={"timeout": CONFIG.server.request_timeout_s + 60},
    http={"cors": {"enabled": True, "access_control_allow_origins": ["*"],
                   "access_control_allow_methods": ["GET", "POST", "DELETE"], "access_control_allow_headers": ["*"]}},
)
@bentoml.asgi_app(http, path="/")
class ModelService:
    detector = bentoml.depends(DetectionRunner)
    tracker = bentoml.depends(TrackingRunner)
    language = bentoml.depends(LanguageRunner)

    worker = bentoml.depends(JobWorker)  # runs the jobs; depended on so that `bentoml serve` starts it

    def __init__(self) -> None:
        self.config: ServiceConfig = get_config()
        self.tasks = Tasks(self.config, self.detector, self.tracker, self.language)
        self.store = open_store(self.config)
        self.jobs = Jobs(self.store, self.tasks, self.config.jobs)

    # -- helpers -----------------------------------------------------------------------------------------------------
    def runners(self) -> dict[str, Any]:
        return {"detection": self.detector, "tracking": self.tracker, "language": self.language}

    def runner_for(self, task: str):
        return self.runners()[RUNNER_OF_TASK[task]]

    # -- health and models -------------------------------------------------------------------------------------------
    async def runner_statuses(self) -> tuple[dict[str, dict], bool]:
        names = list(self.runners())

        async def one(name: str):
            try:
                return (await asyncio.wait_for(self.runners()[name].to_async.status(), timeout=10)).model_dump()
            except Exception as exc:  # noqa: BLE001 — an unreachable runner is reported, not raised
                return {"status": "unreachable", "error": f"{type(exc).__name__}: {exc}"[:300]}

        statuses = dict(zip(names, await asyncio.gather(*(one(n) for n in names))))
        healthy = all(s.get("status") != "unreachable" for s in statuses.values())
        return statuses, healthy

    @http.get("/health", response_model=HealthResponse, operation_id="health")
    async def health(self) -> HealthResponse:
        statuses, healthy = await self.runner_statuses()
        loaded = sorted({m for s in statuses.values() for m in s.get("loaded_models", [])})
        devices = {d for s in statuses.values() if (d := s.get("device"))}
        allocated = [s["gpu_memory_allocated"] for s in statuses.values() if s.get("gpu_memory_allocated") is not None]
        reserved = [s["gpu_memory_reserved"] for s in statuses.values() if s.get("gpu_memory_reserved") is not None]
        return HealthResponse(
            status="healthy" if healthy else "degraded", models_loaded=loaded,
            device=device_kind(devices), gpu_memory_allocated=format_bytes(sum(allocated)) if allocated else None,
            gpu_memory_reserved=format_bytes(sum(reserved)) if reserved else None,
            runners=statuses, jobs=await anyio.to_thread.run_sync(self.job_counts),
        )

    def job_counts(self) -> dict[str, Any]:
        return {"queued": self.store.queue_length(), "by_task": self.store.counts()}

    @http.get("/models/info", response_model=ModelsInfoResponse, operation_id="models_info")
    async def models_info(self) -> ModelsInfoResponse:
        statuses, _ = await self.runner_statuses()
        loaded = sorted({m for s in statuses.values() for m in s.get("loaded_models", [])})
        devices = {d for s in statuses.values() if (d := s.get("device"))}
        serving = {name: model for s in statuses.values() for name, model in s.get("models", {}).items()}
        models = {}
        for task, task_config in self.config.models.items():
            for name, option in task_config.options.items():
                now = serving.get(name, {})  # a loaded language model: the engine that serves it (after fallback)
                models[name] = ModelDescription(
                    task=task, model_id=option.model_id, framework=option.framework,
                    engine=now.get("engine", option.framework), engines_passed_over=now.get("passed_over"),
                    quantization=option.quantization, vram_gb=option.estimated_vram_gb, loaded=name in loaded,
                    description=option.description, weights=option.weights, serves_as=option.serves_as,
                )
        return ModelsInfoResponse(
            available_models={task: sorted(c.options) for task, c in self.config.models.items()},
            selected_models={task: c.selected for task, c in self.config.models.items()},
            loaded_models=loaded, models=models,
            device=device_kind(devices),
        )

    @bentoml.api(route="/models/load")
    @service_errors
    async def load(self, request: ModelRequest, /) -> LoadResponse:
        runner = self.runner_for(self.tasks.task_of(request.model_id))
        info = await ask(runner.to_async.load_model(request.model_id))
        return LoadResponse(model_id=request.model_id, status="loaded", device=info.device,
                            load_seconds=info.load_seconds, memory_bytes=info.memory_bytes)

    @bentoml.api(route="/models/unload")
    @service_errors
    async def unload(self, request: ModelRequest, /) -> UnloadResponse:
        task = self.tasks.task_of(request.model_id)
        self.tasks.forget_detector(request.model_id)
        result = await ask(self.runner_for(task).to_async.unload_model(request.model_id))
        return UnloadResponse(model_id=request.model_id, status=result.status,
                              memory_freed_bytes=result.memory_freed_bytes)

    # -- tasks ---------------------------------------------------------------------------------------------------
    @bentoml.api(route="/api/detect")
    @service_errors
    async def detect(self, request: DetectRequest, /) -> DetectResponse:
        return await self.tasks.run_detect(request, await self.tasks.check_detect(request))

    @bentoml.api(route="/api/track")
    @service_errors
    async def track(self, request: TrackRequest, /, ctx: bentoml.Context) -> TrackResponse:
        job = await self.tasks.check_track(request)
        return await self.tasks.run_track(request, job, guard=lambda work: until_disconnected(ctx, work))

    @bentoml.api(route="/api/summarize")
    @service_errors
    async def summarize(self, request: SummarizeRequest, /, ctx: bentoml.Context) -> SummarizeResponse:
        job = await self.tasks.check_summarize(request)
        return await self.tasks.run_summarize(request, job, guard=lambda work: until_disconnected(ctx, work))

    @bentoml.api(route="/api/augment")
    @service_errors
    async def augment(self, request: AugmentRequest, /, ctx: bentoml.Context) -> AugmentResponse:
        job = await self.tasks.check_augment(request)
        return await self.tasks.run_augment(job, guard=lambda work: until_disconnected(ctx, work))

    # -- jobs ------------------------------------------------------------------------------------------------------
    @http.post("/api/jobs", status_code=202, response_model=JobResponse, operation_id="submit_job",
               responses={200: {"model": JobResponse, "description": "the job an earlier submit with this "
                                                                     "Idempotency-Key made"}})
    @service_errors
    async def submit_job(self, body: JobSubmit, idempotency_key: str | None = Header(default=None)):
        """Queue a task's request as a job: 202 with the job, refused at once for whatever its synchronous route
        would refuse."""
        job, created = await self.jobs.submit(body, idempotency_key)
        if created:
            with suppress(Exception):  # the worker also polls: a wake-up lost costs at most its poll interval
                await self.worker.to_async.wake()
            return job
        return JSONResponse(job.model_dump(mode="json"), status_code=200)

    @http.post("/api/export", operation_id="export_result",
               responses={200: {"description": "the file, named in Content-Disposition", "content": EXPORT_TYPES}},
               response_class=Response)
    @service_errors
    async def export_result(self, body: ExportRequest):
        """A detect or track result as the file an annotation tool imports: coco, coco-video (TAO), mot, cvat (CVAT
        for video 1.1) or labelstudio (video rectangles)."""
        video = body.video
        if video is None:
            if isinstance(body.result, TrackResponse):
                raise BadRequest("video is needed to export a track result (width, height, fps, frame_count)",
                                 field="video")
            try:
                video = ExportVideo(**body.result.video.model_dump())
            except ValidationError as exc:
                message, field = pydantic_message(exc.errors())
                raise BadRequest(f"result.video: {message}; give video", field=f"result.video.{field}") from None
        return file_response(await anyio.to_thread.run_sync(export, body.format, body.result, video))

    @http.post("/api/render", operation_id="render_result", response_class=Response,
               responses={200: {"description": "the preview, named in Content-Disposition",
                                "content": PREVIEW_TYPES}})
    @service_errors
    async def render_result(self, body: RenderRequest):
        """A picture of a detect or track result over its video: an MP4 with the boxes, ids, labels and masks drawn
        (one colour per track; interpolated boxes by their corners), or a PNG contact sheet of chosen frames."""
        return file_response(await preview(self.tasks, body.result, body.video_path, body.video_id, body.format,
                                           body.frame_numbers, body.max_side))

    @http.get("/api/jobs", response_model=JobList, operation_id="list_jobs")
    @service_errors
    async def list_jobs(self, status: JobStatus | None = None, task: JobTask | None = None,
                        limit: int = Query(default=50, ge=1, le=500), cursor: str | None = None):
        """Jobs, newest first; `next_cursor` fetches the next page."""
        return await self.jobs.list(status, task, limit, cursor)

    @http.get("/api/jobs/{job_id}", response_model=JobResponse, operation_id="get_job")
    @service_errors
    async def get_job(self, job_id: str):
        return await self.jobs.get(job_id)

    @http.delete("/api/jobs/{job_id}", response_model=JobResponse, operation_id="cancel_job")
    @service_errors
    async def cancel_job(self, job_id: str):
        """Cancel a queued job at once, or a running one within one chunk, batch or token."""
        return await self.jobs.cancel(job_id)

    @http.get("/api/jobs/{job_id}/result", operation_id="job_result",
              responses={200: {"description": "exactly the body the task's synchronous route answers; with format, "
                                              "that result as the format's file (as POST /api/export answers)",
                               "content": EXPORT_TYPES}}, response_class=Response)
    @service_errors
    async def job_result(self, job_id: str, format: ExportFormat | None = None):
        """A succeeded job's result; 409 before it succeeded, 410 once removed after the retention period. With
        `format` (detect and track jobs), the file an annotation tool imports."""
        if format is not None:
            return file_response(await self.jobs.exported(job_id, format))
        return Response(await self.jobs.result(job_id), media_type="application/json")

    @http.get("/api/jobs/{job_id}/preview.mp4", operation_id="job_preview", response_class=Response,
              responses={200: {"description": "the job's result drawn over its video, as POST /api/render draws it",
                               "content": {"video/mp4": PREVIEW_TYPES["video/mp4"]}}})
    @service_errors
    async def job_preview(self, job_id: str):
        """A detect or track job's result as an MP4 preview (at most 3000 frames: POST /api/render shows a longer
        result a range at a time)."""
        result, request = await self.jobs.result_and_request(job_id)
        return file_response(await preview(self.tasks, result, request.video_path, request.video_id))

    @http.get("/api/jobs/{job_id}/events", operation_id="job_events",
              responses={200: {"description": "server-sent events (progress, partial, done), each one's data a JSON "
                                              "object",
                               "content": {"text/event-stream": {"schema": {"type": "object"}}}}})
    @service_errors
    async def job_events(self, job_id: str, last_event_id: str | None = Header(default=None)):
        """The job's events as they happen (`curl -N`): `progress`, `partial` results and a final `done`; with
        Last-Event-ID the stream resumes after that event, and a finished job's stream replays and ends."""
        await self.jobs.job(job_id)  # a 404 before the stream opens
        after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
        return EventSourceResponse(self.jobs.events(job_id, after), ping=15)


def device_kind(devices: set[str]) -> str:
    """What /health and /models/info both report: "cuda" when any runner has a GPU (runners may sit on different
    ones: each runner's own device is in /health's `runners`), else "cpu"."""
    return "cuda" if any(d.startswith("cuda") for d in devices) else "cpu"


async def until_disconnected(ctx: bentoml.Context, work):
    """Await `work`, cancelling it when the client disconnects: the runner call is dropped, and the runner stops."""
    task = asyncio.ensure_future(work)
    return await watch_client(ctx, task, task.cancel)


# The attr-defined ignores: @bentoml.service made ModelService a bentoml.Service, but mypy keeps the class's own type
# (it does not apply what a class decorator returns).
ModelService.add_asgi_middleware(ErrorEnvelopeMiddleware)  # type: ignore[attr-defined]
# added after = runs inside: its 401 gets the envelope and id
ModelService.add_asgi_middleware(ApiKeyMiddleware)  # type: ignore[attr-defined]
ModelService.add_asgi_middleware(TrafficLimitMiddleware,  # type: ignore[attr-defined]
                                 max_concurrency=CONFIG.server.max_concurrency,
                                 timeout_s=CONFIG.server.request_timeout_s)  # inside the key check: no slot for a 401
serve_published_contract(ModelService)  # /docs.json and the Bento's openapi.yaml: services/openapi.py
