"""Which frames of a video range a video summarizer looks at: `count` frame numbers chosen uniformly, at scene cuts
or where the picture is busiest.

Content-aware strategies never hold the full-size range: they stream an analysis grid (every k-th frame, at most
`ANALYSIS_FRAMES` of them) through `VideoFile.iter_frames`, shrink each frame to `analysis_width` pixels wide at once
and keep only one small value per frame; the caller decodes just the chosen frames at full size afterwards.

Guarantees, for every strategy: sorted unique frame numbers in [start, end], exactly `count` of them unless the range
has fewer frames (then every frame of the range), deterministic for the same file and arguments.

- ``uniform``: the centre of each of `count` equal segments, ``start + floor((2i + 1) * n / (2 * count))``.
- ``keyframe``: a cut is where PySceneDetect's content detector (``ContentDetector``: the mean of the absolute hue,
  saturation and value differences between consecutive analysis frames, 0-255) scores at least `scene_threshold`;
  a scene starts at the first frame of the new picture (exact: when the grid skips frames, the frames between the
  two analysis frames are re-read, small, and the frame the detector scores highest is the cut). `start` is always
  chosen; beyond it the strongest cuts win (ties: earlier); spare frames go to the scene with the widest spacing
  (ties: earlier) and are spread evenly inside each scene.
- ``adaptive``: inverse-CDF sampling of a per-frame complexity (``gradient``: mean Sobel magnitude, ``entropy``:
  grey-level histogram entropy, ``motion``: mean absolute difference to the previous analysis frame), smoothed and
  floored at 10% of its mean so static stretches still get a share; samples that collapse onto one frame are
  replaced by the frame at the middle of the heaviest gap (by complexity mass) between chosen frames.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import cv2
import numpy as np
from scenedetect import ContentDetector, FrameTimecode, StatsManager

from runners.core.errors import BadRequest
from runners.core.video import VideoFile

STRATEGIES = ("uniform", "keyframe", "adaptive")
COMPLEXITY_METRICS = ("gradient", "entropy", "motion")
ANALYSIS_FRAMES = 300  # most analysis frames decoded for one call
COMPLEXITY_FLOOR = 0.1  # share of the mean complexity added everywhere


def sample_frames(video: VideoFile, start: int, end: int, count: int, strategy: str = "uniform",
                  scene_threshold: float = 30.0, complexity_metric: str = "gradient",
                  analysis_width: int = 160) -> list[int]:
    """Sorted unique frame numbers in [start, end] (inclusive), at most `count` (fewer only when the range has fewer
    frames)."""
    _validate(video, start, end, count, strategy, complexity_metric, analysis_width)
    length = end - start + 1
    if count >= length:
        return list(range(start, end + 1))
    if strategy == "uniform":
        return uniform_frames(start, end, count)
    if strategy == "keyframe":
        return _keyframe_frames(video, start, end, count, scene_threshold, analysis_width)
    return _adaptive_frames(video, start, end, count, complexity_metric, analysis_width)


def _validate(video: VideoFile, start: int, end: int, count: int, strategy: str, complexity_metric: str,
              analysis_width: int) -> None:
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise BadRequest(f"count must be an integer >= 1, got {count!r}", field="count")
    if strategy not in STRATEGIES:
        raise BadRequest(f"strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}", field="strategy",
                         allowed=list(STRATEGIES))
    if complexity_metric not in COMPLEXITY_METRICS:
        raise BadRequest(f"complexity_metric must be one of {', '.join(COMPLEXITY_METRICS)}; got "
                         f"{complexity_metric!r}", field="complexity_metric", allowed=list(COMPLEXITY_METRICS))
    if isinstance(analysis_width, bool) or not isinstance(analysis_width, (int, np.integer)) or analysis_width < 8:
        raise BadRequest(f"analysis_width must be an integer >= 8, got {analysis_width!r}", field="analysis_width")
    video.info.check_frames([start], field="start")
    video.info.check_frames([end], field="end")
    if end < start:
        raise BadRequest(f"end ({end}) is before start ({start})", field="end", start=start, end=end)


def uniform_frames(start: int, end: int, count: int) -> list[int]:
    """The centre frame of each of `count` equal segments of [start, end]; every frame when count exceeds them."""
    length = end - start + 1
    if count >= length:
        return list(range(start, end + 1))
    return [start + (2 * i + 1) * length // (2 * count) for i in range(count)]


# --- the analysis grid ----------------------------------------------------------------------------------------------

def _analysis_numbers(start: int, end: int) -> list[int]:
    stride = max(1, math.ceil((end - start + 1) / ANALYSIS_FRAMES))
    return list(range(start, end + 1, stride))


def _small_frames(video: VideoFile, numbers: list[int], analysis_width: int) -> Iterator[tuple[int, np.ndarray]]:
    """(frame number, uint8 RGB frame at most `analysis_width` wide), streamed; full-size frames are dropped at
    once."""
    width, height = video.info.width, video.info.height
    small_width = min(analysis_width, width)
    size = (small_width, max(1, round(height * small_width / width)))
    for number, frame in video.iter_frames(numbers):
        if frame.shape[1] != size[0] or frame.shape[0] != size[1]:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        yield number, frame


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two small float frames, 0-255."""
    return float(np.abs(a - b).mean())


