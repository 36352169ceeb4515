"""The videos a batch runs over: a JSONL or CSV manifest, or a directory.

Each entry is a video, its id (its output folder's name: given, or the file's stem) and its overrides of the batch's
parameters. A manifest is read whole before any work: every bad line (not JSON, no video, a duplicate id, an id that
is not a folder name, an override that is not JSON) is listed in one error, so a run never stops half way for
something that could have been seen at its start. Whether a video exists and is a video is the service's to say
(its media roots may be on another machine): such a video fails on its own, with the service's error.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")  # a folder name on every system
RESERVED = {"video", "id"}


class ManifestError(Exception):
    def __init__(self, source: Path, problems: list[str]) -> None:
        super().__init__(f"{source}: {len(problems)} bad entr{'y' if len(problems) == 1 else 'ies'}, nothing was run:\n"
                         + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    video: str
    id: str
    overrides: dict[str, Any] = field(default_factory=dict)


def read_manifest(source: Path) -> list[Entry]:
    if source.is_dir():
        rows = [(f"{path}", {"video": str(path)}) for path in sorted(source.rglob("*"))
                if path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS]
        problems = [] if rows else [f"no video files ({', '.join(VIDEO_EXTENSIONS)}) under the directory"]
    elif not source.is_file():
        raise ManifestError(source, ["no such file or directory"])
    elif source.suffix.lower() == ".csv":
        rows, problems = csv_rows(source)
    else:
        rows, problems = jsonl_rows(source)
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        entry = to_entry(row)
        if isinstance(entry, str):
            problems.append(f"{where}: {entry}")
        elif entry.id in seen:
            problems.append(f"{where}: id {entry.id!r} is already used by {seen[entry.id]} (give an id)")
        else:
            seen[entry.id] = where
            entries.append(entry)
    if problems:
        raise ManifestError(source, problems)
    return entries


def jsonl_rows(source: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    rows, problems = [], []
    for number, line in enumerate(source.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        rows.append((f"line {number}", row))
    return rows, problems


def csv_rows(source: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    """Columns `video`, `id` and overrides; an override's cell is JSON where it parses (numbers, lists), else text."""
    rows, problems = [], []
    with source.open(newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            parsed: dict[str, Any] = {}
            for key, value in row.items():
                if key is None:
                    problems.append(f"line {number}: more cells than columns")
                    break
                if value in (None, ""):
                    continue
                if key in RESERVED:
                    parsed[key] = value
                    continue
                try:
                    parsed[key] = json.loads(value)
                except json.JSONDecodeError:
                    parsed[key] = value
            else:
                rows.append((f"line {number}", parsed))
    return rows, problems


def to_entry(row: dict) -> Entry | str:
    """The entry, or what is wrong with the row."""
    video = row.get("video")
    if not isinstance(video, str) or not video.strip():
        return "no \"video\" (the video's path)"
    given = row.get("id")
    if given is not None and not isinstance(given, str):
        return "\"id\" must be text"
    video_id = given or Path(video).stem
    if not ID_PATTERN.match(video_id):
        return (f"id {video_id!r} is not a folder name (letters, digits, '.', '_', '-'; at most 200 characters)"
                + ("" if given else ": give an id"))
    return Entry(video=video, id=video_id, overrides={k: v for k, v in row.items() if k not in RESERVED})
