"""How many jobs of a kind run at once in a runner, whoever sent them: a synchronous request and a job worker's call
wait in one line for the same slots, first come first served, and a line that is full refuses more with a 429.

Without it nothing bounded tracking sessions: twelve concurrent SAM 2.1 tracks all ran at once (the demo's tiny
model took the tracking runner from 108 MB to 3 GB; real checkpoints on a GPU run out of memory)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from runners.core.errors import Cancelled, TooManyRequests

WAIT_POLL_S = 0.5  # how often a waiting caller checks whether it was cancelled
RETRY_AFTER_S = 30


class Admission:
    """At most `limit` holders at once; up to `max_waiting` more wait in arrival order; beyond that, 429."""

    def __init__(self, limit: int, max_waiting: int, what: str) -> None:
        self.limit, self.max_waiting, self.what = limit, max_waiting, what
        self.running = 0
        self._line: deque[object] = deque()
        self._cond = threading.Condition()

    @property
    def waiting(self) -> int:
        return len(self._line)

    @contextmanager
    def slot(self, cancel: threading.Event | None = None) -> Iterator[None]:
        """Hold one slot for the block; wait for it in line. `cancel` set while waiting raises Cancelled."""
        ticket = object()
        with self._cond:
            if self.running >= self.limit and len(self._line) >= self.max_waiting:
                raise TooManyRequests(f"{self.running} {self.what} are running and {len(self._line)} waiting, the "
                                      f"most this runner holds: retry later", running=self.running,
                                      waiting=len(self._line), retry_after_s=RETRY_AFTER_S)
            self._line.append(ticket)
            try:
                while self._line[0] is not ticket or self.running >= self.limit:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    self._cond.wait(timeout=WAIT_POLL_S)
            finally:
                self._line.remove(ticket)
                self._cond.notify_all()  # the next in line may go now
            self.running += 1
        try:
            yield
        finally:
            with self._cond:
                self.running -= 1
                self._cond.notify_all()
