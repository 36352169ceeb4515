"""Frame access: decord batch decoding of sampled frames, PyAV where decord cannot open a file.

`get_frames` decodes the sorted unique indices in one `get_batch` (one seek per keyframe run instead of one per
frame) and gives the frames back in the order asked, duplicates included. Frames are RGB `uint8` arrays (H, W, 3).
Timestamps come from the file's own frame rate.

Every file is first opened by PyAV with a container whitelist (`CONTAINERS`) and `file` as the only protocol, before
any other decoder sees it: a file inside a media root that is really a playlist (HLS, ffconcat, SDP …) would otherwise
make ffmpeg open other files — outside the roots — or URLs. The same probe reads the display rotation: a rotated
video (phones) is decoded by PyAV and turned upright (decord returns broken frames for it), and its width and height
are those of the upright picture.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runners.core.errors import BadRequest, NotFound, UndecodableVideo

# ffmpeg demuxers a video may be read with (the names ffmpeg gives them): real containers only. Playlists and other
# indirections — hls, concat, sdp, image sequences, devices — are refused before they open anything.
CONTAINERS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "mpegts", "mpeg", "flv", "asf", "ogg")
AV_OPTIONS = {"format_whitelist": ",".join(CONTAINERS), "protocol_whitelist": "file"}
READABLE = "MP4/MOV, MKV/WebM, AVI, MPEG-TS, FLV, WMV or OGG"
_ADVICE = f"check that the file is a complete video ({READABLE}), or re-encode it (H.264 in MP4 is safest)"


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int

    def timestamp(self, frame_number: int) -> float:
        return round(frame_number / self.fps, 6) if self.fps > 0 else 0.0

    def check_frames(self, frame_numbers: Sequence[int], field: str = "frame_numbers") -> None:
        """Frame numbers outside the video are the caller's mistake: 400 naming the valid range."""
        bad = sorted({n for n in frame_numbers if n < 0 or n >= self.frame_count})
        if bad:
            shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
            raise BadRequest(
                f"{field} outside the video: {shown}; valid frames are 0..{self.frame_count - 1}",
                field=field, valid_range=[0, self.frame_count - 1], invalid=bad[:100],
            )


class VideoFile:
    """One open video. Thread-safe: decoders keep seek state, so calls are serialized per file."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._decord: Any | None = None  # a decord.VideoReader when decord can read the file
        self.rotation = _probe(self.path)  # refuses what is not a video container before any decoder reads it
        info = None
        if self.rotation == 0:  # decord does not turn rotated videos upright (its frames come out broken)
            try:
                self._decord = _open_decord(self.path)
                info = _decord_info(self._decord)
            except Exception:  # decord refuses some containers and codecs: PyAV reads what ffmpeg reads
                self._decord = None
        if info is None:
            info = _pyav_info(self.path, self.rotation)
        if info.frame_count <= 0 or info.width <= 0 or info.height <= 0:
            raise UndecodableVideo(f"{Path(self.path).name} has no decodable video frames; {_ADVICE}",
                                   field="video_path")
        self.info = info

    def get_frames(self, frame_numbers: Sequence[int]) -> list[np.ndarray]:
        self.info.check_frames(frame_numbers)
        unique = sorted(set(frame_numbers))
        with self._lock:
            try:
                reader = self._decord
                decoded = (_decode_decord(reader, unique) if reader is not None
                           else _decode_pyav(self.path, unique, self.rotation))
            except UndecodableVideo:
                raise
            except Exception as exc:
                raise UndecodableVideo(
                    f"{Path(self.path).name} could not be decoded at frames {unique[0]}..{unique[-1]} "
                    f"({_reason(exc)}); {_ADVICE}", field="video_path",
                ) from None
        by_index = dict(zip(unique, decoded))
        return [by_index[n] for n in frame_numbers]

    def iter_frames(self, frame_numbers: Sequence[int], chunk: int = 16) -> Iterator[tuple[int, np.ndarray]]:
        """(frame number, frame) for increasing frame numbers, decoded a chunk at a time: a tracker streams a long
        range without holding it in memory, and other requests reach the decoder between chunks."""
        numbers = sorted(set(frame_numbers))
        self.info.check_frames(numbers[:1] + numbers[-1:])
        if self._decord is None:
            yield from _stream_pyav(self.path, numbers, self.rotation)
            return
        for i in range(0, len(numbers), chunk):
            part = numbers[i:i + chunk]
            yield from zip(part, self.get_frames(part))


def _open_decord(path: str):
    import decord

    return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)


def _decode_decord(reader: Any, indices: list[int]) -> list[np.ndarray]:
    batch = reader.get_batch(indices).asnumpy()
    return list(batch)


def _decord_info(reader) -> VideoInfo:
    height, width = reader[0].shape[:2] if len(reader) else (0, 0)
    return VideoInfo(width=int(width), height=int(height), fps=float(reader.get_avg_fps()), frame_count=len(reader))


def _reason(exc: Exception) -> str:
    """ffmpeg's words without the file's full path (the client named the file; the resolved path is ours)."""
    import errno

    if getattr(exc, "errno", None) == errno.EINVAL:  # what a container off the whitelist gives
        return "not a video container this service reads"
    text = str(getattr(exc, "strerror", None) or exc or type(exc).__name__)
    return text.splitlines()[0][:200]


def _open_pyav(path: str):
    """PyAV's only way in: whitelisted containers, the file protocol only."""
    import av

    return av.open(path, options=AV_OPTIONS)


