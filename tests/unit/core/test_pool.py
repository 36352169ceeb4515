"""The lazy model pool: one load under concurrent first use, LRU eviction under a budget, safe unload."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from runners.core.errors import ModelUnavailable
from runners.core.pool import ModelPool

GB = 1024**3


class FakeMemory:
    """Memory that grows by a model's size on load and shrinks on unload, so figures are exact."""

    def __init__(self) -> None:
        self.used = 0

    def probe(self, device: str) -> int:
        return self.used


def make_pool(sizes: dict[str, int], budget: int | None = None, load_delay: float = 0.0):
    memory, calls, freed = FakeMemory(), [], []

    class Model:
        def __init__(self, name):
            self.name = name

    def loader(name):
        calls.append(name)
        time.sleep(load_delay)
        memory.used += sizes[name]
        return Model(name)

    def unloader(model):
        freed.append(model.name)
        memory.used -= sizes[model.name]

    pool = ModelPool(loader, unloader=unloader, estimate_bytes=lambda n: sizes[n], budget_bytes=budget,
                     memory_probe=memory.probe, unload_timeout_s=5)
    return pool, calls, freed, memory


def test_sixteen_concurrent_first_uses_load_once():
    pool, calls, _, _ = make_pool({"a": GB}, load_delay=0.3)
    barrier = threading.Barrier(16)

    def use():
        barrier.wait()
        with pool.use("a") as model:
            return model

    with ThreadPoolExecutor(16) as executor:
        models = list(executor.map(lambda _: use(), range(16)))
    assert calls == ["a"]
    assert len({id(m) for m in models}) == 1
    assert pool.status()["a"]["memory_bytes"] == GB
    assert pool.status()["a"]["in_use"] == 0


def test_least_recently_used_idle_model_is_evicted_first():
    pool, calls, freed, _ = make_pool({"a": 4 * GB, "b": 4 * GB, "c": 4 * GB}, budget=9 * GB)
    for name in ("a", "b"):
        pool.load(name)
    with pool.use("a"):
        pass  # a is now more recently used than b
    pool.load("c")
    assert freed == ["b"]
    assert pool.loaded() == ["a", "c"]


def test_busy_models_are_not_evicted_and_the_load_fails_clearly():
    pool, _, freed, _ = make_pool({"a": 6 * GB, "b": 6 * GB}, budget=10 * GB)
    with pool.use("a"):
        with pytest.raises(ModelUnavailable, match="in use"):
            pool.load("b")
    assert freed == []


def test_a_model_larger_than_the_budget_is_refused_with_the_fix():
    pool, calls, _, _ = make_pool({"huge": 400 * GB}, budget=10 * GB)
    with pytest.raises(ModelUnavailable, match="memory budget") as info:
        pool.load("huge")
    assert info.value.status == 503 and calls == []


def test_unload_waits_for_in_flight_use_and_gives_memory_back():
    pool, _, freed, memory = make_pool({"a": 2 * GB})
    entered, release = threading.Event(), threading.Event()

    def request():
        with pool.use("a") as model:
            entered.set()
            release.wait(5)
            return model.name  # the model is still intact while we use it

    with ThreadPoolExecutor(2) as executor:
        in_flight = executor.submit(request)
        entered.wait(5)
        unloading = executor.submit(pool.unload, "a")
        time.sleep(0.2)
        assert not unloading.done() and freed == []
        release.set()
        assert in_flight.result(5) == "a"
        assert unloading.result(5) == ("unloaded", 2 * GB)
    assert memory.used == 0 and pool.loaded() == []
    assert pool.unload("a") == ("not_loaded", 0)


def test_a_failed_load_reaches_every_waiter_and_is_retried_later():
    attempts = []

    def loader(name):
        attempts.append(name)
        time.sleep(0.2)
        raise FileNotFoundError("weights missing")

    pool = ModelPool(loader, memory_probe=lambda d: 0)
    with ThreadPoolExecutor(4) as executor:
        futures = [executor.submit(pool.load, "a") for _ in range(4)]
        errors = [f.exception(5) for f in futures]
    assert all(isinstance(e, ModelUnavailable) and "model a" in e.message for e in errors)
    assert len(attempts) == 1
    with pytest.raises(ModelUnavailable):
        pool.load("a")
    assert len(attempts) == 2


def test_loads_evictions_and_unloads_reach_the_callbacks():
    """What the runners' metrics hear of: every finished load (with its time), every eviction and unload."""
    sizes, events = {"a": 4 * GB, "b": 4 * GB, "c": 4 * GB}, []
    memory = FakeMemory()

    def loader(name):
        if name == "broken":
            raise RuntimeError("no weights")
        memory.used += sizes[name]
        return name

    def unloader(name):
        memory.used -= sizes[name]

    pool = ModelPool(loader, unloader=unloader, estimate_bytes=lambda n: sizes.get(n, 0), budget_bytes=9 * GB,
                     memory_probe=memory.probe,
                     on_loaded=lambda entry: events.append(("loaded", entry.name, entry.load_seconds > 0)),
                     on_freed=lambda entry: events.append(("freed", entry.name)))
    pool.load("a")
    pool.load("b")
    pool.load("c")  # evicts a
    with pytest.raises(ModelUnavailable):
        pool.load("broken")
    pool.unload("b")
    pool.unload("b")  # not loaded: nothing to tell
    assert events == [("loaded", "a", True), ("loaded", "b", True), ("freed", "a"), ("loaded", "c", True),
                      ("freed", "b")]
