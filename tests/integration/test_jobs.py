"""Jobs against a real `bentoml serve`: submit → events → result, the same body as the synchronous route; refused at
submit for what the route refuses; cancel; the errors of each state; results across a restart; a corrupt store."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from runners.core.geometry import box_iou
from scripts.local_server import kill_service, start_service, stop_service
from tests.support.api import assert_envelope
from tests.support.config import config_variant
from tests.support.demo_scores import mot_scores, track_request, xyxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

TIMINGS = ("inference_time_ms",)  # differ between two runs of the same request


def submit(client: httpx.Client, task: str, request: dict, **headers) -> httpx.Response:
    return client.post("/api/jobs", json={"task": task, "request": request}, headers=headers)


def finished(client: httpx.Client, job_id: str, within_s: float = 300) -> dict:
    def final():
        """the job finished"""
        job = client.get(f"/api/jobs/{job_id}").json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None
    return wait_for(final, within_s=within_s, every_s=0.2)


def without_timings(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in TIMINGS}


def read_events(client: httpx.Client, job_id: str, last_event_id: int | None = None, stop_after: int | None = None):
    """(id, event, data) of the job's event stream, from after `last_event_id`; `stop_after` hangs up early."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    events, current = [], {}
    with client.stream("GET", f"/api/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(":"):  # a keep-alive comment
                continue
            if not line:
                if current:
                    events.append((int(current["id"]), current["event"], json.loads(current["data"])))
                    current = {}
                    if stop_after is not None and len(events) >= stop_after:
                        break
                continue
            field, _, value = line.partition(":")
            current[field] = value.strip()
    return events


@pytest.fixture(scope="module")
def detect_job_request(demo_video) -> dict:
    return {"video_path": str(demo_video), "model": "yolo11n", "frame_range": {"start": 0, "end": 249}, "stride": 3}


def test_a_detect_job_answers_what_the_route_answers(client, detect_job_request):
    response = submit(client, "detect", detect_job_request)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("queued", "running") and job["task"] == "detect"
    done = finished(client, job["job_id"])
    assert done["status"] == "succeeded" and done["attempts"] == 1, done
    assert done["progress"] == {"done": 84, "total": 84, "unit": "frames", "fraction": 1.0, "eta_s": None}
    result = client.get(f"/api/jobs/{job['job_id']}/result")
    assert result.status_code == 200
    sync = client.post("/api/detect", json=detect_job_request)
    assert sync.status_code == 200, sync.text
    assert without_timings(result.json()) == without_timings(sync.json())
    assert [f["frame_number"] for f in result.json()["detections"]] == list(range(0, 250, 3))
    queue = client.get("/health").json()["jobs"]
    assert queue["by_task"]["detect"]["succeeded"] >= 1 and queue["queued"] >= 0

    def recorded():
        """/metrics shows the succeeded detect job (the worker sets the counts every half second)"""
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in text_string_to_metric_families(client.get("/metrics").text) for s in family.samples}
        succeeded = (("status", "succeeded"), ("task", "detect"))
        return (samples.get(("vms_jobs", succeeded), 0) >= 1 and samples.get(("vms_job_seconds_count", succeeded), 0)
                >= 1 and ("vms_job_queue_length", ()) in samples)
    wait_for(recorded)


def test_a_track_job_answers_what_the_route_answers(client, tracking_video):
    request = track_request(tracking_video)
    job = submit(client, "track", request).json()
    done = finished(client, job["job_id"])
    assert done["status"] == "succeeded", done
    assert done["progress"]["done"] == done["progress"]["total"] == 140
    sync = client.post("/api/track", json=request)
    assert sync.status_code == 200, sync.text
    result = client.get(f"/api/jobs/{job['job_id']}/result").json()
    assert without_timings(result) == without_timings(sync.json())
    assert_partials_in_result(read_events(client, job["job_id"]), result["tracks"])


def test_events_come_in_order_and_a_reconnect_resumes_after_the_last_one(client, detect_job_request):
    job = submit(client, "detect", detect_job_request).json()
    first = read_events(client, job["job_id"], stop_after=3)  # hang up after three events
    rest = read_events(client, job["job_id"], last_event_id=first[-1][0])
    events = first + rest
    assert [e[0] for e in events] == list(range(1, len(events) + 1))  # nothing lost, nothing repeated
    assert events[-1][1] == "done" and events[-1][2]["status"] == "succeeded"
    progress = [e[2]["done"] for e in events if e[1] == "progress"]
    assert progress == sorted(progress) and progress[-1] == 84
    partial = [frame for e in events if e[1] == "partial" for frame in e[2]["frames"]]
    result = client.get(f"/api/jobs/{job['job_id']}/result").json()
    assert partial == result["detections"]  # detect's partial results are final: the result, in order
    assert read_events(client, job["job_id"]) == events  # a finished job's stream replays and ends


