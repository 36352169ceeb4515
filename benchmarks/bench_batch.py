"""`vms batch` through a service and on Ray vs the raw in-process loop (decode + predict) on the same frames, one run.

    python benchmarks/bench_batch.py [--config demo/models.yaml] [--rounds 2] [--stride 1] [--copies 4]

The dataset is the demo's three videos, each listed `--copies` times (detect with yolo11n on every `--stride`-th
frame). Measured in alternation, best of `--rounds` after a warm-up round:
- the raw loop: the detector's own loop over the frames in this process, at the runner's batch size;
- through one local service: the whole `vms batch` command (jobs, 2 in flight);
- on Ray, one actor: the whole `vms batch --engine ray` command (it starts a local cluster and its actor, which loads
  the model), and the same pipeline on a running cluster, from the first video's answer to the last one's (what the
  cluster sustains once its actor is up: the rate that grows with more actors, without the fixed start).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
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


def vms_batch(manifest: Path, params: Path, out: Path, *engine: str, config: Path) -> float:
    """Seconds the whole command took."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "services.batch.cli", "batch", "--manifest", str(manifest), "--task",
                    "detect", "--params", str(params), "--out", str(out), "--quiet", *engine], cwd=REPO, check=True,
                   env={**os.environ, "MODEL_CONFIG": str(config)})
    return time.perf_counter() - started


def on_running_cluster(config: Path, videos: dict[str, Path], request: dict, out: Path) -> tuple[float, int, float]:
    """(frames/s from the first answer to the last, frames after the first, seconds to the first answer) of a
    RayBatch with one actor on the cluster this process started."""
    from runners.core.config import load_config
    from services.batch.on_ray import RayBatch
    from services.batch.state import BatchState
    from services.batch.through_service import Work

    works = [Work(video_id, str(path), {**request, "video_path": str(path)},
                  hashlib.sha256(video_id.encode()).hexdigest()[:16], 1) for video_id, path in videos.items()]
    answered: list[tuple[float, int]] = []
    state = BatchState(out)
    batch = RayBatch("detect", "json", out, state, load_config(config), actors=1,
                     on_finished=lambda record: answered.append((time.perf_counter(), record.frames)))
    started = time.perf_counter()
    batch.run(works)
    state.close()
    assert len(answered) == len(works) and all(frames for _, frames in answered), answered
    frames_after_first = sum(frames for _, frames in answered[1:])
    return frames_after_first / (answered[-1][0] - answered[0][0]), frames_after_first, answered[0][0] - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO / "demo" / "models.yaml")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    config = args.config.resolve()
    os.environ["MODEL_CONFIG"] = str(config)
    demo = [config.parent / "media" / f"{name}.mp4" for name in ("shapes", "tracking", "portrait")]
    videos = {f"{path.stem}-{copy}": path for copy in range(args.copies) for path in demo}
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    manifest = work / "videos.jsonl"
    manifest.write_text("".join(json.dumps({"video": str(v), "id": i}) + "\n" for i, v in videos.items()))
    frames = {v: list(range(0, VideoFile(v).info.frame_count, args.stride)) for v in demo}
    total = args.copies * sum(len(f) for f in frames.values())
    batch = yaml.safe_load(config.read_text())["inference"]["runners"]["detection"]["max_batch_size"]

    import ray

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    process, url, _ = start_service(config, work / "serve.log")
    try:
        raws = {v: RawLoop(config, "yolo11n", v) for v in demo}
        raw, service, ray_command, ray_running = [], [], [], []
        for round_ in range(args.rounds + 1):  # the first round warms everything up
            # parameters of each round's own (max_detections never binds here), or the service would hand the
            # round the jobs of the one before: the same video at the same parameters is the same job
            request = {"model": "yolo11n", "frame_range": {"start": 0, "end": 100_000}, "stride": args.stride,
                       "max_detections": 100 + round_}
            params = work / f"params-{round_}.json"
            params.write_text(json.dumps(request))
            started = time.perf_counter()
            for _ in range(args.copies):
                for video, numbers in frames.items():
                    raws[video].fps(numbers, batch, 1)
            raw_seconds = time.perf_counter() - started
            out = work / f"service-{round_}"
            service_seconds = vms_batch(manifest, params, out, "--service", url, config=config)
            assert json.loads((out / "_summary.json").read_text())["frames_this_run"] == total
            command_seconds = vms_batch(manifest, params, work / f"ray-{round_}", "--engine", "ray", "--actors", "1",
                                        config=config)
            running = on_running_cluster(config, videos, request, work / f"running-{round_}")
            if round_:
                raw.append(total / raw_seconds)
                service.append(total / service_seconds)
                ray_command.append(total / command_seconds)
                ray_running.append(running)
    finally:
        stop_service(process)
        ray.shutdown()
    best_running = max(ray_running)
    print(f"vms batch, detect yolo11n, {len(videos)} videos ({args.copies} x the demo's 3), {total} frames (every "
          f"{args.stride}), best of {args.rounds} alternating rounds")
    print(f"raw loop (decode + predict, batch {batch}, this process): {max(raw):7.1f} frames/s")
    print(f"through one service (whole command: jobs, 2 in flight):  {max(service):7.1f} frames/s   ratio "
          f"{max(service) / max(raw):.2f}")
    print(f"on Ray, one actor (whole command: local cluster, actor):  {max(ray_command):7.1f} frames/s   ratio "
          f"{max(ray_command) / max(raw):.2f}")
    print(f"on Ray, one actor, on a running cluster after its first answer ({best_running[1]} frames): "
          f"{best_running[0]:7.1f} frames/s   ratio {best_running[0] / max(raw):.2f}; first answer after "
          f"{best_running[2]:.1f} s (actor start, model load, first video)")


if __name__ == "__main__":
    main()
