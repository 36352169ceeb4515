"""`vms`: the service's command line. `vms batch` runs a task over a dataset of videos (README "Datasets").

    vms batch --manifest videos.jsonl --task detect --params params.json --out results/ \\
              [--format json|coco|coco-video|mot|cvat|labelstudio] \\
              [--service http://host:3000 [--service ...]]   # through deployed services (the jobs API)
              [--engine ray [--ray-address auto] [--actors N]]  # in Ray actors that hold the models, no service

Everything is checked before any work: the manifest (every bad line listed), the parameters, the format against the
task. Then each video not already done at these parameters runs, as a job of a service or in a Ray actor; the
table at the end and `out/_summary.json` say what happened, `out/_state.jsonl` what happened to each video.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from runners.core.config import ConfigError, ServiceConfig, get_config
from services.batch.manifest import Entry, ManifestError, read_manifest
from services.batch.state import STATE_FILE, SUMMARY_FILE, BatchState, Finished, params_hash
from services.batch.through_service import ServiceBatch, Work

TASKS = ("detect", "track", "summarize", "augment")
FORMATS_OF = {"detect": ("json", "coco", "cvat", "labelstudio"),
              "track": ("json", "coco", "coco-video", "mot", "cvat", "labelstudio"),
              "summarize": ("json",), "augment": ("json",)}
VIDEO_FIELDS = ("video_path", "video_id")


class UsageError(Exception):
    pass


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="vms", description="The video model service's command line.")
    commands = main.add_subparsers(dest="command", required=True)
    batch = commands.add_parser("batch", help="run a task over a dataset of videos, resumable",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    batch.add_argument("--manifest", type=Path, required=True,
                       help="JSONL or CSV ({video, id?, ...overrides of params}) or a directory of videos")
    batch.add_argument("--task", choices=TASKS, required=True)
    batch.add_argument("--params", type=Path, help="JSON: the task's request body, without the video")
    batch.add_argument("--out", type=Path, required=True, help="<out>/<video id>/<task>.<ext>, _state.jsonl, "
                                                               "_summary.json")
    batch.add_argument("--format", default="json", choices=sorted({f for fs in FORMATS_OF.values() for f in fs}))
    batch.add_argument("--engine", choices=("service", "ray"), default="service",
                       help="service: jobs of the --service URLs (default); ray: Ray actors holding the models")
    batch.add_argument("--service", action="append", metavar="URL",
                       help="a deployed service (repeat for several; each video always goes to the same one)")
    batch.add_argument("--concurrency", type=int, default=2, help="jobs in flight per service (default 2)")
    batch.add_argument("--ray-address", help="an existing Ray cluster (auto, or ray://host:10001); without it, a "
                                             "local cluster for this run")
    batch.add_argument("--actors", type=int, help="Ray actors, each holding the models (default: the cluster's GPUs "
                                                  "at the runner's GPU share, or one per 4 CPUs)")
    batch.add_argument("--retries", type=int, default=3, help="new attempts after a transient failure (default 3)")
    batch.add_argument("--api-key", help="the services' API key, if they require one")
    batch.add_argument("--quiet", action="store_true", help="no progress output")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return batch(args)
    except (UsageError, ManifestError) as exc:
        print(f"vms batch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vms batch: interrupted; what finished is in {args.out / STATE_FILE}: run the same command again to "
              "go on", file=sys.stderr)
        return 130


def batch(args: argparse.Namespace) -> int:
    if args.format not in FORMATS_OF[args.task]:
        raise UsageError(f"--format {args.format} does not take {args.task} results; use one of: "
                         f"{', '.join(FORMATS_OF[args.task])}")
    if args.concurrency < 1 or args.retries < 0 or (args.actors is not None and args.actors < 1):
        raise UsageError("--concurrency and --actors must be at least 1, --retries at least 0")
    if (args.engine == "service") != bool(args.service):
        raise UsageError("--engine service needs --service URL; --engine ray takes none (it runs the models itself)")
    models = ray_models_config() if args.engine == "ray" else None
    params = load_params(args.params)
    entries = read_manifest(args.manifest)
    state = BatchState(args.out)
    works, skipped = [], 0
    for entry in entries:
        request = {**params, **entry.overrides, "video_path": entry.video}
        digest = params_hash(args.task, request, args.format)
        if state.is_done(entry.id, digest):
            skipped += 1
            continue
        works.append(Work(entry.id, entry.video, request, digest, state.attempts(entry.id, digest) + 1))
    report = Progress(len(works), quiet=args.quiet)
    started = time.perf_counter()
    try:
        if models is not None:
            from services.batch.on_ray import RayBatch

            RayBatch(args.task, args.format, args.out, state, models, address=args.ray_address, actors=args.actors,
                     on_finished=report.finished).run(works)
        else:
            runner = ServiceBatch([url.rstrip("/") for url in args.service], args.task, args.format, args.out, state,
                                  concurrency=args.concurrency, retries=args.retries, api_key=args.api_key,
                                  on_finished=report.finished)
            asyncio.run(runner.run(works))
    finally:
        report.close()
        state.close()
    summary = summarize(state, entries, args, skipped, time.perf_counter() - started)
    (args.out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    if not args.quiet:
        print(table(summary))
    return 0 if summary["failed"] == 0 else 1


def ray_models_config() -> ServiceConfig:
    """The models' configuration (MODEL_CONFIG) the Ray actors will load, after checking that Ray is installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 'video-model-service[ray]'") from None
    try:
        return get_config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def load_params(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        params = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"--params {path}: {exc}") from None
    if not isinstance(params, dict):
        raise UsageError(f"--params {path}: a JSON object (the task's request body) is needed")
    given = [key for key in VIDEO_FIELDS if key in params]
    if given:
        raise UsageError(f"--params {path}: {', '.join(given)} comes from the manifest, one per video")
    return params


