"""Results in the files annotation tools import: `export(name, result, video)` -> the file's bytes and type.

Every format reads the same `Annotations` view of a detect or track result (annotations.py); the table below says
which results each takes, and its content type. `POST /api/export` and `GET /api/jobs/{id}/result?format=` both
answer through `export`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from runners.core.errors import BadRequest
from runners.core.video import VideoInfo
from services.exports.annotations import Annotations, from_result
from services.exports.coco import coco, coco_video
from services.exports.cvat import cvat
from services.exports.labelstudio import labelstudio
from services.exports.mot import mot
from services.schemas import DetectResponse, ExportVideo, TrackResponse


@dataclass(frozen=True)
class Format:
    write: Callable[[Annotations], bytes]
    content_type: str
    extension: str
    takes: tuple[str, ...]  # "detections", "tracks"


FORMATS: dict[str, Format] = {
    "coco": Format(coco, "application/json", "json", ("detections", "tracks")),
    "coco-video": Format(coco_video, "application/json", "json", ("tracks",)),
    "mot": Format(mot, "text/csv", "txt", ("tracks",)),
    "cvat": Format(cvat, "application/xml", "xml", ("detections", "tracks")),
    "labelstudio": Format(labelstudio, "application/json", "json", ("detections", "tracks")),
}


@dataclass(frozen=True)
class Exported:
    body: bytes
    content_type: str
    filename: str

    @property
    def content_disposition(self) -> str:
        """`attachment` with the file's name (RFC 6266): an ASCII stand-in, and the name itself in UTF-8. A video's
        name is the caller's text: no quote, backslash, control character or line break reaches the header."""
        fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in self.filename)
        encoded = quote(self.filename.encode("utf-8", "replace"), safe="")  # a lone surrogate becomes '?'
        return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def check_format(name: str, kind: str | None = None) -> Format:
    """The format called `name`; a 400 naming the formats, or the formats that take a `kind` result."""
    chosen = FORMATS.get(name)
    if chosen is None:
        raise BadRequest(f"unknown format {name!r}; the formats are: {', '.join(FORMATS)}", field="format",
                         formats=list(FORMATS))
    if kind is not None and kind not in chosen.takes:
        fitting = [n for n, f in FORMATS.items() if kind in f.takes]
        raise BadRequest(f"{name} does not take {kind}; {kind} export as: {', '.join(fitting)}", field="format",
                         formats=fitting)
    return chosen


def video_of(path: str | Path, info: VideoInfo) -> ExportVideo:
    """The video a result is about, as the formats record it: its size, timing and file name."""
    return ExportVideo(width=info.width, height=info.height, fps=info.fps, frame_count=info.frame_count,
                       name=Path(path).name)


def export(name: str, result: DetectResponse | TrackResponse, video: ExportVideo) -> Exported:
    annotations = from_result(result, video)
    chosen = check_format(name, annotations.kind)
    stem = f"{annotations.name.rsplit('/', 1)[-1].rsplit('.', 1)[0] or 'video'}-{annotations.kind}-{name}"
    return Exported(chosen.write(annotations), chosen.content_type, f"{stem}.{chosen.extension}")
