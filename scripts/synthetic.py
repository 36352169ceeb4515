"""Synthetic shapes: images and videos whose every object position is known, for a detector that can be trained on
a CPU in minutes and then scored against ground truth (detection accuracy, tracking MOTA/IDF1).

Objects are filled circles, squares and triangles in random colours on a textured background, so the model must
learn shape, not colour. Videos move the same shapes along straight lines that bounce off the borders.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CLASSES = ["circle", "square", "triangle"]


@dataclass
class Shape:
    label: str
    cx: float
    cy: float
    size: float  # side of the bounding square, pixels
    color: tuple[int, int, int]
    vx: float = 0.0
    vy: float = 0.0
    track_id: int = 0

    def bbox(self) -> list[float]:
        """[x0, y0, x1, y1] of the drawn shape."""
        h = self.size / 2
        return [self.cx - h, self.cy - h, self.cx + h, self.cy + h]


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A smooth colour gradient plus low noise: texture without shape-like edges."""
    gx = np.linspace(0, 1, width)[None, :, None]
    gy = np.linspace(0, 1, height)[:, None, None]
    c0, c1, c2 = (rng.uniform(40, 200, size=3) for _ in range(3))
    image = c0 * (1 - gx) * (1 - gy) + c1 * gx + c2 * gy * (1 - gx)
    image = image + rng.normal(0, 6, size=(height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def draw(image: np.ndarray, shape: Shape) -> None:
    x0, y0, x1, y1 = (int(round(v)) for v in shape.bbox())
    color = tuple(int(c) for c in shape.color)
    if shape.label == "circle":
        cv2.circle(image, (int(round(shape.cx)), int(round(shape.cy))), int(round(shape.size / 2)), color, -1,
                   cv2.LINE_AA)
    elif shape.label == "square":
        cv2.rectangle(image, (x0, y0), (x1, y1), color, -1)
    else:
        points = np.array([[(x0 + x1) / 2, y0], [x1, y1], [x0, y1]], dtype=np.int32)
        cv2.fillPoly(image, [points], color, cv2.LINE_AA)


def contrasting_color(rng: np.random.Generator, backdrop: np.ndarray, min_distance: int = 180) -> tuple:
    """A random colour far enough from the backdrop's mean colour that the shape is visible wherever it moves."""
    mean = backdrop.reshape(-1, 3).mean(axis=0)
    for _ in range(100):
        color = rng.integers(0, 256, size=3)
        if np.abs(color - mean).sum() >= min_distance:
            break
    return tuple(int(c) for c in color)


def random_shape(rng: np.random.Generator, backdrop: np.ndarray, size_range: tuple[int, int]) -> Shape:
    height, width = backdrop.shape[:2]
    size = float(rng.uniform(*size_range))
    return Shape(
        label=str(rng.choice(CLASSES)), cx=float(rng.uniform(size / 2, width - size / 2)),
        cy=float(rng.uniform(size / 2, height - size / 2)), size=size, color=contrasting_color(rng, backdrop),
    )


def _overlaps(shape: Shape, others: list[Shape], margin: float = 4) -> bool:
    a = shape.bbox()
    return any(not (a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1] or b[3] + margin < a[1])
               for b in (o.bbox() for o in others))


def random_scene(rng: np.random.Generator, backdrop: np.ndarray, count: int,
                 size_range: tuple[int, int]) -> list[Shape]:
    shapes: list[Shape] = []
    for _ in range(count * 20):
        if len(shapes) == count:
            break
        candidate = random_shape(rng, backdrop, size_range)
        if not _overlaps(candidate, shapes):
            shapes.append(candidate)
    return shapes


def render(backdrop: np.ndarray, shapes: list[Shape]) -> np.ndarray:
    """An RGB image of the shapes over the backdrop."""
    image = backdrop.copy()
    for shape in shapes:
        draw(image, shape)
    return image


def write_yolo_dataset(out: Path, *, train: int, val: int, width: int, height: int, seed: int,
                       size_range: tuple[int, int], max_objects: int = 5) -> Path:
    """Images + YOLO label files + data.yaml; returns the data.yaml path."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", train), ("val", val)):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            backdrop = background(rng, width, height)
            shapes = random_scene(rng, backdrop, int(rng.integers(1, max_objects + 1)), size_range)
            image = render(backdrop, shapes)
            cv2.imwrite(str(out / "images" / split / f"{i:05d}.png"), image[..., ::-1])
            lines = []
            for s in shapes:
                x0, y0, x1, y1 = s.bbox()
                lines.append(f"{CLASSES.index(s.label)} {(x0 + x1) / 2 / width:.6f} {(y0 + y1) / 2 / height:.6f} "
                             f"{(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}")
            (out / "labels" / split / f"{i:05d}.txt").write_text("\n".join(lines) + "\n")
    data = out / "data.yaml"
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASSES))
    data.write_text(f"path: {out}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data


def moving_shapes(rng: np.random.Generator, backdrop: np.ndarray, count: int,
                  size_range: tuple[int, int], speed: float) -> list[Shape]:
    shapes = random_scene(rng, backdrop, count, size_range)
    for i, s in enumerate(shapes, start=1):
        angle = rng.uniform(0, 2 * math.pi)
        s.vx, s.vy, s.track_id = speed * math.cos(angle), speed * math.sin(angle), i
    return shapes


def step(shapes: list[Shape], width: int, height: int) -> None:
    for s in shapes:
        s.cx += s.vx
        s.cy += s.vy
        h = s.size / 2
        if s.cx - h < 0 or s.cx + h > width:
            s.vx = -s.vx
            s.cx = min(max(s.cx, h), width - h)
        if s.cy - h < 0 or s.cy + h > height:
            s.vy = -s.vy
            s.cy = min(max(s.cy, h), height - h)


def visibility(shapes: list[Shape], width: int, height: int) -> list[float]:
    """The fraction of each shape not covered by shapes drawn after it (1.0 = fully visible)."""
    owner = np.zeros((height, width), dtype=np.int32)
    areas = []
    for i, shape in enumerate(shapes, start=1):
        mask = np.zeros((height, width, 3), dtype=np.uint8)
        draw(mask, Shape(shape.label, shape.cx, shape.cy, shape.size, (255, 255, 255)))
        inside = mask[..., 0] > 127
        owner[inside] = i
        areas.append(max(int(inside.sum()), 1))
    return [float((owner == i).sum()) / area for i, area in enumerate(areas, start=1)]


def write_video(path: Path, *, width: int, height: int, frames: int, fps: int = 25, seed: int = 0,
                count: int = 4, size_range: tuple[int, int] = (48, 96), speed: float = 3.0,
                gop: int = 250) -> list[dict]:
    """An H.264 video of moving shapes (one keyframe every `gop` frames); returns the ground truth per frame:
    [{"frame_number", "objects": [{"track_id", "label", "bbox": [x0, y0, x1, y1], "visible"}]}] and writes it beside
    the video
    as <name>.json."""
    import av

    rng = np.random.default_rng(seed)
    backdrop = background(rng, width, height)
    shapes = moving_shapes(rng, backdrop, count, size_range, speed)
    truth = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"g": str(gop), "keyint_min": str(gop),
                                                                   "sc_threshold": "0", "crf": "18"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for number in range(frames):
            image = render(backdrop, shapes)
            visible = visibility(shapes, width, height)
            truth.append({"frame_number": number, "objects": [
                {"track_id": s.track_id, "label": s.label, "bbox": [round(v, 2) for v in s.bbox()],
                 "visible": round(v, 3)} for s, v in zip(shapes, visible)]})
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
            step(shapes, width, height)
        for packet in stream.encode():
            container.mux(packet)
    path.with_suffix(".json").write_text(json.dumps({"width": width, "height": height, "fps": fps,
                                                     "classes": CLASSES, "frames": truth}))
    return truth


