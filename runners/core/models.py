"""What every runner holds, BentoML-free: the configured models of its task in a pool created on first use, the
load / unload / status replies, the memory budget. A runner service (runners/core/runner.py) serves these replies;
a Ray actor or a test drives the same class in its own process."""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable, Collection
from typing import Any, TypeVar

import psutil
from pydantic import BaseModel, Field

from runners.core import metrics
from runners.core.config import ModelOption, RunnerConfig, RunnerName, ServiceConfig, get_config
from runners.core.device import GB, device_capacity, pick_device
from runners.core.errors import Cancelled, ModelUnavailable, ServiceError
from runners.core.pool import ModelPool, PoolEntry

log = logging.getLogger(__name__)
T = TypeVar("T")


def runner_settings(runner: RunnerName, families: dict[str, Collection[str]]) -> RunnerConfig:
    """A runner's settings, after checking that every model of its tasks names one of `families` (task -> the
    runner's registry): a misspelt family stops the service at start, naming the key."""
    config = get_config()
    config.check_families(families)
    return config.inference.runner(runner)


class ModelInfo(BaseModel):
    """The reply to `load_model`: the model is ready (or `error` says why not)."""
    name: str
    device: str | None = None
    load_seconds: float | None = None
    memory_bytes: int | None = None
    open_vocabulary: bool | None = None
    vocabulary: list[str] = Field(default_factory=list)
    error: dict[str, Any] | None = None


class UnloadResult(BaseModel):
    model_id: str
    status: str
    memory_freed_bytes: int
    error: dict[str, Any] | None = None


class RunnerStatus(BaseModel):
    device: str | None = Field(description="null until the first model load picks a device")
    loaded_models: list[str] = Field(default_factory=list)
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)
    gpu_memory_allocated: int | None = None
    gpu_memory_reserved: int | None = None
    memory_budget_bytes: int | None = None
    process_rss_bytes: int = Field(default=0, description="the runner process's resident memory")
    batch_sizes: dict[str, int] = Field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = Field(default_factory=dict, description="long jobs in progress (tracking)")
    jobs_cancelled: int = Field(default=0, description="jobs stopped because their client disconnected")
    sessions_running: int = Field(default=0, description="jobs holding one of the runner's slots (tracking)")
    sessions_waiting: int = Field(default=0, description="jobs waiting in line for a slot (tracking)")


