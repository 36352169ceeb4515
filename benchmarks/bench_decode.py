"""Sampled-frame decoding: one decord batch decode vs a per-frame seek loop, for 30 random frames of a 720p video
with one keyframe every 250 frames (the case where seeking per frame hurts most).

    python benchmarks/bench_decode.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runners.core.video import VideoFile  # noqa: E402
from scripts.synthetic import write_video  # noqa: E402


def timed(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def per_frame_opencv(path: Path, indices: list[int]) -> None:
    """What the original service did: set the position and read, once per frame."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    for index in indices:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        capture.read()
    capture.release()


def per_frame_decord(path: Path, indices: list[int]) -> None:
    import decord

    reader = decord.VideoReader(str(path), num_threads=1)
    for index in indices:
        reader.get_batch([index]).asnumpy()


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "keyframes-250.mp4"
    write_video(path, width=1280, height=720, frames=300, fps=30, count=4, size_range=(80, 200), gop=250)
    indices = random.Random(0).sample(range(300), 30)
    batch = timed(lambda: VideoFile(path).get_frames(indices))
    opencv = timed(lambda: per_frame_opencv(path, indices))
    decord_loop = timed(lambda: per_frame_decord(path, indices))
    print("30 random frames of a 1280x720 300-frame H.264 video, keyframes at 0 and 250 (best of 3):")
    print(f"  batch decode (runners.core.video):    {batch:6.2f} s")
    print(f"  per-frame seek, OpenCV:          {opencv:6.2f} s   batch is {opencv / batch:.1f}x faster (target >= 3x)")
    print(f"  per-frame get_batch, decord:     {decord_loop:6.2f} s   batch is {decord_loop / batch:.1f}x faster")


if __name__ == "__main__":
    main()
