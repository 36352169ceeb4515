"""Loading transformers models from the Hugging Face cache or a local folder, with the fix in the error."""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

from runners.errors import ModelUnavailable

T = TypeVar("T")


def from_pretrained(load: Callable[[str], T], model_id: str, name: str) -> T:
    """`load(model_id)`, turning "not in the cache and the hub unreachable" into a 503 that says what to run."""
    try:
        return load(model_id)
    except OSError as exc:
        raise ModelUnavailable(
            f"weights for {name} ({model_id}) are not in the Hugging Face cache and the hub is unreachable from this "
            f"server: run `python scripts/fetch_models.py {name}` where the internet is reachable, or set model_id "
            f"to a local folder ({exc})", model=name, model_id=model_id,
        ) from None


class TransformersDetector:
    """What the transformers detectors share: processor + model loaded from one folder or repo, COCO's names as the
    default vocabulary, one forward pass at a time."""

    open_vocabulary = True
    model_class = "AutoModelForZeroShotObjectDetection"  # the transformers class that loads the checkpoint

    def __init__(self, name: str, model_id: str, device: str) -> None:
        import torch
        import transformers

        from runners.backends.yolo_world import coco_names

        self._torch = torch
        self.name, self.device = name, device
        self.processor = from_pretrained(transformers.AutoProcessor.from_pretrained, model_id, name)
        model_class = getattr(transformers, self.model_class)
        self.model = from_pretrained(model_class.from_pretrained, model_id, name).to(device).eval()
        self.default_vocabulary = coco_names()
        self._lock = threading.Lock()

    def close(self) -> None:
        self.model = None
