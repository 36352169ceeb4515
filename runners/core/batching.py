"""Continuous batching for a runner with one model worker: concurrent calls are merged into batches, and a call is
never held back while the worker is idle.

Whatever arrives while a batch runs forms the next batch (up to `max_batch_size` items), so batches grow exactly
when there is a queue and a lone request runs at once. BentoML's adaptive batcher (`batchable=True`) instead learns
how long to hold requests from the average time earlier requests spent queued: behind a slow model that time is
long, and after one burst of clients a single client's requests were held for seconds (Grounding DINO on CPU:
0.18 frames/s for one client before a burst of 8 clients, 0.05 after). Items keep their call's order; each call gets
its own results back; a call whose client went away is simply not answered. `gather_ms` (default 0) adds a fixed
pause before a batch that is not full, for models so fast that per-batch overhead dominates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import anyio

Item = TypeVar("Item")
Result = TypeVar("Result")


class ContinuousBatcher(Generic[Item, Result]):
    def __init__(self, run_batch: Callable[[list[Item]], Sequence[Result]], max_batch_size: int,
                 gather_ms: float = 0.0) -> None:
        self._run_batch = run_batch
        self.max_batch_size = max_batch_size
        self.gather_s = gather_ms / 1000  # a fixed, bounded pause to let a burst arrive: never learned
        self._pending: list[tuple[Item, asyncio.Future]] = []
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        # One model thread: the model runs one batch at a time, always from the same thread.
        self._limiter = anyio.CapacityLimiter(1)

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in items]
        self._pending.extend(zip(items, futures))
        wake = self._wake
        if wake is None or self._worker is None or self._worker.done():
            wake = self._wake = asyncio.Event()
            self._worker = loop.create_task(self._work(wake))
        wake.set()
        return list(await asyncio.gather(*futures))

    async def _work(self, wake: asyncio.Event) -> None:
        while True:
            await wake.wait()
            wake.clear()
            while self._pending:
                if self.gather_s and len(self._pending) < self.max_batch_size:
                    await asyncio.sleep(self.gather_s)
                batch = self._pending[: self.max_batch_size]
                del self._pending[: self.max_batch_size]
                batch = [(item, future) for item, future in batch if not future.done()]  # callers that went away
                if not batch:
                    continue
                try:
                    results = await anyio.to_thread.run_sync(self._run_batch, [item for item, _ in batch],
                                                             limiter=self._limiter)
                except Exception as exc:  # noqa: BLE001 — every caller of the batch gets the error
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results):
                    if not future.done():
                        future.set_result(result)
