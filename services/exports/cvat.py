"""CVAT for video 1.1 XML (`cvat`): what CVAT's "Upload annotations" takes for a video task.

A `<track>` per object with a `<box>` per frame it has a box on: the boxes the model saw are keyframes, interpolated
ones are not (CVAT interpolates between keyframes itself), and a closing `outside="1"` keyframe on the frame after
the track's last box ends it. A detect result's boxes are shapes on their frame, written as CVAT writes shapes in
this format: a track of one keyframe, closed on the next frame. Pixels with two decimals, flags 0/1.

CVAT writes this file from its own database; no library outside CVAT's server writes it (datumaro, which CVAT uses,
writes it from a datumaro dataset and checks it in the tests), so it is written here with the standard library.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from services.exports.annotations import Annotations, Box


def cvat(annotations: Annotations) -> bytes:
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    root.append(meta(annotations))
    if annotations.kind == "tracks":
        spans = [(track_id, boxes) for track_id, boxes in annotations.tracks.items()]
    else:
        spans = [(i, [box]) for i, box in enumerate(annotations.boxes)]
    last_frame = annotations.video.frame_count - 1
    for number, (_, boxes) in enumerate(spans):
        track = ET.SubElement(root, "track", id=str(number), label=boxes[0].label, source="auto")
        for box in boxes:
            track.append(box_element(box, keyframe=not box.interpolated, outside=False))
        if boxes[-1].frame_number < last_frame:  # ends here; a track running to the video's end needs no close
            track.append(box_element(boxes[-1], keyframe=True, outside=True, frame=boxes[-1].frame_number + 1))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def meta(annotations: Annotations) -> ET.Element:
    video = annotations.video
    element = ET.Element("meta")
    task = ET.SubElement(element, "task")
    for tag, value in (("name", annotations.name), ("size", str(video.frame_count)), ("mode", "interpolation"),
                       ("start_frame", "0"), ("stop_frame", str(video.frame_count - 1))):
        ET.SubElement(task, tag).text = value
    labels = ET.SubElement(task, "labels")
    for name in annotations.labels:
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = name
        ET.SubElement(label, "type").text = "rectangle"
        ET.SubElement(label, "attributes")
    size = ET.SubElement(task, "original_size")
    ET.SubElement(size, "width").text = str(video.width)
    ET.SubElement(size, "height").text = str(video.height)
    return element


def box_element(box: Box, *, keyframe: bool, outside: bool, frame: int | None = None) -> ET.Element:
    return ET.Element("box", {
        "frame": str(box.frame_number if frame is None else frame), "keyframe": str(int(keyframe)),
        "outside": str(int(outside)), "occluded": "0", "xtl": f"{box.x0:.2f}", "ytl": f"{box.y0:.2f}",
        "xbr": f"{box.x1:.2f}", "ybr": f"{box.y1:.2f}", "z_order": "0"})
