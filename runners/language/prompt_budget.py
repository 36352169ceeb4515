"""Fitting frames into a model's context: frames are shrunk until the prompt leaves room for the answer; when even the
smallest frames do not fit, the request is refused with how many frames would.

Vision-language models spend tokens on an image in proportion to its area (Qwen2.5-VL, Pixtral) or per fixed-size
tile (Gemma 3, InternVL, Llama 4). Shrinking helps the first kind only, so shrinking stops as soon as it no longer
lowers the count.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from runners.core.errors import BadRequest
from runners.language.engines.chat import ChatEngine, ChatRequest

MIN_IMAGE_SIDE = 224  # below this, frames stop being readable to the models served here
SHRINK = 0.75  # each step's longest side, as a share of the last


def resize_longest(frame: np.ndarray, side: int) -> np.ndarray:
    """`frame` with its longest side at most `side` pixels, aspect ratio kept."""
    height, width = frame.shape[:2]
    if max(height, width) <= side:
        return frame
    from PIL import Image

    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS))


def fit_prompt(make_request: Callable[[list[np.ndarray]], ChatRequest], frames: list[np.ndarray], engine: ChatEngine,
               *, model: str, max_side: int, max_new_tokens: int, context_length: int | None) -> ChatRequest:
    """The request for `frames` at the largest size up to `max_side` whose prompt fits `context_length` with
    `max_new_tokens` to spare. Without a known context or token count the request goes as built, and the engine
    itself refuses one that is too long."""
    side = max_side
    request = make_request([resize_longest(f, side) for f in frames])
    if context_length is None:
        return request
    budget = context_length - max_new_tokens
    if budget <= 0:
        raise BadRequest(f"max_new_tokens={max_new_tokens} leaves no room for the prompt in {model}'s context of "
                         f"{context_length} tokens: lower max_new_tokens", field="max_new_tokens",
                         context_length=context_length)
    previous = None
    while True:
        count = engine.count_tokens(request)
        if count is None or count <= budget:
            return request
        smaller = max(MIN_IMAGE_SIDE, int(side * SHRINK))
        if smaller >= side or (previous is not None and count >= previous):
            break  # frames cannot get smaller, or smaller frames cost as many tokens
        previous, side = count, smaller
        request = make_request([resize_longest(f, side) for f in frames])
    text_only = engine.count_tokens(make_request([])) or 0
    per_frame = max(1.0, (count - text_only) / max(1, len(frames)))
    fit = int(max(0, min(len(frames) - 1, (budget - text_only) // per_frame)))
    raise BadRequest(f"{len(frames)} frames make a {count}-token prompt even at {side} px, but {model}'s context of "
                     f"{context_length} tokens keeps {max_new_tokens} for the answer (max_new_tokens): at most {fit} "
                     f"frames fit; lower frame_count or max_new_tokens", field="frame_count", frames_that_fit=fit,
                     prompt_tokens=count, context_length=context_length)


def fit_answer(request: ChatRequest, engine: ChatEngine, *, model: str, context_length: int | None,
               requested: bool) -> ChatRequest:
    """`request` with an answer budget that fits the context after its prompt: a default budget is lowered to the
    room left, a budget the client asked for that does not fit is a 400 (as is a prompt that leaves no room)."""
    if context_length is None:
        return request
    count = engine.count_tokens(request)
    if count is None:
        return request
    room = context_length - count
    if room <= 0 or (requested and request.max_new_tokens > room):
        raise BadRequest(f"the prompt takes {count} of {model}'s {context_length} context tokens, leaving "
                         f"{max(0, room)} for the answer: shorten the request (existing names, context) or lower "
                         f"max_new_tokens", field="max_new_tokens", prompt_tokens=count,
                         context_length=context_length)
    request.max_new_tokens = min(request.max_new_tokens, room)
    return request
