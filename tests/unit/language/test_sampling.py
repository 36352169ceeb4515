"""Frame sampling for a video summarizer: uniform centres, exact scene starts at hard cuts, more frames where the
picture moves or is textured; every answer sorted, unique, inside the range and at most `count` long."""

from __future__ import annotations

import numpy as np
import pytest

from runners.core.errors import BadRequest
from runners.core.video import VideoFile
from runners.language import sampling
from runners.language.sampling import sample_frames
from scripts.synthetic import background, encode_h264, moving_shapes, render, step

WIDTH, HEIGHT, FPS, GOP = 160, 96, 25, 25
CUTS = [30, 75, 120]  # first frames of scenes 2, 3, 4
# saturated colours, hues away from red: on grey or red the hue of a noisy pixel jumps, and PySceneDetect's content
# score (mean |dH|, |dS|, |dV|) sees that noise as ~25-33 within one scene; here it is ~3 within a scene, and the cut
# scores are ~97, ~65 and ~45, so the strongest-cut tests see three clearly ordered cuts
SCENE_COLORS = [(140, 37, 219), (130, 129, 71), (71, 41, 156), (82, 195, 129)]


def scene_images(rng, frames: int, cuts: list[int], width: int, height: int):
    shade = np.linspace(-12, 12, width)[None, :, None]
    for number in range(frames):
        scene = sum(number >= c for c in cuts)
        image = np.array(SCENE_COLORS[scene % len(SCENE_COLORS)], dtype=float) + shade
        image = image + rng.normal(0, 3, size=(height, width, 3))
        yield np.clip(image, 0, 255).astype(np.uint8)


def half_static_images(rng, frames: int):
    """One textured backdrop; the shapes stand still for the first half and move for the second."""
    backdrop = background(rng, WIDTH, HEIGHT)
    shapes = moving_shapes(rng, backdrop, 4, (16, 32), speed=5.0)
    for number in range(frames):
        yield render(backdrop, shapes)
        if number >= frames // 2:
            step(shapes, WIDTH, HEIGHT)


def flat_then_textured_images(rng, frames: int):
    """A flat grey first half, a still checkerboard with noise second half (no motion in either)."""
    flat = np.full((HEIGHT, WIDTH, 3), 128, dtype=np.uint8)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    checker = ((yy // 4 + xx // 4) % 2 * 160 + 40)[..., None] + rng.normal(0, 25, size=(HEIGHT, WIDTH, 3))
    textured = np.clip(checker, 0, 255).astype(np.uint8)
    for number in range(frames):
        yield flat if number < frames // 2 else textured


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("sampling")
    rng = np.random.default_rng(0)
    paths = {
        "cuts": (root / "cuts.mp4", scene_images(rng, 150, CUTS, WIDTH, HEIGHT), WIDTH, HEIGHT),
        # longer than the analysis grid (stride 3): cuts between analysis frames must still be found exactly
        "long": (root / "long.mp4", scene_images(rng, 700, [301, 502], 64, 48), 64, 48),
        "motion": (root / "motion.mp4", half_static_images(rng, 100), WIDTH, HEIGHT),
        "texture": (root / "texture.mp4", flat_then_textured_images(rng, 100), WIDTH, HEIGHT),
    }
    for path, images, width, height in paths.values():
        encode_h264(path, images, width=width, height=height, fps=FPS, gop=GOP)
    return {name: VideoFile(path) for name, (path, *_) in paths.items()}


# --- uniform --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, count, expected", [
    (0, 99, 4, [12, 37, 62, 87]),
    (0, 149, 1, [75]),
    (10, 19, 3, [11, 15, 18]),
    (40, 49, 10, list(range(40, 50))),
    (5, 7, 10, [5, 6, 7]),
    (149, 149, 3, [149]),
])
def test_uniform_takes_segment_centres(videos, start, end, count, expected):
    assert sample_frames(videos["cuts"], start, end, count) == expected


# --- keyframe ---------------------------------------------------------------------------------------------------------

def test_keyframe_finds_every_scene_start(videos):
    assert sample_frames(videos["cuts"], 0, 149, 4, strategy="keyframe") == [0, *CUTS]


def test_keyframe_keeps_the_largest_cuts_and_always_start(videos):
    assert sample_frames(videos["cuts"], 0, 149, 1, strategy="keyframe") == [0]
    assert sample_frames(videos["cuts"], 0, 149, 2, strategy="keyframe") == [0, 30]
    assert sample_frames(videos["cuts"], 0, 149, 3, strategy="keyframe") == [0, 30, 75]
    # a range starting mid-scene: its own start, then the largest cut inside it
    assert sample_frames(videos["cuts"], 50, 149, 2, strategy="keyframe") == [50, 75]


def test_keyframe_fills_spare_frames_across_scenes(videos):
    # scenes of 30, 45, 45 and 30 frames: the two long scenes get a second frame first, then the short ones
    assert sample_frames(videos["cuts"], 0, 149, 8, strategy="keyframe") == [0, 15, 30, 52, 75, 97, 120, 135]
    assert sample_frames(videos["cuts"], 0, 149, 6, strategy="keyframe") == [0, 30, 52, 75, 97, 120]


