"""A batch through deployed services: each video a job on the jobs API, `concurrency` in flight per service.

Every video has a home service (a stable hash of its id picks it among the URLs), so that a rerun after the driver
was killed submits it to the same service with the same Idempotency-Key (its id, parameters and attempt) and is
handed the job the killed run left there, running or done, instead of running it twice. A request that does not get
through (the connection lost, 429, 5xx) is sent again as it was, so a job is never submitted twice for one attempt;
a job that failed for such a reason is submitted again as a new attempt, after a backoff, up to `retries` times; one
refused for its request (400, 403, 404, 422) is recorded as failed with the service's envelope.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.batch.state import BatchState, Finished, output_path, write_atomically

POLL_S = 0.25  # how often a job's status is read (each read costs the service a little CPU)
BACKOFF_S = 2.0  # the first retry's wait; doubled each time, with jitter
TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Work:
    id: str
    video: str
    request: dict[str, Any]
    digest: str  # the parameters' hash
    first_attempt: int


class Transient(Exception):
    """Worth another attempt: the envelope (or the reason) of what went wrong."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


class Permanent(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


class ServiceBatch:
    def __init__(self, urls: list[str], task: str, format: str, out: Path, state: BatchState, *, concurrency: int = 2,
                 retries: int = 3, api_key: str | None = None,
                 on_finished: Callable[[Finished], None] = lambda f: None) -> None:
        self.urls, self.task, self.format, self.out, self.state = urls, task, format, out, state
        self.concurrency, self.retries = concurrency, retries
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.on_finished = on_finished

    def home(self, video_id: str) -> str:
        digest = int(hashlib.sha256(video_id.encode()).hexdigest()[:8], 16)
        return self.urls[digest % len(self.urls)]

    async def run(self, works: list[Work]) -> None:
        queues: dict[str, asyncio.Queue[Work]] = {url: asyncio.Queue() for url in self.urls}
        for work in works:
            queues[self.home(work.id)].put_nowait(work)
        async with httpx.AsyncClient(timeout=httpx.Timeout(60, read=600), headers=self.headers) as client:
            await asyncio.gather(*(self.worker(client, url, queue) for url, queue in queues.items()
                                   for _ in range(self.concurrency)))

    async def worker(self, client: httpx.AsyncClient, url: str, queue: asyncio.Queue[Work]) -> None:
        while not queue.empty():
            work = queue.get_nowait()
            finished = await self.one(client, url, work)
            self.state.record(finished)
            self.on_finished(finished)

    async def one(self, client: httpx.AsyncClient, url: str, work: Work) -> Finished:
        """The video's jobs, a new attempt after a job failed for a transient reason, until done or out of retries."""
        started = time.perf_counter()
        attempt = work.first_attempt
        while True:
            try:
                job = await self.attempt(client, url, work, attempt)
                path = output_path(self.out, work.id, self.task, self.format)
                body = await self.call(client, "GET", f"{url}/api/jobs/{job['job_id']}/result",
                                       params={} if self.format == "json" else {"format": self.format})
                write_atomically(path, body)
                return Finished(work.id, work.video, "done", work.digest, attempt,
                                frames=frames_of(self.task, job, body), seconds=round(time.perf_counter() - started, 2),
                                output=str(path.relative_to(self.out)), job_id=job["job_id"])
            except (Permanent, Transient) as exc:
                if isinstance(exc, Permanent) or attempt >= work.first_attempt + self.retries:
                    return Finished(work.id, work.video, "failed", work.digest, attempt, error=exc.error,
                                    seconds=round(time.perf_counter() - started, 2))
                await asyncio.sleep(backoff(attempt - work.first_attempt))
                attempt += 1

    async def attempt(self, client: httpx.AsyncClient, url: str, work: Work, attempt: int) -> dict[str, Any]:
        """Submit (or find again: the key names the video, its parameters and the attempt) the attempt's job and wait
        for it; the job once it succeeded, Transient or Permanent once it did not."""
        key = f"vms-{hashlib.sha256(f'{work.digest}/{work.id}'.encode()).hexdigest()[:32]}-{attempt}"
        response = await self.call(client, "POST", f"{url}/api/jobs", json={"task": self.task, "request": work.request},
                                   headers={"Idempotency-Key": key})
        job = json.loads(response)
        while job["status"] in ("queued", "running"):
            await asyncio.sleep(POLL_S)
            job = json.loads(await self.call(client, "GET", f"{url}/api/jobs/{job['job_id']}"))
        if job["status"] == "succeeded":
            return job
        error = job.get("error") or {"error": "Cancelled", "message": f"job {job['job_id']} was {job['status']}"}
        transient = job["status"] == "cancelled" or (error.get("status") or 0) in TRANSIENT_STATUSES
        raise (Transient if transient else Permanent)(error)

    async def call(self, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> bytes:
        """One request, sent again after a backoff while it fails for a transient reason (a lost connection, 429,
        5xx): every request here may be repeated (a submit carries its Idempotency-Key). Transient when it never
        got through, Permanent for an error the request itself caused."""
        for tries in range(self.retries + 1):
            try:
                response = await client.request(method, url, **kwargs)
                check(response)
                return response.content
            except httpx.TransportError as exc:
                error: dict[str, Any] = {"error": "Connection Error", "message": f"{url}: {exc!r}"}
            except Transient as exc:
                error = exc.error
            if tries < self.retries:
                await asyncio.sleep(backoff(tries))
        raise Transient(error)


def frames_of(task: str, job: dict[str, Any], body: bytes) -> int:
    """Frames the job worked on: its progress counts them, but for a summary (one answer) its sampled frames."""
    if task == "summarize":
        return len(json.loads(body).get("sampled_frames", []))
    return job["progress"]["total"] or job["progress"]["done"]


def backoff(tries: int) -> float:
    return BACKOFF_S * 2 ** tries * random.uniform(0.8, 1.2)


def check(response: httpx.Response) -> None:
    """Raise the service's envelope, as worth retrying or not, for an error status."""
    if response.status_code < 400:
        return
    try:
        error = {**response.json(), "status": response.status_code}
    except ValueError:
        error = {"error": f"HTTP {response.status_code}", "message": response.text[:500],
                 "status": response.status_code}
    raise (Transient if response.status_code in TRANSIENT_STATUSES else Permanent)(error)
