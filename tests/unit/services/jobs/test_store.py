"""The SQLite job store on real files: submitting, FIFO claims within each runner's limit, exclusive claims across
threads and processes, leases that expire and attempts that run out, cancelling, results written atomically and
checked on every read, retention, events, pagination, and files it must refuse without changing them."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from services.jobs.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    CorruptStore,
    Job,
    JobStore,
    LeaseLost,
    NewerSchema,
    Progress,
    QueueFull,
    ResultExpired,
    ResultNotReady,
    SQLiteJobStore,
)

NO_LIMIT: dict[str, int] = {}


@pytest.fixture
def store(tmp_path: Path):
    with SQLiteJobStore(tmp_path / "state") as store:
        yield store


def claim(store: JobStore, owner: str = "worker-1", now: float | None = None, max_attempts: int = 3,
          max_running: dict[str, int] = NO_LIMIT, lease_s: float = 30.0) -> Job | None:
    return store.claim(owner, lease_s=lease_s, max_running=max_running, max_attempts=max_attempts, now=now)


def test_a_submitted_job_reads_back_queued_with_its_request(store):
    job, created = store.submit("detect", "detection", {"video_path": "a.mp4", "classes": ["cat"]})

    assert created
    assert store.get(job.job_id) == job
    assert (job.task, job.runner, job.request) == ("detect", "detection", {"video_path": "a.mp4", "classes": ["cat"]})
    assert (job.status, job.attempts, job.progress) == ("queued", 0, Progress(0, None, "frames"))
    assert abs(job.created_at - time.time()) < 60 and job.started_at is None and job.finished_at is None
    assert len(job.job_id) == 32 and store.get("no-such-job") is None


def test_the_same_idempotency_key_answers_the_job_it_made_whatever_its_status(store):
    first, created = store.submit("track", "tracking", {"n": 1}, idempotency_key="k1", max_queued=1)
    again, created_again = store.submit("track", "tracking", {"n": 2}, idempotency_key="k1", max_queued=1)

    assert created and not created_again
    assert again == first and again.request == {"n": 1}
    claim(store)
    store.finish(first.job_id, "worker-1", result=b"{}")
    after, created_after = store.submit("track", "tracking", {"n": 3}, idempotency_key="k1")
    assert (after.job_id, after.status, created_after) == (first.job_id, "succeeded", False)
    other, created_other = store.submit("track", "tracking", {"n": 4}, idempotency_key="k2")
    assert created_other and other.job_id != first.job_id


def test_submitting_past_max_queued_raises_queue_full_and_a_claim_makes_room(store):
    store.submit("detect", "detection", {}, max_queued=2)
    store.submit("detect", "detection", {}, max_queued=2)

    with pytest.raises(QueueFull) as raised:
        store.submit("detect", "detection", {}, max_queued=2)
    assert (raised.value.queued, raised.value.limit) == (2, 2)
    assert store.queue_length() == 2
    claim(store)
    store.submit("detect", "detection", {}, max_queued=2)
    assert store.queue_length() == 2


def test_claims_are_fifo_within_each_runners_limit(store):
    d1, d2, d3 = (store.submit("detect", "detection", {"i": i})[0] for i in range(3))
    t1 = store.submit("track", "tracking", {})[0]
    limits = {"detection": 2}  # tracking has no key: no limit

    assert claim(store, "a", max_running=limits).job_id == d1.job_id
    assert claim(store, "b", max_running=limits).job_id == d2.job_id
    assert claim(store, "c", max_running=limits).job_id == t1.job_id  # d3 waits: detection runs 2 already
    assert claim(store, "d", max_running=limits) is None
    store.finish(d1.job_id, "a", result=b"[]")
    third = claim(store, "d", max_running=limits)
    assert third.job_id == d3.job_id
    assert (third.status, third.lease_owner, third.attempts) == ("running", "d", 1)
    assert third.lease_expires_at == pytest.approx(time.time() + 30, abs=5)
    assert claim(store, "e", max_running={"detection": 0, "tracking": 0}) is None


def claim_until_empty(store: JobStore, owner: str) -> list[str]:
    """A worker's loop: claim, note the claim in the job's events, finish with the owner's name as the result."""
    claimed = []
    while (job := claim(store, owner, lease_s=60)) is not None:
        store.append_event(job.job_id, "claimed", {"owner": owner})
        store.finish(job.job_id, owner, result=owner.encode())
        claimed.append(job.job_id)
    return claimed


