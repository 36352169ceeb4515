"""The error envelope: whatever shape BentoML, Starlette or our code produced, the client sees one shape."""

from __future__ import annotations

import json

from runners.core.errors import (
    BadRequest,
    ModelUnavailable,
    ServiceError,
    UndecodableVideo,
)
from services.errors import envelope


def rewrite(status: int, body) -> dict:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return envelope(status, raw, "req-1", "GET /x")


def test_pydantic_errors_keep_the_list_and_name_the_field():
    out = rewrite(400, {"error": "1 validation error for DetectRequest", "detail": [
        {"type": "too_short", "loc": ["frame_numbers"], "msg": "List should have at least 1 item"}]})
    assert out["status"] == 400
    assert out["body"]["error"] == "Validation Error"
    assert out["body"]["message"] == "frame_numbers: List should have at least 1 item"
    assert out["body"]["details"]["field"] == "frame_numbers" and out["body"]["details"]["errors"]
    assert out["body"]["details"]["request_id"] == "req-1"


def test_fastapi_validation_status_becomes_400():
    out = rewrite(422, {"detail": [{"loc": ["body", "model_id"], "msg": "Field required", "type": "missing"}]})
    assert out["status"] == 400 and out["body"]["details"]["field"] == "model_id"


def test_bentoml_list_bodies_starlette_details_and_text_are_wrapped():
    assert rewrite(400, [{"error": "bad thing"}])["body"]["message"] == "bad thing"
    assert rewrite(404, {"detail": "Not Found"})["body"]["message"] == "no route GET /x"
    assert rewrite(400, b"plain text")["body"]["message"] == "plain text"


def test_server_errors_hide_internals_but_give_the_request_id():
    out = rewrite(500, {"error": "An unexpected error has occurred, please check the server log."})
    assert out["body"]["error"] == "Internal Server Error" and "req-1" in out["body"]["message"]


def test_our_own_envelope_passes_through_with_the_request_id():
    error = UndecodableVideo("v.mp4 is empty", field="video_path")
    out = rewrite(422, {"error": error.title, "message": error.message, "details": error.details})
    assert out["body"] == {"error": "Unprocessable Video", "message": "v.mp4 is empty",
                           "details": {"field": "video_path", "request_id": "req-1"}}


def test_form_and_pickle_bodies_are_refused_with_415_before_the_service_reads_them():
    """Found by fuzzing: `Content-Type: multipart/form-data` without a boundary made Starlette raise inside BentoML's
    endpoint wrapper, a 500. Every body of this API is JSON; what BentoML would parse otherwise is a 415."""
    import asyncio

    from services.errors import ErrorEnvelopeMiddleware

    async def app(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive():
        return {"type": "http.request", "body": b"{}"}

    def post(content_type: bytes, method: str = "POST") -> list[dict]:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": method, "path": "/models/load",
                 "headers": [(b"content-type", content_type), (b"x-request-id", b"req-1")]}
        asyncio.run(ErrorEnvelopeMiddleware(app)(scope, receive, send))
        return sent

    reached: list[str] = []
    for refused in (b"multipart/form-data", b"Multipart/Form-Data; charset=utf-8", b"application/x-www-form-urlencoded",
                    b"application/vnd.bentoml+pickle"):
        start, body = post(refused)
        assert start["status"] == 415 and reached == [], refused
        assert json.loads(body["body"])["details"]["request_id"] == "req-1"
    assert post(b"application/json")[0]["status"] == 200 and post(b"text/plain")[0]["status"] == 200
    assert post(b"multipart/form-data", method="GET")[0]["status"] == 200


def test_a_chunked_body_over_the_limit_is_a_413_even_when_the_app_answered_500():
    """BentoML reads the body inside its endpoint wrapper, which turns the middleware's refusal into a 500."""
    import asyncio

    from services.errors import ErrorEnvelopeMiddleware

    async def app(scope, receive, send):  # BentoML's wrapper: any exception while reading is a 500
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception:  # noqa: BLE001
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b'{"error": "An unexpected error has occurred"}'})

    chunks = [{"type": "http.request", "body": b" " * 600, "more_body": True} for _ in range(3)]

    async def receive():
        return chunks.pop(0)

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/detect", "headers": [(b"x-request-id", b"req-1")]}
    asyncio.run(ErrorEnvelopeMiddleware(app, max_body_bytes=1000)(scope, receive, send))
    body = json.loads(sent[1]["body"])
    assert sent[0]["status"] == 413 and body["error"] == "Payload Too Large" and "exceeds 1000" in body["message"]
    assert body["details"] == {"limit_bytes": 1000, "request_id": "req-1"}


def test_errors_survive_the_runner_boundary_with_their_class():
    for error in (BadRequest("x", field="f"), ModelUnavailable("y", model="m")):
        rebuilt = ServiceError.from_dict(json.loads(json.dumps(error.to_dict())))
        assert type(rebuilt) is type(error) and rebuilt.status == error.status
        assert rebuilt.message == error.message and rebuilt.details == error.details


def test_degenerate_boxes_are_dropped_not_reported():
    import numpy as np
    import supervision as sv

    from runners.detection.backends.base import DetectSettings, finalize

    found = sv.Detections(xyxy=np.array([[10, 10, 10.004, 50], [5, 5, 30, 30], [700, 10, 800, 20]], dtype=float),
                          confidence=np.array([0.9, 0.8, 0.9]), class_id=np.array([0, 0, 0]))
    objects = finalize(found, ["a"], DetectSettings(confidence_threshold=0.1), width=640, height=480)
    assert [o.bbox.model_dump() for o in objects] == [{"x": 5.0, "y": 5.0, "width": 25.0, "height": 25.0}]
