"""The API key middleware in isolation: without a key nothing changes; with one, only the open paths pass."""

from __future__ import annotations

import asyncio
import json

import pytest

from services.auth import ApiKeyMiddleware, bearer_token


async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def run(middleware, path="/api/detect", method="POST", headers=()):
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("key", [None, "", "   "])
def test_without_a_key_everything_passes(monkeypatch, key):
    monkeypatch.delenv("API_KEY", raising=False)
    if key is not None:
        monkeypatch.setenv("API_KEY", key)
    assert run(ApiKeyMiddleware(app)) == (200, b"ok")


def test_with_a_key(monkeypatch):
    monkeypatch.setenv("API_KEY", "k1")
    middleware = ApiKeyMiddleware(app)
    assert run(middleware, headers=[(b"authorization", b"Bearer k1")]) == (200, b"ok")
    assert run(middleware, headers=[(b"authorization", b"BEARER  k1 ")]) == (200, b"ok")
    status, body = run(middleware, headers=[(b"authorization", b"Bearer k2")])
    assert status == 401 and json.loads(body)["error"] == "Unauthorized"
    assert run(middleware, path="/health", method="GET") == (200, b"ok")
    assert run(middleware, path="/health", method="POST")[0] == 401
    assert run(ApiKeyMiddleware(app, api_key="other"), headers=[(b"authorization", b"Bearer k1")])[0] == 401


def test_bearer_token_parsing():
    assert bearer_token({"headers": [(b"authorization", b"Bearer abc")]}) == b"abc"
    assert bearer_token({"headers": [(b"authorization", b"Basic abc")]}) is None
    assert bearer_token({"headers": [(b"authorization", b"Bearer")]}) is None
    assert bearer_token({"headers": []}) is None
