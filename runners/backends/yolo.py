"""Ultralytics YOLO detectors with a fixed vocabulary (YOLO11 trained on COCO, or any trained YOLO weights)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np
import supervision as sv

from runners.backends.detector import DetectSettings
from runners.errors import ModelUnavailable


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


def resolve_weights(name: str, model_id: str, weights_dir: Path) -> str:
    """A local file, or a weight name already fetched into `weights_dir`; never a download at request time."""
    for candidate in (Path(model_id).expanduser(), weights_dir / model_id):
        if candidate.is_file():
            return str(candidate)
    raise ModelUnavailable(
        f"weights for {name} ({model_id}) are not in {weights_dir} and the hub is unreachable from this server: "
        f"run `python scripts/fetch_models.py {name}` where the internet is reachable, or set model_id to a local file",
        model=name, model_id=model_id,
    )


def to_bgr(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Ultralytics reads numpy images as OpenCV does (BGR); our decoders give RGB."""
    return [np.ascontiguousarray(f[..., ::-1]) for f in frames]


def ultralytics_device(device: str) -> str:
    return "cuda:0" if device.startswith("cuda") else "cpu"


class YoloDetector:
    open_vocabulary = False

    def __init__(self, name: str, weights: str, device: str) -> None:
        ultralytics = import_ultralytics()
        self.name = name
        self.device = ultralytics_device(device)
        self.model = ultralytics.YOLO(weights, task="detect")
        self.model.to(self.device)
        names = self.model.names
        self.default_vocabulary = [names[i] for i in sorted(names)]
        self._lock = threading.Lock()  # ultralytics predictors keep per-call state

    def detect(self, frames: Sequence[np.ndarray], vocabulary: Sequence[str],
               settings: DetectSettings) -> list[sv.Detections]:
        with self._lock:
            return self._predict(frames, settings)

    def _predict(self, frames: Sequence[np.ndarray], settings: DetectSettings) -> list[sv.Detections]:
        """One forward pass over the frames with ultralytics' class-aware NMS."""
        results = self.model.predict(
            to_bgr(frames), conf=settings.lowest_threshold, iou=settings.nms_threshold,
            max_det=settings.max_detections, device=self.device, half=self.device != "cpu", verbose=False,
        )
        return [sv.Detections.from_ultralytics(r) for r in results]

    def close(self) -> None:
        self.model = None
