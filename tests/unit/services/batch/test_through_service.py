"""vms batch's retries, against a scripted service at the network edge (httpx.MockTransport): a request that did not
get through is sent again as it was (one job per attempt), a job that failed for a transient reason is a new
attempt, and one refused for its request is not retried."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from services.batch import through_service
from services.batch.state import BatchState
from services.batch.through_service import ServiceBatch, Work


class ScriptedService:
    """Answers submits from a script of (status, job status, error status); records every submit's key."""

    def __init__(self, submits: list[tuple[int, str, int | None]]) -> None:
        self.submits, self.keys = submits, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.keys.append(request.headers["Idempotency-Key"])
            status, job_status, error_status = self.submits[len(self.keys) - 1]
            if status >= 400:
                return httpx.Response(status, json={"error": "Busy", "message": "try later", "details": {}})
            error = {"error": "E", "message": "failed", "details": {}, "status": error_status} if error_status else None
            return httpx.Response(202, json={"job_id": f"job-{len(self.keys)}", "status": job_status, "error": error,
                                             "progress": {"done": 5, "total": 5, "unit": "frames"}})
        return httpx.Response(200, content=b'{"detections": []}')  # the result


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(through_service, "BACKOFF_S", 0.0)


def run(service: ScriptedService, tmp_path, retries: int = 2):
    state = BatchState(tmp_path)
    batch = ServiceBatch(["http://svc"], "detect", "json", tmp_path, state, retries=retries)
    work = Work("clip", "clip.mp4", {"video_path": "clip.mp4"}, "abc", first_attempt=1)

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(service)) as client:
            return await batch.one(client, "http://svc", work)
    try:
        return asyncio.run(go())
    finally:
        state.close()


def test_a_submit_that_did_not_get_through_is_sent_again_with_the_same_key(tmp_path):
    service = ScriptedService([(503, "", None), (202, "succeeded", None)])
    finished = run(service, tmp_path)
    assert (finished.status, finished.attempts) == ("done", 1)
    assert len(service.keys) == 2 and service.keys[0] == service.keys[1]  # one job for the one attempt
    assert json.loads((tmp_path / "clip" / "detect.json").read_text()) == {"detections": []}


def test_a_job_that_failed_for_a_transient_reason_is_a_new_attempt(tmp_path):
    service = ScriptedService([(202, "failed", 503), (202, "succeeded", None)])
    finished = run(service, tmp_path)
    assert (finished.status, finished.attempts) == ("done", 2)
    assert service.keys[0] != service.keys[1] and service.keys[1].endswith("-2")


@pytest.mark.parametrize("error_status, submits", [(422, 1), (503, 3)])
def test_a_job_refused_for_its_request_is_not_retried_and_retries_end(tmp_path, error_status, submits):
    service = ScriptedService([(202, "failed", error_status)] * 3)
    finished = run(service, tmp_path, retries=2)
    assert finished.status == "failed" and finished.error["status"] == error_status
    assert len(service.keys) == submits == finished.attempts
