"""Waiting for a state, never for a time: how the tests synchronise with servers, runners and engines, so that a
slow or busy machine makes a test slower, not wrong."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit


def wait_for(condition, within_s: float = 180.0, every_s: float = 0.1):
    """Poll `condition()` until it returns something truthy and return that; fail after `within_s`, a bound far
    above the state's usual arrival that exists only so that a broken build fails instead of hanging."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"not within {within_s:.0f} s: {condition.__doc__ or condition}")


def ask_then_hang_up(url: str, path: str, body: dict, until, within_s: float = 180.0):
    """POST `body` to `url` + `path`, wait until `until()` holds (e.g. the runner shows the job), then close the
    connection without reading the answer, as a client that gives up does. Returns what `until()` returned."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=within_s)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        return wait_for(until, within_s)
    finally:
        connection.close()
