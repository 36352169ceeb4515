"""A batch through deployed services: each video a job on the jobs API, `concurrency` in flight per service.

Every video has a home service (a stable hash of its id picks it among the URLs), so that a rerun after the driver
was killed submits it to the same service with the same Idempotency-Key (its id, parameters and attempt) and is
handed the job the killed run left there, running or done, instead of running it twice. A job that failed for a
reason worth retrying (429, 5xx, the connection lost) is submitted again as a new attempt, after a backoff, up to
`retries` times; one refused for its request (400, 403, 404, 422) is recorded as failed with the service's envelope.
"""

from __future__ import annotations

import asyncio
import hashlib
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
        started = time.perf_counter()
        error: dict[str, Any] = {}
        attempt = work.first_attempt
        for attempt in range(work.first_attempt, work.first_attempt + self.retries + 1):
            try:
                job = await self.attempt(client, url, work, attempt)
                path = output_path(self.out, work.id, self.task, self.format)
                write_atomically(path, await self.result(client, url, job["job_id"]))
                return Finished(work.id, work.video, "done", work.digest, attempt,
                                frames=job["progress"]["total"] or job["progress"]["done"],
                                seconds=round(time.perf_counter() - started, 2), output=str(path.relative_to(self.out)),
                                job_id=job["job_id"])
            except Permanent as exc:
                error = exc.error
                break
            except Transient as exc:
                error = exc.error
                if attempt < work.first_attempt + self.retries:
                    await asyncio.sleep(BACKOFF_S * 2 ** (attempt - work.first_attempt) * random.uniform(0.8, 1.2))
        return Finished(work.id, work.video, "failed", work.digest, attempt, error=error,
                        seconds=round(time.perf_counter() - started, 2))

    async def attempt(self, client: httpx.AsyncClient, url: str, work: Work, attempt: int) -> dict[str, Any]:
        """Submit (or find again) the video's job for this attempt and wait for it; its final status."""
        key = f"vms-{work.digest}-{work.id}-{attempt}"
        try:
            response = await client.post(f"{url}/api/jobs", json={"task": self.task, "request": work.request},
                                         headers={"Idempotency-Key": key})
            check(response)
            job = response.json()
            while job["status"] in ("queued", "running"):
                await asyncio.sleep(POLL_S)
                response = await client.get(f"{url}/api/jobs/{job['job_id']}")
                check(response)
                job = response.json()
        except httpx.TransportError as exc:
            raise Transient({"error": "Connection Error", "message": f"{url}: {exc!r}"}) from None
        if job["status"] == "succeeded":
            return job
        error = job.get("error") or {"error": "Cancelled", "message": f"job {job['job_id']} was {job['status']}"}
        status = error.get("status") or 0
        raise (Transient if job["status"] == "cancelled" or status in TRANSIENT_STATUSES else Permanent)(error)

    async def result(self, client: httpx.AsyncClient, url: str, job_id: str) -> bytes:
        params = {} if self.format == "json" else {"format": self.format}
        try:
            response = await client.get(f"{url}/api/jobs/{job_id}/result", params=params)
        except httpx.TransportError as exc:
            raise Transient({"error": "Connection Error", "message": f"{url}: {exc!r}"}) from None
        check(response)
        return response.content


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
