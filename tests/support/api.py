"""Calling the service under test, and checking its error envelope."""

from __future__ import annotations

import httpx

from services.schemas import ErrorResponse


def assert_envelope(response: httpx.Response, status: int, fragment: str = "") -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    ErrorResponse.model_validate(body)
    assert set(body) == {"error", "message", "details"}
    assert body["details"].get("request_id"), body
    assert fragment.lower() in body["message"].lower(), body
    return body


def detect(client, video, **fields) -> httpx.Response:
    return client.post("/api/detect", json={"video_path": str(video), **fields})
