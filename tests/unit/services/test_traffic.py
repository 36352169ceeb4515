"""The traffic limits middleware on a bare ASGI app: a 429 past the concurrency limit, a 504 past the time limit
(and the handler cancelled), probes never limited, an answer already started never cut."""

from __future__ import annotations

import asyncio
import json

from services.traffic import TrafficLimitMiddleware


def app_that(wait: asyncio.Event | None = None, delay_s: float = 0.0, started_then_slow: bool = False, log=None):
    async def app(scope, receive, send):
        try:
            if started_then_slow:
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await asyncio.sleep(delay_s)
                await send({"type": "http.response.body", "body": b"late but whole"})
                return
            if wait is not None:
                await wait.wait()
            await asyncio.sleep(delay_s)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        except asyncio.CancelledError:
            if log is not None:
                log.append("cancelled")
            raise
    return app


async def call(app, path: str = "/api/detect") -> tuple[int, dict, bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": "POST", "path": path, "headers": []}, receive, send)
    headers = dict(sent[0].get("headers", []))
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_requests_past_the_concurrency_limit_get_a_429_and_probes_pass():
    async def scenario():
        release = asyncio.Event()
        middleware = TrafficLimitMiddleware(app_that(wait=release), max_concurrency=2, timeout_s=60)
        held = [asyncio.ensure_future(call(middleware)) for _ in range(2)]
        await asyncio.sleep(0.05)
        status, headers, body = await call(middleware)
        probe = asyncio.ensure_future(call(middleware, "/health"))  # not counted, not refused
        await asyncio.sleep(0.05)
        release.set()
        return status, headers, json.loads(body), [await h for h in held], await probe, middleware.in_progress

    status, headers, body, held, probe, in_progress = asyncio.run(scenario())
    assert status == 429 and headers[b"retry-after"] == b"1"
    assert body["error"] == "Too Many Requests" and body["details"] == {"limit": 2}
    assert "server.max_concurrency" in body["message"]
    assert [h[0] for h in held] == [200, 200] and probe[0] == 200
    assert in_progress == 0  # slots are given back


def test_a_request_past_the_time_limit_is_stopped_with_a_504():
    log = []
    status, _, body = asyncio.run(call(TrafficLimitMiddleware(app_that(delay_s=30, log=log), max_concurrency=4,
                                                              timeout_s=0.2)))
    body = json.loads(body)
    assert status == 504 and body["details"] == {"timeout_s": 0.2}
    assert "server.request_timeout_s" in body["message"]
    assert log == ["cancelled"]  # the handler (and with it the runner call) was stopped


def test_an_answer_already_started_is_not_cut():
    status, _, body = asyncio.run(call(TrafficLimitMiddleware(app_that(started_then_slow=True, delay_s=0.3),
                                                              max_concurrency=4, timeout_s=0.1)))
    assert status == 200 and body == b"late but whole"
