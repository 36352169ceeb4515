"""The error envelope: whatever shape BentoML, Starlette or our code produced, the client sees one shape."""

from __future__ import annotations

import json

from runners.errors import BadRequest, ModelUnavailable, ServiceError, UndecodableVideo
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


def test_errors_survive_the_runner_boundary_with_their_class():
    for error in (BadRequest("x", field="f"), ModelUnavailable("y", model="m")):
        rebuilt = ServiceError.from_dict(json.loads(json.dumps(error.to_dict())))
        assert type(rebuilt) is type(error) and rebuilt.status == error.status
        assert rebuilt.message == error.message and rebuilt.details == error.details


def test_degenerate_boxes_are_dropped_not_reported():
    import numpy as np
    import supervision as sv

    from runners.backends.detector import DetectSettings, finalize

    found = sv.Detections(xyxy=np.array([[10, 10, 10.004, 50], [5, 5, 30, 30], [700, 10, 800, 20]], dtype=float),
                          confidence=np.array([0.9, 0.8, 0.9]), class_id=np.array([0, 0, 0]))
    objects = finalize(found, ["a"], DetectSettings(confidence_threshold=0.1), width=640, height=480)
    assert [o["bbox"] for o in objects] == [{"x": 5.0, "y": 5.0, "width": 25.0, "height": 25.0}]
