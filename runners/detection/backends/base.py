"""What every detection backend provides, and the post-processing all of them share.

A backend's `detect(frames, vocabulary, settings)` returns one `supervision.Detections` per frame whose `class_id`
indexes `vocabulary` — supervision's single detections type is the common currency, with a `from_*` adapter per
model family. `finalize` turns it into response objects: per-label thresholds, boxes clipped to the frame, the most
confident `max_detections`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import supervision as sv

from runners.core.contracts import BBox, DetectedObject

MIN_BOX_PIXELS = 1.0


@dataclass(frozen=True)
class DetectSettings:
    confidence_threshold: float = 0.5
    nms_threshold: float = 0.45
    class_thresholds: dict[str, float] = field(default_factory=dict)
    max_detections: int = 300

    def threshold(self, label: str) -> float:
        return self.class_thresholds.get(label, self.confidence_threshold)

    @property
    def lowest_threshold(self) -> float:
        return min([self.confidence_threshold, *self.class_thresholds.values()])


class Detector(Protocol):
    name: str
    open_vocabulary: bool
    default_vocabulary: list[str]

    def detect(self, frames: Sequence[np.ndarray], vocabulary: Sequence[str],
               settings: DetectSettings) -> list[sv.Detections]: ...

    def close(self) -> None: ...


def sigmoid(logits) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(np.asarray(logits, dtype=np.float64), -60, 60)))


def finalize(detections: sv.Detections, vocabulary: Sequence[str], settings: DetectSettings, *, width: int,
             height: int, labels: Sequence[str] | None = None) -> list[DetectedObject]:
    """Response objects for one frame: pixel boxes (x, y, width, height) clipped to the frame, best first."""
    if len(detections) == 0:
        return []
    if detections.confidence is None or detections.class_id is None:
        raise ValueError("a detection backend must give every box a confidence and a class_id")
    xyxy = sv.clip_boxes(detections.xyxy.astype(np.float64), (width, height))
    allowed = set(labels) if labels is not None else None
    objects = []
    for (x0, y0, x1, y1), score, class_id in zip(xyxy, detections.confidence, detections.class_id):
        label = vocabulary[int(class_id)]
        if (allowed is not None and label not in allowed) or score < settings.threshold(label):
            continue
        if x1 - x0 < MIN_BOX_PIXELS or y1 - y0 < MIN_BOX_PIXELS:  # degenerate, or outside the frame once clipped
            continue
        objects.append(DetectedObject(
            bbox=BBox(x=round(float(x0), 2), y=round(float(y0), 2), width=round(float(x1 - x0), 2),
                      height=round(float(y1 - y0), 2)),
            label=label, confidence=round(float(score), 4), class_id=int(class_id)))
    objects.sort(key=lambda o: o.confidence, reverse=True)
    return objects[: settings.max_detections]
