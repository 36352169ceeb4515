"""`vms batch` through a service vs the raw in-process loop (decode + predict) on the same frames, one run.

    python benchmarks/bench_batch.py [--config demo/models.yaml] [--rounds 2] [--stride 2]

The dataset is the demo's three videos (detect with yolo11n on every `--stride`-th frame): `vms batch` through one
local service (jobs, 2 in flight) against the detector's own loop over the same frames in this process, at the
runner's batch size, in alternation; frames/s of each and their ratio. (`--engine ray` is measured once it exists.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_detect import RawLoop  # noqa: E402

from runners.core.video import VideoFile  # noqa: E402
from scripts.local_server import start_service, stop_service  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO / "demo" / "models.yaml")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stride", type=int, default=2)
    args = parser.parse_args()
    config = args.config.resolve()
    videos = [config.parent / "media" / f"{name}.mp4" for name in ("shapes", "tracking", "portrait")]
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    manifest = work / "videos.jsonl"
    manifest.write_text("".join(json.dumps({"video": str(v)}) + "\n" for v in videos))
    frames = {v: list(range(0, VideoFile(v).info.frame_count, args.stride)) for v in videos}
    total = sum(len(f) for f in frames.values())
    batch = yaml.safe_load(config.read_text())["inference"]["runners"]["detection"]["max_batch_size"]
    process, url, _ = start_service(config, work / "serve.log")
    try:
        raws = {v: RawLoop(config, "yolo11n", v) for v in videos}
        service, raw = [], []
        for round_ in range(args.rounds + 1):  # the first round warms the service up
            out = work / f"out-{round_}"
            # parameters of each round's own (max_detections never binds here), or the service would hand the
            # round the jobs of the one before: the same video at the same parameters is the same job
            params = work / f"params-{round_}.json"
            params.write_text(json.dumps({"model": "yolo11n", "frame_range": {"start": 0, "end": 100_000},
                                          "stride": args.stride, "max_detections": 100 + round_}))
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "services.batch.cli", "batch", "--manifest", str(manifest),
                            "--task", "detect", "--params", str(params), "--out", str(out), "--service", url,
                            "--quiet"], cwd=REPO, check=True)
            seconds = time.perf_counter() - started
            summary = json.loads((out / "_summary.json").read_text())
            assert summary["frames_this_run"] == total, summary
            started = time.perf_counter()
            for video, numbers in frames.items():
                raws[video].fps(numbers, batch, 1)
            raw_seconds = time.perf_counter() - started
            if round_:
                service.append(total / seconds)
                raw.append(total / raw_seconds)
    finally:
        stop_service(process)
    print(f"vms batch, detect yolo11n, {len(videos)} videos, {total} frames (every {args.stride}th), best of "
          f"{args.rounds} alternating rounds")
    print(f"raw loop (decode + predict, batch {batch}): {max(raw):7.1f} frames/s")
    print(f"through one service (jobs, 2 in flight):     {max(service):7.1f} frames/s   ratio "
          f"{max(service) / max(raw):.2f} (whole command: start, submit, poll, results)")


if __name__ == "__main__":
    main()
