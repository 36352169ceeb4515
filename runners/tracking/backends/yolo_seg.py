"""YOLO11n-seg + ByteTrack: detection-driven tracking with instance masks.

Each request gets its own `BYTETracker` (ultralytics' implementation) fed by `predict` on the shared model: the
tracker keeps per-video state, so it must never live on the model the way `model.track(persist=True)` keeps it.
Masks come from `retina_masks=True`, i.e. at the frame's own size, so they line up with the frame's pixels.

Prompts (`new_objects`) select tracks instead of starting them: ByteTrack only follows what the detector finds, so a
prompt box adopts the track that overlaps it most on that frame (IoU >= 0.3).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from runners.core.geometry import box_iou
from runners.core.ultralytics import import_ultralytics, to_bgr, ultralytics_device
from runners.tracking.backends.base import SessionSpec, TrackedObject

PROMPT_MATCH_IOU = 0.3
# ByteTrack's two-stage association: detections above `track_low_thresh` may extend a track; only those above the
# request's confidence threshold start one (ultralytics' defaults are 0.1 / 0.25).
LOW_SCORE = 0.1


class YoloSegTracker:
    detects = True  # it finds its objects itself: prompts select tracks, no detection runner is needed
    def __init__(self, name: str, weights: str, device: str, imgsz: int | None = None) -> None:
        ultralytics = import_ultralytics()
        self.name = name
        self.device = ultralytics_device(device)
        self.model = ultralytics.YOLO(weights, task="segment")
        self.model.to(self.device)
        self.vocabulary = [self.model.names[i] for i in sorted(self.model.names)]
        self.imgsz = imgsz
        self._lock = threading.Lock()  # ultralytics predictors keep per-call state

    def new_session(self, spec: SessionSpec) -> YoloSegSession:
        return YoloSegSession(self, keep_masks=spec.keep_masks, confidence_threshold=spec.confidence_threshold,
                              labels=spec.labels, lost_steps=lost_steps_for(spec.max_gap_frames, spec.decimation),
                              report_unprompted=spec.report_unprompted)

    def predict(self, frame: np.ndarray, confidence: float):
        extra = {"imgsz": self.imgsz} if self.imgsz else {}
        with self._lock:
            return self.model.predict(to_bgr([frame]), conf=confidence, device=self.device, retina_masks=True,
                                      half=self.device != "cpu", verbose=False, **extra)[0]

    def close(self) -> None:
        self.model = None


class YoloSegSession:
    def __init__(self, tracker: YoloSegTracker, *, keep_masks: bool, confidence_threshold: float,
                 labels: list[str] | None, lost_steps: int, report_unprompted: bool) -> None:
        from ultralytics.trackers.byte_tracker import BYTETracker
        from ultralytics.utils import IterableSimpleNamespace

        self.tracker = tracker
        self.keep_masks = keep_masks
        self.confidence_threshold = confidence_threshold
        self.class_ids = None if labels is None else {tracker.vocabulary.index(label) for label in labels}
        self.report_unprompted = report_unprompted
        high = max(confidence_threshold, LOW_SCORE)
        self.bytetrack: BYTETracker | None = BYTETracker(IterableSimpleNamespace(  # None once closed
            tracker_type="bytetrack", track_high_thresh=high, track_low_thresh=LOW_SCORE, new_track_thresh=high,
            track_buffer=max(1, lost_steps), match_thresh=0.8, fuse_score=True))
        self.alias: dict[int, int] = {}  # ByteTrack id -> the prompt's object id

    def step(self, frame: np.ndarray, new_objects: dict[int, list[float]] | None = None) -> dict[int, TrackedObject]:
        if self.bytetrack is None:
            raise RuntimeError("the tracking session is closed")
        result = self.tracker.predict(frame, LOW_SCORE)
        if self.class_ids is not None and len(result):
            keep = np.isin(result.boxes.cls.cpu().numpy().astype(int), list(self.class_ids))
            result = result[keep]
        rows = self.bytetrack.update(result.boxes.cpu().numpy())  # ByteTrack needs no pixels (no GMC, no ReID)
        masks = result.masks.data.cpu().numpy() > 0.5 if self.keep_masks and result.masks is not None else None
        found = {}
        for x0, y0, x1, y1, track_id, score, cls, idx in rows:
            # A low-score detection keeps its track alive (ByteTrack's second association) but is not reported:
            # it is mostly a half-hidden object with a box to match, and the gap is filled from confident boxes.
            confident = score >= self.confidence_threshold
            found[int(track_id)] = TrackedObject(
                box=[float(x0), float(y0), float(x1), float(y1)] if confident else None,
                mask=masks[int(idx)] if masks is not None and confident else None,
                score=float(score), present=bool(confident), label=self.tracker.vocabulary[int(cls)])
        if new_objects:
            self.alias.update(match_prompts(new_objects, found, taken=set(self.alias)))
        return {self.alias.get(track_id, -track_id): obj for track_id, obj in found.items()
                if track_id in self.alias or self.report_unprompted}

    def close(self) -> None:
        self.bytetrack = None


def match_prompts(prompts: dict[int, list[float]], found: dict[int, TrackedObject],
                  taken: set[int]) -> dict[int, int]:
    """track id -> prompt's object id: each prompt takes the untaken track it overlaps most (greedy by IoU, at least
    PROMPT_MATCH_IOU). A track kept alive by a low-score detection has no box on this frame, so nothing to match."""
    pairs = sorted(((box_iou(box, obj.box), object_id, track_id) for object_id, box in prompts.items()
                    for track_id, obj in found.items() if obj.box is not None), reverse=True)
    matched: dict[int, int] = {}
    used_prompts = set()
    for iou, object_id, track_id in pairs:
        if iou < PROMPT_MATCH_IOU or object_id in used_prompts or track_id in taken or track_id in matched:
            continue
        matched[track_id] = object_id
        used_prompts.add(object_id)
    return matched


def lost_steps_for(max_gap_frames: int, decimation: int) -> int:
    """ByteTrack keeps a lost track for this many processed frames: as long as the gap the response may fill."""
    return max(1, math.ceil(max_gap_frames / decimation))
