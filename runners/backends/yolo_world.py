"""YOLO-World v2: open-vocabulary YOLO. The vocabulary is a set of text embeddings written into the model.

`set_classes` in ultralytics would download CLIP from GitHub; it only computes unit-norm CLIP text features and
stores them as `txt_feats` with `nc` on the head — exactly what `_use_vocabulary` does with our transformers encoder.
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np
import supervision as sv

from runners.backends.clip_text import ClipTextEncoder
from runners.backends.detector import DetectSettings
from runners.backends.yolo import YoloDetector, import_ultralytics, ultralytics_device


def coco_names() -> list[str]:
    """COCO's 80 class names as ultralytics ships them (class id = list index)."""
    import_ultralytics()
    from ultralytics.cfg import get_cfg  # noqa: F401  (makes ultralytics.cfg importable before ROOT)
    from ultralytics.utils import ROOT, YAML

    names = YAML.load(ROOT / "cfg" / "datasets" / "coco.yaml")["names"]
    return [names[i] for i in sorted(names)]


class YoloWorldDetector(YoloDetector):
    open_vocabulary = True

    def __init__(self, name: str, weights: str, text_encoder: str, device: str) -> None:
        ultralytics = import_ultralytics()
        self.name = name
        self.device = ultralytics_device(device)
        self.model = ultralytics.YOLOWorld(weights)
        self.model.to(self.device)
        self.text = ClipTextEncoder(text_encoder, device)
        self.default_vocabulary = coco_names()
        self._lock = threading.Lock()  # the vocabulary lives in the model: one vocabulary at a time

    def _use_vocabulary(self, vocabulary: Sequence[str]) -> None:
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
