"""The continuous batcher: calls that arrive while a batch runs form the next batch; a lone call runs at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from runners.core.batching import ContinuousBatcher


def test_calls_queued_behind_a_running_batch_are_merged_and_answered_separately():
    batches: list[list[int]] = []
    first_running, release = threading.Event(), threading.Event()

    def run_batch(items: list[int]) -> list[int]:
        batches.append(list(items))
        if len(batches) == 1:
            first_running.set()
            release.wait(5)
        return [item * 10 for item in items]

    async def scenario():
        batcher = ContinuousBatcher(run_batch, max_batch_size=4)
        first = asyncio.create_task(batcher.submit([0]))
        await asyncio.to_thread(first_running.wait, 5)
        others = [asyncio.create_task(batcher.submit([i, i + 100])) for i in range(1, 4)]
        await asyncio.sleep(0.05)  # all three are queued while the first batch runs
        release.set()
        return await first, [await o for o in others]

    first, others = asyncio.run(scenario())
    assert first == [0]
    assert others == [[10, 1010], [20, 1020], [30, 1030]]
    assert batches[0] == [0]
    assert batches[1:] == [[1, 101, 2, 102], [3, 103]]  # merged across calls, split at max_batch_size


def test_a_lone_call_is_not_held_and_errors_reach_every_caller():
    def run_batch(items: list[int]) -> list[int]:
        if any(item < 0 for item in items):
            raise ValueError("negative")
        return items

    async def scenario():
        batcher = ContinuousBatcher(run_batch, max_batch_size=8)
        assert await batcher.submit([5]) == [5]
        with pytest.raises(ValueError):
            await batcher.submit([-1])
        return await batcher.submit([7, 8])  # the worker survives an error

    assert asyncio.run(scenario()) == [7, 8]
