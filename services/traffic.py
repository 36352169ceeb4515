"""The public service's traffic limits, answered in the error envelope: at most `server.max_concurrency` requests in
progress (more get a 429 with `Retry-After`), and a request still unanswered after `server.request_timeout_s` is
stopped with a 504.

BentoML has both limits (`traffic.max_concurrency`, `traffic.timeout`), but its middlewares run outside every
middleware a service adds, so their bodies (`{"error": "Too many requests"}`) could not get the envelope or the
request id. The service leaves BentoML's concurrency limit unset and its timeout above this one, and this middleware
(registered after `ErrorEnvelopeMiddleware`, so inside it) enforces both. Stopping a request cancels its handler: the
runner call is dropped and the runner stops the job at its next frame or token, as for a client that disconnects.
Probes, metrics and docs are never limited: an orchestrator must reach `/health` when the service is saturated.
"""

from __future__ import annotations

import asyncio
import json
import logging

from services.auth import OPEN_PATHS

log = logging.getLogger(__name__)

EXEMPT_PATHS = OPEN_PATHS  # the probes, metrics and docs, which need no API key either
RETRY_AFTER_S = 1


class TrafficLimitMiddleware:
    """Raw ASGI."""

    def __init__(self, app, max_concurrency: int, timeout_s: float) -> None:
        self.app = app
        self.max_concurrency = max_concurrency
        self.timeout_s = timeout_s
        self.in_progress = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "") in EXEMPT_PATHS:
            return await self.app(scope, receive, send)
        if self.in_progress >= self.max_concurrency:
            return await refuse(send, 429, "Too Many Requests",
                                f"the service is already handling {self.in_progress} requests, its limit "
                                f"(server.max_concurrency): retry in a moment",
                                {"limit": self.max_concurrency}, [(b"retry-after", str(RETRY_AFTER_S).encode())])
        self.in_progress += 1
        try:
            await self.within_time(scope, receive, send)
        finally:
            self.in_progress -= 1

    async def within_time(self, scope, receive, send):
        started = asyncio.Event()

        async def tracked_send(message):
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        handler = asyncio.ensure_future(self.app(scope, receive, tracked_send))
        done, _ = await asyncio.wait({handler}, timeout=self.timeout_s)
        if handler in done:
            return handler.result()
        if started.is_set():  # the answer is already being written: let it finish
            return await handler
        handler.cancel()
        try:
            await handler
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 — a handler failing as it is stopped: the 504 still says what happened
            log.exception("%s %s failed while being stopped", scope.get("method"), scope.get("path"))
        if started.is_set():  # it answered while being stopped
            return
        log.warning("%s %s stopped after %.0f s", scope.get("method"), scope.get("path"), self.timeout_s)
        await refuse(send, 504, "Gateway Timeout",
                     f"the request was not done in {self.timeout_s:g} s (server.request_timeout_s) and was stopped: "
                     f"ask for less work at once (fewer frames, a shorter frame_range, a higher decimation) or raise "
                     f"the limit", {"timeout_s": self.timeout_s})


async def refuse(send, status: int, title: str, message: str, details: dict, headers: list | None = None) -> None:
    body = json.dumps({"error": title, "message": message, "details": details}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        *(headers or []), (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
