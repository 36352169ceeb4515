"""The job store: every job's state in one SQLite file, so that a job outlives the process that ran it.

`state_dir/jobs.db` holds the jobs, their progress, checkpoints and events; a succeeded job's result is a file beside
it (`state_dir/results/<job_id>.json`) whose size and sha256 the row keeps. Several threads and several processes may
share the directory: the file is in WAL mode (readers never wait for the writer), each thread has its own connection,
and every read-then-write is one `BEGIN IMMEDIATE` transaction, which takes the file's write lock at its start, so two
claims can never pick the same job.

A worker holds a job through a lease: `claim` hands it the oldest queued job its runner has room for, until
`lease_expires_at`; the worker renews the lease while it works, and every write it makes checks that the lease is still
its own (`LeaseLost` otherwise). A worker that stops renewing (it crashed, or hangs) loses the job at the next claim
by anyone: the job goes back to the queue, or fails once it has used every attempt.

The schema has a version (`PRAGMA user_version`) and `MIGRATIONS` take a file from one version to the next. A file this
code cannot read, or one written by a newer version, is refused at open and never changed.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
STATUSES: tuple[Status, ...] = ("queued", "running", "succeeded", "failed", "cancelled")
FINAL: tuple[Status, ...] = ("succeeded", "failed", "cancelled")

BUSY_TIMEOUT_S = 10.0
SQLITE_HEADER = b"SQLite format 3\x00"
# A result staged by a worker that died before it could move it into place; younger ones may be in flight.
STALE_TEMP_S = 3600.0

# MIGRATIONS[v] takes a file at schema version v to v + 1. A released migration is never edited, only appended to.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE jobs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- submit order: breaks ties between equal created_at
            job_id TEXT NOT NULL UNIQUE,
            task TEXT NOT NULL,
            runner TEXT NOT NULL,
            request TEXT NOT NULL,                  -- JSON
            status TEXT NOT NULL,
            progress TEXT NOT NULL,                 -- JSON {"done", "total", "unit"}
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            error TEXT,                             -- JSON error envelope
            idempotency_key TEXT UNIQUE,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            checkpoint TEXT,                        -- JSON
            result_path TEXT,                       -- relative to the state directory
            result_size INTEGER,
            result_sha256 TEXT,
            result_expired INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires_at REAL
        )""",
        "CREATE INDEX jobs_claim ON jobs (status, runner, created_at, seq)",
        "CREATE INDEX jobs_created ON jobs (created_at, seq)",
        "CREATE INDEX jobs_finished ON jobs (result_expired, finished_at)",
        """CREATE TABLE events (
            job_id TEXT NOT NULL REFERENCES jobs (job_id),
            id INTEGER NOT NULL,                    -- 1, 2, 3… within each job
            kind TEXT NOT NULL,
            data TEXT NOT NULL,                     -- JSON
            created_at REAL NOT NULL,
            PRIMARY KEY (job_id, id)
        ) WITHOUT ROWID""",
    ),
    (   # 2: a checkpoint in parts (a track job's observations, chunk by chunk), so that saving one costs its chunk
        """CREATE TABLE checkpoint_parts (
            job_id TEXT NOT NULL REFERENCES jobs (job_id),
            part INTEGER NOT NULL,                  -- 1, 2, 3… in the order they were written
            data TEXT NOT NULL,                     -- JSON
            PRIMARY KEY (job_id, part)
        ) WITHOUT ROWID""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Progress:
    done: int = 0
    total: int | None = None
    unit: str = "frames"


@dataclass
class Job:
    job_id: str
    task: str  # "detect" | "track" | "summarize" | "augment": the store does not interpret it
    runner: str  # whose `max_running` limit the job counts against: "detection" | "tracking" | "language"
    request: dict[str, Any]
    status: Status
    progress: Progress
    attempts: int  # claims so far: 1 on the first run
    created_at: float
    started_at: float | None
    finished_at: float | None
    error: dict[str, Any] | None
    idempotency_key: str | None
    cancel_requested: bool
    result_expired: bool  # retention removed the result; the row stays
    lease_owner: str | None
    lease_expires_at: float | None
    result_size: int | None = None
    result_sha256: str | None = None


class QueueFull(Exception):
    def __init__(self, queued: int, limit: int) -> None:
        super().__init__(f"{queued} jobs are queued and the limit is {limit}")
        self.queued = queued
        self.limit = limit


class CorruptStore(Exception):
    """A file of the store cannot be trusted. Nothing is deleted: an operator decides what to keep."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}. Nothing was deleted or changed; move the file aside or restore it")
        self.path = path


