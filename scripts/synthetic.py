"""Synthetic shapes: images and videos whose every object position is known, for a detector that can be trained on
a CPU in minutes and then scored against ground truth (detection accuracy, tracking MOTA/IDF1).

Objects are filled circles, squares and triangles in random colours on a textured background, so the model must
learn shape, not colour. Videos move the same shapes along straight lines that bounce off the borders.

For segmentation and tracking: `write_yolo_seg_dataset` (polygon labels of each shape's visible part, with striped
occluder bars, shapes cut by the frame border and shapes over one another) and `write_tracking_video` (a scripted
scene: crossings, a full occlusion behind a bar, objects entering from outside the frame).
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

    def sample() -> tuple[np.ndarray, list[str]]:
        backdrop = background(rng, width, height)
        shapes = random_scene(rng, backdrop, int(rng.integers(1, max_objects + 1)), size_range)
        lines = []
        for s in shapes:
            x0, y0, x1, y1 = s.bbox()
            lines.append(f"{CLASSES.index(s.label)} {(x0 + x1) / 2 / width:.6f} {(y0 + y1) / 2 / height:.6f} "
                         f"{(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}")
        return render(backdrop, shapes), lines

    return write_dataset(out, {"train": train, "val": val}, sample)


def write_dataset(out: Path, splits: dict[str, int], sample) -> Path:
    """A YOLO dataset folder: `sample()` -> (RGB image, label lines) for each image of each split, then data.yaml;
    returns the data.yaml path."""
    for split, count in splits.items():
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image, lines = sample()
            cv2.imwrite(str(out / "images" / split / f"{i:05d}.png"), image[..., ::-1])
            (out / "labels" / split / f"{i:05d}.txt").write_text("".join(line + "\n" for line in lines))
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


def encode_h264(path: Path, images, *, width: int, height: int, fps: int, gop: int) -> None:
    """RGB frames -> an H.264 file with one keyframe every `gop` frames (long GOPs make seeking matter)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"g": str(gop), "keyint_min": str(gop),
                                                                   "sc_threshold": "0", "crf": "18"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_video(path: Path, *, width: int, height: int, frames: int, fps: int = 25, seed: int = 0,
                count: int = 4, size_range: tuple[int, int] = (48, 96), speed: float = 3.0,
                gop: int = 250) -> list[dict]:
    """An H.264 video of moving shapes (one keyframe every `gop` frames); returns the ground truth per frame:
    [{"frame_number", "objects": [{"track_id", "label", "bbox": [x0, y0, x1, y1], "visible"}]}] and writes it beside
    the video
    as <name>.json."""
    rng = np.random.default_rng(seed)
    backdrop = background(rng, width, height)
    shapes = moving_shapes(rng, backdrop, count, size_range, speed)
    truth = []

    def images():
        for number in range(frames):
            image = render(backdrop, shapes)
            visible = visibility(shapes, width, height)
            truth.append({"frame_number": number, "objects": [
                {"track_id": s.track_id, "label": s.label, "bbox": [round(v, 2) for v in s.bbox()],
                 "visible": round(v, 3)} for s, v in zip(shapes, visible)]})
            yield image
            step(shapes, width, height)

    encode_h264(path, images(), width=width, height=height, fps=fps, gop=gop)
    path.with_suffix(".json").write_text(json.dumps({"width": width, "height": height, "fps": fps,
                                                     "classes": CLASSES, "frames": truth}))
    return truth


# --- segmentation: exact outlines, occluders, clipped shapes -------------------------------------------------------

CIRCLE_POINTS = 24


def polygon(shape: Shape, points: int = CIRCLE_POINTS) -> np.ndarray:
    """The outline of the drawn shape as an (N, 2) float array: square and triangle corners, a circle as `points`
    points (the geometry `draw` fills; its pixels reach about half a pixel further, see `shape_mask`)."""
    x0, y0, x1, y1 = shape.bbox()
    if shape.label == "circle":
        angles = np.linspace(0, 2 * math.pi, points, endpoint=False)
        r = shape.size / 2
        return np.stack([shape.cx + r * np.cos(angles), shape.cy + r * np.sin(angles)], axis=1)
    if shape.label == "square":
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)
    return np.array([[(x0 + x1) / 2, y0], [x1, y1], [x0, y1]], dtype=float)


