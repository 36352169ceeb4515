"""Prometheus metrics recorded by the runners, served by the public service's built-in `GET /metrics`.

`bentoml serve` starts every service (the public one and each runner) with the same `PROMETHEUS_MULTIPROC_DIR`, and
its `/metrics` collects every process's files there (prometheus_client's MultiProcessCollector): a metric recorded in
a runner process shows up at the public endpoint, summed over processes (the gauge counts the workers holding the
model). `prometheus_client` is imported on first use, never at import time: imported before that variable is set,
it would record in memory only and the public endpoint would not see the runner's values. (`bentoml.metrics` is a
deprecated alias of `prometheus_client` in BentoML 1.4.) The metrics are created once per process.

The pool and the backends know nothing of this module: the runner services call it (runners/core/runner.py hands
the pool load and free callbacks).
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

PREFIX = "vms"
LOAD_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
JOB_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600)

_metrics: SimpleNamespace | None = None
_lock = threading.Lock()


def _get() -> SimpleNamespace:
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                from prometheus_client import Counter, Gauge, Histogram

                _metrics = SimpleNamespace(
                    load_seconds=Histogram(
                        f"{PREFIX}_model_load_seconds", "Seconds each model load took, per runner and model",
                        ["runner", "model"], buckets=LOAD_BUCKETS),
                    loaded=Gauge(
                        f"{PREFIX}_models_loaded", "1 while the model is loaded in the runner, 0 after its unload or "
                        "eviction (with several workers: how many hold it)",
                        ["runner", "model"], multiprocess_mode="livesum"),
                    batch_size=Histogram(
                        f"{PREFIX}_batch_size", "Frames per forward pass of a detection batch (jobs of one batch that "
                        "share the model, vocabulary and NMS threshold)",
                        ["runner", "model"], buckets=BATCH_BUCKETS),
                    frames=Counter(
                        f"{PREFIX}_frames_processed", "Frames processed: detection frames, tracking processed "
                        "frames, summarization sampled frames",
                        ["task"]),
                    jobs=Gauge(
                        f"{PREFIX}_jobs", "Jobs in the job store per task and status (set by the job worker)",
                        ["task", "status"], multiprocess_mode="livemax"),
                    job_queue=Gauge(
                        f"{PREFIX}_job_queue_length", "Jobs waiting to run (set by the job worker)",
                        multiprocess_mode="livemax"),
                    job_seconds=Histogram(
                        f"{PREFIX}_job_seconds", "Seconds from a job's first start to its end, per task and status",
                        ["task", "status"], buckets=JOB_BUCKETS),
                )
    return _metrics


def model_loaded(runner: str, model: str, seconds: float) -> None:
    metrics = _get()
    metrics.load_seconds.labels(runner, model).observe(seconds)
    metrics.loaded.labels(runner, model).set(1)


def model_unloaded(runner: str, model: str) -> None:
    """An unload or an eviction."""
    _get().loaded.labels(runner, model).set(0)


def batch_size(runner: str, model: str, size: int) -> None:
    _get().batch_size.labels(runner, model).observe(size)


def frames_processed(task: str, count: int) -> None:
    _get().frames.labels(task).inc(count)


def job_counts(counts: dict[str, dict[str, int]], queued: int) -> None:
    """The store's jobs per task and status, and the queue's length."""
    metrics = _get()
    for task, by_status in counts.items():
        for status, count in by_status.items():
            metrics.jobs.labels(task, status).set(count)
    metrics.job_queue.set(queued)


def job_finished(task: str, status: str, seconds: float) -> None:
    _get().job_seconds.labels(task, status).observe(seconds)
