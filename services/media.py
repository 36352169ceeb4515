"""The media policy: which video references a request may name, resolved before anything opens a file.

- `video_path` must resolve (after `realpath`, so symlinks are followed) inside one of the media roots;
- `video_id` is a plain name looked up as `<root>/<id>.<ext>` for the configured extensions;
- URLs, `file:` and ffmpeg protocol strings (`concat:`, `rtsp:`, `pipe:` …) are refused, never opened;
- what resolves inside a root must be a regular, non-empty file: directories, FIFOs, sockets and device nodes are
  refused (422) without being opened (a FIFO would block a decoder, a device would feed it forever).

A hard link inside a root IS a file inside the root (it is the same inode, wherever else it is linked from): only
someone who can write to the root can make one, the same people who could copy the file there. Symlinks are judged by
their target. The root check comes before the existence check so that a request cannot probe for files outside the
roots. The file's content is checked next, by `runners.core.video` (only real video containers are opened).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from runners.core.errors import BadRequest, Forbidden, NotFound, UndecodableVideo

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
            hint = "" if os.path.isabs(video_path) else " (a relative path is taken from the server's working folder)"
            raise Forbidden(
                f"video_path is outside the media roots{hint}; give the absolute path of a video under one of them, "
                "or its video_id (or set MEDIA_ROOTS)",
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
        """A `stat` of the resolved path: nothing here opens the file."""
        try:
            info = os.stat(real)
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise BadRequest("video_path has a name longer than the file system allows (255 bytes a name)",
                                 field="video_path") from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise UndecodableVideo(f"{given} cannot be read by the service (permission denied); make it "
                                       "readable by the service's user", field="video_path") from None
            raise NotFound(f"video not found: {given}", field="video_path") from None
        if stat.S_ISDIR(info.st_mode):
            raise UndecodableVideo(f"{given} is a directory; give the path of a video file inside it",
                                   field="video_path")
        if not stat.S_ISREG(info.st_mode):
            raise UndecodableVideo(f"{given} is not a regular file (a device, FIFO or socket); give a video file",
                                   field="video_path")
        if info.st_size == 0:
            raise UndecodableVideo(f"{given} is empty (0 bytes); upload the complete video", field="video_path")
        return real


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
