"""One view of a detect or track result for every export format: boxes clipped to the frame, labels numbered once.

A format writer reads `Annotations` and never the response models, so each writer is only its file layout:
categories are numbered 1, 2, … in order of first appearance (frames in order, then objects in order), boxes are
clipped to the frame (those left empty are dropped), and a box the model did not see (`interpolated`, confidence
`None`) keeps `score = None` for the writer to express as its format's "no score".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from runners.core.errors import BadRequest
from runners.core.geometry import rle_runs
from services.schemas import DetectResponse, ExportVideo, RLEMask, TrackResponse

MIN_BOX_PIXELS = 1.0


@dataclass(frozen=True)
class Box:
    frame_number: int
    label: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float | None  # None: the model did not see it there (an interpolated box)
    mask: dict[str, Any] | None = None  # COCO RLE {"size": [h, w], "counts": str}
    track_id: int | None = None
    interpolated: bool = False
    mask_area: int | None = None  # the mask's pixels

    @property
    def width(self) -> float:
        return round(self.x1 - self.x0, 2)

    @property
    def height(self) -> float:
        return round(self.y1 - self.y0, 2)

    @property
    def xywh(self) -> list[float]:
        return [round(self.x0, 2), round(self.y0, 2), self.width, self.height]


@dataclass
class Annotations:
    kind: Literal["detections", "tracks"]
    video: ExportVideo
    name: str
    model: str  # the model that made the result
    frames: list[int]  # the frames the file lists, in order: a detect result's frames, the frames with tracks
    boxes: list[Box]  # a detect result's in its order, a track result's by frame
    labels: list[str] = field(default_factory=list)  # category i + 1 is labels[i]
    tracks: dict[int, list[Box]] = field(default_factory=dict)  # track id -> its boxes in frame order
    categories: dict[str, int] = field(default_factory=dict)  # label -> category id

    def category_id(self, label: str) -> int:
        return self.categories[label]


def from_result(result: DetectResponse | TrackResponse, video: ExportVideo) -> Annotations:
    if isinstance(result, DetectResponse):
        return from_detections(result, video)
    return from_tracks(result, video)


def from_detections(result: DetectResponse, video: ExportVideo) -> Annotations:
    for i, frame in enumerate(result.detections):
        check_frame(video, frame.frame_number, f"result.detections[{i}].frame_number")
    boxes = [box for frame in result.detections for obj in frame.objects
             if (box := clipped(video, frame.frame_number, obj.label, obj.bbox, obj.confidence)) is not None]
    frames = list(dict.fromkeys(frame.frame_number for frame in result.detections))
    return finished(Annotations("detections", video, video.name or "video", result.model_used, sorted(frames), boxes))


def from_tracks(result: TrackResponse, video: ExportVideo) -> Annotations:
    tracks: dict[int, list[Box]] = {}
    seen: set[int] = set()
    for i, track in enumerate(result.tracks):
        if track.track_id in seen:
            raise BadRequest(f"result.tracks[{i}].track_id {track.track_id} is already another track's",
                             field=f"result.tracks[{i}].track_id")
        seen.add(track.track_id)
        for j, b in enumerate(track.boxes):
            where = f"result.tracks[{i}].boxes[{j}]"
            check_frame(video, b.frame_number, f"{where}.frame_number")
        kept = [box for j, b in enumerate(track.boxes)
                if (box := clipped(video, b.frame_number, track.label, b.bbox, b.confidence,
                                   mask=b.mask.model_dump() if b.mask else None, track_id=track.track_id,
                                   interpolated=b.interpolated,
                                   mask_area=mask_area(b.mask, video, f"result.tracks[{i}].boxes[{j}].mask")))
                is not None]
        if kept:
            tracks[track.track_id] = kept
    boxes = sorted((box for kept in tracks.values() for box in kept), key=lambda b: (b.frame_number, b.track_id))
    frames = sorted({box.frame_number for box in boxes})  # a frame without boxes tells a track file nothing
    return finished(Annotations("tracks", video, video.name or "video", result.model_used, frames, boxes,
                                tracks=tracks))


def mask_area(mask: RLEMask | None, video: ExportVideo, field: str) -> int | None:
    """The pixels of a mask the result carries, checked to be a COCO RLE of the video's size (400 otherwise)."""
    if mask is None:
        return None
    if mask.size != [video.height, video.width]:
        raise BadRequest(f"{field}.size {mask.size} is not the video's [height, width] [{video.height}, "
                         f"{video.width}]", field=f"{field}.size")
    try:
        return sum(rle_runs(mask.counts, video.height, video.width)[1::2])
    except ValueError as exc:
        raise BadRequest(f"{field}.counts is not a COCO RLE of the video's size: {exc}", field=f"{field}.counts") \
            from None


def check_frame(video: ExportVideo, frame_number: int, field: str) -> None:
    if not 0 <= frame_number < video.frame_count:
        raise BadRequest(f"{field} {frame_number} is outside the video's frames 0..{video.frame_count - 1}",
                         field=field)


def finished(annotations: Annotations) -> Annotations:
    annotations.labels = list(dict.fromkeys(box.label for box in annotations.boxes))
    annotations.categories = {label: i for i, label in enumerate(annotations.labels, start=1)}
    return annotations


def clipped(video: ExportVideo, frame_number: int, label: str, bbox, score: float | None, *,
            mask: dict[str, Any] | None = None, track_id: int | None = None, interpolated: bool = False,
            mask_area: int | None = None) -> Box | None:
    x0, y0 = min(max(bbox.x, 0.0), video.width), min(max(bbox.y, 0.0), video.height)
    x1, y1 = min(bbox.x + bbox.width, video.width), min(bbox.y + bbox.height, video.height)
    if x1 - x0 < MIN_BOX_PIXELS or y1 - y0 < MIN_BOX_PIXELS:
        return None
    return Box(frame_number, label, x0, y0, x1, y1, score, mask, track_id, interpolated, mask_area)
