"""A lazy model pool: each model is loaded on first use, once, and freed on unload or when memory runs short.

- `use(name)` loads under the pool's condition (concurrent first requests wait for the one load), counts the caller
  as a user until the block ends, and records load time and measured memory (the budget charges the larger of that
  and the estimate).
- A model in use is never freed under its users: `unload` waits for them; eviction only takes idle models, least
  recently used first, until the new model's estimate fits the budget.
- A failed load is reported to every caller that waited for it, as `ModelUnavailable` naming the model and the fix.
- `status()` never loads anything.
- `on_loaded(entry)` and `on_freed(entry)` are told of every load and of every unload or eviction (metrics).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from runners.core.device import memory_in_use, release_memory
from runners.core.errors import ModelUnavailable, ServiceError

GB = 1024**3


@dataclass
class PoolEntry:
    name: str
    state: str = "loading"  # loading -> ready -> closing; failed when the load raised
    model: Any = None
    refs: int = 0
    last_used: float = field(default_factory=time.monotonic)
    load_seconds: float = 0.0
    memory_bytes: int = 0
    estimated_bytes: int = 0
    error: ServiceError | None = None


class ModelPool:
    def __init__(
        self,
        loader: Callable[[str], Any],
        *,
        device: str = "cpu",
        estimate_bytes: Callable[[str], int] = lambda name: 0,
        budget_bytes: int | None = None,
        unloader: Callable[[Any], None] = lambda model: None,
        memory_probe: Callable[[str], int] = memory_in_use,
        unload_timeout_s: float = 600.0,
        on_loaded: Callable[[PoolEntry], None] = lambda entry: None,
        on_freed: Callable[[PoolEntry], None] = lambda entry: None,
    ) -> None:
        self._loader = loader
        self._unloader = unloader
        self._estimate = estimate_bytes
        self._probe = memory_probe
        self._on_loaded, self._on_freed = on_loaded, on_freed
        self.device = device
        self.budget_bytes = budget_bytes
        self.unload_timeout_s = unload_timeout_s
        self._entries: dict[str, PoolEntry] = {}
        self._cond = threading.Condition()
        self.loads = 0  # how many loads ran, for tests and metrics

    # -- using models -------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def use(self, name: str) -> Iterator[Any]:
        entry = self._acquire(name)
        try:
            yield entry.model
        finally:
            with self._cond:
                entry.refs -= 1
                entry.last_used = time.monotonic()
                self._cond.notify_all()

    def load(self, name: str) -> PoolEntry:
        """Make sure `name` is loaded (warm-up before a batch is dispatched); returns its entry."""
        with self.use(name):
            return self._entries[name]

    def _acquire(self, name: str) -> PoolEntry:
        with self._cond:
            while True:
                entry = self._entries.get(name)
                if entry is None:
                    break
                if entry.state == "ready":
                    entry.refs += 1
                    entry.last_used = time.monotonic()
                    return entry
                self._cond.wait()  # another thread is loading or unloading it
                if entry.state == "failed" and self._entries.get(name) is None:
                    assert entry.error is not None  # set together with state "failed"
                    raise entry.error  # the load we waited for failed: same answer, no second attempt
            estimate = self._estimate(name)
            self._make_room(name, estimate)
            entry = PoolEntry(name=name, estimated_bytes=estimate)
            self._entries[name] = entry

        # Load outside the condition so that status and other models are not blocked behind a slow load.
        before, started = self._probe(self.device), time.perf_counter()
        try:
            model = self._loader(name)
        except Exception as exc:  # noqa: BLE001 — every load failure becomes a 503 that names the model
            error = exc if isinstance(exc, ServiceError) else ModelUnavailable(
                f"model {name} could not be loaded: {type(exc).__name__}: {exc}", model=name
            )
            with self._cond:
                entry.state, entry.error = "failed", error
                del self._entries[name]
                self._cond.notify_all()
            release_memory(self.device)
            raise error from None
        with self._cond:
            entry.model = model
            entry.load_seconds = time.perf_counter() - started
            entry.memory_bytes = max(0, self._probe(self.device) - before)
            entry.state, entry.refs = "ready", 1
            self.loads += 1
            self._cond.notify_all()
        self._on_loaded(entry)
        return entry

    # -- memory ---------------------------------------------------------------------------------------------------
    def _in_use_bytes(self) -> int:
        """Each model is charged the larger of its estimate and what its load measurably took: a load measures low
        when the backend allocates lazily (weights mapped, buffers made on the first batch), or when another
        thread freed memory meanwhile, and a budget charged that little would let the next model overrun it."""
        return sum(max(e.memory_bytes, e.estimated_bytes) for e in self._entries.values())

    def _make_room(self, name: str, needed: int) -> None:
        """Evict idle models, least recently used first, until `needed` more bytes fit. Caller holds the lock."""
        if self.budget_bytes is None:
            return
        if needed > self.budget_bytes:
            raise ModelUnavailable(
                f"model {name} needs about {needed / GB:.1f} GB but this runner's memory budget is "
                f"{self.budget_bytes / GB:.1f} GB: give the runner a larger GPU share, choose a smaller or quantized "
                f"model, or raise vram_gb / inference.max_memory_per_model if the estimate is wrong",
                model=name, needed_gb=round(needed / GB, 1), budget_gb=round(self.budget_bytes / GB, 1),
            )
        idle = sorted((e for e in self._entries.values() if e.state == "ready" and e.refs == 0),
                      key=lambda e: e.last_used)
        while self._in_use_bytes() + needed > self.budget_bytes and idle:
            self._free(idle.pop(0))
        if self._in_use_bytes() + needed > self.budget_bytes:
            busy = sorted(n for n, e in self._entries.items() if e.refs or e.state != "ready")
            raise ModelUnavailable(
                f"not enough memory to load {name} (about {needed / GB:.1f} GB) while {', '.join(busy)} "
                f"are in use; retry when they are idle or unload one",
                model=name, busy=busy,
            )

    def _free(self, entry: PoolEntry) -> int:
        """Drop a model nobody uses and measure what it gave back. Caller holds the lock."""
        before = self._probe(self.device)
        self._entries.pop(entry.name, None)
        model, entry.model = entry.model, None
        self._unloader(model)
        del model
        release_memory(self.device)
        self._on_freed(entry)
        self._cond.notify_all()
        return max(0, before - self._probe(self.device))

    # -- unloading and status -------------------------------------------------------------------------------------
    def unload(self, name: str) -> tuple[str, int]:
        """Free `name` once its in-flight users finish. Returns ("unloaded" | "not_loaded", bytes freed)."""
        with self._cond:
            while (entry := self._entries.get(name)) is not None and entry.state == "loading":
                self._cond.wait()
            if entry is None or entry.state != "ready":
                return "not_loaded", 0
            entry.state = "closing"  # new users wait, then load a fresh copy
            if not self._cond.wait_for(lambda: entry.refs == 0, timeout=self.unload_timeout_s):
                entry.state = "ready"
                self._cond.notify_all()
                raise ModelUnavailable(f"model {name} stayed busy for {self.unload_timeout_s:.0f} s; unload "
                                       f"again later", model=name)
            return "unloaded", self._free(entry)

    def unload_all(self) -> None:
        for name in list(self._entries):
            self.unload(name)

    def peek(self, name: str) -> Any:
        """The loaded model `name` (not counted as a use), or None: for status reports."""
        with self._cond:
            entry = self._entries.get(name)
            return entry.model if entry is not None and entry.state == "ready" else None

    def loaded(self) -> list[str]:
        with self._cond:
            return sorted(n for n, e in self._entries.items() if e.state in ("ready", "closing"))

    def status(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return {
                n: {"state": e.state, "in_use": e.refs, "load_seconds": round(e.load_seconds, 3),
                    "memory_bytes": e.memory_bytes, "estimated_bytes": e.estimated_bytes, "device": self.device}
                for n, e in sorted(self._entries.items())
            }
