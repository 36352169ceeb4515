"""/api/detect end to end vs the raw in-process loop (decode + predict) on the same frames, same machine, one run.

    python benchmarks/bench_detect.py [--config demo/models.yaml] [--model yolo11n]

Prints frames/s for: the raw loop at the service's chunk size (one client's reference), the service with one client,
the raw loop at its best batch size, and the service under 8 concurrent single-frame clients — and the two ratios
the targets in README "Benchmarks" (≥ 0.85 and ≥ 0.9).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.local_server import start_service, stop_service  # noqa: E402


class RawLoop:
    """The in-process reference: the same backend the runner uses, decode + predict, no HTTP."""

    def __init__(self, config_path: Path, model: str, video: Path) -> None:
        from runners.core.config import load_config
        from runners.core.device import pick_device
        from runners.core.video import VideoFile
        from runners.detection.backends.base import DetectSettings
        from runners.detection.registry import load_detector

        config = load_config(config_path)
        self.detector = load_detector(model, config.option("object_detection", model), config, pick_device("auto"))
        self.settings, self.video, self.open = DetectSettings(), video, VideoFile
        self.detector.detect(VideoFile(video).get_frames([0]), self.detector.default_vocabulary, self.settings)

    def fps(self, frames: list[int], batch: int, repeats: int) -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            reader = self.open(self.video)
            for i in range(0, len(frames), batch):
                self.detector.detect(reader.get_frames(frames[i:i + batch]), self.detector.default_vocabulary,
                                     self.settings)
        return repeats * len(frames) / (time.perf_counter() - started)


def service_one_client(url: str, model: str, video: Path, frames: list[int], repeats: int) -> float:
    body = {"video_path": str(video), "frame_numbers": frames, "model": model}
    with httpx.Client(base_url=url, timeout=600) as client:
        started = time.perf_counter()
        for _ in range(repeats):
            client.post("/api/detect", json=body).raise_for_status()
    return repeats * len(frames) / (time.perf_counter() - started)


def service_concurrent(url: str, model: str, video: Path, frames: list[int], clients: int, warmups: int = 3) -> float:
    def run(share: list[int]) -> None:
        with httpx.Client(base_url=url, timeout=600) as client:
            for frame in share:
                client.post("/api/detect", json={"video_path": str(video), "frame_numbers": [frame],
                                                 "model": model}).raise_for_status()

    shares = [frames[i::clients] for i in range(clients)]
    rates = []
    # BentoML's adaptive batcher calibrates on its first few dozen batches: the first passes warm it up.
    for _ in range(warmups + 1):
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as executor:
            list(executor.map(run, shares))
        rates.append(len(frames) / (time.perf_counter() - started))
    return rates[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=Path("demo/models.yaml"))
    parser.add_argument("--model", default="yolo11n")
    parser.add_argument("--video", type=Path, default=Path("demo/media/shapes.mp4"))
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import yaml

    chunk = yaml.safe_load(args.config.read_text())["inference"]["runners"]["detection"]["max_batch_size"]
    # the service sends a request's frames in one call; the runner runs them in batches of max_batch_size
    frames = list(range(0, 250, max(1, 250 // args.frames)))[: args.frames]
    video = args.video.resolve()

    # Service and raw loop are measured in alternation, best of `rounds`, so that drifts of this noisy machine
    # (±30% between runs) hit both sides alike.
    process, url, _ = start_service(args.config.resolve(), Path(tempfile.mkdtemp()) / "serve.log")
    try:
        raw = RawLoop(args.config, args.model, video)
        one_client, raw_chunk, concurrent, raw_by_batch = [], [], [], {b: [] for b in (1, 4, 8, 16)}
        service_one_client(url, args.model, video, frames, 1)  # warm-up and model load
        service_concurrent(url, args.model, video, frames, clients=8, warmups=2)  # calibrate the batcher
        for _ in range(args.rounds):
            one_client.append(service_one_client(url, args.model, video, frames, args.repeats))
            raw_chunk.append(raw.fps(frames, chunk, args.repeats))
            concurrent.append(service_concurrent(url, args.model, video, frames, clients=8, warmups=0))
            for b in raw_by_batch:
                raw_by_batch[b].append(raw.fps(frames, b, args.repeats))
        sizes = httpx.get(f"{url}/health", timeout=30).json()["runners"]["detection"]["batch_sizes"]
    finally:
        stop_service(process)
    best = {b: max(v) for b, v in raw_by_batch.items()}
    best_batch, raw_best = max(best.items(), key=lambda kv: kv[1])

    print(f"model {args.model}, {len(frames)} frames of {args.video.name}, {os.cpu_count()} CPUs, "
          f"best of {args.rounds} alternating rounds")
    print(f"raw loop, batch {chunk} (service chunk):  {max(raw_chunk):7.2f} frames/s")
    print(f"service, 1 client x {len(frames)} frames:   {max(one_client):7.2f} frames/s   "
          f"ratio {max(one_client) / max(raw_chunk):.2f}  (target >= 0.85)")
    print("raw loop by batch: " + ", ".join(f"bs{b} {fps:.2f}" for b, fps in best.items()))
    print(f"service, 8 concurrent 1-frame clients: {max(concurrent):7.2f} frames/s   "
          f"ratio {max(concurrent) / raw_best:.2f}  vs raw best batch {best_batch} (target >= 0.9)")
    print(f"batches the runner formed (size: count): {sizes}")


if __name__ == "__main__":
    main()