def test_keyframe_without_cuts_spreads_evenly(videos):
    assert sample_frames(videos["cuts"], 0, 29, 3, strategy="keyframe") == [0, 10, 20]
    assert sample_frames(videos["cuts"], 0, 149, 3, strategy="keyframe", scene_threshold=250) == [0, 50, 100]


def test_scene_threshold_is_the_content_detectors_score(videos):
    # the third cut scores ~45: under a threshold of 55 only two cuts remain, and the long last scene takes the spare
    assert sample_frames(videos["cuts"], 0, 149, 4, strategy="keyframe", scene_threshold=55) == [0, 30, 75, 112]
    assert sample_frames(videos["cuts"], 0, 149, 4, strategy="keyframe", scene_threshold=40) == [0, *CUTS]


def test_keyframe_on_a_sparse_grid_finds_exact_cuts_and_reads_only_the_grid(videos, monkeypatch):
    video = videos["long"]
    decoded = []
    original = video.iter_frames

    def counting(numbers, chunk=16):
        for number, frame in original(numbers, chunk):
            decoded.append(number)
            yield number, frame

    monkeypatch.setattr(video, "iter_frames", counting)
    assert sample_frames(video, 0, 699, 3, strategy="keyframe") == [0, 301, 502]
    stride = 3
    assert len(decoded) <= sampling.ANALYSIS_FRAMES + 2 * (stride + 1)


# --- adaptive ---------------------------------------------------------------------------------------------------------

def second_half_share(frames: list[int], middle: int) -> float:
    return sum(f >= middle for f in frames) / len(frames)


def test_adaptive_motion_prefers_the_moving_half(videos):
    frames = sample_frames(videos["motion"], 0, 99, 12, strategy="adaptive", complexity_metric="motion")
    assert len(frames) == 12
    assert second_half_share(frames, 50) >= 2 / 3
    assert any(f < 50 for f in frames)  # the floor leaves the still half a share


@pytest.mark.parametrize("metric", ["gradient", "entropy"])
def test_adaptive_texture_metrics_prefer_the_textured_half(videos, metric):
    frames = sample_frames(videos["texture"], 0, 99, 12, strategy="adaptive", complexity_metric=metric)
    assert len(frames) == 12
    assert second_half_share(frames, 50) >= 2 / 3


def test_adaptive_fills_when_samples_collapse(videos):
    # 40 samples over 60 frames of which 50 are textured: many targets land on the same frames, all are refilled
    frames = sample_frames(videos["texture"], 40, 99, 40, strategy="adaptive", complexity_metric="gradient")
    assert len(frames) == 40 == len(set(frames))
    assert second_half_share(frames, 50) >= 0.75


# --- every answer -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("strategy, metric", [("uniform", "gradient"), ("keyframe", "gradient"),
                                              ("adaptive", "gradient"), ("adaptive", "entropy"),
                                              ("adaptive", "motion")])
def test_results_are_sorted_unique_in_range_and_full(videos, strategy, metric):
    for name, start, end, count in [("cuts", 0, 149, 5), ("cuts", 29, 31, 2), ("cuts", 60, 149, 17),
                                    ("motion", 45, 99, 9), ("motion", 7, 7, 4), ("texture", 0, 99, 99)]:
        frames = sample_frames(videos[name], start, end, count, strategy=strategy, complexity_metric=metric)
        assert frames == sorted(set(frames)), (name, start, end, count)
        assert all(start <= f <= end for f in frames)
        assert len(frames) == min(count, end - start + 1)


def test_same_arguments_same_frames(videos):
    for strategy in sampling.STRATEGIES:
        first = sample_frames(videos["motion"], 0, 99, 7, strategy=strategy, complexity_metric="motion")
        assert sample_frames(videos["motion"], 0, 99, 7, strategy=strategy, complexity_metric="motion") == first


# --- bad input --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"strategy": "random"}, "strategy"),
    ({"complexity_metric": "colour"}, "complexity_metric"),
    ({"count": 0}, "count"),
    ({"count": 2.5}, "count"),
    ({"analysis_width": 0}, "analysis_width"),
    ({"start": -1}, "start"),
    ({"end": 150}, "end"),
    ({"start": 100, "end": 50}, "end"),
])
def test_bad_input_is_a_bad_request_naming_the_field(videos, kwargs, field):
    arguments = {"start": 0, "end": 149, "count": 4, **kwargs}
    with pytest.raises(BadRequest) as raised:
        sample_frames(videos["cuts"], **arguments)
    assert raised.value.details["field"] == field
    if field in ("strategy", "complexity_metric"):
        allowed = sampling.STRATEGIES if field == "strategy" else sampling.COMPLEXITY_METRICS
        assert all(name in raised.value.message for name in allowed)