class PooledModels(abc.ABC):
    """What every runner does with its models: the configured options of its task, a pool created on first use,
    and the load / unload replies. A runner subclasses it and says how to build a model and describe it."""

    task_title = "model"  # in "<name> is not a configured <task_title>"
    runner_name = "runner"  # the `runner` label of its metrics, as in /health's `runners`

    def __init__(self, task: str, settings: RunnerConfig) -> None:
        self.config = get_config()
        self.task = self.config.task(task)
        self.settings = settings
        self._device: str | None = None
        self._pool: ModelPool | None = None
        self._pool_lock = threading.Lock()
        self.jobs_cancelled = 0  # jobs stopped because their client disconnected (status, /health)

    @abc.abstractmethod
    def build(self, name: str, option: ModelOption, device: str):
        """The loaded model (its backend object) for one configured option."""

    def describe(self, name: str, entry: PoolEntry, model) -> ModelInfo:
        return ModelInfo(name=name, device=self.pool.device, load_seconds=round(entry.load_seconds, 3),
                         memory_bytes=entry.memory_bytes)

    @property
    def pool(self) -> ModelPool:
        """Created on first use (picking the device imports torch, which start-up must not wait for), once: concurrent
        first requests must share one pool, or each would load its own copy of the model."""
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    device = pick_device(self.config.inference.device)
                    self._pool = ModelPool(
                        self._load, device=device, unloader=lambda model: model.close(),
                        estimate_bytes=self._estimate_bytes,
                        budget_bytes=memory_budget(self.config, self.settings, device),
                        on_loaded=lambda entry: metrics.model_loaded(self.runner_name, entry.name, entry.load_seconds),
                        on_freed=lambda entry: metrics.model_unloaded(self.runner_name, entry.name),
                    )
                    self._device = device
        return self._pool

    def option(self, name: str) -> ModelOption | None:
        return self.task.options.get(name) if self.task else None

    def _estimate_bytes(self, name: str) -> int:
        option = self.option(name)
        return int(option.estimated_vram_gb * GB) if option else 0

    def _load(self, name: str):
        option = self.option(name)
        if option is None:
            raise ModelUnavailable(f"{name} is not a configured {self.task_title}", model=name)
        return self.build(name, option, self.pool.device)

    def load_reply(self, name: str) -> ModelInfo:
        try:
            entry = self.pool.load(name)
        except ServiceError as exc:
            return ModelInfo(name=name, error=exc.to_dict())
        with self.pool.use(name) as model:
            return self.describe(name, entry, model)

    def unload_reply(self, name: str) -> UnloadResult:
        if self._pool is None:
            return UnloadResult(model_id=name, status="not_loaded", memory_freed_bytes=0)
        try:
            status, freed = self.pool.unload(name)
        except ServiceError as exc:
            return UnloadResult(model_id=name, status="busy", memory_freed_bytes=0, error=exc.to_dict())
        return UnloadResult(model_id=name, status=status, memory_freed_bytes=freed)

    def status_reply(self) -> RunnerStatus:
        status = runner_status(self._pool, self._device)
        status.jobs_cancelled = self.jobs_cancelled
        return status

    def reply_or_error(self, work: Callable[[], T], result_class: type, *, stopped: str, failed: str):
        """`work()`, or `result_class(error=...)`: errors cross the process boundary as data, with their status."""
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 — every error is answered, see error_of
            return result_class(error=self.error_of(exc, stopped=stopped, failed=failed))

    def error_of(self, exc: Exception, *, stopped: str, failed: str) -> dict:
        """The error envelope a reply carries for `exc`. A job stopped because its client left is counted in
        `jobs_cancelled`; an unexpected exception is logged and answered as "<failed> failed" (the service words it
        as a 500)."""
        if isinstance(exc, Cancelled):
            log.info("%s stopped: the client disconnected", failed)
            self.jobs_cancelled += 1
            return ServiceError(f"the client disconnected; {stopped} stopped").to_dict()
        if isinstance(exc, ServiceError):
            return exc.to_dict()
        log.error("%s failed", failed, exc_info=exc)
        return ServiceError(f"{failed} failed: {type(exc).__name__}").to_dict()

    def unload_all(self) -> None:
        if self._pool is not None:
            names = self._pool.loaded()
            self._pool.unload_all()
            if names:
                log.info("%s runner: unloaded %s", self.runner_name, ", ".join(names))


def memory_budget(config: ServiceConfig, runner: RunnerConfig, device: str) -> int:
    """The runner's share of its device (its GPU fraction on CUDA, the host's memory on CPU), below the
    offload threshold, and no more than `max_memory_per_model` when that is set."""
    capacity = device_capacity(device)
    share = min(runner.gpu, 1.0) if device.startswith("cuda") and runner.gpu > 0 else 1.0
    budget = int(capacity * share * config.inference.offload_threshold)
    cap = config.inference.max_memory_per_model
    return budget if cap == "auto" else min(budget, int(float(cap) * GB))


def runner_status(pool, device: str | None) -> RunnerStatus:
    """Status without loading anything: a runner that has not loaded a model has not even imported torch."""
    rss = psutil.Process().memory_info().rss
    if pool is None:
        return RunnerStatus(device=device, process_rss_bytes=rss)
    status = RunnerStatus(device=device, loaded_models=pool.loaded(), models=pool.status(),
                          memory_budget_bytes=pool.budget_bytes, process_rss_bytes=rss)
    if device and device.startswith("cuda"):
        from runners.core.device import cuda_memory_report

        report = cuda_memory_report() or {}
        status.gpu_memory_allocated, status.gpu_memory_reserved = report.get("allocated"), report.get("reserved")
    return status
