"""Label Studio predictions for a video task (`labelstudio`): one task whose `predictions` hold a `videorectangle`
region per track.

A region's `sequence` has an item per box the model saw (Label Studio interpolates between keyframes itself, so
interpolated boxes are left out): `frame` 1-based, `x`/`y`/`width`/`height` in percent of the frame, `time` in
seconds, `enabled: false` on the last one so the box ends there instead of running to the video's end. A detect
result's boxes are one-frame regions. The labeling config that reads it (`<Video name="video">`,
`<VideoRectangle name="box" toName="video">`, `<Labels name="label" toName="video">`) is in README.md.

label-studio-sdk parses labeling configs and checks predictions against them (the tests use it), but its converter
writes image formats, not video: the layout is written here.
"""

from __future__ import annotations

import json
from typing import Any

from services.exports.annotations import Annotations, Box

FROM_NAME, TO_NAME, LABELS_NAME = "box", "video", "label"


def labelstudio(annotations: Annotations) -> bytes:
    spans = (list(annotations.tracks.values()) if annotations.kind == "tracks"
             else [[box] for box in annotations.boxes])
    regions = [region(i, boxes, annotations) for i, boxes in enumerate(spans, start=1)]
    regions = [r for r in regions if r is not None]
    scores = [box.score for box in annotations.boxes if box.score is not None]
    prediction: dict[str, Any] = {"model_version": annotations.model, "result": regions}
    if scores:
        prediction["score"] = round(sum(scores) / len(scores), 4)
    task = {"data": {"video": annotations.name}, "predictions": [prediction]}
    return json.dumps([task], separators=(",", ":")).encode()


def region(number: int, boxes: list[Box], annotations: Annotations) -> dict[str, Any] | None:
    seen = [box for box in boxes if not box.interpolated]
    if not seen:
        return None
    video = annotations.video
    sequence = [{"frame": box.frame_number + 1, "enabled": True, "rotation": 0,
                 "x": percent(box.x0, video.width), "y": percent(box.y0, video.height),
                 "width": percent(box.x1 - box.x0, video.width), "height": percent(box.y1 - box.y0, video.height),
                 "time": round(box.frame_number / video.fps, 4)} for box in seen]
    sequence[-1]["enabled"] = False  # the box ends on its last frame
    scores = [box.score for box in seen if box.score is not None]
    item: dict[str, Any] = {
        "id": f"{'track' if annotations.kind == 'tracks' else 'box'}-{number}", "type": "videorectangle",
        "from_name": FROM_NAME, "to_name": TO_NAME, "origin": "prediction",
        "value": {"framesCount": video.frame_count, "duration": round(video.frame_count / video.fps, 4),
                  "sequence": sequence, "labels": [boxes[0].label]}}
    if scores:
        item["score"] = round(sum(scores) / len(scores), 4)
    return item


def percent(pixels: float, size: int) -> float:
    return round(100.0 * pixels / size, 4)
