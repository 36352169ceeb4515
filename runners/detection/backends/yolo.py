"""Ultralytics YOLO detectors with a fixed vocabulary (YOLO11 trained on COCO, or any trained YOLO weights)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import supervision as sv

from runners.core.errors import ModelUnavailable
from runners.core.ultralytics import import_ultralytics, to_bgr, ultralytics_device
from runners.detection.backends.base import DetectSettings


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
