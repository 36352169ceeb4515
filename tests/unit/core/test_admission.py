"""Admission: slots held at once never exceed the limit, waiters go in arrival order, a full line refuses with 429,
a cancelled waiter leaves the line."""

from __future__ import annotations

import threading

import pytest

from runners.core.admission import Admission
from runners.core.errors import Cancelled, TooManyRequests
from tests.support.waiting import wait_for


def test_holders_never_exceed_the_limit_and_waiters_go_in_order():
    admission = Admission(limit=2, max_waiting=10, what="sessions")
    release = threading.Event()
    order, peak, lock = [], [], threading.Lock()

    def hold(name: str):
        with admission.slot():
            with lock:
                order.append(name)
                peak.append(admission.running)
            release.wait()

    threads = []
    for i in range(6):
        thread = threading.Thread(target=hold, args=(f"job{i}",))
        thread.start()
        threads.append(thread)
        wait_for(lambda i=i: len(order) + admission.waiting == i + 1)  # each arrives after the one before
    assert (admission.running, admission.waiting) == (2, 4)
    release.set()
    for thread in threads:
        thread.join()
    assert order == [f"job{i}" for i in range(6)] and max(peak) == 2 and admission.running == 0


def test_a_full_line_is_refused_and_a_cancelled_waiter_leaves_it():
    admission = Admission(limit=1, max_waiting=1, what="sessions")
    release, cancel = threading.Event(), threading.Event()
    outcome = []

    def holder():
        with admission.slot():
            release.wait()

    def waiter():
        try:
            with admission.slot(cancel):
                outcome.append("ran")
        except Cancelled:
            outcome.append("cancelled")

    first = threading.Thread(target=holder)
    first.start()
    wait_for(lambda: admission.running == 1)
    second = threading.Thread(target=waiter)
    second.start()
    wait_for(lambda: admission.waiting == 1)
    with pytest.raises(TooManyRequests) as refused:
        with admission.slot():
            pass
    assert refused.value.details["retry_after_s"] > 0 and refused.value.status == 429
    cancel.set()
    second.join()
    assert outcome == ["cancelled"] and admission.waiting == 0
    release.set()
    first.join()
    with admission.slot():  # free again
        assert admission.running == 1
    assert admission.running == 0
