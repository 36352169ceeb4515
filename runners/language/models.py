"""The vision-language and text models, behind one chat interface, for video summarization and ontology
augmentation, BentoML-free: `LanguageModels` answers summarize and augment jobs in this process (a Ray actor, a
test); the language runner service (runners/language/service.py) serves it over HTTP.

Each model is served by one engine (runners/language/engines/):
- `sglang` / `vllm`: an engine process in its own virtual environment, started on the model's first use and stopped
  when it is unloaded (the only reliable way to give its GPU memory back), reached through the OpenAI API;
- `transformers`: in this process, on the runner's device;
- `openai`: an endpoint that is already running (a shared SGLang/vLLM deployment), at `base_url`.
A model configured for an engine that is not installed here, or that needs a GPU this machine lacks, falls back
along sglang -> vllm -> transformers; the load reply, `/models/info` and every answer say which engine served and
why the others were passed over.

A model listed under both tasks with the same checkpoint (gemma-3-27b and gemma-3-27b-text) is loaded once: the pool
holds it under the first name it is configured under, and both names report it loaded.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

from runners.core import metrics
from runners.core.config import (
    EngineRuntime,
    ModelOption,
    ProcessEngine,
    RunnerConfig,
    ServiceConfig,
    default_engines,
)
from runners.core.errors import BadRequest, Cancelled, ModelUnavailable
from runners.core.models import ModelInfo, PooledModels, RunnerStatus, UnloadResult, runner_settings
from runners.core.video import VideoCache
from runners.language import registry
from runners.language.engines.chat import (
    ChatEngine,
    ChatRequest,
    ChatResult,
    InvalidAnswer,
)

if TYPE_CHECKING:
    from runners.language.engines.process import EngineProcess

log = logging.getLogger(__name__)

Engine = Literal["sglang", "vllm", "transformers", "openai"]

TASKS = ("video_summarization", "ontology_augmentation")
FALLBACKS: dict[str, tuple[Engine, ...]] = {
    "sglang": ("sglang", "vllm", "transformers"), "vllm": ("vllm", "transformers"), "transformers": ("transformers",),
    "openai": ("openai",)}
# The engines' own names for the config's quantization (a pre-quantized AWQ/GPTQ checkpoint: set engine.quantization)
ENGINE_QUANTIZATION = {"4bit": "bitsandbytes", "8bit": "bitsandbytes", "fp8": "fp8"}
DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
ENGINE_EXIT_WAIT_S = 2.0  # after a dropped connection: time for the engine's death to show, so the 503 can say so
DEFAULT_MAX_NEW_TOKENS = 1024  # a summary
DEFAULT_MAX_NEW_TOKENS_AUGMENT = 4096  # up to 4 x 10 suggestions with definitions and examples


@dataclass
class LanguageModel:
    """A loaded model: the engine serving it, its engine process if it has one, and why other engines were not
    used."""
    name: str
    option: ModelOption
    engine: ChatEngine
    vision: bool
    process: EngineProcess | None = None  # its engine is then an OpenAIEngine, at the process's URL
    passed_over: list[str] = field(default_factory=list)
    context_length: int | None = None

    @property
    def engine_name(self) -> str:
        return self.engine.name

    def chat(self, request: ChatRequest) -> ChatResult:
        if request.cancelled is not None and request.cancelled():
            raise Cancelled()
        if self.process is None:
            return self.engine.chat(request)
        engine = self.running_engine()  # a failed (re)start raises its own 503, with the engine's log
        try:
            return engine.chat(request)
        except ModelUnavailable:
            if not self.process.stopped_within(ENGINE_EXIT_WAIT_S):
                raise
            raise ModelUnavailable(f"the {self.engine_name} engine serving {self.name} stopped during this request; "
                                   f"the next request restarts it: {self.process.log_tail(500)}", model=self.name,
                                   engine=self.engine_name) from None

    def running_engine(self) -> ChatEngine:
        """The engine, its process started again if it died since the last request. A job asks for it before it
        counts its prompt: a dead engine counts nothing, and the prompt would go out unbudgeted."""
        if self.process is not None:
            from runners.language.engines.openai_engine import OpenAIEngine

            url = self.process.ensure_running()
            engine = self.engine
            assert isinstance(engine, OpenAIEngine)  # start_engine pairs an engine process with an OpenAIEngine
            if url != engine.base_url:  # a restarted engine listens on a new port
                engine.close()
                self.engine = type(engine)(engine.name, url, engine.model)
        return self.engine

    def chat_json(self, request: ChatRequest, schema_that_fits: Callable[[int], dict] | None = None) -> ChatResult:
        """A schema-valid answer, asking twice, then a 503 with the reason. An answer cut at max_new_tokens is asked
        again under `schema_that_fits(max_new_tokens)`, whose length limits make it fit; any other invalid answer
        (a sampled one can go wrong once) is asked again as it was."""
        try:
            return self.chat(request)
        except InvalidAnswer as exc:
            if exc.cut and schema_that_fits is not None:
                request = dataclasses.replace(request, json_schema=schema_that_fits(request.max_new_tokens))
        try:
            return self.chat(request)
        except InvalidAnswer as exc:
            raise ModelUnavailable(f"{self.name} gave no valid answer in two tries: {exc}", model=self.name,
                                   engine=self.engine_name) from None

    def close(self) -> None:
        self.engine.close()
        if self.process is not None:
            self.process.stop()


def language_model_names(config: ServiceConfig) -> list[str]:
    return [name for task in TASKS if (task_config := config.task(task)) for name in task_config.options]


def language_option(config: ServiceConfig, name: str) -> ModelOption | None:
    return next((o for task in TASKS if (o := config.option(task, name)) is not None), None)


def load_holder(config: ServiceConfig, name: str) -> str:
    """The name the pool keeps `name`'s load under: the first configured name with the same checkpoint and engine
    (gemma-3-27b-text -> gemma-3-27b)."""
    option = language_option(config, name)
    if option is None:
        return name
    same = (option.model_id, option.framework, option.quantization, option.base_url)
    for other in language_model_names(config):
        candidate = language_option(config, other)
        if candidate is not None and (candidate.model_id, candidate.framework, candidate.quantization,
                                      candidate.base_url) == same:
            return other
    return name


def engine_log_dir(config: ServiceConfig) -> Path:
    """Engine processes' output, for the reasons in load errors (next to the weights cache)."""
    return config.weights_dir.parent / "engine-logs"


