"""What the transformers detectors (OWLv2, Grounding DINO, Florence-2) share."""

from __future__ import annotations

import threading

from runners.core.hf import from_pretrained
from runners.detection.coco import COCO_NAMES


class TransformersDetector:
    """What the transformers detectors share: processor + model loaded from one folder or repo, COCO's names as the
    default vocabulary, one forward pass at a time."""

    open_vocabulary = True
    model_class = "AutoModelForZeroShotObjectDetection"  # the transformers class that loads the checkpoint

    def __init__(self, name: str, model_id: str, device: str) -> None:
        import torch
        import transformers

        self._torch = torch
        self.name, self.device = name, device
        self.processor = from_pretrained(transformers.AutoProcessor.from_pretrained, model_id, name)
        model_class = getattr(transformers, self.model_class)
        self.model = from_pretrained(model_class.from_pretrained, model_id, name).to(device).eval()
        self.default_vocabulary = list(COCO_NAMES)
        self._lock = threading.Lock()

    def close(self) -> None:
        self.model = None