class NewerSchema(Exception):
    """The file was written by a newer version of the service; an older one must not guess at its tables."""

    def __init__(self, path: Path, version: int) -> None:
        super().__init__(f"{path} has schema version {version}, newer than the {SCHEMA_VERSION} this code knows; "
                         "upgrade the service or use another state directory (the file was not changed)")
        self.path = path
        self.version = version


class LeaseLost(Exception):
    """A worker wrote to a job it no longer holds: its lease expired and the job went to another worker, or the job
    was cancelled or finished. The worker must stop working on it."""

    def __init__(self, job_id: str, owner: str) -> None:
        super().__init__(f"{owner} no longer holds job {job_id}")
        self.job_id = job_id
        self.owner = owner


class ResultNotReady(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(f"the job is {status}: only a succeeded job has a result")
        self.status = status


class ResultExpired(Exception):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"the result of job {job_id} was removed by retention")
        self.job_id = job_id


class JobStore(Protocol):
    """What the routes and the worker use. `SQLiteJobStore` is the one backend for now."""

    def submit(self, task: str, runner: str, request: dict[str, Any], idempotency_key: str | None = None,
               max_queued: int | None = None) -> tuple[Job, bool]: ...

    def get(self, job_id: str) -> Job | None: ...

    def list(self, status: str | None = None, task: str | None = None, limit: int = 50,
             cursor: str | None = None) -> tuple[builtins.list[Job], str | None]: ...

    def claim(self, owner: str, lease_s: float, max_running: dict[str, int], max_attempts: int,
              now: float | None = None) -> Job | None: ...

    def renew(self, job_id: str, owner: str, lease_s: float) -> bool: ...

    def set_progress(self, job_id: str, owner: str, done: int, total: int | None, unit: str) -> None: ...

    def save_checkpoint(self, job_id: str, owner: str, checkpoint: dict[str, Any], part: Any = None,
                        progress: Progress | None = None, events: Sequence[tuple[str, dict[str, Any]]] = ()) -> None:
        ...

    def checkpoint(self, job_id: str) -> dict[str, Any] | None: ...

    def checkpoint_parts(self, job_id: str) -> builtins.list[Any]: ...

    def finish(self, job_id: str, owner: str, result: bytes | None = None, error: dict[str, Any] | None = None,
               status: Status | None = None) -> Job: ...

    def cancel(self, job_id: str) -> Job | None: ...

    def result(self, job_id: str) -> bytes: ...

    def append_event(self, job_id: str, kind: str, data: dict[str, Any]) -> int: ...

    def events(self, job_id: str, after: int = 0, limit: int = 1000) -> builtins.list[tuple[int, str, dict[str, Any]]]:
        ...

    def expire(self, retention_s: float, now: float | None = None) -> int: ...

    def counts(self) -> dict[str, dict[str, int]]: ...

    def queue_length(self) -> int: ...

    def close(self) -> None: ...


