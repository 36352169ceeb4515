"""Tracking: frames/s per tracker, the decimation speed-up, and memory growth with the length of the frame range.

    python benchmarks/bench_tracking.py [--long 3000] [--short 300] [--speed-frames 12]

Every measurement runs a tracking job through the tracking runner's own code path (stream decode -> tracker session
-> track recorder), in a fresh process of its own, so peak RSS is that job's alone:

- speed: yolo11n-seg (the demo's, trained on shapes) on the 640x384 tracking video; SAM 2.1 / SAMURAI / SAM2Long on
  the released SAM 2.1 hiera-tiny architecture with random weights at a 256 px input (no checkpoint can be
  downloaded here); two prompted objects;
- decimation: the same 60-frame range at decimation 1 and 5, seconds(5) / seconds(1) (target <= 0.3);
- memory: peak RSS tracking a `--long` vs a `--short` frame range of a synthetic 320x192 video (target <= 1.2),
  yolo11n-seg and the demo's tiny SAM 2.1 under each family (memory bookkeeping does not depend on the weights).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts import synthetic, tiny_models  # noqa: E402

MB = 1024**2
SAM_FAMILIES = {"sam2-1": "sam2", "samurai": "samurai", "sam2long": "sam2long"}


def build_config(workdir: Path, demo_config: Path) -> Path:
    """The demo configuration plus `<name>-hiera-tiny` options: the real-size SAM 2.1 architecture."""
    config = yaml.safe_load(demo_config.read_text())
    folder = workdir / "sam2-hiera-tiny-256"
    if not (folder / "config.json").exists():
        tiny_models.BUILDERS["sam2"](str(folder), real_size=True)
    for section in config["models"].values():
        for option in section["options"].values():
            for key in ("model_id", "text_encoder"):
                if str(option.get(key, "")).startswith("./"):
                    option[key] = str(demo_config.parent / option[key])
    options = config["models"]["video_tracking"]["options"]
    for name in SAM_FAMILIES:
        options[f"{name}-hiera-tiny"] = {**options[name], "model_id": str(folder),
                                         "description": "SAM 2.1 hiera-tiny architecture, random weights, 256 px"}
    config["media"]["roots"] = [str(demo_config.parent / "media"), str(workdir)]
    path = workdir / "models.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def long_video(workdir: Path, frames: int) -> Path:
    path = workdir / f"long-{frames}.mp4"
    if not path.with_suffix(".json").exists():
        synthetic.write_video(path, width=320, height=192, frames=frames, fps=25, seed=3, count=3,
                              size_range=(40, 64), speed=2.0)
    return path


def run_child(config: Path, **job) -> dict:
    """One job in a fresh process: {"seconds", "frames", "rss_before_mb", "job_peak_mb"}."""
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], check=True, capture_output=True,
                         text=True, env={**os.environ, "MODEL_CONFIG": str(config)}, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(job_fields: dict) -> None:
    """Load the model, warm it up on two frames, then time the job; print one JSON line."""
    from runners.tracking.follow import Prompt, TrackJob
    from runners.tracking.service import TrackingRunner

    video = Path(job_fields.pop("video"))
    truth = json.loads(video.with_suffix(".json").read_text())["frames"]
    start = job_fields["start"]
    objects = [o for o in truth[start]["objects"] if o["visible"] > 0.5][:2]
    prompts = [Prompt(box=o["bbox"], label=o["label"], frame_number=start) for o in objects]
    runner = TrackingRunner()
    job = TrackJob(video_path=str(video), prompts=prompts, interpolation="none", **job_fields)
    runner.run_job(job.model_copy(update={"end": start + 1, "decimation": 1}), threading.Event())  # load + warm-up
    before = psutil.Process().memory_info().rss
    samples, done = [before], threading.Event()

    def sample() -> None:  # the job's own peak: the process's lifetime peak is set by imports and loading
        while not done.wait(0.05):
            samples.append(psutil.Process().memory_info().rss)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    result = runner.run_job(job, threading.Event())
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if result.error:
        raise SystemExit(f"tracking failed: {result.error}")
    print(json.dumps({"seconds": seconds, "frames": result.frames_processed, "rss_before_mb": round(before / MB),
                      "job_peak_mb": round(max(samples) / MB)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo-config", type=Path, default=Path("demo/models.yaml"))
    parser.add_argument("--long", type=int, default=3000)
    parser.add_argument("--short", type=int, default=300)
    parser.add_argument("--speed-frames", type=int, default=12)
    parser.add_argument("--sections", nargs="+", default=["speed", "decimation", "memory"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    workdir = Path(os.environ.get("BENCH_MODELS_DIR", Path(tempfile.gettempdir()) / "bench-tracking"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = build_config(workdir, args.demo_config.resolve())
    tracking_video = str((args.demo_config.parent / "media" / "tracking.mp4").resolve())
    print(f"{os.cpu_count()} CPUs; each cell is one job in a fresh process (model loaded and warmed up first)\n")

    if "speed" in args.sections:
        speed(config, tracking_video, args.speed_frames)
    if "decimation" in args.sections:
        decimation(config, tracking_video)
    if "memory" in args.sections:
        memory(config, str(long_video(workdir, args.long)), args.short, args.long)


def speed(config: Path, tracking_video: str, frames: int) -> None:
    print("speed (frames/s, 2 prompted objects, 640x384 tracking video):")
    print("| tracker | architecture | frames/s |\n| --- | --- | --- |", flush=True)
    speed_models = [("yolo11n-seg", "YOLO11n-seg (demo, trained), ByteTrack")] + [
        (f"{name}-hiera-tiny", f"SAM 2.1 hiera-tiny, random weights, 256 px ({family})")
        for name, family in SAM_FAMILIES.items()]
    for model, architecture in speed_models:
        r = run_child(config, video=tracking_video, model=model, start=0, end=frames - 1)
        print(f"| {model} | {architecture} | {r['frames'] / r['seconds']:.2f} |", flush=True)


def decimation(config: Path, tracking_video: str) -> None:
    print("\ndecimation (60 frames, seconds at decimation 5 / seconds at decimation 1; target <= 0.3):")
    print("| tracker | decimation 1 | decimation 5 | ratio |\n| --- | --- | --- | --- |", flush=True)
    for model in ("yolo11n-seg", "samurai-hiera-tiny"):
        one = run_child(config, video=tracking_video, model=model, start=0, end=59, decimation=1)
        five = run_child(config, video=tracking_video, model=model, start=0, end=59, decimation=5)
        print(f"| {model} | {one['seconds']:.1f} s | {five['seconds']:.1f} s | "
              f"**{five['seconds'] / one['seconds']:.2f}** |", flush=True)



def memory(config: Path, video: str, short_frames: int, long_frames: int) -> None:
    print(f"\nmemory (RSS peak during the job, {short_frames} vs {long_frames} frames of a 320x192 video, masks on; "
          f"target <= 1.2):")
    print(f"| tracker | RSS before | peak, {short_frames} frames | peak, {long_frames} frames | ratio | "
          f"frames/s ({long_frames}) |")
    print("| --- | --- | --- | --- | --- | --- |", flush=True)
    for model in ("yolo11n-seg", *SAM_FAMILIES):
        short = run_child(config, video=video, model=model, start=0, end=short_frames - 1, include_masks=True)
        long = run_child(config, video=video, model=model, start=0, end=long_frames - 1, include_masks=True)
        print(f"| {model} | {long['rss_before_mb']} MB | {short['job_peak_mb']} MB | {long['job_peak_mb']} MB | "
              f"**{long['job_peak_mb'] / short['job_peak_mb']:.2f}** | {long['frames'] / long['seconds']:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
