"""Video summarization for an analyst: the prompt (persona + frames with their times), the answer's JSON schema, and
reading the answer back with confidences from the model's own token probabilities.

The model sees the sampled frames in time order, each captioned with its index, frame number and timestamp, and
must answer `{summary, visual_analysis, key_frames: [{frame_index, description}]}`; `frame_index` indexes the frames
it was shown, so a key frame is always one of them. A key frame's confidence is the geometric-mean probability of
the tokens of its description (the overall confidence: of the summary's tokens); without log-probabilities from the
engine both are null, never a made-up number.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from runners.core.errors import BadRequest
from runners.language.answer_budget import ascii_text, worst_case_tokens
from runners.language.engines.chat import ChatRequest, ChatResult

SYSTEM = ("You are a video analyst. You are shown frames sampled from one video, in time order. Describe only what "
          "the frames show; say so when something cannot be seen. Answer with JSON only.")


def summary_schema(frame_count: int, max_new_tokens: int | None = None) -> dict:
    """The answer's schema. With `max_new_tokens` (asked after an answer was cut there), its strings are short ASCII
    and its key frames as many as fit, so that every answer the schema allows fits that many tokens."""
    if max_new_tokens is None:
        return _schema(frame_count, frame_count, {"type": "string"}, {"type": "string"}, {"type": "string"})
    scale = 1.0
    while True:
        spare = max(0, int((max_new_tokens - ANSWER_FRAME) * scale))
        key_frames = min(frame_count, spare * 4 // 10 // (KEY_FRAME_FRAME + MIN_DESCRIPTION))
        description = spare * 4 // 10 // key_frames - KEY_FRAME_FRAME if key_frames else 0
        schema = _schema(frame_count, key_frames, ascii_text(spare * 35 // 100), ascii_text(spare * 25 // 100),
                         ascii_text(max(0, description)))
        if worst_case_tokens(schema) <= max_new_tokens or spare == 0:
            return schema
        scale *= 0.9


def _schema(frame_count: int, key_frames: int, summary: dict, visual_analysis: dict, description: dict) -> dict:
    return {
        "type": "object",
        "properties": {
            "summary": summary,
            "visual_analysis": visual_analysis,
            "key_frames": {"type": "array", "maxItems": key_frames, "items": {
                "type": "object",
                "properties": {"frame_index": {"type": "integer", "minimum": 0, "maximum": frame_count - 1},
                               "description": description},
                "required": ["frame_index", "description"]}},
        },
        "required": ["summary", "visual_analysis", "key_frames"],
    }


# The answer's JSON with empty strings, plus the end-of-text token; one key frame's, with a two-digit index.
ANSWER_FRAME = len('{"summary": "", "visual_analysis": "", "key_frames": []}') + 1
KEY_FRAME_FRAME = len('{"frame_index": 00, "description": ""}, ')
MIN_DESCRIPTION = 24  # characters: fewer key frames rather than descriptions too short to say anything


def persona_text(persona_context: str | None, persona: dict | None) -> str | None:
    """The analyst as the prompt describes them, from free text and/or the structured persona (with its ontology
    vocabulary, which the summary should use); None when neither says anything."""
    parts = [persona_context.strip()] if persona_context and persona_context.strip() else []
    persona = persona or {}
    for key, title in (("role", "Role"), ("information_need", "Information need"), ("description", "About")):
        if persona.get(key):
            parts.append(f"{title}: {persona[key]}")
    ontology = persona.get("ontology_context")
    if ontology:
        vocabulary = ontology if isinstance(ontology, str) else json.dumps(ontology, ensure_ascii=False)
        parts.append(f"Use this vocabulary where it fits: {vocabulary}")
    return "\n".join(parts) or None


def build_request(frames: list[np.ndarray], frame_numbers: list[int], timestamps: list[float], persona: str | None,
                  max_new_tokens: int, temperature: float) -> ChatRequest:
    if max_new_tokens < ANSWER_FRAME:
        raise BadRequest(f"max_new_tokens must be at least {ANSWER_FRAME} for a summary: its JSON alone takes that "
                         f"many tokens", field="max_new_tokens")
    captions = [f"Frame {i} (video frame {n}, {t:.2f} s):" for i, (n, t) in enumerate(zip(frame_numbers, timestamps))]
    audience = (f"The summary is for this analyst:\n{persona}\n" if persona
                else "The summary is for a general analyst.\n")
    text = (f"{audience}Summarize the video for them (`summary`), describe what is visible (`visual_analysis`), and "
            f"pick the frames that matter most to them (`key_frames`: `frame_index` is the number in 'Frame i', with "
            f"a description of that frame).")
    return ChatRequest(text=text, system=SYSTEM, images=frames, image_captions=captions,
                       json_schema=summary_schema(len(frames)), schema_name="video_summary",
                       max_new_tokens=max_new_tokens, temperature=temperature, logprobs=True)


def persona_in_prompt(request: ChatRequest, persona: str | None) -> bool:
    """Whether `persona` is in the text the engine is sent (system or user turn): the answer says the persona was
    applied only when the model was shown it, not merely because it was asked for."""
    if not persona:
        return False
    return any(persona in text for text in (request.system or "", request.text))


def read_answer(result: ChatResult, frame_numbers: list[int], timestamps: list[float]) -> dict[str, Any]:
    """The response fields from the model's JSON: key frames mapped back to frame numbers and timestamps, each with
    the confidence of its description; duplicates of a frame keep the first description."""
    data = result.data
    descriptions = value_spans(result.text, "description")
    key_frames, seen = [], set()
    for i, item in enumerate(data.get("key_frames", [])):
        index = item.get("frame_index")
        if not isinstance(index, int) or not 0 <= index < len(frame_numbers) or index in seen:
            continue
        seen.add(index)
        span = descriptions[i] if i < len(descriptions) else None
        key_frames.append({"frame_number": frame_numbers[index], "timestamp": timestamps[index],
                           "description": item.get("description", ""),
                           "confidence": result.span_confidence(*span) if span else None})
    summary = value_spans(result.text, "summary")
    return {"summary": data.get("summary", ""), "visual_analysis": data.get("visual_analysis", ""),
            "key_frames": key_frames, "confidence": result.span_confidence(*summary[0]) if summary else None}


def value_spans(text: str, key: str) -> list[tuple[int, int]]:
    """Character spans of the string values of `key` in a JSON text, in order (the tokens that wrote them)."""
    spans, decoder = [], json.JSONDecoder(strict=False)
    for match in re.finditer(rf'"{re.escape(key)}"\s*:\s*(?=")', text):
        try:
            _, end = decoder.raw_decode(text, match.end())
        except json.JSONDecodeError:
            continue
        spans.append((match.end(), end))
    return spans
