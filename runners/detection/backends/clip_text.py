"""CLIP text embeddings through transformers, for open-vocabulary YOLO.

YOLO-World v2 was trained against CLIP ViT-B/32 text features; ultralytics fetches that encoder with the `clip`
package from GitHub, which is not installable from PyPI. The same weights load through transformers'
`CLIPTextModelWithProjection`, from the Hugging Face cache or a local folder.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Sequence

from runners.core.errors import ModelUnavailable


class ClipTextEncoder:
    def __init__(self, model_id: str, device: str, cache_size: int = 64) -> None:
        import torch
        from transformers import AutoTokenizer, CLIPTextModelWithProjection

        self._torch = torch
        self.device = device
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_id)
            model = CLIPTextModelWithProjection.from_pretrained(model_id)
            # transformers wraps PreTrainedModel.to with functools.wraps, which mypy does not bind as a method
            self.model = model.to(device).eval()  # type: ignore[arg-type]
        except OSError as exc:  # not in the cache and the hub unreachable, or a wrong local path
            raise ModelUnavailable(
                f"the CLIP text encoder {model_id} is not in the Hugging Face cache and the hub is unreachable: run "
                f"`python scripts/fetch_models.py <model>` where the internet is reachable ({exc})", model_id=model_id
            ) from None
        self._cache: collections.OrderedDict[tuple[str, ...], object] = collections.OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def embed(self, phrases: Sequence[str]):
        """Unit-norm embeddings, shape (1, len(phrases), dim); cached per vocabulary, never recomputed per frame."""
        key = tuple(phrases)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        with self._torch.inference_mode():
            tokens = self.tokenizer(list(phrases), padding=True, truncation=True, return_tensors="pt").to(self.device)
            features = self.model(**tokens).text_embeds
            features = features / features.norm(p=2, dim=-1, keepdim=True)
        embeddings = features.unsqueeze(0)
        with self._lock:
            self._cache[key] = embeddings
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return embeddings
