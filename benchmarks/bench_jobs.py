"""Jobs vs the synchronous routes, same service, same requests, one run.

    python benchmarks/bench_jobs.py [--config demo/models.yaml] [--rounds 5] [--long 3000] [--masks]

- detect: twelve 30-frame detects as jobs submitted together vs the same requests from two concurrent synchronous
  clients (the worker runs two detect jobs at a time), alternated for `--rounds` rounds on one warm service: frames/s
  of each and the ratio of their medians (target >= 0.9); and one request's latency each way (submit, poll the
  job's status every 100 ms as a client would, fetch the result);
- track: a `--long`-frame YOLO11n-seg track of a synthetic 320x192 video, `/api/track` vs a job (chunks,
  checkpoints, events), each on a fresh service with the model loaded and warmed up first: frames/s (target: within
  10%) and the peak RSS of the whole service, every process summed, during the run (target: ratio <= 1.1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts import synthetic  # noqa: E402
from scripts.local_server import start_service, stop_service  # noqa: E402
from tests.support.config import config_variant  # noqa: E402

MB = 1024**2
# How often a waiting client asks for its jobs' status. Every ask costs CPU in the service (HTTP, a read of the store),
# which on a 2-core machine is taken from the model: polling every 20 ms slowed the detector by ~10%.
POLL_S = 0.1


def run_job(client: httpx.Client, task: str, request: dict) -> dict:
    job = client.post("/api/jobs", json={"task": task, "request": request})
    job.raise_for_status()
    job_id = job.json()["job_id"]
    while (status := client.get(f"/api/jobs/{job_id}").json()["status"]) in ("queued", "running"):
        time.sleep(POLL_S)
    if status != "succeeded":
        raise RuntimeError(f"job {job_id} {status}: {client.get(f'/api/jobs/{job_id}').json()['error']}")
    result = client.get(f"/api/jobs/{job_id}/result")
    result.raise_for_status()
    return result.json()


def run_sync(client: httpx.Client, route: str, request: dict) -> dict:
    response = client.post(route, json=request)
    response.raise_for_status()
    return response.json()


class PeakRss:
    """The highest sum of RSS over a process and everything below it, sampled every 50 ms while the block runs."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def total(self) -> int:
        total = 0
        for process in (self.root, *self.root.children(recursive=True)):
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.total())
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def all_jobs(client: httpx.Client, task: str, requests: list[dict]) -> None:
    """Submit them together and wait until every one succeeded (one listing per poll, not a poll per job)."""
    ids = set()
    for request in requests:
        response = client.post("/api/jobs", json={"task": task, "request": request})
        response.raise_for_status()
        ids.add(response.json()["job_id"])
    while True:
        jobs = client.get("/api/jobs", params={"task": task, "limit": 500}).json()["jobs"]
        status = {job["job_id"]: job["status"] for job in jobs if job["job_id"] in ids}
        if any(s in ("failed", "cancelled") for s in status.values()):
            raise RuntimeError(f"a job did not succeed: {status}")
        if len(status) == len(ids) and set(status.values()) == {"succeeded"}:
            return
        time.sleep(POLL_S)