def test_two_hundred_jobs_from_sixteen_clients_all_succeed_each_run_once(service, demo_video, tracking_video):
    def job_for(i: int) -> tuple[str, dict]:
        if i % 25 == 0:  # a few short tracks among the detections: two runners' limits at once
            return "track", {"video_path": str(tracking_video), "model": "yolo11n-seg", "include_masks": False,
                             "frame_range": {"start": i % 100, "end": i % 100 + 9}}
        return "detect", {"video_path": str(demo_video), "model": "yolo11n", "frame_numbers": [i % 250]}

    def one_client(numbers: range) -> list[tuple[int, str]]:
        with httpx.Client(base_url=service["url"], timeout=600) as own:
            submitted = []
            for i in numbers:
                response = submit(own, *job_for(i))
                assert response.status_code == 202, response.text
                submitted.append((i, response.json()["job_id"]))
            return submitted

    with ThreadPoolExecutor(16) as pool:
        ids = dict(pair for batch in pool.map(one_client, [range(c, 200, 16) for c in range(16)]) for pair in batch)
    assert sorted(ids) == list(range(200)) and len(set(ids.values())) == 200

    with httpx.Client(base_url=service["url"], timeout=600) as client:
        def all_finished():
            """the 200 jobs finished"""
            jobs = {job_id: client.get(f"/api/jobs/{job_id}").json() for job_id in ids.values()}
            return jobs if all(j["status"] in ("succeeded", "failed", "cancelled") for j in jobs.values()) else None
        jobs = wait_for(all_finished, within_s=900, every_s=2)
        assert {j["status"] for j in jobs.values()} == {"succeeded"}
        assert {j["attempts"] for j in jobs.values()} == {1}  # none was taken twice
        for i, job_id in ids.items():
            events = read_events(client, job_id)
            assert [kind for _, kind, _ in events].count("done") == 1
            assert sum(kind == "progress" and data["done"] == 0 for _, kind, data in events) == 1  # started once
            if job_for(i)[0] == "detect":
                result = client.get(f"/api/jobs/{job_id}/result").json()
                assert [f["frame_number"] for f in result["detections"]] == [i % 250]


