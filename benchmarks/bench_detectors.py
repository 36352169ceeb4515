"""Per-detector speed: frames/s at batch 1 and under 8 concurrent single-frame clients, service vs the raw in-process
loop (decode + predict) on the same frames, for real-size architectures with random weights.

    python benchmarks/bench_detectors.py [--frames 4] [--models owlv2 grounding-dino-1-5 florence-2]

Architectures (random weights; no checkpoint can be downloaded here), input sizes reduced so a CPU run is short:
OWLv2 base (ViT-B/16, 128M parameters) at 480 px; Grounding DINO tiny (Swin-T + BERT-base, 150M) with the shortest
edge at 480 px; Florence-2 large (DaViT + BART-large, 448M) at 384 px with generation capped at 32 tokens. Frames:
640x384 from the demo video. Raw and service numbers are taken in one run, the raw loop while the service is idle.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import tiny_models  # noqa: E402
from scripts.local_server import start_service, stop_service  # noqa: E402

ARCHITECTURES = {  # served name -> (family, builder options, config extras)
    "owlv2": ("owlv2", {"image_size": 480}, {}),
    "grounding-dino-1-5": ("grounding-dino", {"shortest_edge": 480, "longest_edge": 800}, {}),
    "florence-2": ("florence-2", {"image_size": 384}, {"max_new_tokens": 32}),
}
VOCABULARY = ["circle", "square", "triangle"]


def build_config(workdir: Path, demo_config: Path, names: list[str]) -> Path:
    config = yaml.safe_load(demo_config.read_text())
    options = config["models"]["object_detection"]["options"]
    for name in names:
        family, build_options, extras = ARCHITECTURES[name]
        folder = workdir / family
        if not (folder / "config.json").exists():
            tiny_models.BUILDERS[family](str(folder), real_size=True, **build_options)
        options[name] = {**options[name], "model_id": str(folder), **extras,
                         "description": f"{family}, real-size architecture, random weights"}
    for option in options.values():
        for key in ("model_id", "text_encoder"):
            if str(option.get(key, "")).startswith("./"):
                option[key] = str(demo_config.parent / option[key])
    config["media"]["roots"] = [str(demo_config.parent / "media")]
    path = workdir / "models.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def raw_fps(config: Path, name: str, video: Path, frames: list[int], batch: int) -> float:
    from runners.core.config import load_config
    from runners.core.video import VideoFile
    from runners.detection.backends.base import DetectSettings
    from runners.detection.registry import load_detector

    loaded = load_config(config)
    detector = load_detector(name, loaded.option("object_detection", name), loaded, "cpu")
    settings = DetectSettings(confidence_threshold=0.3)
    detector.detect(VideoFile(video).get_frames(frames[:1]), VOCABULARY, settings)  # warm-up
    started = time.perf_counter()
    reader = VideoFile(video)
    for i in range(0, len(frames), batch):
        detector.detect(reader.get_frames(frames[i:i + batch]), VOCABULARY, settings)
    detector.close()
    return len(frames) / (time.perf_counter() - started)


def service_fps(url: str, name: str, video: Path, frames: list[int], clients: int) -> float:
    def run(share: list[int]) -> None:
        with httpx.Client(base_url=url, timeout=3600) as client:
            for frame in share:
                client.post("/api/detect", json={"video_path": str(video), "frame_numbers": [frame], "model": name,
                                                 "classes": VOCABULARY, "confidence_threshold": 0.3}
                            ).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as executor:
        list(executor.map(run, [frames[i::clients] for i in range(clients)]))
    return len(frames) / (time.perf_counter() - started)


def measure(config: Path, name: str, video: Path, frames: list[int], workdir: Path) -> str:
    """One model's table row: the service (fresh server) first, then the raw loop in this process."""
    process, url, _ = start_service(config, workdir / "serve.log")
    try:
        service_fps(url, name, video, frames, clients=8)  # load the model; the first batches
        one = service_fps(url, name, video, frames, clients=1)
        eight = service_fps(url, name, video, frames, clients=8)
        sizes = httpx.get(f"{url}/health", timeout=30).json()["runners"]["detection"]["batch_sizes"]
    finally:
        stop_service(process)
    formed = int(max(sizes.items(), key=lambda kv: kv[1])[0])  # the batch size the runner formed most often
    raw_one = raw_fps(config, name, video, frames, 1)
    raw_formed = raw_fps(config, name, video, frames, formed)
    return (f"| {name} | {raw_one:.2f} | {one:.2f} | {one / raw_one:.2f} | {formed} | {raw_formed:.2f} | "
            f"{eight:.2f} | {eight / raw_formed:.2f} | {sizes} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo-config", type=Path, default=Path("demo/models.yaml"))
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--models", nargs="+", default=list(ARCHITECTURES))
    parser.add_argument("--row-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    workdir = Path(os.environ.get("BENCH_MODELS_DIR", Path(tempfile.gettempdir()) / "bench-detectors"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = build_config(workdir, args.demo_config.resolve(), list(ARCHITECTURES))
    video = (args.demo_config.parent / "media" / "shapes.mp4").resolve()
    frames = list(range(0, 250, 250 // args.frames))[: args.frames]
    if args.row_only:
        print(measure(config, args.models[0], video, frames, workdir), flush=True)
        return
    print(f"{len(frames)} frames of 640x384, {os.cpu_count()} CPUs, vocabulary {VOCABULARY}, frames/s")
    print("| model | raw bs1 | service 1 client | ratio | batch formed | raw at that batch | service 8 clients | ratio "
          "| batches (size: count) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for name in args.models:  # one process per model: nothing left over from one model's run slows the next
        subprocess.run([sys.executable, __file__, "--demo-config", str(args.demo_config), "--frames",
                        str(args.frames), "--models", name, "--row-only"], check=True)


if __name__ == "__main__":
    main()