def bench_detect(config: Path, video: Path, workdir: Path, rounds: int, batch: int = 12) -> None:
    """Throughput: `batch` 30-frame detects as jobs submitted together (the worker runs jobs.max_running = 2 at a
    time) vs the same requests from 2 concurrent synchronous clients; and one request's latency each way."""
    request = {"video_path": str(video), "frame_numbers": list(range(0, 240, 8)), "model": "yolo11n"}
    process, url, _ = start_service(config, workdir / "detect.log")
    try:
        with httpx.Client(base_url=url, timeout=600) as client, ThreadPoolExecutor(2) as pool:
            run_sync(client, "/api/detect", request)  # load and warm up
            run_job(client, "detect", request)
            sync, job, sync_one, job_one = [], [], [], []
            for _ in range(rounds):
                started = time.perf_counter()
                list(pool.map(lambda _: run_sync(client, "/api/detect", request), range(batch)))
                sync.append(30 * batch / (time.perf_counter() - started))
                started = time.perf_counter()
                all_jobs(client, "detect", [request] * batch)
                job.append(30 * batch / (time.perf_counter() - started))
                for timings, call in ((sync_one, lambda: run_sync(client, "/api/detect", request)),
                                      (job_one, lambda: run_job(client, "detect", request))):
                    started = time.perf_counter()
                    call()
                    timings.append(time.perf_counter() - started)
    finally:
        stop_service(process)
    median = statistics.median
    print(f"detect, {batch} x 30 frames, yolo11n: 2 synchronous clients {median(sync):.1f} frames/s "
          f"({min(sync):.1f}-{max(sync):.1f}), jobs {median(job):.1f} frames/s ({min(job):.1f}-{max(job):.1f}): "
          f"throughput ratio {median(job) / median(sync):.2f} (target >= 0.9)", flush=True)
    print(f"  one request: synchronous {median(sync_one) * 1000:.0f} ms, job (submit, status every "
          f"{POLL_S * 1000:.0f} ms, result) {median(job_one) * 1000:.0f} ms", flush=True)


def bench_track(config: Path, workdir: Path, frames: int, masks: bool) -> None:
    video = workdir / f"long-{frames}.mp4"
    if not video.with_suffix(".json").exists():
        synthetic.write_video(video, width=320, height=192, frames=frames, fps=25, seed=3, count=3,
                              size_range=(40, 64), speed=2.0)
    request = {"video_path": str(video), "model": "yolo11n-seg", "frame_range": {"start": 0, "end": frames - 1},
               "confidence_threshold": 0.5, "include_masks": masks}
    warm_up = {**request, "frame_range": {"start": 0, "end": 9}}
    measured = {}
    for mode in ("sync", "job"):
        process, url, _ = start_service(config, workdir / f"track-{mode}.log")
        try:
            with httpx.Client(base_url=url, timeout=3600) as client:
                run_sync(client, "/api/track", warm_up)
                run_job(client, "track", warm_up)
                with PeakRss(process.pid) as rss:
                    before = rss.total()
                    started = time.perf_counter()
                    body = run_sync(client, "/api/track", request) if mode == "sync" else run_job(
                        client, "track", request)
                    seconds = time.perf_counter() - started
                measured[mode] = (frames / seconds, before, rss.peak, body["total_tracks"])
        finally:
            stop_service(process)
    (sync_fps, sync_before, sync_peak, sync_tracks), (job_fps, job_before, job_peak, job_tracks) = (
        measured["sync"], measured["job"])
    print(f"track, {frames} frames, yolo11n-seg, masks {'on' if masks else 'off'}: synchronous {sync_fps:.1f} "
          f"frames/s, job {job_fps:.1f} frames/s: ratio {job_fps / sync_fps:.2f} (target 0.9-1.1); {sync_tracks} "
          f"vs {job_tracks} tracks", flush=True)
    print(f"  service RSS, all processes: synchronous {sync_before / MB:.0f} -> peak {sync_peak / MB:.0f} MB, "
          f"job {job_before / MB:.0f} -> peak {job_peak / MB:.0f} MB: peak ratio {job_peak / sync_peak:.2f} "
          f"(target <= 1.1)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO / "demo" / "models.yaml")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--long", type=int, default=3000)
    parser.add_argument("--masks", action="store_true", help="track with masks (larger results and checkpoints)")
    parser.add_argument("--only", choices=("detect", "track"))
    args = parser.parse_args()
    workdir = Path(tempfile.gettempdir()) / "vms-bench-jobs"
    workdir.mkdir(exist_ok=True)
    config = args.config.resolve()
    variant = config_variant(config, workdir / "models.yaml",  # the long video lives in the work directory
                             lambda c: c["media"]["roots"].append(str(workdir)))
    if args.only in (None, "detect"):
        bench_detect(variant, config.parent / "media" / "shapes.mp4", workdir, args.rounds)
    if args.only in (None, "track"):
        bench_track(variant, workdir, args.long, args.masks)


if __name__ == "__main__":
    main()
