"""MOT Challenge text (`mot`): `frame,id,bb_left,bb_top,bb_width,bb_height,conf,-1,-1,-1`, one line per box.

Frames are 1-based (frame number + 1) and so are pixels, as in the benchmark's files (the top-left pixel is (1, 1):
`bb_left` is x + 1; motmetrics subtracts the 1 again when it reads them); ids are the track ids; `conf` is the
model's confidence, and `-1` for an interpolated box (MOT's "no score"). Lines are ordered by frame, then id, as
the benchmark's files are. A plain CSV line per box: no library is needed to write it (motmetrics reads it).
"""

from __future__ import annotations

from services.exports.annotations import Annotations


def mot(annotations: Annotations) -> bytes:
    lines = []
    for box in annotations.boxes:
        x, y, width, height = box.xywh
        conf = "-1" if box.score is None else f"{box.score:.4f}"
        lines.append(f"{box.frame_number + 1},{box.track_id},{x + 1:.2f},{y + 1:.2f},{width:.2f},{height:.2f},{conf},"
                     "-1,-1,-1")
    return ("\n".join(lines) + "\n").encode() if lines else b""