def engine_runtime(config: ServiceConfig, engine: ProcessEngine) -> EngineRuntime:
    runtime = config.inference.engines.get(engine) or default_engines()[engine]  # a config naming only the other
    return runtime.model_copy(update={"python": config.resolve_local(runtime.python)})


def why_not(engine: Engine, config: ServiceConfig, device: str) -> str | None:
    """Why `engine` cannot serve here, or None when it can."""
    if engine not in ("sglang", "vllm"):
        return None
    runtime = engine_runtime(config, engine)
    if not os.path.exists(runtime.python):
        return f"not installed (no interpreter at {runtime.python}; see scripts/install_engines.sh)"
    if runtime.device == "cuda" and not device.startswith("cuda"):
        return "needs a GPU and this runner has none"
    return None


def load_language_model(name: str, option: ModelOption, config: ServiceConfig, device: str) -> LanguageModel:
    passed_over = []
    for engine in FALLBACKS[option.framework]:
        reason = why_not(engine, config, device)
        if reason is not None:
            passed_over.append(f"{engine}: {reason}")
            continue
        if passed_over:
            log.warning("%s falls back to %s (%s)", name, engine, "; ".join(passed_over))
        model = start_engine(engine, name, option, config, device)
        model.passed_over = passed_over
        limits = [n for n in (option.engine.max_model_len, model.engine.context_length()) if n]
        model.context_length = min(limits) if limits else None
        return model
    raise ModelUnavailable(f"no engine can serve {name} here: {'; '.join(passed_over)}", model=name)


