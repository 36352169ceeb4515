"""What every runner service shares: the inter-service connection settings, the management replies, the budget."""

from __future__ import annotations

from typing import Any

import psutil
from pydantic import BaseModel, Field

from runners.config import RunnerConfig, ServiceConfig
from runners.device import GB, device_capacity

# BentoML recycles inter-service connection pools every 100 requests by default, failing ~1% of calls under
# concurrency ("Cannot write to closing transport"); keep connections for a day instead.
RUNNER_CONNECTION = {"max_requests": 1_000_000, "max_age": 86400.0}


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
        from runners.device import cuda_memory_report

        report = cuda_memory_report() or {}
        status.gpu_memory_allocated, status.gpu_memory_reserved = report.get("allocated"), report.get("reserved")
    return status
