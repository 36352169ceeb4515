"""The one interface every language engine implements: a chat request with images in order, text or schema-valid
JSON out, token counts, and per-token log-probabilities where the engine gives them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass
class ChatRequest:
    text: str  # the user turn's text, after the images
    system: str | None = None
    images: list[np.ndarray] = field(default_factory=list)  # RGB uint8 frames, in the order the model sees them
    image_captions: list[str] | None = None  # one per image, written just before it ("frame 12 at 0.48 s")
    json_schema: dict | None = None  # the answer must validate against it
    schema_name: str = "answer"
    max_new_tokens: int = 512
    temperature: float = 0.0
    logprobs: bool = True
    cancelled: Callable[[], bool] | None = None  # true once the client has gone: stop generating (in-process engines)


@dataclass
class ChatResult:
    text: str
    engine: str
    model: str
    tokens_generated: int
    prompt_tokens: int | None = None
    token_logprobs: list[tuple[str, float]] | None = None  # (token text, log-probability), in order
    data: Any = None  # the parsed JSON when a schema was asked for

    def span_confidence(self, start: int, end: int) -> float | None:
        """The geometric-mean probability of the tokens covering characters [start, end) of `text`: how sure the
        model was of that part of its answer. None when the engine gave no log-probabilities."""
        if not self.token_logprobs:
            return None
        position, inside = 0, []
        for token, logprob in self.token_logprobs:
            token_end = position + len(token)
            if token_end > start and position < end:
                inside.append(logprob)
            position = token_end
        return float(math.exp(np.mean(inside))) if inside else None


class InvalidAnswer(Exception):
    """The model's text is not the JSON its schema asks for (the caller may retry once). `cut`: it stopped at
    max_new_tokens, so asking again the same way would fail the same way."""

    def __init__(self, message: str, cut: bool = False) -> None:
        super().__init__(message)
        self.cut = cut


def parse_json_answer(text: str, cut_at: int | None = None) -> Any:
    """JSON from the model. `strict=False` accepts control characters inside strings, which constrained decoding
    of a weak model can emit. `cut_at`: the answer stopped at this max_new_tokens (the likely cause, said so)."""
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        cause = f"; it was cut at max_new_tokens={cut_at}: raise max_new_tokens" if cut_at else ""
        raise InvalidAnswer(f"the model's answer is not valid JSON ({exc.msg} at character {exc.pos}){cause}",
                            cut=cut_at is not None) from None


class ChatEngine(Protocol):
    name: str

    def chat(self, request: ChatRequest) -> ChatResult: ...

    def count_tokens(self, request: ChatRequest) -> int | None:
        """The prompt's length in tokens, images included; None when the engine cannot say before generating."""

    def context_length(self) -> int | None:
        """The most tokens prompt + answer may take; None when unknown."""

    def close(self) -> None: ...
