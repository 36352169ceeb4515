"""From per-frame tracker output to the response's tracks: gaps, interpolation, stable ids.

The recorder keeps only what the response needs (a box, a confidence and an RLE string per object per processed
frame), so a long frame range never holds frames or dense masks. At the end, each object's observations are cut
into tracks wherever it was unseen for more than `max_gap_frames` frames, shorter gaps are filled at the processed
frames inside them (`interpolated: true`, no confidence: the model did not see the object there), and tracks are
numbered 1, 2, ... in order of first appearance. A track's label is the one its detections gave it most (summed
confidence), so one misread frame, typically an object half out from behind an occluder, neither names the whole
track nor keeps it from being linked to the track it continues.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from runners.core.contracts import BBox, RLEMask, Track, TrackBox
from runners.core.geometry import encode_rle

MIN_BOX_PIXELS = 1.0
# Linking: a track may continue one that ended if its first box's centre lies within this many box diagonals of where
# the ended track's motion (a straight line fitted to its last LINK_HISTORY centres) puts it.
LINK_DISTANCE = 1.0
LINK_HISTORY = 10


class Observed(BaseModel):
    """One object on one processed frame as the tracking runner reports it, before any gap filling or linking: what
    a job's checkpoint keeps, and what the recorder is fed on either side of the runner's boundary."""
    frame_number: int
    object_id: int  # the runner's id for the object (a track id before linking)
    label: str
    box: list[float]  # [x0, y0, x1, y1], inside the frame
    score: float  # the model's confidence, unrounded (labels are voted by it)
    mask: dict[str, Any] | None = None  # COCO RLE


def observe(frame_number: int, object_id: int, label: str, obj, *, width: int, height: int,
            keep_masks: bool) -> Observed | None:
    """A tracker's result as an observation; None for an absent object or a box empty once clipped to the frame (a
    gap)."""
    if not obj.present or obj.box is None:
        return None
    box = clip(obj.box, width, height)
    if box is None:
        return None
    mask = encode_rle(obj.mask) if keep_masks and obj.mask is not None else None
    return Observed(frame_number=frame_number, object_id=object_id, label=label, box=box, score=obj.score, mask=mask)


def clip(box: list[float], width: int, height: int) -> list[float] | None:
    x0, y0 = min(max(box[0], 0.0), width), min(max(box[1], 0.0), height)
    x1, y1 = min(max(box[2], 0.0), width), min(max(box[3], 0.0), height)
    if x1 - x0 < MIN_BOX_PIXELS or y1 - y0 < MIN_BOX_PIXELS:
        return None
    return [x0, y0, x1, y1]


def to_bbox(box: list[float]) -> BBox:
    """The response's box (x, y, width, height to the hundredth of a pixel)."""
    return BBox(x=round(box[0], 2), y=round(box[1], 2), width=round(box[2] - box[0], 2),
                height=round(box[3] - box[1], 2))


def confidence_of(score: float) -> float:
    return round(min(max(score, 0.0), 1.0), 4)


@dataclass
class Observation:
    frame_number: int
    box: list[float]  # [x0, y0, x1, y1]
    confidence: float | None
    mask: dict | None = None  # COCO RLE
    interpolated: bool = False


