"""What every tracking backend provides: a stateful session per request, in the shape of SAM 2's video predictor.

    session = tracker.new_session(SessionSpec(width, height, ...))   # init state
    objects = session.step(frame, new_objects={id: box})             # add prompts on this frame, propagate one frame

`step` takes the next *processed* frame (frames arrive in order; with decimation the session sees every Nth frame
as consecutive) and returns a `TrackedObject` per object it follows. Sessions keep no per-frame history beyond what
their algorithm looks back at, so a long frame range costs no more memory than a short one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class TrackedObject:
    box: list[float] | None  # [x0, y0, x1, y1] frame pixels; None when the object is absent or its mask empty
    mask: np.ndarray | None  # bool (H, W) at the frame's size; None when masks are not kept or the object is absent
    score: float  # the model's confidence in this frame's box, in [0, 1]
    present: bool  # False while the object is occluded or out of view
    label: str | None = None  # the detector's class, for trackers that detect


@dataclass(frozen=True)
class SessionSpec:
    """What a session is told about its job; each family reads the part it needs."""
    width: int
    height: int
    keep_masks: bool = True
    # for trackers that detect (`detects`): their detector's threshold, the classes kept, how long a lost object is
    # kept (the gap the response may fill, in frames, at this decimation), and whether objects nobody prompted are
    # reported (auto-detect) or only the prompted ones
    confidence_threshold: float = 0.5
    labels: list[str] | None = None
    max_gap_frames: int = 10
    decimation: int = 1
    report_unprompted: bool = True


class TrackingSession(Protocol):
    def step(self, frame: np.ndarray, new_objects: dict[int, list[float]] | None = None) -> dict[int, TrackedObject]:
        ...

    def close(self) -> None: ...


class Tracker(Protocol):
    """Every tracker family: a loaded model that opens sessions. `detects`: it finds its objects itself (prompts
    select among them), so the runner asks the detection runner for none."""
    detects: bool

    def new_session(self, spec: SessionSpec) -> TrackingSession: ...

    def close(self) -> None: ...
