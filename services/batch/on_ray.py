"""A batch on Ray (`vms batch --engine ray`): no service, the models in Ray actors.

Ray Data reads the videos still to do as rows and `map_batches` sends each, one at a time, to a pool of `VideoWorker`
actors. An actor holds the task's models in its own process (services/batch/in_process.py, the same code the
service runs) and asks Ray for the GPU share the runner's config names; it decodes its own frames from the video's
path, so the nodes must see the videos at the paths the manifest gives (a shared file system). Each answer comes
back to the driver, which writes the file and its `_state.jsonl` line as on the service path.

An actor that dies (its process killed, its node lost) is started again by Ray and the video it had is retried
there (`max_restarts` / `max_task_retries`); a ledger actor counts each video's starts, so `_state.jsonl` says how
many attempts it took. Without `--ray-address` the driver starts a local cluster for the run.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runners.core.config import RunnerName, ServiceConfig
from services.batch.state import BatchState, Finished, output_path, write_atomically
from services.batch.through_service import Work

log = logging.getLogger(__name__)
CPUS_PER_ACTOR = 0.5  # what an actor reserves: a whole CPU each would starve Ray Data's own tasks on a small node
NAMESPACE = "vms-batch"
RUNNERS: dict[str, tuple[RunnerName, ...]] = {  # whose GPU shares an actor asks for
    "detect": ("detection",), "track": ("tracking", "detection"), "summarize": ("language",), "augment": ("language",)}


class Ledger:
    """Which videos the actors started, and in which process: a video started twice was retried after its actor
    died. One per run, on the driver's node, reserving nothing."""

    def __init__(self) -> None:
        self.starts: dict[str, list[int]] = defaultdict(list)

    def start(self, video_id: str, pid: int) -> int:
        self.starts[video_id].append(pid)
        return len(self.starts[video_id])

    def started(self) -> dict[str, list[int]]:
        return dict(self.starts)


class VideoWorker:
    """A Ray Data actor: one video per call, its file and record as a row."""

    def __init__(self, task: str, format: str, media_roots: list[str], ledger: str, threads: int) -> None:
        import ray
        import torch

        from runners.core.config import get_config
        from services.batch.in_process import InProcessTasks

        torch.set_num_threads(threads)  # Ray sets 1 for a fractional CPU; the actor may use its share of the node
        self.task, self.format = task, format
        self.local = InProcessTasks(get_config(), [Path(r) for r in media_roots])
        self.ledger = ray.get_actor(ledger, namespace=NAMESPACE)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        import ray

        from runners.core.errors import ServiceError

        rows: dict[str, list] = {"id": [], "starts": [], "body": [], "frames": [], "seconds": [], "error": []}
        for video_id, request in zip(batch["id"], batch["request"]):
            starts: Any = ray.get(self.ledger.start.remote(str(video_id), os.getpid()))
            started = time.perf_counter()
            body, frames, error = b"", 0, None
            try:
                output = self.local.run(self.task, json.loads(str(request)), self.format)
                body, frames = output.body, output.frames
            except ServiceError as exc:
                error = exc.to_dict()
            except Exception as exc:  # noqa: BLE001 — one video's failure is its record, not the run's end
                log.exception("video %s failed", video_id)
                error = ServiceError(f"{self.task} failed unexpectedly ({type(exc).__name__}: {exc})").to_dict()
            for key, value in (("id", str(video_id)), ("starts", starts), ("body", body), ("frames", frames),
                               ("seconds", round(time.perf_counter() - started, 2)),
                               ("error", json.dumps(error) if error else "")):
                rows[key].append(value)
        return rows


class RayBatch:
    def __init__(self, task: str, format: str, out: Path, state: BatchState, config: ServiceConfig, *,
                 address: str | None = None, actors: int | None = None,
                 on_finished: Callable[[Finished], None] = lambda f: None) -> None:
        self.task, self.format, self.out, self.state, self.config = task, format, out, state, config
        self.address, self.actors, self.on_finished = address, actors, on_finished
        self.ledger: Any = None  # the run's Ledger actor, once `run` started

    def run(self, works: Sequence[Work]) -> None:
        os.environ.setdefault("RAY_DATA_LOGGING_CONFIG", str(Path(__file__).with_name("ray_data_logging.yaml")))
        import ray

        if not works:
            return
        started_cluster = not ray.is_initialized()
        if started_cluster:
            # the actors read the models' configuration from the same path, on whichever node they run
            env = {name: os.environ[name] for name in ("MODEL_CONFIG",) if name in os.environ}
            ray.init(address=self.address, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, runtime_env={"env_vars": env} if env else None)
        try:
            self._run(works)
        finally:
            if started_cluster:
                ray.shutdown()

    def _run(self, works: Sequence[Work]) -> None:
        import ray

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the batch's own bar or lines say how it goes
        name = f"ledger-{uuid.uuid4().hex[:8]}"
        self.ledger = ray.remote(num_cpus=0)(Ledger).options(name=name, namespace=NAMESPACE).remote()
        resources = ray.cluster_resources()
        actors = self.actors or default_actors(resources, self.gpu_share())
        gpus = self.gpu_share() if resources.get("GPU", 0) > 0 else 0
        threads = max(1, int(resources.get("CPU", 1) // actors))
        first = {work.id: work for work in works}
        roots = sorted({str(Path(work.video).resolve().parent) for work in works})
        log.info("on Ray: %d videos, %d actors (%s GPU, %d threads each)", len(works), actors, gpus, threads)
        rows = ray.data.from_items([{"id": w.id, "request": json.dumps(w.request)} for w in works],
                                   override_num_blocks=len(works))
        answers = rows.map_batches(
            VideoWorker, batch_size=1, compute=ray.data.ActorPoolStrategy(size=actors),
            fn_constructor_kwargs={"task": self.task, "format": self.format, "media_roots": roots, "ledger": name,
                                   "threads": threads},
            num_cpus=CPUS_PER_ACTOR, num_gpus=gpus)  # its actor pools restart a dead actor and retry its task
        for row in answers.iter_rows():
            self.record(first[row["id"]], row)

    def gpu_share(self) -> float:
        runners = self.config.inference
        return min(1.0, sum((runners.runner(name).gpu for name in RUNNERS[self.task]), 0.0))

    def record(self, work: Work, row: dict[str, Any]) -> None:
        attempts = work.first_attempt + int(row["starts"]) - 1
        if row["error"]:
            finished = Finished(work.id, work.video, "failed", work.digest, attempts, error=json.loads(row["error"]),
                                seconds=float(row["seconds"]))
        else:
            path = output_path(self.out, work.id, self.task, self.format)
            write_atomically(path, bytes(row["body"]))
            finished = Finished(work.id, work.video, "done", work.digest, attempts, frames=int(row["frames"]),
                                seconds=float(row["seconds"]), output=str(path.relative_to(self.out)))
        self.state.record(finished)
        self.on_finished(finished)


def default_actors(resources: dict[str, float], gpu_share: float) -> int:
    """As many actors as the cluster's GPUs hold at the runner's share; on CPUs, one per four cores."""
    gpus = resources.get("GPU", 0)
    if gpus > 0 and gpu_share > 0:
        return max(1, int(gpus / gpu_share))
    return max(1, int(resources.get("CPU", 1) // 4))