# --- keyframe: scene starts -------------------------------------------------------------------------------------------

Cut = tuple[float, int, int]  # (detector score, analysis frame before, analysis frame after)


def _cut_scores(frames: Iterable[tuple[int, np.ndarray]], fps: float,
                threshold: float) -> Iterator[tuple[float, int, int, bool]]:
    """PySceneDetect's content detector over one stream of small frames: for each frame after the first, (its score
    against the frame before it, that frame's number, its number, whether the score reaches `threshold`)."""
    detector = ContentDetector(threshold=threshold, min_scene_len=0)  # 0: every frame that reaches it is a cut
    detector.stats_manager = stats = StatsManager()  # where the detector records each frame's score
    previous = None
    for number, frame in frames:
        timecode = FrameTimecode(number, fps=fps)
        cut = bool(detector.process_frame(timecode, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)))
        if previous is not None:
            (score,) = stats.get_metrics(timecode, [ContentDetector.FRAME_SCORE_KEY])
            yield float(score), previous, number, cut
        previous = number


def _keyframe_frames(video: VideoFile, start: int, end: int, count: int, scene_threshold: float,
                     analysis_width: int) -> list[int]:
    grid = _small_frames(video, _analysis_numbers(start, end), analysis_width)
    cuts = [(score, before, after) for score, before, after, cut in _cut_scores(grid, _fps(video), scene_threshold)
            if cut]
    strongest = sorted(cuts, key=lambda cut: (-cut[0], cut[1]))[:count - 1]
    scene_starts = sorted({start, *_exact_cut_frames(video, strongest, analysis_width)})
    return _fill_scenes(scene_starts, end, count)


def _fps(video: VideoFile) -> float:
    return video.info.fps if video.info.fps > 0 else 25.0  # the detector needs a rate; it only labels timecodes


def _exact_cut_frames(video: VideoFile, cuts: list[Cut], analysis_width: int) -> list[int]:
    """The first frame of the new scene for each cut: the analysis frame after it when the grid has no gap there,
    else the frame among those in between that the detector scores highest against its predecessor."""
    exact = [after for _, before, after in cuts if after - before == 1]
    spans = [(before, after) for _, before, after in cuts if after - before > 1]
    if not spans:
        return exact
    numbers = sorted({n for before, after in spans for n in range(before, after + 1)})
    small = dict(_small_frames(video, numbers, analysis_width))
    for before, after in spans:
        span = ((n, small[n]) for n in range(before, after + 1))
        steps = [(score, number) for score, _, number, _ in _cut_scores(span, _fps(video), threshold=math.inf)]
        exact.append(max(steps, key=lambda step: (step[0], -step[1]))[1])
    return exact