class Progress:
    """A bar on a terminal (tqdm), a log line per video otherwise, nothing with --quiet."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.quiet, self.done, self.frames = total, quiet, 0, 0
        self.started = time.perf_counter()
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="video", dynamic_ncols=True)

    def finished(self, record: Finished) -> None:
        self.done += 1
        self.frames += record.frames
        rate = self.frames / max(time.perf_counter() - self.started, 1e-9)
        if self.bar is not None:
            self.bar.set_postfix(frames=self.frames, fps=f"{rate:.1f}", refresh=False)
            self.bar.update(1)
        elif not self.quiet:
            what = f"{record.frames} frames" if record.status == "done" else (record.error or {}).get("message", "")
            print(f"[{self.done}/{self.total}] {record.id}: {record.status} ({what}), {rate:.1f} frames/s",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def summarize(state: BatchState, entries: list[Entry], args: argparse.Namespace, skipped: int,
              seconds: float) -> dict[str, Any]:
    records = [state.last[e.id] for e in entries if e.id in state.last]
    done_now = [r for r in state.this_run if r.status == "done"]
    frames_now = sum(r.frames for r in done_now)
    return {"task": args.task, "format": args.format, "videos": len(entries),
            "done": sum(r.status == "done" for r in records), "failed": sum(r.status == "failed" for r in records),
            "skipped": skipped, "done_this_run": len(done_now), "frames_this_run": frames_now,
            "seconds": round(seconds, 1), "frames_per_s": round(frames_now / seconds, 1) if seconds > 0 else 0.0,
            "videos_per_h": round(len(done_now) / seconds * 3600, 1) if seconds > 0 else 0.0,
            "failures": {r.id: (r.error or {}).get("message", "") for r in records if r.status == "failed"}}


def table(summary: dict[str, Any]) -> str:
    rows = [("videos", summary["videos"]), ("done", summary["done"]), ("failed", summary["failed"]),
            ("skipped (done before)", summary["skipped"]), ("done this run", summary["done_this_run"]),
            ("frames this run", summary["frames_this_run"]), ("seconds", summary["seconds"]),
            ("frames/s", summary["frames_per_s"]), ("videos/h", summary["videos_per_h"])]
    lines = [f"{name:<22} {value}" for name, value in rows]
    lines += [f"  failed: {video}: {message}" for video, message in summary["failures"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
