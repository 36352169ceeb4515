"""What every runner service shares: the inter-service connection settings, the management APIs over its
`PooledModels` replies (runners/core/models.py), and watching for a caller that hung up."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import bentoml

from runners.core.config import RunnerConfig, get_config
from runners.core.models import ModelInfo, PooledModels, RunnerStatus, UnloadResult

log = logging.getLogger(__name__)
T = TypeVar("T")
DISCONNECT_POLL_S = 0.5  # how often a long job checks that its client is still there

# BentoML recycles inter-service connection pools every 100 requests by default, failing ~1% of calls under
# concurrency ("Cannot write to closing transport"); keep connections for a day instead.
RUNNER_CONNECTION = {"max_requests": 1_000_000, "max_age": 86400.0}


def service_options(name: str, settings: RunnerConfig) -> dict[str, Any]:
    """`@bentoml.service(...)` for a runner: its GPU share, workers and threads from config, the traffic limit and
    connection settings every runner shares."""
    return {"name": name, "resources": {"gpu": settings.gpu} if settings.gpu else {}, "workers": settings.workers,
            "threads": settings.threads, "traffic": runner_traffic(), "runner_connection": RUNNER_CONNECTION}


def runner_traffic() -> dict[str, float]:
    """A runner call may last as long as the public request it serves (server.request_timeout_s, which the service
    enforces with a 504), plus a margin so that the service's limit is the one that answers."""
    return {"timeout": get_config().server.request_timeout_s + 60}


class RunnerAPIs(PooledModels):
    """The management APIs every runner service serves, over its `PooledModels` replies: a runner service is
    `class XRunner(RunnerAPIs, <its BentoML-free models class>)`."""

    # Async, and run in threads of their own: a loaded model answers at once instead of waiting behind running work
    # for one of the runner's inference threads, and an unload that waits for in-flight requests holds none of them.
    # A runner that reports more overrides the *_reply method (a different reply type: the API too).
    @bentoml.api
    async def load_model(self, name: str) -> ModelInfo:
        return await anyio.to_thread.run_sync(self.load_reply, name)

    @bentoml.api
    async def unload_model(self, name: str) -> UnloadResult:
        return await anyio.to_thread.run_sync(self.unload_reply, name)

    @bentoml.api
    async def status(self) -> RunnerStatus:
        """Answered on the event loop: never queued behind a running job or load."""
        return self.status_reply()


async def watch_client(ctx, job: asyncio.Future, stop: Callable[[], None]):
    """Await `job`, calling `stop()` as soon as the caller disconnects (and when this coroutine ends in any way)."""
    try:
        while not job.done():
            await asyncio.wait({job}, timeout=DISCONNECT_POLL_S)
            if not job.done() and await ctx.request.is_disconnected():
                log.info("client disconnected: stopping %s", ctx.request.url.path)
                stop()
        return await job
    finally:
        stop()


async def run_until_disconnected(ctx, work: Callable[[threading.Event], T]) -> T:
    """`work(cancel)` in a worker thread; `cancel` is set when the caller disconnects, and `work` checks it between
    steps (frames, generated tokens) to stop early."""
    cancel = threading.Event()
    return await watch_client(ctx, asyncio.ensure_future(anyio.to_thread.run_sync(work, cancel)), cancel.set)