def polygon_area(points: np.ndarray) -> float:
    if len(points) < 3:
        return 0.0
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def clip_half_plane(points: np.ndarray, axis: int, limit: float, keep_below: bool) -> np.ndarray:
    """Sutherland-Hodgman: the part of a convex polygon with points[:, axis] <= limit (or >= limit)."""
    if len(points) == 0:
        return points

    def inside(p: np.ndarray) -> bool:
        return p[axis] <= limit if keep_below else p[axis] >= limit

    result = []
    for i, current in enumerate(points):
        previous = points[i - 1]
        if inside(current):
            if not inside(previous):
                result.append(_crossing(previous, current, axis, limit))
            result.append(current)
        elif inside(previous):
            result.append(_crossing(previous, current, axis, limit))
    return np.array(result, dtype=float).reshape(-1, 2)


def _crossing(a: np.ndarray, b: np.ndarray, axis: int, limit: float) -> np.ndarray:
    t = (limit - a[axis]) / (b[axis] - a[axis])
    return a + t * (b - a)


def clip_polygon(points: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """The part of a convex polygon inside the rectangle [x0, x1] x [y0, y1]."""
    for axis, limit, below in ((0, x0, False), (0, x1, True), (1, y0, False), (1, y1, True)):
        points = clip_half_plane(points, axis, limit, below)
    return points


def shape_mask(shape: Shape, width: int, height: int) -> np.ndarray:
    """The pixels `draw` fills for this shape in a width x height frame (bool, parts outside the frame dropped)."""
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    draw(canvas, Shape(shape.label, shape.cx, shape.cy, shape.size, (255, 255, 255)))
    return canvas[..., 0] > 127


def shape_area(shape: Shape) -> int:
    """Pixels `draw` fills for the whole shape, wherever it is (frame borders ignored)."""
    pad = math.ceil(shape.size) + 4
    centred = Shape(shape.label, pad / 2 + (shape.cx % 1), pad / 2 + (shape.cy % 1), shape.size, shape.color)
    return max(int(shape_mask(centred, pad, pad).sum()), 1)


@dataclass
class Occluder:
    """An opaque foreground bar with diagonal stripes (a texture no shape has), drawn over everything."""
    x0: int
    y0: int
    x1: int
    y1: int
    colors: tuple[tuple[int, int, int], tuple[int, int, int]] = ((70, 70, 70), (170, 170, 170))
    period: int = 16

    @property
    def vertical(self) -> bool:
        return self.y1 - self.y0 >= self.x1 - self.x0

    def mask(self, width: int, height: int) -> np.ndarray:
        mask = np.zeros((height, width), dtype=bool)
        mask[max(self.y0, 0):max(self.y1, 0), max(self.x0, 0):max(self.x1, 0)] = True
        return mask


def draw_occluder(image: np.ndarray, occluder: Occluder) -> None:
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    stripes = ((xs + ys) // max(occluder.period // 2, 1)) % 2 == 0
    mask = occluder.mask(width, height)
    image[mask & stripes] = occluder.colors[0]
    image[mask & ~stripes] = occluder.colors[1]


def _random_occluder(rng: np.random.Generator, width: int, height: int, thickness: tuple[float, float]) -> Occluder:
    vertical = bool(rng.random() < 0.5)
    span = width if vertical else height
    size = int(rng.uniform(*thickness) * span)
    start = int(rng.integers(-size // 2, span - size // 2))
    dark = rng.integers(20, 110, size=3) if rng.random() < 0.5 else np.full(3, rng.integers(20, 110))
    light = np.clip(dark + rng.integers(60, 140), 0, 255)
    colors = (tuple(int(c) for c in dark), tuple(int(c) for c in light))
    period = int(rng.integers(6, 20))
    if vertical:
        return Occluder(start, 0, start + size, height, colors, period)
    return Occluder(0, start, width, start + size, colors, period)


def _visible_part(outline: np.ndarray, occluder: Occluder | None) -> np.ndarray | None:
    """The part of a convex outline that a bar spanning the frame (across its shorter side) leaves visible, or None
    when the bar cuts it in two."""
    if occluder is None or len(outline) == 0:
        return outline
    axis = 0 if occluder.vertical else 1
    low, high = (occluder.x0, occluder.x1) if axis == 0 else (occluder.y0, occluder.y1)
    before = clip_half_plane(outline, axis, low, True)
    after = clip_half_plane(outline, axis, high, False)
    before_area, after_area = polygon_area(before), polygon_area(after)
    if before_area > 1e-6 and after_area > 1e-6:
        return None
    return before if before_area > 1e-6 else after


def _seg_scene(rng: np.random.Generator, backdrop: np.ndarray, count: int, size_range: tuple[int, int],
               outside_prob: float, overlap_prob: float, min_visible: float, max_overlaps: int = 2) -> list[Shape]:
    """Non-overlapping shapes; with probability `outside_prob` each may lie partly outside the frame (at least
    `min_visible` of it inside); then, each with probability `overlap_prob`, up to `max_overlaps` more shapes drawn
    partly over (or just beside) one of them."""
    height, width = backdrop.shape[:2]
    shapes: list[Shape] = []
    for _ in range(count * 20):
        if len(shapes) == count:
            break
        candidate = random_shape(rng, backdrop, size_range)
        if rng.random() < outside_prob:
            h = candidate.size / 2
            candidate.cx = float(rng.uniform(-h * 0.8, width + h * 0.8))
            candidate.cy = float(rng.uniform(-h * 0.8, height + h * 0.8))
            outline = polygon(candidate)
            inside = polygon_area(clip_polygon(outline, 0, 0, width, height)) / polygon_area(outline)
            if inside < min_visible:
                continue
        if not _overlaps(candidate, shapes):
            shapes.append(candidate)
    for _ in range(max_overlaps):
        if not shapes or rng.random() >= overlap_prob:
            break
        for _ in range(20):
            base = shapes[int(rng.integers(len(shapes)))]
            top = random_shape(rng, backdrop, size_range)
            angle = rng.uniform(0, 2 * math.pi)
            distance = rng.uniform(0.4, 1.05) * (base.size + top.size) / 2  # over it, or just beside it
            top.cx, top.cy = base.cx + distance * math.cos(angle), base.cy + distance * math.sin(angle)
            h = top.size / 2
            if (h <= top.cx <= width - h and h <= top.cy <= height - h
                    and not _overlaps(top, [o for o in shapes if o is not base])):
                shapes.append(top)
                break
    return shapes


def _traced_outline(shape: Shape, covers: list[Shape], width: int, height: int, occluder: Occluder | None,
                    supersample: int = 4) -> np.ndarray | None:
    """The visible part of a shape partly under other shapes, traced from a supersampled mask (frame border and
    occluder removed too); None when it falls apart into pieces."""
    k = supersample
    mask = np.zeros((height * k, width * k), dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(polygon(shape) * k).astype(np.int32)], 1)
    for cover in covers:
        cv2.fillPoly(mask, [np.round(polygon(cover) * k).astype(np.int32)], 0)
    if occluder is not None:
        mask[max(occluder.y0, 0) * k:max(occluder.y1, 0) * k, max(occluder.x0, 0) * k:max(occluder.x1, 0) * k] = 0
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return np.zeros((0, 2))
    areas = sorted((cv2.contourArea(c), i) for i, c in enumerate(contours))
    if len(areas) > 1 and areas[-2][0] > 0.02 * areas[-1][0]:
        return None
    outline = cv2.approxPolyDP(contours[areas[-1][1]], 0.5 * k / 2, True).reshape(-1, 2)
    return (outline.astype(float) + 0.5) / k


def seg_labels(shapes: list[Shape], width: int, height: int, occluder: Occluder | None = None,
               min_visible: float = 0.25) -> list[str] | None:
    """YOLO segmentation label lines (class + normalised polygon) for the visible part of each shape (shapes later
    in the list are drawn over earlier ones), or None when the occluder or a shape cuts a shape in two. Outlines
    are exact (clipped by the frame and the occluder) unless another shape covers part of it (then traced from a
    supersampled mask). Shapes with less than `min_visible` of their area visible get no label."""
    lines = []
    for i, shape in enumerate(shapes):
        outline = polygon(shape)
        covers = [o for o in shapes[i + 1:] if _overlaps(shape, [o], margin=0)]
        if covers:
            visible = _traced_outline(shape, covers, width, height, occluder)
        else:
            visible = _visible_part(clip_polygon(outline, 0, 0, width, height), occluder)
        if visible is None:
            return None
        if len(visible) < 3 or polygon_area(visible) < min_visible * polygon_area(outline):
            continue
        coords = " ".join(f"{x / width:.6f} {y / height:.6f}" for x, y in visible)
        lines.append(f"{CLASSES.index(shape.label)} {coords}")
    return lines


def write_yolo_seg_dataset(out: Path, *, train: int, val: int, width: int, height: int, seed: int,
                           size_range: tuple[int, int], max_objects: int = 5, min_objects: int = 1,
                           occluder_prob: float = 0.3,
                           occluder_thickness: tuple[float, float] = (0.08, 0.3), outside_prob: float = 0.15,
                           overlap_prob: float = 0.0, min_visible: float = 0.25) -> Path:
    """Images + YOLO segmentation labels (class + the polygon of each shape's visible part) + data.yaml; returns
    the data.yaml path. Some images have a striped occluder bar over everything (background to learn), shapes
    partly outside the frame (clipped polygons) and a shape drawn partly over another, so objects that enter the
    frame, hide behind a bar or cross each other are still segmented."""
    rng = np.random.default_rng(seed)

    def sample() -> tuple[np.ndarray, list[str]]:
        backdrop = background(rng, width, height)
        objects = int(rng.integers(min_objects, max_objects + 1))
        shapes = _seg_scene(rng, backdrop, objects, size_range, outside_prob, overlap_prob, min_visible)
        lines = seg_labels(shapes, width, height, None, min_visible)
        while lines is None:  # an added shape cut another in two: drop it
            shapes.pop()
            lines = seg_labels(shapes, width, height, None, min_visible)
        image = render(backdrop, shapes)
        if rng.random() < occluder_prob:
            for _ in range(20):
                occluder = _random_occluder(rng, width, height, occluder_thickness)
                with_bar = seg_labels(shapes, width, height, occluder, min_visible)
                if with_bar is not None:
                    draw_occluder(image, occluder)
                    lines = with_bar
                    break
        return image, lines

    return write_dataset(out, {"train": train, "val": val}, sample)


# --- a scripted tracking video ---------------------------------------------------------------------------------------

def scripted_shapes(objects: list[dict], frame: int) -> list[Shape]:
    """The scripted objects present at `frame`, in drawing order (later ones are drawn over earlier ones). Each
    object is {"track_id", "label", "size", "color", "start": [cx, cy], "velocity": [vx, vy], "first_frame"}: it
    exists from its first frame on and moves on a straight line, start being its centre at that frame."""
    shapes = []
    for spec in objects:
        age = frame - spec.get("first_frame", 0)
        if age < 0:
            continue
        shapes.append(Shape(label=spec["label"], cx=spec["start"][0] + spec["velocity"][0] * age,
                            cy=spec["start"][1] + spec["velocity"][1] * age, size=float(spec["size"]),
                            color=tuple(spec["color"]), vx=spec["velocity"][0], vy=spec["velocity"][1],
                            track_id=spec["track_id"]))
    return shapes


def frame_truth(shapes: list[Shape], occluders: list[Occluder], width: int, height: int) -> list[dict]:
    """Ground truth for one frame: every shape with a part inside the frame, its bbox clipped to the frame and the
    fraction of its whole area that is visible (not outside the frame, under a later shape or under an occluder)."""
    owner = np.zeros((height, width), dtype=np.int32)
    for i, shape in enumerate(shapes, start=1):
        owner[shape_mask(shape, width, height)] = i
    for occluder in occluders:
        owner[occluder.mask(width, height)] = 0
    objects = []
    for i, shape in enumerate(shapes, start=1):
        x0, y0, x1, y1 = shape.bbox()
        x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height))
        if x1 <= x0 or y1 <= y0:
            continue
        objects.append({"track_id": shape.track_id, "label": shape.label,
                        "bbox": [round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)],
                        "visible": round(float((owner == i).sum()) / shape_area(shape), 3)})
    return objects