def claim_in_a_process(state_dir: str, owner: str, start, out) -> None:
    try:
        with SQLiteJobStore(Path(state_dir)) as store:
            start.wait(timeout=60)
            out.put(claim_until_empty(store, owner))
    except Exception as e:  # answered, so that the test fails at once instead of waiting on the queue
        out.put(repr(e))
        raise


def test_claims_are_exclusive_across_threads_and_processes(tmp_path):
    state_dir = tmp_path / "state"
    with SQLiteJobStore(state_dir) as store:
        job_ids = {store.submit("detect", "detection", {"i": i})[0].job_id for i in range(200)}
        context = multiprocessing.get_context("spawn")
        start, out = context.Barrier(3), context.Queue()
        processes = [context.Process(target=claim_in_a_process, args=(str(state_dir), f"process-{i}", start, out))
                     for i in range(2)]
        for process in processes:
            process.start()
        start.wait(timeout=60)  # the processes are ready: let everyone go at once
        by_thread: dict[str, list[str]] = {}

        def run(owner: str) -> None:
            by_thread[owner] = claim_until_empty(store, owner)

        threads = [threading.Thread(target=run, args=(f"thread-{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        by_process = [out.get(timeout=60) for _ in processes]
        for thread in threads:
            thread.join(timeout=60)
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0

        assert all(isinstance(ids, list) for ids in by_process), by_process
        claimed = [job_id for ids in [*by_thread.values(), *by_process] for job_id in ids]
        assert sorted(claimed) == sorted(job_ids)  # every job once, none twice
        assert any(by_process) and any(by_thread.values())  # both kinds of contender took part
        for job_id in job_ids:
            job, events = store.get(job_id), store.events(job_id)
            assert (job.status, job.attempts) == ("succeeded", 1)
            assert len(events) == 1 and store.result(job_id) == events[0][2]["owner"].encode()


def open_new_stores(root: str, rounds: int, start, out) -> None:
    try:
        for i in range(rounds):
            start.wait(timeout=60)
            with SQLiteJobStore(Path(root) / f"store-{i}") as store:
                store.submit("detect", "detection", {})
        out.put("ok")
    except Exception as e:
        start.abort()  # the others stop waiting for this one
        out.put(repr(e))
        raise


def test_processes_that_create_a_store_together_all_open_it(tmp_path):
    rounds, count = 10, 4  # each round is one race to create a file
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(count), context.Queue()
    processes = [context.Process(target=open_new_stores, args=(str(tmp_path), rounds, start, out))
                 for _ in range(count)]
    for process in processes:
        process.start()
    answers = [out.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    assert answers == ["ok"] * count
    for i in range(rounds):
        with SQLiteJobStore(tmp_path / f"store-{i}") as store:
            assert store.queue_length() == count


def test_an_expired_lease_goes_back_to_the_queue_and_the_next_claim_is_a_second_attempt(store):
    job = store.submit("summarize", "language", {})[0]
    first = claim(store, "a", lease_s=30)

    assert claim(store, "b", now=time.time() + 10) is None  # not expired yet
    second = claim(store, "b", now=time.time() + 60)
    assert second.job_id == job.job_id
    assert (second.attempts, second.lease_owner, second.started_at) == (2, "b", first.started_at)
    with pytest.raises(LeaseLost):
        store.renew(job.job_id, "a", 30)
    with pytest.raises(LeaseLost):
        store.finish(job.job_id, "a", result=b"late")
    assert store.renew(job.job_id, "b", 30) is False


def test_a_job_whose_worker_stopped_max_attempts_times_fails_with_the_reason(store):
    job = store.submit("augment", "language", {})[0]
    later = store.submit("detect", "detection", {})[0]
    now = time.time()

    assert claim(store, "a", max_attempts=2, now=now).job_id == job.job_id
    assert claim(store, "b", max_attempts=2, now=now + 60).job_id == job.job_id  # a stopped: attempt 2
    third = claim(store, "c", max_attempts=2, now=now + 120)  # b stopped too: no attempt left

    assert third.job_id == later.job_id
    failed = store.get(job.job_id)
    assert (failed.status, failed.attempts, failed.finished_at) == ("failed", 2, now + 120)
    assert failed.error["code"] == "job_lease_expired" and failed.error["status"] == 503
    assert "stopped 2 times" in failed.error["message"]
    with pytest.raises(LeaseLost):
        store.set_progress(job.job_id, "b", 1, None, "frames")


def test_a_cancelled_job_whose_worker_stopped_ends_cancelled_not_requeued(store):
    job = store.submit("track", "tracking", {})[0]
    claim(store, "a")
    store.cancel(job.job_id)

    assert claim(store, "b", now=time.time() + 60) is None
    assert store.get(job.job_id).status == "cancelled"


def test_writes_by_a_worker_that_does_not_hold_the_lease_raise_lease_lost(store):
    queued = store.submit("detect", "detection", {})[0]
    with pytest.raises(LeaseLost):
        store.renew(queued.job_id, "a", 30)
    job = claim(store, "a")

    for write in (lambda owner: store.renew(job.job_id, owner, 30),
                  lambda owner: store.set_progress(job.job_id, owner, 5, 10, "frames"),
                  lambda owner: store.save_checkpoint(job.job_id, owner, {"frame": 5}),
                  lambda owner: store.finish(job.job_id, owner, result=b"{}")):
        with pytest.raises(LeaseLost):
            write("intruder")
    assert store.get(job.job_id).progress == Progress() and store.checkpoint(job.job_id) is None
    store.finish(job.job_id, "a", error={"status": 422, "error": "Unprocessable Video", "message": "bad"})
    with pytest.raises(LeaseLost):
        store.renew(job.job_id, "a", 30)  # finished: nobody holds it
    assert store.get(job.job_id).error["status"] == 422


def test_progress_never_goes_backwards_within_a_unit(store):
    job = store.submit("summarize", "language", {})[0]
    claim(store, "a")

    store.set_progress(job.job_id, "a", 40, 100, "frames")
    store.set_progress(job.job_id, "a", 25, 120, "frames")  # a resumed attempt counting again
    assert store.get(job.job_id).progress == Progress(40, 120, "frames")
    store.set_progress(job.job_id, "a", 3, None, "tokens")  # a new phase counts from its own start
    assert store.get(job.job_id).progress == Progress(3, None, "tokens")


def test_a_checkpoint_is_replaced_and_outlives_a_lost_lease(store):
    job = store.submit("track", "tracking", {})[0]
    claim(store, "a")
    store.save_checkpoint(job.job_id, "a", {"frame": 10, "tracks": [1, 2]})
    store.save_checkpoint(job.job_id, "a", {"frame": 20})

    resumed = claim(store, "b", now=time.time() + 60)
    assert resumed.attempts == 2 and store.checkpoint(job.job_id) == {"frame": 20}
    assert store.checkpoint("no-such-job") is None


def test_a_checkpoint_in_parts_keeps_every_part_with_its_progress_and_events(store):
    job = store.submit("track", "tracking", {})[0]
    claim(store, "a")
    for chunk in (1, 2):
        store.save_checkpoint(job.job_id, "a", {"chunks_done": chunk}, part=[{"frame": chunk}],
                              progress=Progress(10 * chunk, 30, "frames"),
                              events=[("partial", {"chunk": chunk}), ("progress", {"done": 10 * chunk})])
    with pytest.raises(LeaseLost):  # an intruder writes none of it
        store.save_checkpoint(job.job_id, "b", {"chunks_done": 3}, part=[{"frame": 3}], events=[("partial", {})])

    assert store.checkpoint(job.job_id) == {"chunks_done": 2}
    assert store.checkpoint_parts(job.job_id) == [[{"frame": 1}], [{"frame": 2}]]
    assert store.get(job.job_id).progress == Progress(20, 30, "frames")
    assert [(kind, data) for _, kind, data in store.events(job.job_id)] == [
        ("partial", {"chunk": 1}), ("progress", {"done": 10}), ("partial", {"chunk": 2}), ("progress", {"done": 20})]
    store.finish(job.job_id, "a", result=b"{}")  # a finished job is never resumed: the checkpoint goes
    assert store.checkpoint(job.job_id) is None and store.checkpoint_parts(job.job_id) == []


def test_cancel_stops_a_queued_job_at_once_and_asks_a_running_one(store):
    queued = store.submit("detect", "detection", {})[0]
    cancelled = store.cancel(queued.job_id)
    assert (cancelled.status, cancelled.cancel_requested) == ("cancelled", True) and cancelled.finished_at
    assert claim(store) is None

    running = store.submit("detect", "detection", {})[0]
    claim(store, "a")
    assert store.renew(running.job_id, "a", 30) is False
    asked = store.cancel(running.job_id)
    assert (asked.status, asked.cancel_requested) == ("running", True)
    assert store.renew(running.job_id, "a", 30) is True
    done = store.finish(running.job_id, "a", status="cancelled")
    assert (done.status, done.lease_expires_at) == ("cancelled", None) and done.finished_at

    assert store.cancel(running.job_id) == done  # final: unchanged
    assert store.cancel("no-such-job") is None


def test_a_result_is_a_checksummed_file_and_a_tampered_one_is_refused(store):
    job = store.submit("detect", "detection", {})[0]
    claim(store, "a")
    body = b'{"frames": [' + b"1, " * 5000 + b"1]}"

    done = store.finish(job.job_id, "a", result=body)

    path = store.state_dir / "results" / f"{job.job_id}.json"
    assert path.read_bytes() == body and os.listdir(path.parent) == [path.name]  # no temporary file left
    assert (done.status, done.result_size, done.result_sha256) == ("succeeded", len(body),
                                                                   hashlib.sha256(body).hexdigest())
    assert store.result(job.job_id) == body
    path.write_bytes(body.replace(b"1]", b"2]"))
    with pytest.raises(CorruptStore, match=str(path)) as raised:
        store.result(job.job_id)
    assert "nothing was deleted" in str(raised.value).lower()
    assert path.read_bytes() == body.replace(b"1]", b"2]")


def test_a_worker_that_lost_its_lease_cannot_replace_the_result_of_the_one_that_took_over(store):
    job = store.submit("detect", "detection", {})[0]
    claim(store, "a")
    claim(store, "b", now=time.time() + 60)
    store.finish(job.job_id, "b", result=b'{"by": "b"}')

    with pytest.raises(LeaseLost):
        store.finish(job.job_id, "a", result=b'{"by": "a"}')
    assert store.result(job.job_id) == b'{"by": "b"}'
    assert os.listdir(store.results_dir) == [f"{job.job_id}.json"]


def test_a_result_before_success_is_not_ready(store):
    job = store.submit("detect", "detection", {})[0]
    with pytest.raises(ResultNotReady) as raised:
        store.result(job.job_id)
    assert raised.value.status == "queued"
    claim(store, "a")
    with pytest.raises(ResultNotReady):
        store.result(job.job_id)
    store.finish(job.job_id, "a", error={"status": 500, "error": "Internal Server Error", "message": "boom"})
    with pytest.raises(ResultNotReady) as raised:
        store.result(job.job_id)
    assert raised.value.status == "failed"
    with pytest.raises(KeyError):
        store.result("no-such-job")


def test_finish_refuses_an_outcome_that_does_not_fit_its_status(store):
    job = store.submit("detect", "detection", {})[0]
    claim(store, "a")
    for kwargs in ({}, {"status": "running"}, {"status": "failed"}, {"result": b"{}", "status": "cancelled"}):
        with pytest.raises(ValueError):
            store.finish(job.job_id, "a", **kwargs)
    assert store.get(job.job_id).status == "running"


def test_expire_removes_old_results_and_keeps_the_rows(store):
    done = store.submit("detect", "detection", {})[0]
    claim(store, "a")
    store.finish(done.job_id, "a", result=b"{}")
    running = store.submit("track", "tracking", {})[0]
    claim(store, "b")
    store.submit("summarize", "language", {})
    path = store.results_dir / f"{done.job_id}.json"

    assert store.expire(retention_s=60, now=time.time() + 30) == 0 and path.exists()
    assert store.expire(retention_s=60, now=time.time() + 120) == 1  # the running and the queued job stay
    assert not path.exists()
    with pytest.raises(ResultExpired):
        store.result(done.job_id)
    kept = store.get(done.job_id)
    assert (kept.status, kept.result_expired) == ("succeeded", True)
    assert store.get(running.job_id).result_expired is False
    assert store.expire(retention_s=60, now=time.time() + 120) == 0


def test_events_have_monotone_ids_per_job_and_after_filters(store):
    job = store.submit("track", "tracking", {})[0]
    other = store.submit("track", "tracking", {})[0]

    assert [store.append_event(job.job_id, "progress", {"done": i}) for i in range(3)] == [1, 2, 3]
    assert store.append_event(other.job_id, "status", {"status": "running"}) == 1
    assert store.events(job.job_id) == [(1, "progress", {"done": 0}), (2, "progress", {"done": 1}),
                                        (3, "progress", {"done": 2})]
    assert [event[0] for event in store.events(job.job_id, after=1)] == [2, 3]
    assert [event[0] for event in store.events(job.job_id, after=1, limit=1)] == [2]
    assert store.events(job.job_id, after=3) == []
    with pytest.raises(KeyError):
        store.append_event("no-such-job", "progress", {})


def test_concurrent_appends_get_distinct_consecutive_ids(store):
    job = store.submit("track", "tracking", {})[0]
    ids: list[int] = []

    def append() -> None:
        ids.extend(store.append_event(job.job_id, "progress", {}) for _ in range(25))

    threads = [threading.Thread(target=append) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(1, 101))
    assert [event[0] for event in store.events(job.job_id)] == list(range(1, 101))


def test_list_pages_newest_first_with_filters(store):
    jobs = [store.submit("detect" if i % 2 else "track", "detection", {"i": i})[0] for i in range(7)]
    claim(store, "a")  # the oldest, a track job, is running

    seen, cursor = [], None
    while True:
        page, cursor = store.list(limit=3, cursor=cursor)
        assert len(page) <= 3
        seen.extend(page)
        if cursor is None:
            break
    assert [job.job_id for job in seen] == [job.job_id for job in reversed(jobs)]
    detects, cursor = store.list(task="detect", limit=10)
    assert [job.request["i"] for job in detects] == [5, 3, 1] and cursor is None
    queued_tracks, _ = store.list(status="queued", task="track")
    assert [job.request["i"] for job in queued_tracks] == [6, 4, 2]
    first, cursor = store.list(status="queued", limit=2)
    rest, end = store.list(status="queued", limit=2, cursor=cursor)
    assert [job.request["i"] for job in first + rest] == [6, 5, 4, 3] and end is not None
    with pytest.raises(ValueError):
        store.list(cursor="not a cursor")


def test_counts_by_task_and_status(store):
    for _ in range(2):
        store.submit("detect", "detection", {})
    store.submit("track", "tracking", {})
    claim(store, "a")

    counts = store.counts()
    assert counts["detect"] == {"queued": 1, "running": 1, "succeeded": 0, "failed": 0, "cancelled": 0}
    assert counts["track"]["queued"] == 1 and set(counts) == {"detect", "track"}
    assert store.queue_length() == 2


def test_reopening_keeps_jobs_and_results_byte_identical(tmp_path):
    body = bytes(range(256)) * 40
    with SQLiteJobStore(tmp_path) as store:
        job = store.submit("summarize", "language", {"video_path": "v.mp4"}, idempotency_key="k")[0]
        claim(store, "a")
        store.set_progress(job.job_id, "a", 7, 9, "frames")
        store.append_event(job.job_id, "progress", {"done": 7})
        finished = store.finish(job.job_id, "a", result=body)
        queued = store.submit("detect", "detection", {})[0]

    with SQLiteJobStore(tmp_path) as reopened:
        assert reopened.get(job.job_id) == finished and reopened.get(queued.job_id) == queued
        assert reopened.result(job.job_id) == body
        assert reopened.events(job.job_id) == [(1, "progress", {"done": 7})]
        assert reopened.submit("summarize", "language", {}, idempotency_key="k") == (finished, False)


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path):
    path = tmp_path / "jobs.db"
    garbage = b"not sqlite " + bytes(range(256)) * 16
    path.write_bytes(garbage)

    with pytest.raises(CorruptStore, match=str(path)) as raised:
        SQLiteJobStore(tmp_path)
    assert "nothing was deleted" in str(raised.value).lower() and raised.value.path == path
    assert path.read_bytes() == garbage


def test_a_damaged_database_is_refused_untouched(tmp_path):
    with SQLiteJobStore(tmp_path) as store:
        for i in range(40):
            store.submit("detect", "detection", {"prompt": "x" * 500, "i": i})
    path = tmp_path / "jobs.db"
    damaged = bytearray(path.read_bytes())
    page_size = int.from_bytes(damaged[16:18], "big")  # from the file header
    last_page = len(damaged) // page_size - 1
    damaged[last_page * page_size:last_page * page_size + 8] = b"\x07" * 8  # no valid b-tree page starts so
    path.write_bytes(bytes(damaged))

    with pytest.raises(CorruptStore, match=str(path)):
        SQLiteJobStore(tmp_path)
    assert path.read_bytes() == bytes(damaged)


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    with SQLiteJobStore(tmp_path) as store:
        store.submit("detect", "detection", {})
    path = tmp_path / "jobs.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()

    with pytest.raises(NewerSchema, match=str(path)):
        SQLiteJobStore(tmp_path)
    assert path.read_bytes() == before


def test_a_file_of_the_first_schema_is_migrated_with_its_jobs(tmp_path):
    conn = sqlite3.connect(tmp_path / "jobs.db")
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO jobs (job_id, task, runner, request, status, progress, created_at) VALUES "
                 "('old', 'track', 'tracking', '{}', 'queued', ?, 1.0)",
                 ('{"done": 0, "total": null, "unit": "frames"}',))
    conn.commit()
    conn.close()

    with SQLiteJobStore(tmp_path) as store:
        job = claim(store, "a")
        assert job.job_id == "old"
        store.save_checkpoint("old", "a", {"chunks_done": 1}, part=[1])  # the table version 2 added
        assert store.checkpoint_parts("old") == [[1]]
    conn = sqlite3.connect(tmp_path / "jobs.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    conn.close()


def test_a_new_file_gets_the_current_schema_version(tmp_path):
    SQLiteJobStore(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "jobs.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
