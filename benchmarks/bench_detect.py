"""/api/detect end to end vs the raw in-process loop (decode + predict) on the same frames, same machine, one run.

    python benchmarks/bench_detect.py [--config demo/models.yaml] [--model yolo11n]

Prints frames/s for: the raw loop at the service's chunk size (one client's reference), the service with one client,
the raw loop at its best batch size, and the service under 8 concurrent single-frame clients — and the two ratios
DESIGN §5 targets (≥ 0.85 and ≥ 0.9).
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


def raw_loop(config_path: Path, model: str, video: Path, frames: list[int], batch: int, repeats: int) -> float:
    """frames/s of decode + predict in-process, batches of `batch`."""
    os.environ["MODEL_CONFIG"] = str(config_path)
    from runners.backends.detector import DetectSettings
    from runners.config import load_config
    from runners.detection import load_detector
    from runners.device import pick_device
    from runners.video import VideoFile

    config = load_config(config_path)
    detector = load_detector(model, config.option("object_detection", model), config, pick_device("auto"))
    settings = DetectSettings()
    vocabulary = detector.default_vocabulary
    detector.detect(VideoFile(video).get_frames(frames[:batch]), vocabulary, settings)  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        reader = VideoFile(video)
        for i in range(0, len(frames), batch):
            detector.detect(reader.get_frames(frames[i:i + batch]), vocabulary, settings)
    return repeats * len(frames) / (time.perf_counter() - started)


def service_one_client(url: str, model: str, video: Path, frames: list[int], repeats: int) -> float:
    body = {"video_path": str(video), "frame_numbers": frames, "model": model}
    with httpx.Client(base_url=url, timeout=600) as client:
        client.post("/api/detect", json=body).raise_for_status()  # warm-up (and model load)
        started = time.perf_counter()
        for _ in range(repeats):
            client.post("/api/detect", json=body).raise_for_status()
    return repeats * len(frames) / (time.perf_counter() - started)


def service_concurrent(url: str, model: str, video: Path, frames: list[int], clients: int) -> float:
    def run(share: list[int]) -> None:
        with httpx.Client(base_url=url, timeout=600) as client:
            for frame in share:
                client.post("/api/detect", json={"video_path": str(video), "frame_numbers": [frame],
                                                 "model": model}).raise_for_status()

    shares = [frames[i::clients] for i in range(clients)]
    run(frames[:clients])  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as executor:
        list(executor.map(run, shares))
    return len(frames) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=Path("demo/models.yaml"))
    parser.add_argument("--model", default="yolo11n")
    parser.add_argument("--video", type=Path, default=Path("demo/media/shapes.mp4"))
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import yaml

    chunk = yaml.safe_load(args.config.read_text())["inference"]["runners"]["detection"]["max_batch_size"]
    frames = list(range(0, 250, max(1, 250 // args.frames)))[: args.frames]
    video = args.video.resolve()

    process, url, _ = start_service(args.config.resolve(), Path(tempfile.mkdtemp()) / "serve.log")
    try:
        one_client = service_one_client(url, args.model, video, frames, args.repeats)
        concurrent = service_concurrent(url, args.model, video, frames, clients=8)
    finally:
        stop_service(process)
    raw_chunk = raw_loop(args.config, args.model, video, frames, chunk, args.repeats)
    raw_by_batch = {b: raw_loop(args.config, args.model, video, frames, b, args.repeats) for b in (1, 4, 8, 16)}
    best_batch, raw_best = max(raw_by_batch.items(), key=lambda kv: kv[1])

    print(f"model {args.model}, {len(frames)} frames of {args.video.name}, {os.cpu_count()} CPUs")
    print(f"raw loop, batch {chunk} (service chunk):  {raw_chunk:7.2f} frames/s")
    print(f"service, 1 client x {len(frames)} frames:   {one_client:7.2f} frames/s   ratio {one_client / raw_chunk:.2f}"
          f"  (target >= 0.85)")
    print("raw loop by batch: " + ", ".join(f"bs{b} {fps:.2f}" for b, fps in raw_by_batch.items()))
    print(f"service, 8 concurrent 1-frame clients: {concurrent:7.2f} frames/s   ratio {concurrent / raw_best:.2f}"
          f"  vs raw best batch {best_batch} (target >= 0.9)")


if __name__ == "__main__":
    main()