def start_engine(engine: Engine, name: str, option: ModelOption, config: ServiceConfig, device: str) -> LanguageModel:
    vision = registry.FAMILIES[option.family]
    model_id = config.resolve_local(option.model_id)
    if engine == "transformers":
        from runners.language.engines.transformers_engine import TransformersEngine

        dtype = option.engine.dtype if option.engine.dtype != "auto" else DTYPES.get(option.quantization, "auto")
        # a pre-quantized checkpoint (AWQ, GPTQ: engine.quantization) carries its scheme in its own config
        quantization = "none" if option.engine.quantization else option.quantization
        return LanguageModel(name, option, TransformersEngine(name, model_id, device, vision=vision,
                                                              quantization=quantization, dtype=dtype), vision)
    from runners.language.engines.openai_engine import OpenAIEngine

    if engine == "openai":
        if option.base_url is None:  # ModelOption's validation requires it for framework openai
            raise ModelUnavailable(f"{name} is served by framework openai, which needs base_url", model=name)
        return LanguageModel(name, option, OpenAIEngine("openai", option.base_url, option.model_id,
                                                        api_key_env=option.api_key_env), vision)
    from runners.language.engines.process import (
        EngineProcess,
        EngineSettings,
        launch_command,
    )

    runtime = engine_runtime(config, engine)
    checkpoint, model_args = option.engine.checkpoint(engine, option.model_id)
    model_id = config.resolve_local(checkpoint)
    settings = EngineSettings(
        tensor_parallel_size=option.engine.tensor_parallel_size, memory_fraction=option.engine.memory_fraction,
        max_model_len=option.engine.max_model_len, max_images_per_prompt=option.engine.max_images_per_prompt,
        quantization=option.engine.quantization or ENGINE_QUANTIZATION.get(option.quantization),
        dtype=option.engine.dtype if option.engine.dtype != "auto" else DTYPES.get(option.quantization, "auto"),
        extra_args=[*runtime.extra_args, *model_args], env=dict(runtime.env))
    log_path = engine_log_dir(config) / f"{name}-{engine}.log"
    process = EngineProcess(engine, lambda port: launch_command(engine, runtime.python, model_id, port, settings),
                            log_path, ready_timeout_s=runtime.ready_timeout_s, env=settings.env)
    url = process.ensure_running()
    return LanguageModel(name, option, OpenAIEngine(engine, url, model_id), vision, process=process)


# -- the jobs the service sends ----------------------------------------------------------------------------------
class SummarizeJob(BaseModel):
    video_path: str
    model: str
    start: int
    end: int
    frame_count: int = 8
    sampling_strategy: str = "uniform"
    scene_threshold: float = 30.0
    complexity_metric: str = "gradient"
    persona: str | None = Field(default=None, description="the analyst, as the prompt describes them")
    max_new_tokens: int | None = None
    temperature: float = 0.0


class SummaryResult(BaseModel):
    summary: str = ""
    visual_analysis: str = ""
    key_frames: list[dict[str, Any]] = Field(default_factory=list)
    confidence: float | None = None
    persona_applied: bool = False  # the persona is in the prompt the engine was sent
    engine: str = ""
    tokens_generated: int | None = None
    sampled_frames: list[int] = Field(default_factory=list)
    seconds: float = 0.0
    error: dict[str, Any] | None = None


class AugmentJob(BaseModel):
    model: str
    persona_name: str
    existing: dict[str, list[str] | None]
    domain_context: str | None = None
    task_description: str | None = None
    max_suggestions_per_type: int = 10
    temperature: float = 0.7
    include_definitions: bool = True
    include_examples: bool = True
    max_new_tokens: int | None = None


class AugmentResult(BaseModel):
    suggestions: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    total_suggestions: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)
    repaired: dict[str, int] = Field(default_factory=dict)
    removed: dict[str, int] = Field(default_factory=dict)
    engine: str = ""
    tokens_generated: int | None = None
    error: dict[str, Any] | None = None


