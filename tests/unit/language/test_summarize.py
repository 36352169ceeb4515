"""Summarization's prompt and answer: persona in the prompt, frames captioned in order, the schema, key frames mapped
back to frame numbers with confidences from token probabilities — on crafted answers and on a tiny real VLM."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from runners.core.errors import BadRequest
from runners.language.answer_budget import ASCII_TEXT, worst_case_tokens
from runners.language.engines.chat import ChatResult
from runners.language.prompt_budget import fit_prompt
from runners.language.summarize import (
    build_request,
    persona_in_prompt,
    persona_text,
    read_answer,
    summary_schema,
    value_spans,
)

FRAME_NUMBERS, TIMESTAMPS = [0, 40, 80], [0.0, 1.6, 3.2]


def frames(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(count)]


def test_persona_from_free_text_and_structure():
    text = persona_text("A baseball coach.", {"role": "scout", "information_need": "stolen bases",
                                              "ontology_context": {"event_types": ["Stolen Base"]}})
    assert text.splitlines() == ["A baseball coach.", "Role: scout", "Information need: stolen bases",
                                 'Use this vocabulary where it fits: {"event_types": ["Stolen Base"]}']
    assert persona_text(None, None) is None and persona_text("  ", {}) is None


def test_the_request_captions_every_frame_and_asks_for_the_schema():
    request = build_request(frames(3), FRAME_NUMBERS, TIMESTAMPS, "Role: scout", max_new_tokens=300, temperature=0.2)
    assert request.image_captions == ["Frame 0 (video frame 0, 0.00 s):", "Frame 1 (video frame 40, 1.60 s):",
                                      "Frame 2 (video frame 80, 3.20 s):"]
    assert "Role: scout" in request.text and len(request.images) == 3
    assert request.json_schema == summary_schema(3)
    assert request.json_schema["properties"]["key_frames"]["items"]["properties"]["frame_index"]["maximum"] == 2
    assert (request.max_new_tokens, request.temperature, request.logprobs) == (300, 0.2, True)


def test_the_persona_is_applied_only_when_the_prompt_holds_it():
    persona = persona_text("A coach.", {"role": "scout", "information_need": "stolen bases"})
    told = build_request(frames(3), FRAME_NUMBERS, TIMESTAMPS, persona, max_new_tokens=300, temperature=0.0)
    general = build_request(frames(3), FRAME_NUMBERS, TIMESTAMPS, None, max_new_tokens=300, temperature=0.0)
    assert persona_in_prompt(told, persona)
    assert not persona_in_prompt(general, None) and not persona_in_prompt(told, None)
    # asked for but not in the prompt, or only part of it: not applied
    assert not persona_in_prompt(general, persona)
    cut = dataclasses.replace(told, text=told.text.replace(persona, persona[:12]))
    assert not persona_in_prompt(cut, persona)
    assert persona_in_prompt(dataclasses.replace(general, system=f"{general.system}\n{persona}"), persona)


class AreaCountingEngine:
    """Counts one token per 28x28 patch of each frame, plus the text: smaller frames make a shorter prompt."""
    name = "counting"

    def count_tokens(self, request):
        return 50 + sum((f.shape[0] // 28) * (f.shape[1] // 28) for f in request.images)


def test_budgeting_shrinks_the_frames_and_keeps_the_persona():
    """The prompt budget rebuilds the request with smaller frames until it fits (or refuses it with a 400): it
    never cuts the text, so the persona is in every request it lets through."""
    persona = persona_text("A coach.", {"role": "scout"})
    big = [np.zeros((720, 1280, 3), np.uint8)] * 3
    request = fit_prompt(lambda images: build_request(images, FRAME_NUMBERS[:len(images)], TIMESTAMPS[:len(images)],
                                                      persona, max_new_tokens=300, temperature=0.0),
                         big, AreaCountingEngine(), model="m", max_side=1280, max_new_tokens=300, context_length=1200)
    assert max(request.images[0].shape[:2]) < 1280  # it was budgeted
    assert persona_in_prompt(request, persona)


def crafted(answer: dict, logprob: float = -0.5) -> ChatResult:
    """A result whose every character is one token with the same log-probability."""
    text = json.dumps(answer)
    return ChatResult(text=text, engine="stub", model="m", tokens_generated=len(text),
                      token_logprobs=[(c, logprob) for c in text], data=answer)


def test_key_frames_map_back_to_frame_numbers_with_confidences():
    answer = {"summary": "A runner steals second.", "visual_analysis": "Infield, two players.",
              "key_frames": [{"frame_index": 2, "description": "the slide"},
                             {"frame_index": 2, "description": "again"},        # duplicate frame: dropped
                             {"frame_index": 0, "description": "the lead"}]}
    read = read_answer(crafted(answer), FRAME_NUMBERS, TIMESTAMPS)
    assert read["summary"] == "A runner steals second." and read["visual_analysis"] == "Infield, two players."
    assert [(k["frame_number"], k["timestamp"], k["description"]) for k in read["key_frames"]] == [
        (80, 3.2, "the slide"), (0, 0.0, "the lead")]
    assert all(k["confidence"] == pytest.approx(math.exp(-0.5)) for k in read["key_frames"])
    assert read["confidence"] == pytest.approx(math.exp(-0.5))


def test_confidences_follow_the_tokens_of_each_description():
    answer = {"summary": "s", "visual_analysis": "v",
              "key_frames": [{"frame_index": 0, "description": "sure"}, {"frame_index": 1, "description": "unsure"}]}
    result = crafted(answer, logprob=-0.01)
    start, end = value_spans(result.text, "description")[1]
    result.token_logprobs = [(c, -2.0 if start <= i < end else lp) for i, (c, lp) in enumerate(result.token_logprobs)]
    sure, unsure = read_answer(result, FRAME_NUMBERS, TIMESTAMPS)["key_frames"]
    assert sure["confidence"] == pytest.approx(math.exp(-0.01))
    assert unsure["confidence"] == pytest.approx(math.exp(-2.0))


def test_without_logprobs_confidences_are_null():
    result = crafted({"summary": "s", "visual_analysis": "v", "key_frames": [{"frame_index": 1, "description": "d"}]})
    result.token_logprobs = None
    read = read_answer(result, FRAME_NUMBERS, TIMESTAMPS)
    assert read["confidence"] is None and read["key_frames"][0]["confidence"] is None


def test_a_tiny_vlm_answers_a_summary_that_reads_back(tmp_path):
    """Random weights, real Qwen2.5-VL classes: the schema holds, key frames are frames it was shown."""
    from runners.language.engines.transformers_engine import TransformersEngine
    from scripts.tiny_language_models import BUILDERS

    engine = TransformersEngine("tiny", BUILDERS["qwen2_5_vl"](str(tmp_path / "qwen")), "cpu", vision=True)
    try:
        request = build_request(frames(3), FRAME_NUMBERS, TIMESTAMPS, persona_text("A coach.", None),
                                max_new_tokens=400, temperature=0.0)
        read = read_answer(engine.chat(request), FRAME_NUMBERS, TIMESTAMPS)
    finally:
        engine.close()
    assert isinstance(read["summary"], str) and isinstance(read["visual_analysis"], str)
    assert all(k["frame_number"] in FRAME_NUMBERS for k in read["key_frames"])
    assert read["confidence"] is not None and 0 < read["confidence"] <= 1


@pytest.mark.parametrize("frame_count, max_new_tokens", [(1, 64), (8, 200), (8, 1024), (64, 4096), (3, 58)])
def test_a_schema_asked_after_a_cut_answer_fits_the_token_budget(frame_count, max_new_tokens):
    schema = summary_schema(frame_count, max_new_tokens)
    assert worst_case_tokens(schema) <= max_new_tokens
    properties = schema["properties"]
    if max_new_tokens >= 1024:  # a budget that can hold them keeps key frames with real descriptions
        assert properties["key_frames"]["maxItems"] >= min(frame_count, 5)
        assert int(ASCII_TEXT.match(properties["summary"]["pattern"]).group(2)) >= 300


def test_a_budget_too_small_for_any_summary_is_a_400():
    with pytest.raises(BadRequest, match="max_new_tokens must be at least"):
        build_request(frames(1), [0], [0.0], None, max_new_tokens=30, temperature=0.0)