def write_tracking_video(path: Path, *, width: int, height: int, frames: int, objects: list[dict],
                         occluders: list[dict], fps: int = 25, seed: int = 0, gop: int = 250) -> list[dict]:
    """An H.264 video of scripted shapes (see `scripted_shapes`) under opaque striped occluder bars
    ({"box": [x0, y0, x1, y1], "colors": [[r, g, b], [r, g, b]], "period"}), for tracking tests: crossings, full
    occlusions, objects entering from outside. Returns the ground truth per frame, in `write_video`'s format, and
    writes it beside the video as <name>.json. Objects are in the truth while any part of them is inside the frame;
    their bbox keeps moving under an occluder (visible 0 there) and is clipped to the frame at its borders."""
    rng = np.random.default_rng(seed)
    backdrop = background(rng, width, height)
    bars = [Occluder(*(int(v) for v in o["box"]), **({"colors": tuple(tuple(c) for c in o["colors"])}
                                                       if "colors" in o else {}),
                     **({"period": int(o["period"])} if "period" in o else {})) for o in occluders]
    truth = []

    def images():
        for number in range(frames):
            shapes = scripted_shapes(objects, number)
            image = render(backdrop, shapes)
            for bar in bars:
                draw_occluder(image, bar)
            truth.append({"frame_number": number, "objects": frame_truth(shapes, bars, width, height)})
            yield image

    encode_h264(path, images(), width=width, height=height, fps=fps, gop=gop)
    path.with_suffix(".json").write_text(json.dumps({
        "width": width, "height": height, "fps": fps, "classes": CLASSES, "frames": truth,
        "occluders": [[b.x0, b.y0, b.x1, b.y1] for b in bars]}))
    return truth
