"""COCO instances (`coco`) and its video form after TAO (`coco-video`).

`coco`: one image per frame (`frame_000042.jpg`, id = frame number + 1, its `frame_index` alongside), one annotation
per box with `bbox` in pixels `[x, y, width, height]`, `area`, `iscrowd: 0`, the RLE `segmentation` where the result
has a mask, and `score` where the model saw the box (interpolated boxes have none). Tracks keep their id in
`attributes.track_id` (CVAT reads it). `coco-video` adds `videos` and `tracks`, and gives images their `video_id`
and `frame_index` and annotations their `track_id` and `video_id`: what TAO's and YouTube-VIS' tools read.

No library writes these (pycocotools reads them and encodes masks; supervision writes image datasets with files):
the layout is a few dictionaries. A mask's area comes from its runs, read and checked in annotations.py.
"""

from __future__ import annotations

import json
from typing import Any

from services.exports.annotations import Annotations, Box


def image_id(frame_number: int) -> int:
    return frame_number + 1  # COCO ids start at 1


def file_name(frame_number: int) -> str:
    return f"frame_{frame_number:06d}.jpg"  # how CVAT names a video task's frames


def coco(annotations: Annotations) -> bytes:
    return dump(instances(annotations, video=False))


def coco_video(annotations: Annotations) -> bytes:
    return dump(instances(annotations, video=True))


def instances(annotations: Annotations, *, video: bool) -> dict[str, Any]:
    width, height = annotations.video.width, annotations.video.height
    images = [{"id": image_id(n), "file_name": file_name(n), "width": width, "height": height, "frame_index": n}
              for n in annotations.frames]
    body: dict[str, Any] = {
        "info": {"description": f"{annotations.name}: {annotations.kind}", "version": "1.0"},
        "licenses": [],
        "images": images,
        "annotations": [annotation(i, box, annotations, video) for i, box in enumerate(annotations.boxes, start=1)],
        "categories": [{"id": i, "name": label, "supercategory": ""}
                       for i, label in enumerate(annotations.labels, start=1)],
    }
    if video:
        body["videos"] = [{"id": 1, "name": annotations.name, "width": width, "height": height,
                           "fps": annotations.video.fps, "length": annotations.video.frame_count}]
        for image in images:
            image["video_id"] = 1
        body["tracks"] = [{"id": track_id, "category_id": annotations.category_id(boxes[0].label), "video_id": 1}
                          for track_id, boxes in annotations.tracks.items()]
    return body


def annotation(number: int, box: Box, annotations: Annotations, video: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": number, "image_id": image_id(box.frame_number),
                            "category_id": annotations.category_id(box.label), "bbox": box.xywh,
                            "area": round(box.width * box.height, 2), "iscrowd": 0}
    if box.mask is not None:
        item["segmentation"] = {"size": box.mask["size"], "counts": box.mask["counts"]}
        item["area"] = float(box.mask_area or 0)
    if box.score is not None:
        item["score"] = box.score
    if box.track_id is not None:
        if video:
            item["track_id"], item["video_id"] = box.track_id, 1
        else:
            item["attributes"] = {"track_id": box.track_id, "keyframe": not box.interpolated}
    return item


def dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
