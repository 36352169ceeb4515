"""Ultralytics, imported so that it never reaches the network, and what its detectors and trackers need of it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def import_ultralytics():
    """Ultralytics phones home (settings sync, font and weight downloads, pip auto-install) unless told not to."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(Path.home() / ".cache" / "video-model-service" / "ultralytics"))
    import ultralytics
    from ultralytics.utils import SETTINGS

    if SETTINGS.get("sync"):
        SETTINGS.update({"sync": False})
    return ultralytics


def to_bgr(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Ultralytics reads numpy images as OpenCV does (BGR); our decoders give RGB."""
    return [np.ascontiguousarray(f[..., ::-1]) for f in frames]


def ultralytics_device(device: str) -> str:
    return "cuda:0" if device.startswith("cuda") else "cpu"
