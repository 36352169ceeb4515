"""What every tracking backend provides: a stateful session per request, in the shape of SAM 2's video predictor.

    session = tracker.new_session(width, height, ...)          # init state
    objects = session.step(frame, new_objects={id: box})       # add prompts on this frame, propagate one frame

`step` takes the next *processed* frame (frames arrive in order; with decimation the session sees every Nth frame
as consecutive) and returns a `TrackedObject` per object it follows. Sessions keep no per-frame history beyond what
their algorithm looks back at, so a long frame range costs no more memory than a short one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class TrackedObject:
    box: list[float] | None  # [x0, y0, x1, y1] frame pixels; None when the object is absent or its mask empty
    mask: np.ndarray | None  # bool (H, W) at the frame's size; None when masks are not kept or the object is absent
    score: float  # the model's confidence in this frame's box, in [0, 1]
    present: bool  # False while the object is occluded or out of view
    label: str | None = None  # the detector's class, for trackers that detect


class TrackingSession(Protocol):
    def step(self, frame: np.ndarray, new_objects: dict[int, list[float]] | None = None) -> dict[int, object]: ...

    def close(self) -> None: ...


def box_iou(a: list[float], b: list[float]) -> float:
    """IoU of two [x0, y0, x1, y1] boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def mask_to_box(mask: np.ndarray) -> list[float] | None:
    """The tight [x0, y0, x1, y1] box of a boolean mask (pixel edges), None when the mask is empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return [float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)]


def encode_rle(mask: np.ndarray) -> dict:
    """COCO compressed RLE ({"size": [h, w], "counts": str}), the format annotation tools import."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