def _fill_scenes(scene_starts: list[int], end: int, count: int) -> list[int]:
    """`count` frames: every scene start, spare frames to the scene whose frames are furthest apart, each scene's
    frames evenly spaced from its start."""
    bounds = scene_starts + [end + 1]
    lengths = [bounds[i + 1] - bounds[i] for i in range(len(scene_starts))]
    per_scene = [1] * len(scene_starts)
    for _ in range(count - len(scene_starts)):
        spacing = [length / taken if taken < length else 0.0 for length, taken in zip(lengths, per_scene)]
        per_scene[int(np.argmax(spacing))] += 1
    return [first + i * length // taken
            for first, length, taken in zip(scene_starts, lengths, per_scene) for i in range(taken)]


# --- adaptive: more frames where the picture is busy ------------------------------------------------------------------

def _complexity(gray: np.ndarray, previous_gray: np.ndarray | None, metric: str) -> float | None:
    if metric == "gradient":
        dx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
        dy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
        return float(cv2.magnitude(dx, dy).mean())
    if metric == "entropy":
        histogram = np.bincount(np.clip(gray, 0, 255).astype(np.uint8).ravel(), minlength=256).astype(np.float64)
        p = histogram[histogram > 0] / histogram.sum()
        return float(-(p * np.log2(p)).sum())
    return None if previous_gray is None else _difference(previous_gray, gray)


def _adaptive_frames(video: VideoFile, start: int, end: int, count: int, metric: str,
                     analysis_width: int) -> list[int]:
    numbers = _analysis_numbers(start, end)
    values: list[float | None] = []
    previous_gray = None
    for _, frame in _small_frames(video, numbers, analysis_width):
        gray = cv2.cvtColor(frame.astype(np.float32), cv2.COLOR_RGB2GRAY)
        values.append(_complexity(gray, previous_gray, metric))
        previous_gray = gray
    if values[0] is None:  # motion: the first analysis frame has no predecessor
        values[0] = values[1] if len(values) > 1 else 0.0
    density = _smoothed(np.asarray(values, dtype=np.float64))
    mean = density.mean()
    density = density + COMPLEXITY_FLOOR * mean if mean > 0 else np.ones_like(density)
    # each analysis frame stands for the frames up to the next one
    spans = np.diff(np.asarray(numbers + [end + 1]))
    per_frame = np.repeat(density, spans)
    cumulative = np.concatenate([[0.0], np.cumsum(per_frame)])
    targets = (np.arange(count) + 0.5) / count * cumulative[-1]
    local = np.minimum(np.searchsorted(cumulative[1:], targets, side="left"), len(per_frame) - 1)
    chosen = _fill_by_mass(set(int(i) for i in local), cumulative, count)
    return [start + i for i in sorted(chosen)]


def _smoothed(values: np.ndarray) -> np.ndarray:
    window = max(1, len(values) // 25) | 1
    if window == 1:
        return values
    padded = np.pad(values, window // 2, mode="edge")
    return np.convolve(padded, np.ones(window) / window, mode="valid")


def _fill_by_mass(chosen: set[int], cumulative: np.ndarray, count: int) -> set[int]:
    """Add frames (local indices) until there are `count`: each at the mass middle of the open gap between chosen
    frames (or the range ends) that holds the most complexity mass."""
    length = len(cumulative) - 1
    while len(chosen) < count:
        bounds = [-1, *sorted(chosen), length]
        best: tuple[float, int, int] | None = None
        for low, high in zip(bounds, bounds[1:]):
            if high - low < 2:
                continue
            mass = cumulative[high] - cumulative[low + 1]
            if best is None or mass > best[0]:
                best = (mass, low, high)
        if best is None:  # every frame is chosen already
            break
        _, low, high = best
        middle = (cumulative[low + 1] + cumulative[high]) / 2
        index = int(np.searchsorted(cumulative[1:], middle, side="left"))
        chosen.add(min(max(index, low + 1), high - 1))
    return chosen
