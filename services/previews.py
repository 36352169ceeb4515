"""Pictures of a result, to see at a glance whether a track is right: an H.264 MP4 of its frames, or a PNG contact
sheet of chosen frames.

Drawn with supervision's annotators on the source frames: a track's box, `#id label` and mask in one colour per
track (a detection's in one colour per label); a box the model did not see (`interpolated`) is drawn by its corners
only and labelled so. Frames are drawn at their own size, then scaled so that the longer side is at most
`max_side`; the MP4 (PyAV, libx264, yuv420p) plays at the video's frame rate divided by the result's frame step.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import anyio
import numpy as np

from runners.core.errors import BadRequest
from runners.core.video import VideoFile
from services.exports import Exported, video_of
from services.exports.annotations import Annotations, Box, from_result
from services.schemas import DetectResponse, TrackResponse
from services.tasks import Tasks

MAX_RENDER_FRAMES = 3000  # one request's MP4; longer results are previewed a range of frame_numbers at a time
DEFAULT_SHEET_FRAMES = 16
MASK_OPACITY = 0.4


def render_frames(annotations: Annotations, frame_numbers: list[int] | None, step: int) -> list[int]:
    """The frames a preview shows: those asked for, else the result's own (a track result's every `step`-th frame
    from its first box to its last, so that the video does not flicker between processed frames)."""
    if frame_numbers is not None:
        return sorted(set(frame_numbers))
    if annotations.kind == "detections" or not annotations.frames:
        return list(annotations.frames)
    first, last = annotations.frames[0], annotations.frames[-1]
    return sorted(set(range(first, last + 1, max(step, 1))) | set(annotations.frames))


def sheet_frames(frames: list[int], count: int = DEFAULT_SHEET_FRAMES) -> list[int]:
    """At most `count` of `frames`, evenly spread, first and last included."""
    if len(frames) <= count:
        return frames
    return [frames[round(i * (len(frames) - 1) / (count - 1))] for i in range(count)]


def draw(frame: np.ndarray, boxes: list[Box], annotations: Annotations) -> np.ndarray:
    """One RGB frame with its boxes drawn on it (BGR out, as supervision and OpenCV draw)."""
    import supervision as sv
    from pycocotools import mask as mask_utils

    image = np.ascontiguousarray(frame[..., ::-1])
    if not boxes:
        return image
    tracks = annotations.kind == "tracks"
    lookup = sv.ColorLookup.TRACK if tracks else sv.ColorLookup.CLASS
    for interpolated in (False, True):
        chosen = [b for b in boxes if b.interpolated == interpolated]
        if not chosen:
            continue
        masks = None
        if tracks and any(b.mask is not None for b in chosen):  # masks were checked when the result was read
            masks = np.stack([mask_utils.decode({"size": b.mask["size"], "counts": b.mask["counts"].encode()})
                              .astype(bool) if b.mask is not None else np.zeros(image.shape[:2], dtype=bool)
                              for b in chosen])
        detections = sv.Detections(
            xyxy=np.array([[b.x0, b.y0, b.x1, b.y1] for b in chosen], dtype=np.float32), mask=masks,
            class_id=np.array([annotations.category_id(b.label) for b in chosen]),
            tracker_id=np.array([b.track_id or 0 for b in chosen]) if tracks else None,
            confidence=np.array([b.score if b.score is not None else 0.0 for b in chosen]))
        thickness = max(2, round(max(image.shape[:2]) / 400))
        if masks is not None:
            image = sv.MaskAnnotator(opacity=MASK_OPACITY, color_lookup=lookup).annotate(image, detections)
        outline = (sv.BoxCornerAnnotator(thickness=thickness, corner_length=max(8, thickness * 5),
                                         color_lookup=lookup) if interpolated
                   else sv.BoxAnnotator(thickness=thickness, color_lookup=lookup))
        image = outline.annotate(image, detections)
        labels = [label_of(b, tracks) for b in chosen]
        image = sv.LabelAnnotator(color_lookup=lookup, text_scale=max(0.4, thickness / 4), text_padding=3,
                                  text_thickness=1).annotate(image, detections, labels=labels)
    return image


def label_of(box: Box, tracks: bool) -> str:
    name = f"#{box.track_id} {box.label}" if tracks else box.label
    if box.interpolated:
        return f"{name} (interpolated)"
    return name if box.score is None else f"{name} {box.score:.2f}"


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """At most `max_side` on the longer side, even on both (yuv420p needs it)."""
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def drawn_frames(video: VideoFile, annotations: Annotations, frames: list[int],
                 size: tuple[int, int]) -> Iterable[tuple[int, np.ndarray]]:
    import cv2

    by_frame: dict[int, list[Box]] = {}
    for box in annotations.boxes:
        by_frame.setdefault(box.frame_number, []).append(box)
    for number, frame in video.iter_frames(frames):
        image = draw(frame, by_frame.get(number, []), annotations)
        if (image.shape[1], image.shape[0]) != size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        yield number, image


def render_mp4(video: VideoFile, annotations: Annotations, frames: list[int], fps: float, max_side: int) -> bytes:
    size = scaled_size(video.info.width, video.info.height, max_side)
    with tempfile.TemporaryDirectory(prefix="preview-") as folder:  # faststart rewrites the file: not in memory
        path = Path(folder) / "preview.mp4"
        encode_mp4(path, drawn_frames(video, annotations, frames, size), size, fps)
        return path.read_bytes()


def encode_mp4(path: Path, images: Iterable[tuple[int, np.ndarray]], size: tuple[int, int], fps: float) -> None:
    """H.264 in MP4, its index first (`+faststart`) so that a browser plays it while it loads."""
    import av

    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for _, image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def render_png(video: VideoFile, annotations: Annotations, frames: list[int], max_side: int) -> bytes:
    """A contact sheet: the frames in a grid, each at most `max_side` on its longer side, its number in a corner."""
    import cv2

    width, height = scaled_size(video.info.width, video.info.height, max_side)
    columns = math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / columns)
    sheet = np.full((rows * height, columns * width, 3), 255, dtype=np.uint8)
    for i, (number, image) in enumerate(drawn_frames(video, annotations, frames, (width, height))):
        row, column = divmod(i, columns)
        cv2.putText(image, f"frame {number}", (6, height - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 2)
        cv2.putText(image, f"frame {number}", (6, height - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
        sheet[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    ok, encoded = cv2.imencode(".png", sheet)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes()


async def preview(tasks: Tasks, result: DetectResponse | TrackResponse, video_path: str | None,
                  video_id: str | None, format: str = "mp4", frame_numbers: list[int] | None = None,
                  max_side: int = 960) -> Exported:
    """The preview of `result` over the video it is about (the media policy applies as on the task routes)."""
    path, info = await tasks.probe(video_path, video_id)
    annotations = from_result(result, video_of(path, info))
    step = result.decimation_factor if isinstance(result, TrackResponse) else 1
    frames = render_frames(annotations, frame_numbers, step)
    if frame_numbers is not None:
        info.check_frames(frames)
    if not frames:
        raise BadRequest("the result has no frames to show: give frame_numbers", field="frame_numbers")
    video = await anyio.to_thread.run_sync(tasks.videos.open, path)
    stem = f"{Path(path).stem}-{annotations.kind}"
    if format == "png":
        shown = sheet_frames(frames) if frame_numbers is None else frames
        body = await anyio.to_thread.run_sync(render_png, video, annotations, shown, max_side)
        return Exported(body, "image/png", f"{stem}.png")
    if len(frames) > MAX_RENDER_FRAMES:
        raise BadRequest(f"the preview would have {len(frames)} frames, more than one MP4 renders "
                         f"({MAX_RENDER_FRAMES}): give frame_numbers, a range at a time", field="frame_numbers",
                         frames=len(frames), limit=MAX_RENDER_FRAMES)
    fps = info.fps / step if frame_numbers is None else info.fps
    body = await anyio.to_thread.run_sync(render_mp4, video, annotations, frames, fps, max_side)
    return Exported(body, "video/mp4", f"{stem}.mp4")