def _probe(path: str) -> int:
    """Open the file as a video container and decode its first frame: refuses playlists, devices, non-video files
    and videos without a decodable frame (422); returns the display rotation (0, 90, 180 or 270 degrees
    counterclockwise, as ffmpeg reports it)."""
    name = Path(path).name
    try:
        with _open_pyav(path) as container:
            if not container.streams.video:
                raise UndecodableVideo(f"{name} has no video stream; {_ADVICE}", field="video_path")
            first = next(container.decode(container.streams.video[0]), None)
            if first is None:
                raise UndecodableVideo(f"{name} has no decodable video frames; {_ADVICE}", field="video_path")
            return int(round((first.rotation or 0) / 90)) * 90 % 360
    except UndecodableVideo:
        raise
    except Exception as exc:
        raise UndecodableVideo(f"{name} is not a readable video ({_reason(exc)}); {_ADVICE}",
                               field="video_path") from None


def _upright(frame, rotation: int) -> np.ndarray:
    """An RGB array of the decoded frame, turned as the file's display matrix says."""
    image = frame.to_ndarray(format="rgb24")
    if rotation:  # the display matrix turns the frame `rotation` degrees counterclockwise (ffmpeg's autorotate)
        image = np.ascontiguousarray(np.rot90(image, k=rotation // 90))
    return image


def _pyav_info(path: str, rotation: int = 0) -> VideoInfo:
    try:
        with _open_pyav(path) as container:
            if not container.streams.video:
                raise UndecodableVideo(f"{Path(path).name} has no video stream; {_ADVICE}", field="video_path")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            count = stream.frames
            if not count:  # some containers do not store a frame count: count packets, do not decode
                count = sum(1 for packet in container.demux(stream) if packet.size)
            width, height = (stream.height, stream.width) if rotation in (90, 270) else (stream.width, stream.height)
            return VideoInfo(width=width, height=height, fps=fps, frame_count=int(count))
    except UndecodableVideo:
        raise
    except Exception as exc:
        raise UndecodableVideo(f"{Path(path).name} is not a readable video ({_reason(exc)}); {_ADVICE}",
                               field="video_path") from None


def _decode_pyav(path: str, indices: list[int], rotation: int = 0) -> list[np.ndarray]:
    """Sequential decode up to the last wanted frame: exact frame numbers without trusting timestamps."""
    wanted, frames = set(indices), {}
    with _open_pyav(path) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if number in wanted:
                frames[number] = _upright(frame, rotation)
            if number >= indices[-1]:
                break
    missing = [i for i in indices if i not in frames]
    if missing:
        raise UndecodableVideo(f"{Path(path).name} ends before frame {missing[0]} (truncated?); {_ADVICE}",
                               field="video_path")
    return [frames[i] for i in indices]


def _stream_pyav(path: str, numbers: list[int], rotation: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """One sequential pass that yields the wanted frames as they are decoded (its own container: no shared state)."""
    import av

    wanted, last = set(numbers), numbers[-1]
    try:
        with _open_pyav(path) as container:
            for number, frame in enumerate(container.decode(video=0)):
                if number in wanted:
                    yield number, _upright(frame, rotation)
                if number >= last:
                    return
    except av.FFmpegError as exc:
        raise UndecodableVideo(f"{Path(path).name} could not be decoded ({_reason(exc)}); {_ADVICE}",
                               field="video_path") from None
    raise UndecodableVideo(f"{Path(path).name} ends before frame {last} (truncated?); {_ADVICE}", field="video_path")


class VideoCache:
    """A few recently used open videos, keyed by path and modification, so repeated requests skip the open."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._videos: collections.OrderedDict[tuple, VideoFile] = collections.OrderedDict()
        self._lock = threading.Lock()

    def open(self, path: str | os.PathLike) -> VideoFile:
        try:
            stat = os.stat(path)
        except FileNotFoundError:  # gone since the media policy resolved it
            raise NotFound(f"video not found: {Path(path).name}", field="video_path") from None
        except OSError as exc:
            raise UndecodableVideo(f"{Path(path).name} cannot be read ({exc.strerror})", field="video_path") from None
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            video = self._videos.get(key)
            if video is not None:
                self._videos.move_to_end(key)
                return video
        video = VideoFile(path)  # open outside the lock: other videos need not wait
        with self._lock:
            self._videos[key] = video
            while len(self._videos) > self.capacity:
                self._videos.popitem(last=False)
        return video
