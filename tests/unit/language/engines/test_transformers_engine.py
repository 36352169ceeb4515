"""The in-process transformers engine on tiny random models of the real classes (scripts/tiny_language_models.py):
images and captions through the processor's chat template, schema-valid JSON from an xgrammar logits processor
(even with random weights), per-token log-probabilities whose texts add up to the answer, and the 503s."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from runners.core.errors import BadRequest, ModelUnavailable
from runners.language.engines.chat import ChatRequest, InvalidAnswer

SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "key_frames": {"type": "array", "items": {
            "type": "object",
            "properties": {"frame_index": {"type": "integer"}, "description": {"type": "string"}},
            "required": ["frame_index", "description"]}},
    },
    "required": ["summary", "key_frames"],
}
SMALL_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def schema_errors(value, schema: dict, path: str = "$") -> list[str]:
    """A small JSON-schema check (type, properties, required, items): what these tests' schemas use."""
    kind = schema.get("type")
    checks = {"object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
              "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}
    if kind and not checks[kind](value):
        return [f"{path}: {value!r} is not {kind}"]
    errors = []
    if kind == "object":
        errors += [f"{path}: {key} missing" for key in schema.get("required", []) if key not in value]
        for key, item in value.items():
            if key in schema.get("properties", {}):
                errors += schema_errors(item, schema["properties"][key], f"{path}.{key}")
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    return errors


def frames(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(count)]


def tiny_engine(tmp_path_factory, family: str, vision: bool):
    from runners.language.engines.transformers_engine import TransformersEngine
    from scripts.tiny_language_models import BUILDERS

    path = BUILDERS[family](str(tmp_path_factory.mktemp("tiny-lm") / family))
    return TransformersEngine(f"tiny-{family}", path, "cpu", vision=vision)


@pytest.fixture(scope="module")
def vlm(tmp_path_factory):
    engine = tiny_engine(tmp_path_factory, "qwen2_5_vl", vision=True)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def text_model(tmp_path_factory):
    engine = tiny_engine(tmp_path_factory, "llama", vision=False)
    yield engine
    engine.close()


def test_vlm_answers_schema_valid_json_with_logprobs(vlm):
    request = ChatRequest(text="Summarise these frames as JSON.", system="You annotate videos.", images=frames(2),
                          image_captions=["frame 0 at 0.00 s", "frame 12 at 0.48 s"], json_schema=SCHEMA,
                          max_new_tokens=256)
    result = vlm.chat(request)
    assert result.engine == "transformers" and result.model == "tiny-qwen2_5_vl"
    assert schema_errors(result.data, SCHEMA) == [], result.text  # random weights, valid JSON all the same
    assert 0 < result.tokens_generated <= request.max_new_tokens
    assert result.prompt_tokens and result.prompt_tokens > 0
    assert len(result.token_logprobs) == result.tokens_generated
    assert all(logprob <= 0.0 for _, logprob in result.token_logprobs)
    assert "".join(token for token, _ in result.token_logprobs) == result.text
    # The summary's value, quotes included: its characters are covered by tokens, so it has a confidence.
    start = re.search(r'"summary"\s*:\s*', result.text).end()
    _, end = json.JSONDecoder(strict=False).raw_decode(result.text, start)
    confidence = result.span_confidence(start, end)
    assert confidence is not None and 0.0 < confidence <= 1.0


def test_images_enter_the_prompt_and_the_model(vlm):
    def first_step(images, captions):
        return vlm.chat(ChatRequest(text="What is shown?", images=images, image_captions=captions,
                                    max_new_tokens=1))

    two = first_step(frames(2), ["frame 0", "frame 1"])
    three = first_step(frames(3), ["frame 0", "frame 1", ""])  # an empty caption adds no text: only the image
    assert three.prompt_tokens - two.prompt_tokens >= 3  # <|vision_start|>, >= 1 <|image_pad|>, <|vision_end|>
    # The pixels reach the model: other frames of the same size, same prompt length, other first-token scores.
    other = first_step(frames(2, seed=1), ["frame 0", "frame 1"])
    assert other.prompt_tokens == two.prompt_tokens
    assert other.token_logprobs[0][1] != pytest.approx(two.token_logprobs[0][1], abs=1e-6) or \
        other.text != two.text


def test_grammar_compiled_once_per_schema(vlm):
    before = vlm.grammar_compilations
    for temperature in (0.0, 1.0):  # the same schema twice: one compilation (sampling under the grammar mask too)
        result = vlm.chat(ChatRequest(text="ok?", json_schema=SMALL_SCHEMA, max_new_tokens=32, logprobs=False,
                                      temperature=temperature))
        assert isinstance(result.data["ok"], bool) and result.token_logprobs is None
    assert vlm.grammar_compilations == before + 1


def test_properties_are_written_in_the_schema_order(vlm):
    """The summary before the key frames, as the schema lists them: the grammar follows the schema's order, not an
    alphabetical one."""
    def schema(order):
        return {"type": "object", "properties": {key: {"type": "boolean"} for key in order}, "required": order}

    for order in (["zeta", "alpha"], ["alpha", "zeta"]):
        result = vlm.chat(ChatRequest(text="?", json_schema=schema(order), max_new_tokens=32, logprobs=False))
        assert list(result.data) == order, result.text


def test_truncated_json_is_an_invalid_answer(vlm):
    with pytest.raises(InvalidAnswer):
        vlm.chat(ChatRequest(text="Summarise.", json_schema=SCHEMA, max_new_tokens=3))


def test_a_tiny_positive_temperature_decodes_greedily(text_model):
    """Found by fuzzing /api/augment: temperature 3.6e-157 overflowed the logits to inf and sampling failed (503)."""
    greedy = ChatRequest(text="Describe the street.", max_new_tokens=8)
    tiny = ChatRequest(text="Describe the street.", max_new_tokens=8, temperature=3.6e-157)
    assert text_model.chat(tiny).text == text_model.chat(greedy).text


def test_text_model_plain_generation(text_model):
    greedy = ChatRequest(text="Describe the street.", system="Be brief.", max_new_tokens=12)
    first, second = text_model.chat(greedy), text_model.chat(greedy)
    assert isinstance(first.text, str) and first.data is None
    assert first.text == second.text  # temperature 0: greedy, deterministic
    assert 0 < first.tokens_generated <= 12 and first.prompt_tokens > 0
    assert len(first.token_logprobs) == first.tokens_generated
    sampled = text_model.chat(ChatRequest(text="Describe the street.", max_new_tokens=12, temperature=1.0))
    assert sampled.data is None and 0 < sampled.tokens_generated <= 12
    assert all(logprob <= 0.0 for _, logprob in sampled.token_logprobs)
    with pytest.raises(BadRequest):
        text_model.chat(ChatRequest(text="What is this?", images=frames(1)))


def test_token_texts_add_up_across_multibyte_characters(vlm):
    from runners.language.engines.transformers_engine import token_texts

    tokenizer = vlm.tokenizer
    sentence = 'café — 東京 ✓ {"a": "ß"}'
    ids = tokenizer.encode(sentence, add_special_tokens=False)
    texts = token_texts(vlm._decode, ids)
    assert len(texts) == len(ids) and "".join(texts) == sentence
    assert not any("\ufffd" in text for text in texts)  # a character split over byte tokens goes to its last one


def test_missing_checkpoint_is_a_503(tmp_path):
    from runners.language.engines.transformers_engine import TransformersEngine

    with pytest.raises(ModelUnavailable) as missing:
        TransformersEngine("qwen2.5-vl-7b", str(tmp_path / "not-there"), "cpu")
    assert missing.value.status == 503 and "fetch_models.py qwen2.5-vl-7b" in missing.value.message
    with pytest.raises(ModelUnavailable):
        TransformersEngine("llama", str(tmp_path), "cpu", vision=False)  # a folder without a checkpoint


def test_bitsandbytes_quantization_needs_the_package(tmp_path):
    import importlib.util

    from runners.language.engines.transformers_engine import TransformersEngine

    if importlib.util.find_spec("bitsandbytes") is not None:
        pytest.skip("bitsandbytes is installed")
    with pytest.raises(ModelUnavailable, match="pip install bitsandbytes"):
        TransformersEngine("qwen2.5-vl-7b", str(tmp_path), "cpu", quantization="4bit")


FAMILY_SCHEMA = {"type": "object", "properties": {"summary": {"type": "string", "maxLength": 12}},
                 "required": ["summary"]}


@pytest.mark.parametrize("family", ["qwen2_5_vl", "gemma3", "internvl", "llama4", "pixtral",
                                    "llama", "deepseek_v3", "gemma3_text"])
def test_every_family_loads_with_its_own_classes_and_answers(tmp_path, family):
    """Llama 4 Maverick/Scout, Gemma 3, InternVL3, Pixtral Large (Mistral3), Qwen2.5-VL, Llama 3.3, DeepSeek-V3: the
    real classes and processors, tiny and random; VLMs answer schema-valid JSON about two frames."""
    from runners.language.engines.transformers_engine import TransformersEngine
    from scripts.tiny_language_models import BUILDERS, VLM_FAMILIES

    vision = family in VLM_FAMILIES
    engine = TransformersEngine(family, BUILDERS[family](str(tmp_path / family)), "cpu", vision=vision)
    try:
        if vision:
            result = engine.chat(ChatRequest(text="Summarise.", images=frames(2), image_captions=["a", "b"],
                                             json_schema=FAMILY_SCHEMA, max_new_tokens=96))
            assert schema_errors(result.data, FAMILY_SCHEMA) == [], result.text
        else:
            result = engine.chat(ChatRequest(text="Suggest types.", system="Be brief.", max_new_tokens=4))
            assert 0 < result.tokens_generated <= 4
        assert len(result.token_logprobs) == result.tokens_generated
    finally:
        engine.close()
