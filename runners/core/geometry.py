"""Boxes and masks: the one implementation of each helper that detection, tracking and the tests use."""

from __future__ import annotations

import numpy as np


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