class SQLiteJobStore:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / "jobs.db"
        self.results_dir = self.state_dir / "results"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        check_readable(self.path)  # before any connection that could write to it
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[int, sqlite3.Connection]] = []
        self._closed = False
        try:
            enable_wal(self._conn())
            self._migrate()
        except BaseException:
            self.close()
            raise

    # --- connections and transactions ---------------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection. A connection is never shared by threads, nor used by a forked child."""
        if self._closed:
            raise RuntimeError(f"the job store at {self.path} is closed")
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        # isolation_level=None: no implicit transactions, each write below says where its transaction starts
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: durable across a process crash, fsync at checkpoints
        conn.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._connections.append((os.getpid(), conn))
        self._local.held = (os.getpid(), conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction that holds the write lock from its first statement, so what it read stays true until it
        commits, across threads and processes."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _migrate(self) -> None:
        with self._write() as conn:
            # read again under the lock: another process may have migrated the file since check_readable
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise NewerSchema(self.path, version)
            for migration in MIGRATIONS[version:]:
                for statement in migration:
                    conn.execute(statement)
            if version < SCHEMA_VERSION:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            for pid, conn in self._connections:
                if pid == os.getpid():  # a forked child leaves its parent's connections alone
                    conn.close()
            self._connections.clear()
            self._closed = True

    def __enter__(self) -> SQLiteJobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- submitting and reading ---------------------------------------------------------------------------------------

    def submit(self, task: str, runner: str, request: dict[str, Any], idempotency_key: str | None = None,
               max_queued: int | None = None) -> tuple[Job, bool]:
        """(job, created). The same idempotency key again answers the job it made, whatever its status, and even when
        the queue is full: a client retrying a submission must not get a second job."""
        body = json.dumps(request)
        with self._write() as conn:
            if idempotency_key is not None:
                row = conn.execute("SELECT * FROM jobs WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
                if row is not None:
                    return to_job(row), False
            if max_queued is not None:
                queued = conn.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()[0]
                if queued >= max_queued:
                    raise QueueFull(queued, max_queued)
            job_id = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO jobs (job_id, task, runner, request, status, progress, created_at, idempotency_key) "
                "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                (job_id, task, runner, body, progress_json(Progress()), time.time(), idempotency_key))
            return to_job(select_job(conn, job_id)), True

    def get(self, job_id: str) -> Job | None:
        row = self._conn().execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None else to_job(row)

    def list(self, status: str | None = None, task: str | None = None, limit: int = 50,
             cursor: str | None = None) -> tuple[builtins.list[Job], str | None]:
        """Newest first; the cursor, opaque to callers, names the last job of this page."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        where: builtins.list[str] = ["1"]
        args: builtins.list[Any] = []
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if task is not None:
            where.append("task = ?")
            args.append(task)
        if cursor is not None:
            where.append("(created_at, seq) < (?, ?)")
            args.extend(decode_cursor(cursor))
        rows = self._conn().execute(
            f"SELECT * FROM jobs WHERE {' AND '.join(where)} ORDER BY created_at DESC, seq DESC LIMIT ?",
            (*args, limit + 1)).fetchall()
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1]["created_at"], page[-1]["seq"]) if len(rows) > limit else None
        return [to_job(row) for row in page], next_cursor

    def counts(self) -> dict[str, dict[str, int]]:
        """{task: {status: n}}, every status present (0 when none) for each task the store has seen."""
        counts: dict[str, dict[str, int]] = {}
        for task, status, n in self._conn().execute("SELECT task, status, COUNT(*) FROM jobs GROUP BY task, status"):
            counts.setdefault(task, dict.fromkeys(STATUSES, 0))[status] = n
        return counts

    def queue_length(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()[0])

    # --- the worker's side: claim, renew, progress, checkpoint, finish ------------------------------------------------

    def claim(self, owner: str, lease_s: float, max_running: dict[str, int], max_attempts: int,
              now: float | None = None) -> Job | None:
        """The oldest queued job whose runner runs fewer than `max_running[runner]` jobs (no key: no limit), now
        running under `owner`'s lease; None when there is none. Expired leases are settled first.

        `owner` names one holder of one job at a time (a worker's job slot), so that a lease taken over while its first
        holder still runs is told apart."""
        now = time.time() if now is None else now
        with self._write() as conn:
            settle_expired(conn, max_attempts, now)
            running = {row[0]: row[1] for row in
                       conn.execute("SELECT runner, COUNT(*) FROM jobs WHERE status = 'running' GROUP BY runner")}
            full = [runner for runner, limit in max_running.items() if running.get(runner, 0) >= limit]
            row = conn.execute(
                f"SELECT job_id FROM jobs WHERE status = 'queued' AND runner NOT IN ({', '.join('?' * len(full))}) "
                "ORDER BY created_at, seq LIMIT 1", full).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, "
                "started_at = COALESCE(started_at, ?) WHERE job_id = ?", (owner, now + lease_s, now, row["job_id"]))
            return to_job(select_job(conn, row["job_id"]))

    def renew(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Extends the lease; answers whether the job was asked to stop (cancel requested)."""
        with self._write() as conn:
            row = held(conn, job_id, owner)
            conn.execute("UPDATE jobs SET lease_expires_at = ? WHERE job_id = ?", (time.time() + lease_s, job_id))
        return bool(row["cancel_requested"])

    def set_progress(self, job_id: str, owner: str, done: int, total: int | None, unit: str) -> None:
        """The job's progress, never going backwards (see `monotone`)."""
        with self._write() as conn:
            before = to_progress(held(conn, job_id, owner)["progress"])
            conn.execute("UPDATE jobs SET progress = ? WHERE job_id = ?",
                         (progress_json(monotone(before, Progress(done, total, unit))), job_id))

    def save_checkpoint(self, job_id: str, owner: str, checkpoint: dict[str, Any], part: Any = None,
                        progress: Progress | None = None, events: Sequence[tuple[str, dict[str, Any]]] = ()) -> None:
        """Replaces the job's checkpoint, which the next attempt reads to resume after a lost lease; with `part`, adds
        it to the checkpoint's parts (what the checkpoint stands on, each written once: a chunk's observations). The
        progress and the events that report the same step go in the same transaction, so that a crash leaves all of
        them or none: no event reports work that a resumed attempt will do again."""
        body = json.dumps(checkpoint)
        with self._write() as conn:
            before = to_progress(held(conn, job_id, owner)["progress"])
            conn.execute("UPDATE jobs SET checkpoint = ? WHERE job_id = ?", (body, job_id))
            if part is not None:
                conn.execute("INSERT INTO checkpoint_parts (job_id, part, data) VALUES (?, (SELECT COALESCE(MAX(part),"
                             " 0) + 1 FROM checkpoint_parts WHERE job_id = ?), ?)", (job_id, job_id, json.dumps(part)))
            if progress is not None:
                conn.execute("UPDATE jobs SET progress = ? WHERE job_id = ?",
                             (progress_json(monotone(before, progress)), job_id))
            for kind, data in events:
                insert_event(conn, job_id, kind, data)

    def checkpoint(self, job_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT checkpoint FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None or row[0] is None else json.loads(row[0])

    def checkpoint_parts(self, job_id: str) -> builtins.list[Any]:
        """The parts of the job's checkpoint, in the order they were written."""
        rows = self._conn().execute("SELECT data FROM checkpoint_parts WHERE job_id = ? ORDER BY part", (job_id,))
        return [json.loads(row[0]) for row in rows]

    def finish(self, job_id: str, owner: str, result: bytes | None = None, error: dict[str, Any] | None = None,
               status: Status | None = None) -> Job:
        """Succeeded with `result` bytes, failed with `error`, or cancelled. Without `status`: failed when there is an
        error, succeeded otherwise.

        The result is written to a temporary file (and fsynced) before the transaction, and moved into place inside
        it, after the lease check: a worker that lost its lease can never replace the result of the one that took
        over, and a reader never sees a half-written file."""
        status = status or ("failed" if error is not None else "succeeded")
        check_outcome(status, result, error)
        staged = stage(self.results_dir, result) if result is not None else None
        try:
            with self._write() as conn:
                held(conn, job_id, owner)
                path, size, digest = None, None, None
                if staged is not None:
                    path = f"{self.results_dir.name}/{job_id}.json"
                    os.replace(staged[0], self.state_dir / path)
                    fsync_dir(self.results_dir)
                    size, digest = staged[1], staged[2]
                conn.execute(
                    "UPDATE jobs SET status = ?, finished_at = ?, error = ?, lease_expires_at = NULL, result_path = ?, "
                    "result_size = ?, result_sha256 = ? WHERE job_id = ?",
                    (status, time.time(), None if error is None else json.dumps(error), path, size, digest, job_id))
                drop_checkpoint(conn, job_id)
                return to_job(select_job(conn, job_id))
        finally:
            if staged is not None:
                staged[0].unlink(missing_ok=True)  # still there only when the lease was lost

    # --- cancelling, results, events, retention -----------------------------------------------------------------------

    def cancel(self, job_id: str) -> Job | None:
        """A queued job is cancelled at once; a running one is asked to stop (its worker sees it on its next renew and
        finishes it as cancelled); a finished one is left as it is. None for an unknown job."""
        with self._write() as conn:
            row = conn.execute("SELECT status FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            if row["status"] == "queued":
                conn.execute("UPDATE jobs SET status = 'cancelled', cancel_requested = 1, finished_at = ? "
                             "WHERE job_id = ?", (time.time(), job_id))
                drop_checkpoint(conn, job_id)  # an earlier attempt's
            elif row["status"] == "running":
                conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE job_id = ?", (job_id,))
            return to_job(select_job(conn, job_id))

    def result(self, job_id: str) -> bytes:
        """The result bytes, checked against the checksum recorded when they were written."""
        row = self._conn().execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        if row["status"] != "succeeded":
            raise ResultNotReady(row["status"])
        if row["result_expired"]:
            raise ResultExpired(job_id)
        path = self.state_dir / row["result_path"]
        try:
            data = path.read_bytes()
        except FileNotFoundError as e:
            if self._expired(job_id):  # retention removed it between the two reads
                raise ResultExpired(job_id) from e
            raise CorruptStore(path, "the result file is missing") from e
        if hashlib.sha256(data).hexdigest() != row["result_sha256"]:
            raise CorruptStore(path, "the result file does not match the checksum recorded when it was written")
        return data

    def _expired(self, job_id: str) -> bool:
        row = self._conn().execute("SELECT result_expired FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def append_event(self, job_id: str, kind: str, data: dict[str, Any]) -> int:
        """Appends an event to the job's log and answers its id: 1, 2, 3… within each job."""
        with self._write() as conn:
            return insert_event(conn, job_id, kind, data)

    def events(self, job_id: str, after: int = 0, limit: int = 1000) -> builtins.list[tuple[int, str, dict[str, Any]]]:
        rows = self._conn().execute(
            "SELECT id, kind, data FROM events WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?", (job_id, after, limit))
        return [(row[0], row[1], json.loads(row[2])) for row in rows]

    def expire(self, retention_s: float, now: float | None = None) -> int:
        """Final jobs finished more than `retention_s` ago lose their result file; the row and its
        events stay, with `result_expired` set. Answers how many jobs expired now."""
        now = time.time() if now is None else now
        due = "status IN ('succeeded', 'failed', 'cancelled') AND result_expired = 0 AND finished_at < ?"
        with self._write() as conn:
            rows = conn.execute(f"SELECT result_path FROM jobs WHERE {due}", (now - retention_s,)).fetchall()
            conn.execute(f"UPDATE jobs SET result_expired = 1 WHERE {due}", (now - retention_s,))
        # files go after the commit: a crash in between leaves a stray file, never a row pointing at nothing
        for row in rows:
            if row["result_path"] is not None:
                (self.state_dir / row["result_path"]).unlink(missing_ok=True)
        for temp in self.results_dir.glob(".*.tmp"):
            if temp.stat().st_mtime < now - STALE_TEMP_S:
                temp.unlink(missing_ok=True)
        return len(rows)


# --- helpers ----------------------------------------------------------------------------------------------------------


def check_readable(path: Path) -> None:
    """Refuses a file that is not a sound SQLite database, or one of a newer schema, reading it without a write."""
    if not path.exists() or path.stat().st_size == 0:
        return  # a new store
    with path.open("rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise CorruptStore(path, "not a SQLite database")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise CorruptStore(path, f"SQLite cannot read it ({e})") from e
    if problems != ["ok"]:
        raise CorruptStore(path, "the integrity check failed: " + "; ".join(problems))
    if version > SCHEMA_VERSION:
        raise NewerSchema(path, version)


def enable_wal(conn: sqlite3.Connection) -> None:
    """WAL is kept in the file, so this switches a new file once. Processes that create the store together race for
    the switch, and the loser is told "locked" at once (the busy timeout does not wait for it): it tries again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        if time.monotonic() > deadline:  # also where the file system cannot do WAL (SQLite then keeps its old mode)
            raise sqlite3.OperationalError("the job store could not switch its file to WAL mode")
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e):
                raise
            time.sleep(0.01)


def settle_expired(conn: sqlite3.Connection, max_attempts: int, now: float) -> None:
    """Running jobs whose worker stopped renewing: back to the queue, or failed once they have used every attempt (a
    job that kills its worker must not kill every worker in turn), or cancelled if that was asked."""
    rows = conn.execute("SELECT job_id, attempts, cancel_requested FROM jobs "
                        "WHERE status = 'running' AND lease_expires_at < ?", (now,)).fetchall()
    for row in rows:
        if row["cancel_requested"]:
            conn.execute("UPDATE jobs SET status = 'cancelled', finished_at = ?, lease_expires_at = NULL "
                         "WHERE job_id = ?", (now, row["job_id"]))
            drop_checkpoint(conn, row["job_id"])
        elif row["attempts"] >= max_attempts:
            conn.execute("UPDATE jobs SET status = 'failed', finished_at = ?, error = ?, lease_expires_at = NULL "
                         "WHERE job_id = ?", (now, json.dumps(lease_expired_error(row["attempts"])), row["job_id"]))
            drop_checkpoint(conn, row["job_id"])
        else:
            conn.execute("UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL "
                         "WHERE job_id = ?", (row["job_id"],))


def drop_checkpoint(conn: sqlite3.Connection, job_id: str) -> None:
    """A finished job is never resumed: its checkpoint and parts go."""
    conn.execute("UPDATE jobs SET checkpoint = NULL WHERE job_id = ?", (job_id,))
    conn.execute("DELETE FROM checkpoint_parts WHERE job_id = ?", (job_id,))


def lease_expired_error(attempts: int) -> dict[str, Any]:
    """The project's error envelope (`ServiceError.to_dict`'s shape), with a code a client can test for."""
    times = "once" if attempts == 1 else f"{attempts} times"
    return {"status": 503, "error": "Service Unavailable", "code": "job_lease_expired",
            "message": f"the worker running this job stopped {times} before finishing it; no attempt is left",
            "details": {"attempts": attempts}}


def held(conn: sqlite3.Connection, job_id: str, owner: str) -> sqlite3.Row:
    """The job's row if `owner` holds it (running under its lease), else LeaseLost. An expired lease nobody has taken
    over yet is still held: the job is only lost once a claim settles it."""
    row = conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    if row is None or row["status"] != "running" or row["lease_owner"] != owner:
        raise LeaseLost(job_id, owner)
    return row


def check_outcome(status: str, result: bytes | None, error: dict[str, Any] | None) -> None:
    if status not in FINAL:
        raise ValueError(f"a job finishes as one of {FINAL}, not {status!r}")
    if (status == "succeeded") != (result is not None):
        raise ValueError("a succeeded job has a result, and only a succeeded job")
    if status == "failed" and error is None:
        raise ValueError("a failed job needs its error envelope")


def stage(directory: Path, data: bytes) -> tuple[Path, int, str]:
    """Writes `data` to a temporary file in `directory` (the same file system, so os.replace is atomic) and flushes it
    to disk; answers the file, its size and the sha256 of the bytes."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(name), len(data), hashlib.sha256(data).hexdigest()


def fsync_dir(directory: Path) -> None:
    """Makes a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def select_job(conn: sqlite3.Connection, job_id: str) -> sqlite3.Row:
    return conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()


def to_job(row: sqlite3.Row) -> Job:
    return Job(
        job_id=row["job_id"], task=row["task"], runner=row["runner"], request=json.loads(row["request"]),
        status=row["status"], progress=to_progress(row["progress"]), attempts=row["attempts"],
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        error=None if row["error"] is None else json.loads(row["error"]), idempotency_key=row["idempotency_key"],
        cancel_requested=bool(row["cancel_requested"]), result_expired=bool(row["result_expired"]),
        lease_owner=row["lease_owner"], lease_expires_at=row["lease_expires_at"], result_size=row["result_size"],
        result_sha256=row["result_sha256"])


def insert_event(conn: sqlite3.Connection, job_id: str, kind: str, data: dict[str, Any]) -> int:
    last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events WHERE job_id = ?", (job_id,)).fetchone()[0]
    try:
        conn.execute("INSERT INTO events (job_id, id, kind, data, created_at) VALUES (?, ?, ?, ?, ?)",
                     (job_id, last + 1, kind, json.dumps(data), time.time()))
    except sqlite3.IntegrityError as e:  # the foreign key: no such job
        raise KeyError(job_id) from e
    return int(last) + 1


def monotone(before: Progress, after: Progress) -> Progress:
    """`done` never goes backwards within a unit (a resumed attempt counting again from its checkpoint would make a
    client's progress bar jump back); a new unit (frames, then tokens) starts its own count."""
    if after.unit == before.unit and after.done < before.done:
        return Progress(before.done, after.total, after.unit)
    return after


def to_progress(text: str) -> Progress:
    data = json.loads(text)
    return Progress(done=data["done"], total=data["total"], unit=data["unit"])


def progress_json(progress: Progress) -> str:
    return json.dumps({"done": progress.done, "total": progress.total, "unit": progress.unit})


def encode_cursor(created_at: float, seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, seq]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        created_at, seq = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(created_at), int(seq)
    except (ValueError, TypeError) as e:
        raise ValueError(f"invalid cursor {cursor!r}") from e


# mypy checks here that the backend keeps to the interface
_BACKEND: type[JobStore] = SQLiteJobStore
