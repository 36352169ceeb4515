"""The media policy: which video references a request may name, resolved before anything opens a file.

- `video_path` must resolve (after `realpath`, so symlinks are followed) inside one of the media roots;
- `video_id` is a plain name looked up as `<root>/<id>.<ext>` for the configured extensions;
- URLs, `file:` and ffmpeg protocol strings (`concat:`, `rtsp:`, `pipe:` …) are refused, never opened.

The root check comes before the existence check so that a request cannot probe for files outside the roots.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

from runners.errors import BadRequest, Forbidden, NotFound, UndecodableVideo

# "scheme:" at the start — URLs and every ffmpeg protocol; a Windows drive letter is not a concern on Linux servers.
_PROTOCOL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
VIDEO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$")


class MediaPolicy:
    def __init__(self, roots: Sequence[Path], extensions: Sequence[str]) -> None:
        self.roots = [Path(os.path.realpath(r)) for r in roots]
        self.extensions = [e.lower().lstrip(".") for e in extensions]

    def resolve(self, video_path: str | None = None, video_id: str | None = None) -> Path:
        if video_path:
            return self.resolve_path(video_path)
        if video_id:
            return self.resolve_id(video_id)
        raise BadRequest("give video_path or video_id", field="video_path")

    def resolve_path(self, video_path: str) -> Path:
        if "\x00" in video_path:
            raise BadRequest("video_path contains a NUL character", field="video_path")
        if _PROTOCOL.match(video_path):
            raise Forbidden(
                "video_path must be a file path inside the media roots; URLs and protocol strings are not opened",
                field="video_path",
            )
        real = Path(os.path.realpath(video_path))
        if not any(_inside(real, root) for root in self.roots):
            raise Forbidden(
                "video_path is outside the media roots; put the video under one of them (or set MEDIA_ROOTS)",
                field="video_path", media_roots=[str(r) for r in self.roots],
            )
        return self._existing_file(real, video_path)

    def resolve_id(self, video_id: str) -> Path:
        if len(video_id) > 200 or not VIDEO_ID.match(video_id):
            raise BadRequest("video_id may contain only letters, digits, '.', '_' and '-'", field="video_id")
        for root in self.roots:
            for ext in self.extensions:
                candidate = Path(os.path.realpath(root / f"{video_id}.{ext}"))
                if _inside(candidate, root) and candidate.exists():
                    return self._existing_file(candidate, video_id)
        raise NotFound(
            f"no video with id {video_id!r} in the media roots (looked for {', '.join(self.extensions)})",
            field="video_id",
        )

    @staticmethod
    def _existing_file(real: Path, given: str) -> Path:
        if not real.exists():
            raise NotFound(f"video not found: {given}", field="video_path")
        if not real.is_file():
            raise UndecodableVideo(f"{given} is not a regular file", field="video_path")
        if real.stat().st_size == 0:
            raise UndecodableVideo(f"{given} is empty", field="video_path")
        return real


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
