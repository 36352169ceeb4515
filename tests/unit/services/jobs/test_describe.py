"""What GET /api/jobs/{id} answers for a job in the store."""

from __future__ import annotations

from services.jobs.api import describe
from services.jobs.store import SQLiteJobStore


def test_a_failed_jobs_error_keeps_the_status_its_route_would_have_answered(tmp_path):
    with SQLiteJobStore(tmp_path) as store:
        job, _ = store.submit("detect", "detection", {"video_id": "shapes"})
        store.claim("a", 30, {}, 3)
        store.finish(job.job_id, "a", error={"status": 503, "error": "Service Unavailable",
                                             "message": "the model runner stopped answering", "details": {}})
        answered = describe(store.get(job.job_id))
    assert answered.status == "failed" and answered.error is not None
    assert (answered.error.status, answered.error.error) == (503, "Service Unavailable")  # a client may retry a 503