class Job(Protocol):
    """What answering a job needs of it (SummarizeJob, AugmentJob): the model it asks for."""
    model: str


JobT = TypeVar("JobT", bound=Job)
ResultT = TypeVar("ResultT", bound=BaseModel)


class LanguageModelInfo(ModelInfo):
    engine: str | None = None
    passed_over: list[str] = Field(default_factory=list, description="engines not used, and why")
    context_length: int | None = None
    vision: bool | None = None


def language_settings() -> RunnerConfig:
    return runner_settings("language", dict.fromkeys(TASKS, registry.FAMILIES))


class LanguageModels(PooledModels):
    task_title = "language model"
    runner_name = "language"

    def __init__(self) -> None:
        super().__init__(TASKS[0], language_settings())
        self.videos = VideoCache()

    # -- which name holds a load -----------------------------------------------------------------------------
    def option(self, name: str) -> ModelOption | None:
        return language_option(self.config, name)

    def holder(self, name: str) -> str:
        return load_holder(self.config, name)

    def sharing(self, holder: str) -> list[str]:
        return [n for n in language_model_names(self.config) if load_holder(self.config, n) == holder]

    def _estimate_bytes(self, name: str) -> int:
        """An engine process or a remote endpoint holds the weights outside this runner: nothing to budget here."""
        option = self.option(name)
        if option is not None and any(why_not(engine, self.config, self.pool.device) is None
                                      for engine in FALLBACKS[option.framework] if engine != "transformers"):
            return 0
        return super()._estimate_bytes(name)

    def build(self, name: str, option: ModelOption, device: str) -> LanguageModel:
        return load_language_model(name, option, self.config, device)

    def describe(self, name: str, entry, model: LanguageModel) -> LanguageModelInfo:
        info = super().describe(name, entry, model)
        return LanguageModelInfo(**info.model_dump(), engine=model.engine_name, passed_over=model.passed_over,
                                 context_length=model.context_length, vision=model.vision)

    def load_reply(self, name: str) -> LanguageModelInfo:
        info = super().load_reply(self.holder(name))
        reply = info if isinstance(info, LanguageModelInfo) else LanguageModelInfo(**info.model_dump())
        reply.name = name
        return reply

    def unload_reply(self, name: str) -> UnloadResult:
        reply = super().unload_reply(self.holder(name))
        reply.model_id = name
        return reply

    def status_reply(self) -> RunnerStatus:
        status = super().status_reply()
        if self._pool is None:
            return status
        models = {}
        for holder, entry_status in status.models.items():
            model = self._pool.peek(holder)
            extra = {} if model is None else {
                "engine": model.engine_name, "passed_over": model.passed_over,
                **({"engine_restarts": model.process.restarts} if model.process is not None else {})}
            for name in self.sharing(holder):
                models[name] = {**entry_status, **extra, "loaded_as": holder}
        status.models = models
        status.loaded_models = sorted(n for h in status.loaded_models for n in self.sharing(h))
        return status

    def _summarize(self, job: SummarizeJob, cancel: threading.Event) -> SummaryResult:
        from runners.language.prompt_budget import fit_prompt
        from runners.language.sampling import sample_frames
        from runners.language.summarize import (
            build_request,
            persona_in_prompt,
            read_answer,
            summary_schema,
        )

        started = time.perf_counter()
        with self.pool.use(self.holder(job.model)) as model:
            if not model.vision:
                raise BadRequest(f"{job.model} is a text model and cannot see frames: choose a vision-language model",
                                 field="model", model=job.model)
            video = self.videos.open(job.video_path)
            numbers = sample_frames(video, job.start, job.end, job.frame_count, job.sampling_strategy,
                                    job.scene_threshold, job.complexity_metric)
            timestamps = [video.info.timestamp(n) for n in numbers]
            frames = video.get_frames(numbers)  # only the chosen frames are decoded at full size
            max_new_tokens = job.max_new_tokens or model.option.max_new_tokens or DEFAULT_MAX_NEW_TOKENS
            request = fit_prompt(
                # (called with no images too: the prompt's text alone, to tell how many frames would fit)
                lambda images: build_request(images, numbers[:len(images)], timestamps[:len(images)], job.persona,
                                             max_new_tokens, job.temperature),
                frames, model.running_engine(), model=job.model, max_side=model.option.max_image_side,
                max_new_tokens=max_new_tokens, context_length=model.context_length)
            request.cancelled = cancel.is_set
            result = model.chat_json(request, lambda tokens: summary_schema(len(numbers), tokens))
            metrics.frames_processed("summarization", len(numbers))
        answer = read_answer(result, numbers, timestamps)
        # checked on the request as budgeted and sent (a retry changes only its schema), not on the job
        applied = persona_in_prompt(request, job.persona)
        return SummaryResult(**answer, persona_applied=applied, engine=result.engine,
                             tokens_generated=result.tokens_generated, sampled_frames=numbers,
                             seconds=time.perf_counter() - started)

    def _augment(self, job: AugmentJob, cancel: threading.Event) -> AugmentResult:
        from runners.language.augment import (
            augment_schema,
            build_request,
            empty_answer_tokens,
            read_answer,
        )
        from runners.language.prompt_budget import fit_answer

        with self.pool.use(self.holder(job.model)) as model:
            max_new_tokens = job.max_new_tokens or model.option.max_new_tokens or DEFAULT_MAX_NEW_TOKENS_AUGMENT
            request = build_request(job.persona_name, job.existing, domain_context=job.domain_context,
                                    task_description=job.task_description, max_per_type=job.max_suggestions_per_type,
                                    temperature=job.temperature, include_definitions=job.include_definitions,
                                    include_examples=job.include_examples, max_new_tokens=max_new_tokens)
            request = fit_answer(request, model.running_engine(), model=job.model, context_length=model.context_length,
                                 requested=job.max_new_tokens is not None)
            if request.max_new_tokens < empty_answer_tokens():  # a default lowered to the room the prompt leaves
                raise BadRequest(f"the prompt leaves {request.max_new_tokens} of {job.model}'s context tokens for "
                                 f"the answer, and even an empty one can take {empty_answer_tokens()}: shorten the "
                                 f"request (existing names, context)", field="existing_ontology")
            request.cancelled = cancel.is_set
            result = model.chat_json(request, lambda tokens: augment_schema(
                job.max_suggestions_per_type, job.include_definitions, job.include_examples, tokens))
            try:
                answer = read_answer(result, job.existing, job.max_suggestions_per_type)
            except InvalidAnswer:  # schema-valid JSON, but nothing usable in it: one more try, as for bad JSON
                result = model.chat(request)
                answer = read_answer(result, job.existing, job.max_suggestions_per_type)
        return AugmentResult(**answer, engine=result.engine, tokens_generated=result.tokens_generated)

    def summarize_now(self, job: SummarizeJob, cancel: threading.Event | None = None) -> SummaryResult:
        return self.answer_or_error(self._summarize, job, cancel or threading.Event(), SummaryResult)

    def augment_now(self, job: AugmentJob, cancel: threading.Event | None = None) -> AugmentResult:
        return self.answer_or_error(self._augment, job, cancel or threading.Event(), AugmentResult)

    def answer_or_error(self, work: Callable[[JobT, threading.Event], ResultT], job: JobT, cancel: threading.Event,
                        result_class: type[ResultT]) -> ResultT:
        """`work(job, cancel)`, or `result_class(error=...)`: errors cross the process boundary as data, with their
        status."""
        def answer() -> ResultT:
            try:
                return work(job, cancel)
            except InvalidAnswer as exc:
                raise ModelUnavailable(f"{job.model} gave no usable answer: {exc}", model=job.model) from None

        return self.reply_or_error(answer, result_class, stopped="generation", failed=job.model)
