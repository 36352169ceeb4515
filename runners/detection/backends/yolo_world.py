"""YOLO-World v2: open-vocabulary YOLO. The vocabulary is a set of text embeddings written into the model.

`set_classes` in ultralytics would download CLIP from GitHub; it only computes unit-norm CLIP text features and
stores them as `txt_feats` with `nc` on the head — exactly what `_use_vocabulary` does with our transformers encoder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import supervision as sv

from runners.core.ultralytics import import_ultralytics, ultralytics_device
from runners.detection.backends.base import DetectSettings
from runners.detection.backends.clip_text import ClipTextEncoder
from runners.detection.backends.yolo import YoloDetector
from runners.detection.coco import COCO_NAMES


class YoloWorldDetector(YoloDetector):
    open_vocabulary = True

    def __init__(self, name: str, weights: str, text_encoder: str, device: str) -> None:
        ultralytics = import_ultralytics()
        self.name = name
        self.device = ultralytics_device(device)
        self.model = ultralytics.YOLOWorld(weights)
        self.model.to(self.device)
        self.text: ClipTextEncoder | None = ClipTextEncoder(text_encoder, device)  # None once closed
        self.default_vocabulary = list(COCO_NAMES)
        self._lock = threading.Lock()  # the vocabulary lives in the model: one vocabulary at a time

    def _use_vocabulary(self, vocabulary: Sequence[str]) -> None:
        if self.text is None:
            raise RuntimeError(f"{self.name} is closed (unloaded)")
        features = self.text.embed(vocabulary).to(self.device)
        modules = [self.model.model]
        predictor = getattr(self.model, "predictor", None)
        if predictor is not None and getattr(predictor.model, "model", None) is not self.model.model:
            modules.append(predictor.model.model)  # a predictor that wrapped a copy of the network
        for module in modules:
            module.txt_feats = features
            module.model[-1].nc = len(vocabulary)

    def detect(self, frames: Sequence[np.ndarray], vocabulary: Sequence[str],
               settings: DetectSettings) -> list[sv.Detections]:
        with self._lock:
            self._use_vocabulary(vocabulary)
            return self._predict(frames, settings)

    def close(self) -> None:
        self.model = None
        self.text = None
