"""What a batch has done, kept in its output folder so that a rerun goes on where the last run stopped.

`out/_state.jsonl` gets a line per finished video (done or failed), appended and flushed as each finishes: a run
killed at any moment loses at most the videos in flight. A rerun of the same command skips the videos whose last line
is `done` with the same parameters (their hash), and runs the others again (failed ones as a new attempt). Each
video's output, `out/<id>/<task>.<ext>`, is written to a temporary file and renamed, so it is whole or absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "_state.jsonl"
SUMMARY_FILE = "_summary.json"
EXTENSIONS = {"json": "json", "coco": "json", "coco-video": "json", "mot": "txt", "cvat": "xml",
              "labelstudio": "json"}


@dataclass
class Finished:
    id: str
    video: str
    status: str  # "done" | "failed"
    params_hash: str
    attempts: int
    frames: int = 0
    seconds: float = 0.0
    error: dict[str, Any] | None = None  # the service's error envelope
    output: str | None = None
    job_id: str | None = None
    finished_at: float = field(default_factory=time.time)


def params_hash(task: str, request: dict[str, Any], format: str) -> str:
    """What makes an output what it is: the task, the video's request body and the file format."""
    body = json.dumps({"task": task, "request": request, "format": format}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:16]


class BatchState:
    def __init__(self, out: Path) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.path = out / STATE_FILE
        self.last: dict[str, Finished] = {}
        self.this_run: list[Finished] = []
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    record = Finished(**json.loads(line))
                except (json.JSONDecodeError, TypeError):
                    continue  # a line cut short by a kill: that video was not finished
                self.last[record.id] = record
        self._file = self.path.open("a")

    def is_done(self, video_id: str, digest: str) -> bool:
        record = self.last.get(video_id)
        return record is not None and record.status == "done" and record.params_hash == digest

    def attempts(self, video_id: str, digest: str) -> int:
        """Attempts made before, at these parameters."""
        record = self.last.get(video_id)
        return record.attempts if record is not None and record.params_hash == digest else 0

    def record(self, finished: Finished) -> None:
        self.last[finished.id] = finished
        self.this_run.append(finished)
        self._file.write(json.dumps(asdict(finished)) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def output_path(out: Path, video_id: str, task: str, format: str) -> Path:
    return out / video_id / f"{task}.{EXTENSIONS[format]}"


def write_atomically(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