class TrackRecorder:
    def __init__(self, processed_frames: list[int], *, width: int, height: int, max_gap_frames: int,
                 interpolation: str, keep_masks: bool) -> None:
        self.processed = processed_frames  # sorted
        self.width, self.height = width, height
        self.max_gap_frames = max_gap_frames
        self.interpolation = interpolation
        self.keep_masks = keep_masks
        self.observations: dict[int, list[Observation]] = {}
        self.votes: dict[int, dict[str, float]] = {}  # object key -> label -> summed confidence
        self.order: list[int] = []  # object keys in order of first appearance

    def add(self, frame_number: int, key: int, label: str, obj) -> None:
        """One tracker result; absent objects and boxes empty once clipped to the frame are gaps."""
        observed = observe(frame_number, key, label, obj, width=self.width, height=self.height,
                           keep_masks=self.keep_masks)
        if observed is not None:
            self.record(observed)

    def record(self, observed: Observed) -> None:
        """One observation; an object's observations arrive in frame order."""
        key = observed.object_id
        if key not in self.observations:
            self.observations[key], self.votes[key] = [], {}
            self.order.append(key)
        votes = self.votes[key]
        votes[observed.label] = votes.get(observed.label, 0.0) + max(observed.score, 1e-3)
        mask = observed.mask if self.keep_masks else None
        self.observations[key].append(Observation(observed.frame_number, observed.box,
                                                  confidence_of(observed.score), mask))

    def label(self, key: int) -> str:
        """The label with the most summed confidence; a tie goes to the one seen first."""
        votes = self.votes[key]
        return max(votes, key=votes.__getitem__)

    def tracks(self) -> list[Track]:
        self._link()
        segments: list[tuple[int, int, int, list[Observation]]] = []  # (first frame, order, key, observations)
        for key in self.order:
            for segment in self._split(self.observations[key]):
                segments.append((segment[0].frame_number, len(segments), key, segment))
        segments.sort(key=lambda s: (s[0], s[1]))
        return [self._track(track_id, self.label(key), self._fill(segment))
                for track_id, (_, _, key, segment) in enumerate(segments, start=1)]

    def _link(self) -> None:
        """Merge each ended object with the best later object that continues it (see the module docstring)."""
        last_frame = self.processed[-1] if self.processed else 0
        merged = True
        while merged:
            merged = False
            for key in list(self.order):
                ended = self.observations[key]
                if ended[-1].frame_number >= last_frame:
                    continue
                successor = self._successor(key, ended)
                if successor is not None:
                    ended.extend(self.observations.pop(successor))
                    for label, weight in self.votes.pop(successor).items():
                        self.votes[key][label] = self.votes[key].get(label, 0.0) + weight
                    self.order.remove(successor)
                    merged = True
                    break

    def _successor(self, key: int, ended: list[Observation]) -> int | None:
        end = ended[-1].frame_number
        history = ended[-LINK_HISTORY:]
        t = np.array([o.frame_number for o in history], dtype=np.float64)
        centres = np.array([centre(o.box) for o in history])
        velocity = np.polyfit(t, centres, 1)[0] if len(history) > 1 else np.zeros(2)
        diagonal = float(np.hypot(ended[-1].box[2] - ended[-1].box[0], ended[-1].box[3] - ended[-1].box[1]))
        best, best_distance = None, LINK_DISTANCE
        for other in self.order:
            first = self.observations[other][0]
            if other == key or self.label(other) != self.label(key):
                continue
            if not 0 <= first.frame_number - end - 1 <= self.max_gap_frames:
                continue
            predicted = np.array(centre(ended[-1].box)) + velocity * (first.frame_number - end)
            distance = float(np.hypot(*(np.array(centre(first.box)) - predicted))) / max(diagonal, 1.0)
            if distance <= best_distance:
                best, best_distance = other, distance
        return best

    def _split(self, observations: list[Observation]) -> list[list[Observation]]:
        """A new track wherever the object was unseen for more than `max_gap_frames` frames."""
        segments = [[observations[0]]]
        for previous, current in itertools.pairwise(observations):
            if current.frame_number - previous.frame_number - 1 > self.max_gap_frames:
                segments.append([])
            segments[-1].append(current)
        return segments

    def _fill(self, segment: list[Observation]) -> list[Observation]:
        if self.interpolation == "none" or len(segment) < 2:
            return segment
        filled: list[Observation] = []
        for i, (previous, current) in enumerate(itertools.pairwise(segment)):
            filled.append(previous)
            lo = bisect.bisect_right(self.processed, previous.frame_number)
            hi = bisect.bisect_left(self.processed, current.frame_number)
            gap = self.processed[lo:hi]
            if gap:
                known = segment[max(0, i - 1):i + 3] if self.interpolation == "cubic" else [previous, current]
                for frame_number, box in zip(gap, interpolate_boxes(known, gap)):
                    clipped = clip(box, self.width, self.height)
                    if clipped is not None:
                        filled.append(Observation(frame_number, clipped, None, interpolated=True))
        filled.append(segment[-1])
        return filled

    @staticmethod
    def _track(track_id: int, label: str, observations: list[Observation]) -> Track:
        boxes = [TrackBox(frame_number=o.frame_number, confidence=o.confidence, interpolated=o.interpolated,
                          bbox=to_bbox(o.box), mask=RLEMask(**o.mask) if o.mask is not None else None)
                 for o in observations]
        return Track(track_id=track_id, label=label, frame_count=len(boxes), start_frame=observations[0].frame_number,
                     end_frame=observations[-1].frame_number, boxes=boxes)


def centre(box: list[float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def interpolate_boxes(known: list[Observation], frames: list[int]) -> list[list[float]]:
    """Boxes at `frames` from the observations around the gap: a straight line between its two ends (two points),
    or the polynomial through up to two observations on each side (cubic with four, quadratic with three), which
    follows an accelerating or curving object that a straight line cuts across."""
    t = np.array([o.frame_number for o in known], dtype=np.float64)
    boxes = np.array([o.box for o in known], dtype=np.float64)
    at = np.array(frames, dtype=np.float64)
    if len(known) == 2:
        return [list(map(float, row)) for row in
                np.stack([np.interp(at, t, boxes[:, c]) for c in range(4)], axis=1)]
    centre = t.mean()  # centred times keep the polynomial fit well conditioned for large frame numbers
    coefficients = [np.polyfit(t - centre, boxes[:, c], deg=len(known) - 1) for c in range(4)]
    return [list(map(float, row)) for row in np.stack([np.polyval(k, at - centre) for k in coefficients], axis=1)]
