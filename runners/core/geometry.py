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


def rle_runs(counts: str, height: int, width: int) -> list[int]:
    """The runs of a COCO compressed RLE string (background first), checked: ValueError when it is not one for a
    `height` x `width` mask. pycocotools reads the string in C without checks and crashes the process on a malformed
    one, so an RLE that did not come from this service is read here first."""
    data = counts.encode("utf-8")
    runs: list[int] = []
    p = 0
    while p < len(data):
        value, shift, more = 0, 0, True
        while more:
            if p >= len(data) or shift > 30:
                raise ValueError("the RLE string ends inside a number")
            c = data[p] - 48
            if not 0 <= c < 64:
                raise ValueError(f"{chr(data[p])!r} is not a character of a COCO RLE string")
            value |= (c & 0x1F) << shift
            more = bool(c & 0x20)
            p, shift = p + 1, shift + 5
            if not more and c & 0x10:
                value -= 1 << shift  # a negative difference
        if len(runs) > 2:  # runs after the third are stored as differences to the run two before
            value += runs[-2]
        if value < 0:
            raise ValueError("the RLE string decodes to a negative run")
        runs.append(value)
    if sum(runs) != height * width:
        raise ValueError(f"the RLE string covers {sum(runs)} pixels, not {height} x {width}")
    return runs
