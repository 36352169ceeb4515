"""Loading transformers models from the Hugging Face cache or a local folder, with the fix in the error."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from runners.core.errors import ModelUnavailable

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