def test_a_repeated_submit_with_an_idempotency_key_returns_the_first_job(client, detect_job_request):
    first = submit(client, "detect", detect_job_request, **{"Idempotency-Key": "batch-7"})
    again = submit(client, "detect", detect_job_request, **{"Idempotency-Key": "batch-7"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["job_id"] == first.json()["job_id"]
    listed = client.get("/api/jobs", params={"task": "detect", "limit": 500}).json()["jobs"]
    assert sum(j["job_id"] == first.json()["job_id"] for j in listed) == 1


@pytest.mark.parametrize("body, status, field", [
    ({"task": "paint", "request": {}}, 400, "task"),
    ({"task": "detect", "request": {"video_id": "shapes"}}, 400, "request"),  # neither frame_numbers nor a range
    ({"task": "detect", "request": {"video_path": "/etc/passwd", "frame_numbers": [0]}}, 403, None),
    ({"task": "detect", "request": {"video_id": "no-such-video", "frame_numbers": [0]}}, 404, None),
    ({"task": "detect", "request": {"video_id": "shapes", "frame_numbers": [0, 250]}}, 400, "frame_numbers"),
    ({"task": "track", "request": {"video_id": "shapes", "frame_range": {"start": 300, "end": 400}}}, 400,
     "frame_range.start"),
    ({"task": "augment", "request": {"persona_name": "analyst", "existing_ontology": {"entity_types": ["Ball"]},
                                    "model": "nope"}}, 400,
     "model"),
])
def test_a_job_is_refused_at_submit_for_what_the_route_refuses(client, body, status, field):
    def job_ids() -> list[str]:  # ids only: jobs of earlier tests may still be running (their progress moves)
        return [job["job_id"] for job in client.get("/api/jobs", params={"limit": 500}).json()["jobs"]]
    before = job_ids()
    response = client.post("/api/jobs", json=body)
    assert_envelope(response, status)
    if field is not None:
        assert field in response.json()["details"].get("field", ""), response.json()
    assert job_ids() == before  # no job was made


def test_unknown_jobs_and_early_results_get_their_status(client, tracking_video):
    assert_envelope(client.get("/api/jobs/no-such-job"), 404)
    assert_envelope(client.get("/api/jobs/no-such-job/result"), 404)
    assert_envelope(client.delete("/api/jobs/no-such-job"), 404)
    assert_envelope(client.get("/api/jobs/no-such-job/events"), 404)
    job = submit(client, "track", track_request(tracking_video)).json()
    early = client.get(f"/api/jobs/{job['job_id']}/result")
    if client.get(f"/api/jobs/{job['job_id']}").json()["status"] != "succeeded":
        assert_envelope(early, 409)
        assert early.json()["details"]["status"] in ("queued", "running")
    finished(client, job["job_id"])


def test_cancelling_a_running_track_job_stops_the_runner(client, demo_video):
    before = client.get("/health").json()["runners"]["tracking"]["jobs_cancelled"]
    request = {"video_path": str(demo_video), "model": "yolo11n-seg", "frame_range": {"start": 0, "end": 249},
               "include_masks": True}
    job = submit(client, "track", request).json()

    def running():
        """the job has tracked some frames"""
        current = client.get(f"/api/jobs/{job['job_id']}").json()
        return current["status"] == "running" and current["progress"]["done"] > 0
    wait_for(running, every_s=0.05)
    cancelled = client.delete(f"/api/jobs/{job['job_id']}")
    assert cancelled.status_code == 200 and cancelled.json()["cancel_requested"] is True
    done = finished(client, job["job_id"])
    assert done["status"] == "cancelled" and done["progress"]["done"] < 250
    assert_envelope(client.get(f"/api/jobs/{job['job_id']}/result"), 409)
    wait_for(lambda: client.get("/health").json()["runners"]["tracking"]["jobs_cancelled"] == before + 1)


def test_queue_full_and_expired_results(demo_config, tracking_video, tmp_path):
    def small_queue(config):
        config["jobs"] = {"max_queued": 1, "max_running": {"tracking": 1}, "retention_hours": 0.001}  # 3.6 s
    config = config_variant(demo_config, tmp_path / "models.yaml", small_queue)
    process, url, _ = start_service(config, tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            request = track_request(tracking_video)
            running = submit(client, "track", request).json()
            wait_for(lambda: client.get(f"/api/jobs/{running['job_id']}").json()["status"] == "running")
            queued = submit(client, "track", request)
            assert queued.status_code == 202
            full = submit(client, "track", request)
            assert_envelope(full, 429)
            assert int(full.headers["retry-after"]) > 0
            for job in (running, queued.json()):
                assert finished(client, job["job_id"])["status"] == "succeeded"

            def gone():
                """the result was removed after its retention period"""
                return client.get(f"/api/jobs/{running['job_id']}/result").status_code == 410
            wait_for(gone, within_s=60)
            assert_envelope(client.get(f"/api/jobs/{running['job_id']}/result"), 410)
            assert client.get(f"/api/jobs/{running['job_id']}").json()["status"] == "succeeded"  # the row stays
    finally:
        stop_service(process)


def test_results_survive_a_restart_byte_for_byte(demo_config, demo_video, tmp_path):
    env = {"STATE_DIR": str(tmp_path / "state")}
    request = {"video_path": str(demo_video), "model": "yolo11n", "frame_numbers": [0, 10, 20]}
    process, url, _ = start_service(demo_config, tmp_path / "first.log", env=env)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            job = submit(client, "detect", request).json()
            assert finished(client, job["job_id"])["status"] == "succeeded"
            before = client.get(f"/api/jobs/{job['job_id']}/result").content
    finally:
        stop_service(process)
    process, url, _ = start_service(demo_config, tmp_path / "second.log", env=env)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            assert client.get(f"/api/jobs/{job['job_id']}").json()["status"] == "succeeded"
            assert client.get(f"/api/jobs/{job['job_id']}/result").content == before
    finally:
        stop_service(process)


def same_object(a: dict, b: dict) -> int:
    """Frames on which two tracks have boxes at IoU >= 0.5."""
    boxes = {box["frame_number"]: xyxy(box["bbox"]) for box in b["boxes"]}
    return sum(1 for box in a["boxes"] if box["frame_number"] in boxes
               and box_iou(xyxy(box["bbox"]), boxes[box["frame_number"]]) >= 0.5)


def test_a_track_job_killed_past_half_way_resumes_from_its_checkpoint(demo_config, demo_dir, tracking_video,
                                                                       tmp_path):
    """kill -9 of the whole service while a 140-frame YOLO11n-seg track job is past half way; started again, the job
    goes on from its last checkpoint (attempt 2) and ends with the tracks of an uninterrupted run: the same ids,
    MOTA and IDF1 within 0.02. The uninterrupted run, a job that succeeded before the kill, keeps its result byte
    for byte."""
    def short_lease(config):  # a dead worker's job is taken again after its lease: keep the test short
        config["jobs"] = {"lease_s": 3, "track_chunk_frames": 10}
    config = config_variant(demo_config, tmp_path / "models.yaml", short_lease)
    env = {"STATE_DIR": str(tmp_path / "state")}
    request = track_request(tracking_video)
    process, url, _ = start_service(config, tmp_path / "first.log", env=env)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            uninterrupted = submit(client, "track", request).json()["job_id"]
            assert finished(client, uninterrupted)["status"] == "succeeded"
            reference = client.get(f"/api/jobs/{uninterrupted}/result").content
            job = submit(client, "track", request).json()

            def past_half_way():
                """the job has checkpointed more than half of its 140 frames"""
                return client.get(f"/api/jobs/{job['job_id']}").json()["progress"]["done"] > 70
            wait_for(past_half_way, every_s=0.01)
            kill_service(process)
    finally:
        stop_service(process)
    process, url, _ = start_service(config, tmp_path / "second.log", env=env)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            done = finished(client, job["job_id"])
            assert done["status"] == "succeeded" and done["attempts"] == 2, done
            assert client.get(f"/api/jobs/{uninterrupted}/result").content == reference
            resumed = client.get(f"/api/jobs/{job['job_id']}/result").json()["tracks"]
            events = read_events(client, job["job_id"])
    finally:
        stop_service(process)
    expected = json.loads(reference)["tracks"]
    assert len(resumed) == len(expected)
    for track in resumed:  # each track is the uninterrupted run's track of the same object, under its id
        twin = max(expected, key=lambda other: same_object(track, other))
        assert twin["track_id"] == track["track_id"] and twin["label"] == track["label"]
    truth = json.loads((demo_dir / "media" / "tracking.json").read_text())
    frames = range(140)
    for metric, value in mot_scores(truth, resumed, frames).items():
        if metric != "num_switches":
            assert abs(value - mot_scores(truth, expected, frames)[metric]) <= 0.02, metric
    progress = [data["done"] for _, kind, data in events if kind == "progress"]
    assert progress == sorted(progress) and progress[-1] == 140  # monotone across the crash
    assert_partials_in_result(events, resumed)


def assert_partials_in_result(events: list, tracks: list[dict]) -> None:
    """Every box of a track job's `partial` events is in the result, at its frame, with its label and box."""
    result = {(track["label"], box["frame_number"], json.dumps(box["bbox"], sort_keys=True))
              for track in tracks for box in track["boxes"]}
    partial = [box for _, kind, data in events if kind == "partial" for box in data["boxes"]]
    assert partial and all(data["final"] is False for _, kind, data in events if kind == "partial")
    missing = [box for box in partial
               if (box["label"], box["frame_number"], json.dumps(box["bbox"], sort_keys=True)) not in result]
    assert not missing, missing[:3]


def test_a_corrupt_job_store_stops_the_service_naming_the_file(demo_config, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    corrupt = state / "jobs.db"
    garbage = b"this is not a database" * 100
    corrupt.write_bytes(garbage)
    with pytest.raises(RuntimeError, match="exited") as refused:
        start_service(demo_config, tmp_path / "serve.log", env={"STATE_DIR": str(state)})
    assert str(corrupt) in str(refused.value)
    assert corrupt.read_bytes() == garbage  # nothing deleted or rewritten


def test_synchronous_tracks_wait_in_line_for_the_runners_sessions(demo_config, tracking_video, tmp_path):
    """One tracking session at a time (jobs.max_running), one request allowed to wait: of three synchronous tracks
    sent together one runs, one waits (counted in /health) and one is refused; the waiting one then runs."""
    def one_session(config):
        config["jobs"] = {"max_running": {"tracking": 1}, "max_queued": 1}
    config = config_variant(demo_config, tmp_path / "models.yaml", one_session)
    process, url, _ = start_service(config, tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=url, timeout=600) as client, ThreadPoolExecutor(2) as pool:
            assert client.post("/models/load", json={"model_id": "yolo11n-seg"}).status_code == 200
            request = {**track_request(tracking_video), "include_masks": False}
            first = pool.submit(client.post, "/api/track", json=request)

            def sessions(running: int, waiting: int):
                def check():
                    status = client.get("/health").json()["runners"]["tracking"]
                    return (status["sessions_running"], status["sessions_waiting"]) == (running, waiting)
                check.__doc__ = f"{running} tracking session(s) running and {waiting} waiting"
                return check
            wait_for(sessions(1, 0), every_s=0.02)
            second = pool.submit(client.post, "/api/track", json=request)
            wait_for(sessions(1, 1), every_s=0.02)
            refused = client.post("/api/track", json=request)
            assert_envelope(refused, 429)
            assert int(refused.headers["retry-after"]) > 0
            assert first.result().status_code == 200 and second.result().status_code == 200
            wait_for(sessions(0, 0))
    finally:
        stop_service(process)
