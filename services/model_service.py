"""ModelService: the public HTTP API (`bentoml serve services.model_service:ModelService`).

It validates requests, applies the media policy, reads video metadata, and hands the model work to the runner
services (separate processes, called asynchronously so BentoML's adaptive batching can merge concurrent requests).
It never imports torch: the service is ready in seconds and models load on first use in the runners.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import bentoml
from bentoml.exceptions import BentoMLException
from fastapi import FastAPI
from pydantic import ValidationError

from runners.core.config import TASKS, ServiceConfig, get_config
from runners.core.device import format_bytes
from runners.core.errors import (
    BadRequest,
    NotFound,
    RunnerUnavailable,
    ServiceError,
    TaskUnavailable,
)
from runners.core.runner import watch_client
from runners.core.video import VideoCache, VideoInfo
from runners.detection.service import DetectionRunner, FrameJob
from runners.language.service import AugmentJob, LanguageRunner, SummarizeJob
from runners.language.summarize import persona_text
from runners.tracking.service import (
    DetectorSpec,
    Prompt,
    TrackingRunner,
    TrackJob,
    check_prompts,
)
from services.auth import ApiKeyMiddleware
from services.errors import ErrorEnvelopeMiddleware, error_response, raise_if_error
from services.media import MediaPolicy
from services.openapi import serve_published_contract
from services.schemas import (
    AugmentRequest,
    AugmentResponse,
    DetectRequest,
    DetectResponse,
    FrameDetections,
    HealthResponse,
    LoadResponse,
    ModelDescription,
    ModelRequest,
    ModelsInfoResponse,
    PostValidation,
    SummarizeRequest,
    SummarizeResponse,
    TrackRequest,
    TrackResponse,
    UnloadResponse,
    VideoMeta,
    split_prompt,
)
from services.traffic import TrafficLimitMiddleware

log = logging.getLogger(__name__)
CONFIG = get_config()  # read at import: an invalid configuration stops `bentoml serve` with the bad key named

# The runner service that serves each task.
RUNNER_OF_TASK = {"object_detection": "detection", "video_tracking": "tracking", "video_summarization": "language",
                  "ontology_augmentation": "language"}
TASK_TITLES = {"object_detection": "object detection", "video_tracking": "video tracking",
               "video_summarization": "video summarization", "ontology_augmentation": "ontology augmentation"}

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
                   "access_control_allow_methods": ["GET", "POST"], "access_control_allow_headers": ["*"]}},
)
@bentoml.asgi_app(http, path="/")
class ModelService:
    detector = bentoml.depends(DetectionRunner)
    tracker = bentoml.depends(TrackingRunner)
    language = bentoml.depends(LanguageRunner)

    def __init__(self) -> None:
        self.config: ServiceConfig = get_config()
        self.media = MediaPolicy(self.config.media_roots, self.config.media.extensions)
        self.videos = VideoCache()
        self.detector_models: dict[str, Any] = {}  # name -> ModelInfo of detectors this service has warmed

    # -- helpers -----------------------------------------------------------------------------------------------------
    def runners(self) -> dict[str, Any]:
        return {"detection": self.detector, "tracking": self.tracker, "language": self.language}

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

    def runner_for(self, task: str):
        return self.runners()[RUNNER_OF_TASK[task]]

    async def warm_detector(self, name: str):
        """Load the model before its frames are batched, so a load never runs against the batcher's deadline. Its
        info (vocabulary) never changes, so the round trip is made once per model, and again after an unload."""
        info = self.detector_models.get(name)
        if info is None:
            info = await ask(self.detector.to_async.load_model(name))
            self.detector_models[name] = info
        return info

    async def probe(self, video_path: str | None, video_id: str | None) -> tuple[str, VideoInfo]:
        path = self.media.resolve(video_path, video_id)
        video = await anyio.to_thread.run_sync(self.videos.open, path)
        return str(path), video.info

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
            device="cuda" if any(d.startswith("cuda") for d in devices) else "cpu",
            gpu_memory_allocated=format_bytes(sum(allocated)) if allocated else None,
            gpu_memory_reserved=format_bytes(sum(reserved)) if reserved else None,
            runners=statuses,
        )

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
            device="cuda:0" if any(d.startswith("cuda") for d in devices) else "cpu",
        )

    @bentoml.api(route="/models/load")
    @service_errors
    async def load(self, request: ModelRequest, /) -> LoadResponse:
        runner = self.runner_for(self.task_of(request.model_id))
        info = await ask(runner.to_async.load_model(request.model_id))
        return LoadResponse(model_id=request.model_id, status="loaded", device=info.device,
                            load_seconds=info.load_seconds, memory_bytes=info.memory_bytes)

    @bentoml.api(route="/models/unload")
    @service_errors
    async def unload(self, request: ModelRequest, /) -> UnloadResponse:
        task = self.task_of(request.model_id)
        self.detector_models.pop(request.model_id, None)
        result = await ask(self.runner_for(task).to_async.unload_model(request.model_id))
        return UnloadResponse(model_id=request.model_id, status=result.status,
                              memory_freed_bytes=result.memory_freed_bytes)

    # -- tasks ---------------------------------------------------------------------------------------------------
    @bentoml.api(route="/api/detect")
    @service_errors
    async def detect(self, request: DetectRequest, /) -> DetectResponse:
        started = time.perf_counter()
        name = self.model_name("object_detection", request.model)
        path, info = await self.probe(request.video_path, request.video_id)
        info.check_frames(request.frame_numbers)
        model = await self.warm_detector(name)
        vocabulary, labels = effective_vocabulary(request, name, model.open_vocabulary, model.vocabulary)

        jobs = [FrameJob(video_path=path, frame_number=n, model=name, vocabulary=vocabulary, labels=labels,
                         confidence_threshold=request.confidence_threshold, nms_threshold=request.nms_threshold,
                         class_thresholds=request.class_thresholds or {}, max_detections=request.max_detections)
                for n in request.frame_numbers]
        chunk = request.batch_size or len(jobs)  # the runner merges and splits jobs into batches itself
        replies = await asyncio.gather(*(self.detector.to_async.detect_frames(jobs[i:i + chunk])
                                         for i in range(0, len(jobs), chunk)))
        results = [r for reply in replies for r in reply]
        for result in results:
            raise_if_error(result.error)

        frames = [FrameDetections(frame_number=r.frame_number, timestamp=info.timestamp(r.frame_number),
                                  detection_count=len(r.objects), objects=r.objects) for r in results]
        return DetectResponse(
            detections=frames, total_frames=len(frames), total_detections=sum(f.detection_count for f in frames),
            model_used=name, inference_time_ms=round((time.perf_counter() - started) * 1000),
            video=VideoMeta(width=info.width, height=info.height, fps=info.fps, frame_count=info.frame_count),
        )

    @bentoml.api(route="/api/track")
    @service_errors
    async def track(self, request: TrackRequest, /, ctx: bentoml.Context) -> TrackResponse:
        started = time.perf_counter()
        name = self.model_name("video_tracking", request.model)
        option = self.config.option("video_tracking", name)
        assert option is not None  # model_name checked that the name is one of the task's options
        path, info = await self.probe(request.video_path, request.video_id)
        start, end = frame_range(info, request.frame_range)
        prompts = [Prompt(box=[d.bbox.x, d.bbox.y, d.bbox.x + d.bbox.width, d.bbox.y + d.bbox.height],
                          label=d.label, frame_number=start if d.frame_number is None else d.frame_number)
                   for d in request.initial_detections or []]
        check_prompts(prompts, start, end)

        loaded = await ask(self.tracker.to_async.load_model(name))  # a load failure: a 503 before any work starts
        job = TrackJob(video_path=path, model=name, start=start, end=end, decimation=request.decimation,
                       prompts=prompts, auto_detect=request.auto_detect, redetect_interval=request.redetect_interval,
                       confidence_threshold=request.confidence_threshold, include_masks=request.include_masks,
                       interpolation=request.interpolation, max_gap_frames=request.max_gap_frames)
        if option.family == "yolo-seg":  # it detects by itself: classes filter its own vocabulary
            _, job.labels = effective_vocabulary(request, name, False, loaded.vocabulary)
        elif request.initial_detections is None or request.auto_detect or request.redetect_interval:
            detector = self.model_name("object_detection", request.detection_model)
            model = await self.warm_detector(detector)
            vocabulary, labels = effective_vocabulary(request, detector, model.open_vocabulary, model.vocabulary)
            job.detector = DetectorSpec(model=detector, vocabulary=vocabulary, labels=labels,
                                        confidence_threshold=request.confidence_threshold)

        result = await ask(until_disconnected(ctx, self.tracker.to_async.track(job)))
        return TrackResponse(
            tracks=result.tracks, total_tracks=len(result.tracks), frames_processed=result.frames_processed,
            model_used=name, inference_time_ms=round((time.perf_counter() - started) * 1000),
            decimated=request.decimation > 1, decimation_factor=request.decimation,
        )

    @bentoml.api(route="/api/summarize")
    @service_errors
    async def summarize(self, request: SummarizeRequest, /, ctx: bentoml.Context) -> SummarizeResponse:
        started = time.perf_counter()
        name = self.model_name("video_summarization", request.model)
        path, info = await self.probe(request.video_path, request.video_id)
        start, end = frame_range(info, request.frame_range)
        await ask(self.language.to_async.load_model(name))  # a load failure is a 503 before any decoding
        persona = persona_text(request.persona_context, request.persona.model_dump() if request.persona else None)
        job = SummarizeJob(video_path=path, model=name, start=start, end=end, frame_count=request.frame_count,
                           sampling_strategy=request.sampling_strategy, scene_threshold=request.scene_threshold,
                           complexity_metric=request.complexity_metric, persona=persona,
                           max_new_tokens=request.max_new_tokens, temperature=request.temperature or 0.0)
        result = await ask(until_disconnected(ctx, self.language.to_async.summarize(job)))
        return SummarizeResponse(
            id=uuid.uuid4().hex, video_id=request.video_id or Path(path).stem, persona_id=request.persona_id,
            summary=result.summary, visual_analysis=result.visual_analysis, key_frames=result.key_frames,
            confidence=result.confidence, visual_model_used=name, engine=result.engine,
            processing_time_visual=round(time.perf_counter() - started, 3), sampled_frames=result.sampled_frames,
            sampling_strategy=request.sampling_strategy, persona_applied=result.persona_applied,
            tokens_generated=result.tokens_generated,
        )

    @bentoml.api(route="/api/augment")
    @service_errors
    async def augment(self, request: AugmentRequest, /, ctx: bentoml.Context) -> AugmentResponse:
        started = time.perf_counter()
        name = self.model_name("ontology_augmentation", request.model)
        await ask(self.language.to_async.load_model(name))  # a load failure is a 503 before any work
        job = AugmentJob(model=name, persona_name=request.persona_name,
                         existing=request.existing_ontology.model_dump(), domain_context=request.domain_context,
                         task_description=request.task_description,
                         max_suggestions_per_type=request.max_suggestions_per_type, temperature=request.temperature,
                         include_definitions=request.include_definitions, include_examples=request.include_examples,
                         max_new_tokens=request.max_new_tokens)
        result = await ask(until_disconnected(ctx, self.language.to_async.augment(job)))
        return AugmentResponse(
            suggestions=result.suggestions, model_used=name, engine=result.engine,
            inference_time_ms=round((time.perf_counter() - started) * 1000), tokens_generated=result.tokens_generated,
            total_suggestions=result.total_suggestions,
            post_validation=PostValidation(dropped=result.dropped, repaired=result.repaired, removed=result.removed),
        )


async def ask(call):
    """Await a runner call and raise the error its reply carries: runners answer errors as data, with their status."""
    reply = await call
    raise_if_error(reply.error)
    return reply


def frame_range(info: VideoInfo, requested) -> tuple[int, int]:
    """A request's inclusive frame range: the whole video when none is given; `start` must lie in the video (400),
    an `end` past the last frame is clamped to it."""
    if requested is None:
        return 0, info.frame_count - 1
    info.check_frames([requested.start], field="frame_range.start")
    return requested.start, min(requested.end, info.frame_count - 1)


async def until_disconnected(ctx: bentoml.Context, work):
    """Await `work`, cancelling it when the client disconnects: the runner call is dropped, and the runner stops."""
    task = asyncio.ensure_future(work)
    return await watch_client(ctx, task, task.cancel)


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


# The attr-defined ignores: @bentoml.service made ModelService a bentoml.Service, but mypy keeps the class's own type
# (it does not apply what a class decorator returns).
ModelService.add_asgi_middleware(ErrorEnvelopeMiddleware)  # type: ignore[attr-defined]
# added after = runs inside: its 401 gets the envelope and id
ModelService.add_asgi_middleware(ApiKeyMiddleware)  # type: ignore[attr-defined]
ModelService.add_asgi_middleware(TrafficLimitMiddleware,  # type: ignore[attr-defined]
                                 max_concurrency=CONFIG.server.max_concurrency,
                                 timeout_s=CONFIG.server.request_timeout_s)  # inside the key check: no slot for a 401
serve_published_contract(ModelService)  # /docs.json and the Bento's openapi.yaml: services/openapi.py
